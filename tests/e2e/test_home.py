"""The entry page in Debian chromium: the area map is drawn from our own assets."""
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import login

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"



def test_area_map_is_drawn_without_third_party_requests(app_page, external_requests):
    page = app_page
    login(page)
    page.get_by_role("link", name="Kort over områderne").click()
    expect(page.get_by_role("heading", name="Albertslund Kommune og boligområderne")).to_be_visible(timeout=30_000)
    frame = page.frame_locator('iframe[title="streamlit_folium.st_folium"]')
    expect(frame.locator(".leaflet-container")).to_be_visible(timeout=30_000)
    outlines = frame.locator("path.dke-area")
    expect(outlines.first).to_be_attached(timeout=30_000)
    assert outlines.count() == 7
    expect(frame.locator(".dke-area-label", has_text="Blokland")).to_be_visible()
    expect(frame.locator(".leaflet-control-attribution")).to_contain_text("GeoDanmark")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "home.png"), full_page=True)
    assert external_requests == []


def test_language_switch_is_visible_and_works(app_page):
    page = app_page
    login(page)
    page.get_by_role("link", name="Kort over områderne").click()
    expect(page.get_by_role("heading", name="Albertslund Kommune og boligområderne")).to_be_visible(timeout=30_000)
    page.get_by_role("radio", name="EN").click()
    expect(page.get_by_role("radio", name="EN")).to_be_checked(timeout=30_000)
    expect(page.get_by_role("heading", name="Albertslund Municipality and its housing areas")).to_be_visible(
        timeout=30_000)
