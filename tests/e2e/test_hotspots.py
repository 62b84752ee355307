"""The planners' hotspot page in Debian chromium: a planner logs in, the map shows pins and the density
layer, switching layers works, a sidebar filter changes map and summary alike, and no request leaves
127.0.0.1 (tiles are off in the test app). The map stays drawn over reruns, a reload and a page switch (it once
came up 0 px high with script errors after any rerun), and on a tablet its legend and layer list start folded."""
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import WAIT, login, open_from_menu, wait_for_app_run

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
MAP = 'iframe[title="Hotspots: hvor skal vi handle først?"]'



def test_planner_sees_pins_density_and_switches_layers(app_page, external_requests):
    page = app_page
    login(page, "demo-planlaegger")
    expect(page.get_by_role("heading", name="Hotspots: hvor skal vi handle først?")).to_be_visible(timeout=WAIT)
    expect(page.get_by_text("300 fund og 0 indmeldte hændelser i filteret.")).to_be_visible(timeout=WAIT)

    frame = page.frame_locator(MAP)
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
    # a new filter's map is a new page in the frame: wait for its layer.
    page.wait_for_function("""label => [...document.querySelectorAll(
          'iframe[title="Hotspots: hvor skal vi handle først?"]')]
        .some(f => [...(f.contentDocument?.querySelectorAll('.leaflet-control-layers label') ?? [])]
                   .some(l => l.textContent.trim() === label))""", arg=f"Fund ({n})", timeout=WAIT)
    expect(page.locator(MAP)).to_have_count(1, timeout=WAIT)
    expect(page.get_by_text("Fund pr. kategori og område").first).to_be_visible(timeout=WAIT)
    expect(page.get_by_role("button", name="Hent tabellen som CSV")).to_be_visible()

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "hotspots.png"), full_page=True)
    assert external_requests == []


def _drawn(page) -> None:
    """The map is there: its frame taller than 300 px, the findings and the density layer drawn, the legend shown."""
    wait_for_app_run(page)
    expect(page.locator(MAP)).to_have_count(1, timeout=WAIT)
    page.wait_for_function("sel => document.querySelector(sel)?.getBoundingClientRect().height > 300", arg=MAP,
                           timeout=WAIT)
    frame = page.frame_locator(MAP)
    expect(frame.locator(".marker-cluster, .dke-pin").first).to_be_visible(timeout=WAIT)
    expect(frame.locator("canvas.leaflet-heatmap-layer")).to_have_count(1, timeout=WAIT)
    expect(frame.locator(".dke-legend")).to_have_count(1, timeout=WAIT)


def test_the_map_stays_over_reruns_a_reload_and_a_page_switch(app_page):
    page = app_page
    errors, missing = [], []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Streamlit itself probes for its server under the page's path on a fresh load (`/hotspots/_stcore/health`,
    # then `/_stcore/health`): those two 404s are its way of finding its base URL, not a missing resource.
    page.on("response", lambda r: r.status >= 400 and not re.search(r"/_stcore/(health|host-config)$", r.url)
            and missing.append(r.url))
    login(page, "demo-planlaegger")  # planners start on Hotspots
    _drawn(page)
    page.locator(".st-key-hotspots_export_format").get_by_text("Excel", exact=True).click()  # an unrelated widget
    _drawn(page)
    page.reload()
    _drawn(page)
    open_from_menu(page, "Løsninger")
    expect(page.get_by_role("heading", name="Løsningsforslag: fra forslag til kontrolleret løsning")).to_be_visible(
        timeout=WAIT)
    open_from_menu(page, "Hotspots")
    _drawn(page)
    assert errors == [] and missing == []


@pytest.mark.browser_context_args(viewport={"width": 768, "height": 1024})
def test_on_a_tablet_the_legend_and_layer_list_start_folded(app_page):
    page = app_page
    login(page, "demo-planlaegger")
    _drawn(page)
    frame = page.frame_locator(MAP)
    expect(frame.locator(".leaflet-control-layers-expanded")).to_have_count(0, timeout=WAIT)
    assert frame.locator(".dke-legend details").evaluate("d => d.open") is False
    frame.locator(".leaflet-control-layers-toggle").click()  # a tap opens the layer list
    expect(frame.locator(".leaflet-control-layers-expanded")).to_have_count(1, timeout=WAIT)
    frame.locator(".dke-legend summary").click()
    assert frame.locator(".dke-legend details").evaluate("d => d.open") is True
