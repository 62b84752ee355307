"""Correcting an area's outline in Debian chromium: a planner opens the outline page, edits Blokland's outline
with the map's drawing tool (its buttons in Danish), drags a corner, saves; the findings follow and the change is
in the history with the planner's name. The tool's script and style come from our own server."""
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from dke_geo.store.db import make_engine, reading
from dke_geo.store.tables import area_events
from tests.conftest import prepare_app_data
from tests.e2e.helpers import WAIT, login, wait_for_app_run

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def outlines_app(tmp_path_factory, streamlit_server):
    env = prepare_app_data(tmp_path_factory.mktemp("outlines_app"))
    return streamlit_server(env).url, Path(env["DKE_GEO_DATA_DIR"])


def _events(data_dir: Path) -> list:
    engine = make_engine(f"sqlite:///{data_dir / 'dke_geo.sqlite'}")
    try:
        with reading(engine) as conn:
            return conn.execute(select(area_events)).fetchall()
    finally:
        engine.dispose()


def test_a_planner_corrects_an_outline_on_the_map(page: Page, outlines_app, external_requests):
    url, data_dir = outlines_app
    page.set_default_timeout(WAIT)
    page.goto(url)
    login(page, "demo-planlaegger")
    page.goto(f"{url}/outlines")
    expect(page.get_by_role("heading", name="Ret et områdes omrids")).to_be_visible()
    page.get_by_role("combobox", name="Område").click()
    page.get_by_role("option", name="Blokland", exact=True).click()
    wait_for_app_run(page)
    expect(page.get_by_label("Navn")).to_have_value("Blokland")
    frame = page.frame_locator('iframe[title="streamlit_folium.st_folium"]')
    edit = frame.get_by_title("Ret omrids")  # Leaflet.draw's own English texts are replaced
    expect(edit).to_be_visible()
    expect(frame.get_by_title("Tegn et omrids")).to_be_visible()
    edit.click()
    corner = frame.locator(".leaflet-editing-icon").first
    expect(corner).to_be_visible()
    box = corner.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] - 40, box["y"] - 30, steps=8)
    page.mouse.up()
    frame.get_by_role("link", name="Færdig").click()  # ends editing: the map reports the new outline
    expect(page.get_by_text("Tegnet omrids: 1 polygon(er)")).to_be_visible()
    page.get_by_role("button", name="Gem omridset").click()
    expect(page.get_by_text("Omridset af Blokland er gemt")).to_be_visible()
    expect(page.get_by_role("heading", name="Ændringer af omrids")).to_be_visible()
    (event,) = _events(data_dir)
    assert (event.area_id, event.by, event.action) == ("blokland", "demo-planlaegger", "changed")
    assert event.old_geojson != event.new_geojson
    assert external_requests == []
