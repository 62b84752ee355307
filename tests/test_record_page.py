"""The recording page through Streamlit's AppTest (no browser): st_folium is patched to report a tap, the
tablet's GPS is patched to answer; the rows land in a real SQLite file."""
import shutil
from datetime import date, time
from pathlib import Path

import pytest
import streamlit as st
import streamlit_js_eval
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from dke_geo import config
from dke_geo.model import TZ
from dke_geo.photos import Upload
from dke_geo.roles import Actor, Role
from dke_geo.store.db import make_engine, reading
from dke_geo.store.tables import observations, walks
from dke_geo.ui import widgets
from tests import images
from tests.conftest import prepare_app_data

PAGE = "dke_geo/ui/pages/record.py"
TAP = {"lat": 55.66024, "lng": 12.35732}  # on a path in Blokland
NOT_AN_IMAGE = "noter.jpg er ikke et billede (JPEG, PNG eller HEIC). Resten af formularen er bevaret."


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    """init-db + demo once for the module; each test works on its own copy."""
    folder = tmp_path_factory.mktemp("record_page")
    prepare_app_data(folder)
    return folder


@pytest.fixture
def app_env(tmp_path, prepared) -> dict:
    """The environment of an app on this test's own copy of the prepared data (its own data folder, so its own
    app context)."""
    for file in prepared.glob("dke_geo.sqlite*"):
        shutil.copy(file, tmp_path / file.name)
    return {"DKE_GEO_DATA_DIR": str(tmp_path), "DKE_GEO_DATABASE_URL": "", "DKE_GEO_TILE_URL": ""}


@pytest.fixture
def page(app_test, app_env):
    """page(role=STAFF) -> the recording page, as demo-medarbejder with `role`, run."""
    return lambda role=Role.STAFF: _page(app_test, app_env, role)


class FakeMap:
    """Stands in for st_folium. Like the component after a tap, it delivers `click` once (the value under the
    map's key, then on_change), and it keeps what the page drew."""

    def __init__(self, monkeypatch, click=None):
        self.click = click
        self.calls = []
        monkeypatch.setattr(widgets, "st_folium", self)

    def __call__(self, fig, key=None, on_change=None, **kwargs):
        self.calls.append((fig, kwargs))
        value = {"last_clicked": self.click}
        if self.click and on_change and st.session_state.get(key) != value:
            st.session_state[key] = value
            on_change()
        return value

    def layers_html(self) -> str:
        """The last map drawn with its pin layers, as HTML."""
        fig, kwargs = self.calls[-1]
        for group in kwargs["feature_group_to_add"]:
            group.add_to(fig)
        return fig.get_root().render()


class FakeGps:
    """Stands in for the browser's geolocation (streamlit_js_eval): each new request gets the next answer."""

    def __init__(self, monkeypatch, answers):
        self.answers = iter(answers)
        monkeypatch.setattr(streamlit_js_eval, "streamlit_js_eval", self)

    def __call__(self, js_expressions, key, on_change):
        assert js_expressions == "getLocation()"
        if key not in st.session_state:
            st.session_state[key] = next(self.answers)
            on_change()


def _page(app_test, env: dict, role=Role.STAFF) -> AppTest:
    """The recording page (reached from the app, as a browser would), run; `env` is an app's environment."""
    at = app_test(env, actor=Actor("demo-medarbejder", role))
    return at.switch_page(PAGE).run()  # its address is its file's name: found before the first run


def _start_walk(at: AppTest, title="Aftenvandring i Blokland") -> AppTest:
    at.text_input(key="record_new_title").input(title)
    at.button_group(key="record_new_areas").set_value(["blokland"])
    return at.button(key="record_start_button").click().run()


def _save(at: AppTest) -> AppTest:
    return at.button(key=f"record_save_{at.session_state['record_gen']}").click().run()


def _read(env: dict, query) -> list:
    """Rows of `query` in the database of the app with environment `env`."""
    engine = make_engine(config.load(env).database_url)
    try:
        with reading(engine) as conn:
            return conn.execute(query).fetchall()
    finally:
        engine.dispose()


def _rows(env: dict) -> list:
    """The findings recorded by the test (not the demo's)."""
    return _read(env, select(observations).where(observations.c.is_demo.is_(False)))


def _messages(at: AppTest, kind: str) -> list[str]:
    """The page's messages of one kind (st.success, st.error ...), not the sidebar's."""
    return [e.value for e in getattr(at.main, kind)]


def test_tap_category_save_stores_the_finding_and_clears_the_form(page, app_env, monkeypatch):
    fake = FakeMap(monkeypatch, TAP)
    at = _start_walk(page()).run()  # the run the tap causes
    assert not at.exception
    assert "Placering 55.66024, 12.35732 (Tryk på kortet)" in _messages(at, "success")
    assert "dke-pending" in fake.layers_html()  # the pending pin is drawn before saving
    pending_id = at.session_state["record_pending_id"]
    gen = at.session_state["record_gen"]
    at.button_group(key="record_category").set_value("lighting").run()
    at.button_group(key=f"record_severity_{gen}").set_value(3)
    at.button_group(key=f"record_safety_{gen}").set_value(2)
    at.text_area(key=f"record_note_{gen}").input("Lampe ud ved stien")
    assert at.session_state["record_pending_id"] == pending_id  # reruns keep the pending finding's id
    at = _save(at)
    assert not at.exception and not _messages(at, "error")
    assert any(m.startswith("Gemt kl.") and "💡 Belysning (Alvorlig) i Blokland, 0 foto(s)." in m
               for m in _messages(at, "success"))
    (row,) = _rows(app_env)
    assert (row.id, row.lon, row.lat, row.category, row.severity) == (pending_id, 12.35732, 55.66024, "lighting", 3)
    assert (row.perceived_safety, row.internal_note, row.location_source) == (2, "Lampe ud ved stien", "map_tap")
    assert (row.area_id, row.created_by) == ("blokland", "demo-medarbejder")
    # The form is ready for the next finding: new id, no point, severity back to 2, the category kept.
    new_gen = at.session_state["record_gen"]
    assert at.session_state["record_pending_id"] != pending_id and at.session_state["record_location"] is None
    assert at.button_group(key=f"record_severity_{new_gen}").value == 2
    assert at.text_area(key=f"record_note_{new_gen}").value == ""
    assert at.button_group(key="record_category").value == "lighting"
    assert pending_id in fake.layers_html() and "dke-pending" not in fake.layers_html()
    assert "Vandringens fund (1)" in [h.value for h in at.subheader]


def test_start_a_walk_with_its_areas_kind_time_light_and_organisations(page, app_env, monkeypatch):
    FakeMap(monkeypatch)
    at = page()
    at.button_group(key="record_new_areas").set_value(["blokland", "galgebakken"])
    at.button_group(key="record_new_kind").set_value("by_car")
    at.text_input(key="record_new_focus").input("Belysning")
    at.date_input(key="record_new_date").set_value(date(2017, 4, 20))
    at.time_input(key="record_new_time").set_value(time(21, 30))
    assert at.button_group(key="record_new_orgs").value == ["dke"]  # every organisation offered, the unit chosen
    assert "Beboere" in at.button_group(key="record_new_orgs").options
    at.button_group(key="record_new_orgs").set_value(["dke", "beboere"]).run()
    assert at.number_input(key="record_new_n_beboere").label == "Antal: Beboere"
    at.number_input(key="record_new_n_beboere").set_value(9)
    at = at.button(key="record_start_button").click().run()
    assert not at.exception and not _messages(at, "error")
    (walk,) = _read(app_env, select(walks).where(walks.c.id == at.session_state["record_walk"]))
    assert walk.title == "Områdevandring Blokland, Galgebakken 20.04.2017"
    assert (walk.kind, walk.focus, walk.light_condition, walk.light_condition_override) == ("by_car", "Belysning",
                                                                                            "dark", None)
    assert walk.started_at.astimezone(TZ).strftime("%d.%m.%Y %H:%M") == "20.04.2017 21:30"
    assert walk.organisations == [{"organisation": "dke", "count": 1}, {"organisation": "beboere", "count": 9}]
    header = " ".join(c.value for c in at.main.caption)
    assert "Mørke (ud fra solen)" in header and "I bil" in header and r"Beboere \(9\)" in header  # user text escaped
    assert r"Den Kriminalpræventive Enhed \(DKE\) \(1\)" in header  # the label from data/organisations.toml


def test_save_without_a_location_is_refused_and_the_form_kept(page, app_env, monkeypatch):
    FakeMap(monkeypatch, click=None)
    at = _start_walk(page())
    assert "Tryk på kortet, hvor fundet er, eller brug din position." in _messages(at, "info")
    gen = at.session_state["record_gen"]
    at.text_area(key=f"record_note_{gen}").input("Mørk passage")
    at = _save(at)
    assert _messages(at, "error") == ["Placering: skal udfyldes. Kategori: skal udfyldes."]
    at.button_group(key="record_category").set_value("hiding_places").run()
    at = _save(at)
    assert _messages(at, "error") == ["Placering: skal udfyldes."]
    assert at.text_area(key=f"record_note_{gen}").value == "Mørk passage"
    assert at.button_group(key="record_category").value == "hiding_places"
    assert _rows(app_env) == []


def test_gps_position_with_its_accuracy_and_a_warning_above_30_m(page, app_env, monkeypatch):
    fake = FakeMap(monkeypatch)
    FakeGps(monkeypatch, [{"coords": {"latitude": 55.6603, "longitude": 12.3571, "accuracy": 45.2}},
                          {"coords": {"latitude": 55.6604, "longitude": 12.3572, "accuracy": 6}},
                          {"error": {"code": 1, "message": "User denied Geolocation"}}])
    at = _start_walk(page())
    at = at.button(key="record_gps").click().run().run()  # the answer arrives, then its rerun
    assert "dke-pending" in fake.layers_html() and '"radius": 45.2' in fake.layers_html()
    assert _messages(at, "warning") == ["Placering 55.66030, 12.35710 (GPS) · nøjagtighed ±45 m. Positionen er "
                                        "unøjagtig (±45 m, mere end 30 m). Tjek nålen, eller tryk på kortet for at "
                                        "rette den."]
    at = at.button(key="record_gps").click().run().run()
    assert "Placering 55.66040, 12.35720 (GPS) · nøjagtighed ±6 m" in _messages(at, "success")
    assert not _messages(at, "warning")
    at = at.button(key="record_gps").click().run().run()
    assert any("Positionen kunne ikke hentes (User denied Geolocation)" in e for e in _messages(at, "error"))
    at.button_group(key="record_category").set_value("lighting").run()
    at = _save(at)
    (row,) = _rows(app_env)
    assert (row.location_source, row.gps_accuracy_m, row.lat) == ("gps", 6.0, 55.6604)


def test_photo_position_and_a_bad_photo_named_while_the_form_is_kept(page, app_env, monkeypatch):
    FakeMap(monkeypatch)
    at = _start_walk(page())
    gen = at.session_state["record_gen"]
    at.session_state["record_camera_photos"] = [
        Upload("kamera-1.jpg", images.jpeg(gps=images.BLOKLAND_DMS, accuracy_m=4.0)), Upload("noter.jpg", b"tekst")]
    at.text_area(key=f"record_note_{gen}").input("Graffiti på gavlen")
    at = at.run()
    assert NOT_AN_IMAGE in _messages(at, "error")
    at = at.button(key=f"record_photo_gps_{gen}_0").click().run()
    assert any(m.startswith("Placering 55.66020, 12.35730 (Fotoets GPS) · nøjagtighed ±4 m")
               for m in _messages(at, "success"))
    at.button_group(key="record_category").set_value("graffiti").run()
    at = _save(at)
    assert NOT_AN_IMAGE in _messages(at, "error")
    assert _rows(app_env) == [] and at.text_area(key=f"record_note_{gen}").value == "Graffiti på gavlen"
    at.button(key=f"record_drop_{gen}_1").click().run()
    at = _save(at)
    (row,) = _rows(app_env)
    assert (row.location_source, row.gps_accuracy_m, row.internal_note) == ("photo_exif", 4.0, "Graffiti på gavlen")
    assert any("1 foto(s)" in m for m in _messages(at, "success"))


def test_end_resume_edit_and_delete(page, app_env, monkeypatch):
    FakeMap(monkeypatch, TAP)
    at = _start_walk(page())
    at.button_group(key="record_category").set_value("signage").run()
    at = _save(at)
    (row,) = _rows(app_env)
    at = at.button(key="record_end").click().run()
    assert "Vandringen er afsluttet. Fundene kan stadig rettes herunder." in _messages(at, "success")
    assert not [b for b in at.button if b.key and b.key.startswith("record_save_")]
    at = at.button(key="record_resume").click().run()
    assert [b for b in at.button if b.key and b.key.startswith("record_save_")]
    at = at.button(key=f"record_edit_{row.id}").click().run()
    assert not at.exception
    key = next(k for k in at.session_state if k.startswith(f"record_e_{row.id}") and k.endswith("_severity"))
    at.button_group(key=key).set_value(1)
    at.text_area(key=key.replace("_severity", "_note")).input("Skiltet er væltet")
    at = at.button(key=key.replace("_severity", "_save")).click().run()
    assert "Ændringerne er gemt." in _messages(at, "success")
    (edited,) = _rows(app_env)
    assert (edited.severity, edited.internal_note, edited.updated_by) == (1, "Skiltet er væltet", "demo-medarbejder")
    at = at.button(key=f"record_edit_{row.id}").click().run()
    key = next(k for k in at.session_state if k.startswith(f"record_e_{row.id}") and k.endswith("_severity")
               and k != key)
    at = at.button(key=key.replace("_severity", "_delete")).click().run()
    assert "Vil du slette fundet? Det forsvinder fra lister og kort." in [w.value for w in at.warning]  # in the dialog
    at = at.button(key=key.replace("_severity", "_delete_yes")).click().run()
    assert any(m.startswith("Slettet: 🪧 Skiltning") for m in _messages(at, "success"))
    (deleted,) = _rows(app_env)
    assert deleted.deleted and deleted.deleted_by == "demo-medarbejder"
    assert "Vandringens fund (0)" in [h.value for h in at.subheader]


def test_demo_walks_carry_the_demo_badge_and_the_page_speaks_english(page, monkeypatch):
    FakeMap(monkeypatch)
    at = page()
    assert [e.label for e in at.expander] == ["Start en ny vandring"] and at.expander[0].proto.expanded  # no open walk
    assert [s.value for s in at.subheader] == ["Seneste vandringer"]
    demo = next(b for b in at.button if b.key and b.key.startswith("record_open_"))
    at = demo.click().run()
    badges = [m.value for m in at.markdown if "DEMO" in m.value]
    assert len(badges) >= 2  # the walk and its findings
    assert "Vandringen er afsluttet. Genoptag den for at registrere flere fund." in _messages(at, "info")
    at.button_group(key="lang").set_value("en").run()
    assert not at.exception
    assert at.title[0].value == "Record findings" and at.button(key="record_resume").label == "Resume the walk"


def test_a_reload_brings_back_the_unsaved_finding(page, app_env, monkeypatch):
    """iOS Safari gives no leave warning: the form comes back from the server after a reload, photos included."""
    FakeMap(monkeypatch, TAP)
    at = _start_walk(page()).run()
    gen = at.session_state["record_gen"]
    shot = images.jpeg(gps=images.BLOKLAND_DMS, accuracy_m=4.0)
    at.session_state["record_camera_photos"] = [Upload("kamera-1.jpg", shot)]
    at.button_group(key="record_category").set_value("graffiti").run()
    at.button_group(key=f"record_safety_{gen}").set_value(2)
    at.text_area(key=f"record_note_{gen}").input("Tags på gavlen ved nr. 12").run()
    pending_id, walk_id = at.session_state["record_pending_id"], at.session_state["record_walk"]

    FakeMap(monkeypatch, None)  # the reload: a new session, no tap
    again = page()
    assert not again.exception
    gen = again.session_state["record_gen"]
    assert (again.session_state["record_walk"], again.session_state["record_pending_id"]) == (walk_id, pending_id)
    assert again.session_state["record_location"]["lon"] == TAP["lng"]
    assert again.text_area(key=f"record_note_{gen}").value == "Tags på gavlen ved nr. 12"
    assert again.button_group(key="record_category").value == "graffiti"
    assert again.button_group(key=f"record_safety_{gen}").value == 2
    assert any("hentet tilbage efter genindlæsningen, med 1 foto(s)" in m for m in _messages(again, "info"))
    assert [(p.name, p.data) for p in again.session_state["record_camera_photos"]] == [("kamera-1.jpg", shot)]
    again = _save(again)
    assert not _messages(again, "error") and any("1 foto(s)" in m for m in _messages(again, "success"))
    (row,) = _rows(app_env)
    assert (row.id, row.internal_note, row.category) == (pending_id, "Tags på gavlen ved nr. 12", "graffiti")
    drafts = Path(app_env["DKE_GEO_DATA_DIR"]) / "drafts"
    assert not list(drafts.rglob("*.json")) and not [p for p in drafts.rglob("*") if p.is_file()]  # nothing is kept

    FakeMap(monkeypatch, None)  # saved: a later reload starts with an empty form
    fresh = page()
    assert fresh.session_state["record_pending_id"] != pending_id
    assert not any("hentet tilbage" in m for m in _messages(fresh, "info"))
