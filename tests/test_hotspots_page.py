"""The hotspot page through Streamlit's AppTest (no browser): the summary and the map for a planner, a
filter narrowing them, a clear refusal (no stack trace) for a role that may not see internal data."""
import pytest

from dke_geo.roles import Actor, Role
from tests.conftest import ROOT, prepare_app_data

PAGE = ROOT / "dke_geo" / "ui" / "pages" / "hotspots.py"


@pytest.fixture(scope="module")
def data_env(tmp_path_factory) -> dict:
    """init-db + demo once for the module: the page only reads (its export goes to the session)."""
    return prepare_app_data(tmp_path_factory.mktemp("hotspots-page"))


@pytest.fixture
def page(app_test, data_env):
    return app_test(data_env, PAGE)


def test_planner_sees_summary_map_charts_and_table(page):
    page.session_state["actor"] = Actor("demo-planlaegger", Role.PLANNER)
    page.run()
    assert not page.exception
    assert [i.value for i in page.info] == ["300 fund og 0 indmeldte hændelser i filteret."]
    assert "leaflet" in page.get("iframe")[0].proto.srcdoc  # the map, rendered once for this view
    assert page.dataframe[0].value["Fund"].sum() == 300
    page.multiselect(key="hotspots_categories").select("lighting").run()
    n = page.dataframe[0].value["Fund"].sum()
    assert 0 < n < 300 and page.info[0].value == f"{n} fund og 0 indmeldte hændelser i filteret."


def test_public_is_refused_with_a_message(page):
    page.session_state["actor"] = Actor("", Role.PUBLIC)
    page.run()
    assert not page.exception
    assert [e.value for e in page.error] == ["Din rolle (Offentlig) må ikke se interne data."]


def test_export_holds_exactly_the_findings_in_the_filter(page):
    """What the planner sees is what the file holds: filter, make the file, read it back; a changed filter
    takes the stale file away."""
    import io

    import pandas as pd
    page.session_state["actor"] = Actor("demo-planlaegger", Role.PLANNER)
    page.run()
    page.multiselect(key="hotspots_categories").select("lighting").run()
    page.pills(key="hotspots_light").set_value(["dark"]).run()
    shown = page.dataframe[0].value["Fund"].sum()
    page.segmented_control(key="hotspots_export_format").set_value("csv").run()
    page.button(key="hotspots_export_prepare").click().run()
    assert not page.exception and not page.error
    _selection, fmt, data = page.session_state["hotspots_export"]
    rows = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert fmt == "csv" and 0 < len(rows) == shown
    assert set(rows["category"]) == {"lighting"} and set(rows["light_condition"]) == {"dark"}
    assert "internal_note" in rows.columns
    assert any(b.label.startswith("Hent dke-geo-observations-") for b in page.get("download_button"))
    page.multiselect(key="hotspots_categories").set_value([]).run()
    assert not page.get("download_button") or all("dke-geo-observations" not in b.label
                                                  for b in page.get("download_button"))
