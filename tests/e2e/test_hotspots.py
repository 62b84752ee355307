"""The planners' hotspot page in Debian chromium: a planner logs in, the map shows pins and the density
layer, switching layers works, a sidebar filter changes map and summary alike, and no request leaves
127.0.0.1 (tiles are off in the test app)."""
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import WAIT, login

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"



def test_planner_sees_pins_density_and_switches_layers(app_page, external_requests):
    page = app_page
    login(page, "demo-planlaegger")
    page.get_by_role("link", name="Hotspots").click()
    expect(page.get_by_role("heading", name="Hotspots: hvor skal vi handle først?")).to_be_visible(timeout=WAIT)
    expect(page.get_by_text("300 fund og 0 indmeldte hændelser i filteret.")).to_be_visible(timeout=WAIT)

    frame = page.frame_locator('iframe[title="streamlit_folium.st_folium"]')
    expect(frame.locator(".leaflet-container")).to_be_visible(timeout=WAIT)
    pins = frame.locator(".marker-cluster, .dke-pin")
    expect(pins.first).to_be_visible(timeout=WAIT)
    heat = frame.locator("canvas.leaflet-heatmap-layer")
    expect(heat).to_have_count(1, timeout=WAIT)
    expect(frame.locator(".dke-legend")).to_contain_text("Signifikant", timeout=WAIT)

    # Switch the density layer off and on again, then the pins.
    density = frame.get_by_label("Tæthed af fund (vægtet efter alvor)")
    density.uncheck()
    expect(heat).to_have_count(0, timeout=WAIT)
    density.check()
    expect(heat).to_have_count(1, timeout=WAIT)
    findings = frame.get_by_label("Fund (300)")
    findings.uncheck()
    expect(pins).to_have_count(0, timeout=WAIT)
    findings.check()
    expect(pins.first).to_be_visible(timeout=WAIT)

    # A filter in the sidebar narrows the summary and the map's layer alike.
    page.get_by_test_id("stSidebar").get_by_role("button", name="Alvorlig", exact=True).click()
    summary = page.get_by_text(re.compile(r"^\d+ fund og 0 indmeldte hændelser i filteret\.$"))
    expect(summary).not_to_have_text("300 fund og 0 indmeldte hændelser i filteret.", timeout=WAIT)
    n = int(summary.inner_text().split()[0])
    assert 0 < n < 300
    # st_folium mounts a new iframe for a new map and drops the old one: wait for the new map's layer.
    page.wait_for_function("""label => [...document.querySelectorAll('iframe[title="streamlit_folium.st_folium"]')]
        .some(f => [...(f.contentDocument?.querySelectorAll('.leaflet-control-layers label') ?? [])]
                   .some(l => l.textContent.trim() === label))""", arg=f"Fund ({n})", timeout=WAIT)
    expect(page.locator('iframe[title="streamlit_folium.st_folium"]')).to_have_count(1, timeout=WAIT)
    expect(page.get_by_text("Fund pr. kategori og område").first).to_be_visible(timeout=WAIT)
    expect(page.get_by_role("button", name="Hent tabellen som CSV")).to_be_visible()

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "hotspots.png"), full_page=True)
    assert external_requests == []
