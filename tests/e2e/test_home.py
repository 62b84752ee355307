"""The entry page in Debian chromium: the area map is drawn from our own assets."""
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import WAIT, login, open_from_menu

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"



def test_area_map_is_drawn_without_third_party_requests(app_page, external_requests):
    page = app_page
    login(page)
    open_from_menu(page, "Kort over områderne")
    expect(page.get_by_role("heading", name="Albertslund Kommune og boligområderne")).to_be_visible(timeout=WAIT)
    frame = page.frame_locator('iframe[title="Albertslund Kommune og boligområderne"]')
    expect(frame.locator(".leaflet-container")).to_be_visible(timeout=WAIT)
    outlines = frame.locator("path.dke-area")
    expect(outlines.first).to_be_attached(timeout=WAIT)
    assert outlines.count() == 7
    expect(frame.locator(".dke-area-label", has_text="Albertslund Syd")).to_be_visible()  # the largest area
    expect(frame.locator(".leaflet-control-attribution")).to_contain_text("GeoDanmark")
    # Labels never cover each other: at the municipality's zoom some give way, zoomed in they come back.
    map_frame = page.locator('iframe[title="Albertslund Kommune og boligområderne"]').element_handle().content_frame()
    _settled(map_frame)
    shown_wide = _shown_labels(frame)
    assert 0 < len(shown_wide) < 7
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "home.png"), full_page=True)
    for _ in range(2):
        frame.locator(".leaflet-control-zoom-in").click()
        _settled(map_frame)
    assert len(_shown_labels(frame)) > len(shown_wide)
    assert external_requests == []


# True once the labels were placed (maps/base.py counts each placing in data-labels-placed) and neither the count
# nor the map's size, zoom and centre changed, with no zoom or pan animation running, for `frames` animation
# frames in a row (the component sizes the map's frame and fits the view after drawing, each a new placing).
_STILL = """frames => {
  const c = document.querySelector(".leaflet-container");
  const map = Object.values(window).find(v => v instanceof L.Map);
  if (!c || !map || !c.dataset.labelsPlaced) return false;
  const moving = map._animatingZoom || (map._panAnim && map._panAnim._inProgress);
  const now = [c.dataset.labelsPlaced, c.clientWidth, c.clientHeight, map.getZoom(), map.getCenter()].join();
  const seen = window.dkeStill || {now: null, frames: 0};
  window.dkeStill = {now, frames: seen.now === now && !moving ? seen.frames + 1 : 0};
  return window.dkeStill.frames >= frames;
}"""


def _settled(frame) -> None:
    """Wait until the map in `frame` has stopped moving and its labels are placed for where it stands."""
    frame.wait_for_function(_STILL, arg=20, polling="raf", timeout=WAIT)


def _shown_labels(frame) -> list[dict]:
    """The area labels now visible in the map, with their boxes; fails if two of them overlap."""
    boxes = frame.locator(".leaflet-container").evaluate("""c => [...c.querySelectorAll(".dke-area-label")]
        .filter(e => getComputedStyle(e).visibility === "visible")
        .map(e => { const r = e.getBoundingClientRect();
                    return {text: e.textContent, left: r.left, right: r.right, top: r.top, bottom: r.bottom}; })""")
    for n, a in enumerate(boxes):
        for b in boxes[n + 1:]:
            across = a["left"] < b["right"] and b["left"] < a["right"]
            assert not (across and a["top"] < b["bottom"] and b["top"] < a["bottom"]), (a, b)
    return boxes


def test_language_switch_is_visible_and_works(app_page):
    page = app_page
    login(page)
    open_from_menu(page, "Kort over områderne")
    expect(page.get_by_role("heading", name="Albertslund Kommune og boligområderne")).to_be_visible(timeout=WAIT)
    page.get_by_role("radio", name="en", exact=True).click()
    expect(page.get_by_role("radio", name="en", exact=True)).to_be_checked(timeout=WAIT)
    expect(page.get_by_role("heading", name="Albertslund Municipality and its housing areas")).to_be_visible(
        timeout=WAIT)
