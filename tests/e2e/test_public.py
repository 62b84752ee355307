"""The public side in Debian chromium: the public page and the static site show nothing internal, hostile texts
in popups, tooltips, labels and tables stay text (no dialog fires), the photos served carry no EXIF, and a
local login survives a page reload."""
from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from dke_geo.roles import SYSTEM, Role
from dke_geo.services import public as public_service
from dke_geo.services import recording
from dke_geo.services import users as user_service
from dke_geo.store import areas as area_store
from dke_geo.store.db import transaction
from tests.conftest import context_for, open_database
from tests.e2e.helpers import WAIT, login, open_from_menu, serving, settle
from tests.public_data import MARK, PUBLIC_TEXT, colour_of, fill_leak_database, is_good_colour

pytestmark = pytest.mark.browser
HOSTILE = "<img src=x onerror=alert('text')> ${alert('template')} ` </script><script>alert('script')</script>"
HOSTILE_AREA = "Blokland <img src=x onerror=alert('area')>"
PLANNER, PASSWORD = "e2e-planlaegger", "e2e-planlaegger-kode"
FRAME = 'iframe[title="Kort og liste over fundene"]'
WALK = "Aftenvandring i Blokland"

# Opens every popup and tooltip of the Leaflet map(s) in a document, one after another, and returns the
# texts they showed (what the browser made of the HTML: a hostile text must come back as text).
OPEN_ALL = """() => {
  const value = (k) => { try { return window[k]; } catch (e) { return null; } };  // a sandboxed frame's storage throws
  const maps = [...new Set(Object.keys(window).map(value).filter((v) => v instanceof L.Map))];
  const shown = [];
  for (const map of maps) {
    map.eachLayer((layer) => {
      for (const [open, get] of [["openPopup", "getPopup"], ["openTooltip", "getTooltip"]]) {
        if (layer[get] && layer[get]() && !(layer instanceof L.LayerGroup)) {
          layer[open]();
          const el = layer[get]().getElement();
          if (el) shown.push(el.innerText);
        }
      }
    });
  }
  return {maps: maps.length, shown};
}"""


def _setup(data: Path) -> dict:
    """The leak database plus a published finding with a hostile text in an area with a hostile name, and a
    planner account."""
    ctx = open_database(f"sqlite:///{data / 'dke_geo.sqlite'}")
    fill_leak_database(ctx.engine, data)
    obs, _ = recording.record_observation(ctx, SYSTEM, {"lon": 12.3575, "lat": 55.6603, "category": "graffiti"})
    public_service.publish(ctx, SYSTEM, obs.id, HOSTILE)
    renamed = ctx.areas().copy()
    renamed.loc[renamed["id"] == "blokland", "name"] = HOSTILE_AREA  # as an imported outline file could name it
    with transaction(ctx.engine) as conn:
        area_store.replace_all(conn, renamed)
    user_service.add_user(ctx, SYSTEM, PLANNER, Role.PLANNER, PASSWORD)
    recording.start_walk(ctx, SYSTEM, {"title": WALK, "area_ids": ["blokland"]})
    ctx.close()
    return {"DKE_GEO_DATA_DIR": str(data), "DKE_GEO_DATABASE_URL": "", "DKE_GEO_TILE_URL": ""}


@pytest.fixture(scope="module")
def public_env(tmp_path_factory) -> dict:
    return _setup(tmp_path_factory.mktemp("public-app"))


@pytest.fixture(scope="module")
def public_url(public_env, streamlit_server):
    return streamlit_server(public_env).url


@pytest.fixture
def dialogs(page) -> list[str]:
    """Every alert/confirm/prompt any frame of the page raises: must stay empty."""
    fired: list[str] = []

    def seen(dialog):
        fired.append(dialog.message)
        dialog.dismiss()
    page.on("dialog", seen)
    return fired


def _no_marker(text: str, where: str) -> None:
    assert MARK.lower() not in text.lower(), f"internal data in {where}"


def _open_public_page(page, url):
    page.set_default_timeout(WAIT)
    page.goto(url)
    expect(page.get_by_role("heading", name="Tryghed i boligområderne")).to_be_visible(timeout=WAIT)
    expect(page.frame_locator(FRAME).locator("html[data-ready]")).to_have_count(1, timeout=WAIT)
    return next(f for f in page.frames if f.url == "about:srcdoc")


def _show_on_map(frame, text: str) -> str:
    """Press "Vis på kortet" on the list item holding `text`; the popup it opens, as shown."""
    frame.locator(".dke-item", has_text=text).get_by_role("button", name="Vis på kortet").click()
    popup = frame.locator(".leaflet-popup-content")
    expect(popup).to_contain_text(text, timeout=WAIT)
    return popup.inner_text()


def test_public_page_shows_no_internal_data_and_hostile_text_stays_text(page, public_url, dialogs,
                                                                         external_requests):
    frame = _open_public_page(page, public_url)
    result = frame.evaluate(OPEN_ALL)
    settle(page)  # a dialog an injected handler raises (an image that fails, a script) has been raised by now
    assert dialogs == []
    assert result["maps"] == 1
    shown = "\n".join(result["shown"])
    assert PUBLIC_TEXT in shown and HOSTILE in shown  # the popups show the hostile text as text
    assert HOSTILE_AREA in shown                      # and the area tooltip its hostile name
    assert "Status: Planlagt" in shown                 # the fix status in plain words
    for where, text in (("page", page.content()), ("map", frame.content()), ("popups", shown)):
        _no_marker(text, where)
    assert frame.locator("img[src=x]").count() == 0 and page.locator("img[src=x]").count() == 0
    assert external_requests == []


def test_public_photos_served_carry_no_exif(page, public_url):
    frame = _open_public_page(page, public_url)
    _show_on_map(frame, PUBLIC_TEXT)
    thumbs = frame.locator("img.dke-public-photo")
    expect(thumbs).to_have_count(1)
    served = [base64.b64decode(thumbs.first.get_attribute("src").split(",", 1)[1])]
    images = page.locator('[data-testid="stImage"] img')
    expect(images).to_have_count(1)
    response = page.request.get(page.url.split("/public")[0].rstrip("/") + images.first.get_attribute("src")
                                if images.first.get_attribute("src").startswith("/")
                                else images.first.get_attribute("src"))
    assert response.ok
    served.append(response.body())
    for data in served:
        image = Image.open(io.BytesIO(data))
        assert not image.getexif() and not set(image.info) & {"exif", "xmp", "icc_profile", "comment"}
        assert b"Exif" not in data and MARK.encode() not in data
        assert is_good_colour(colour_of(data))  # the approved photo, not another


def test_static_site_in_the_browser(page, public_env, tmp_path, monkeypatch, dialogs, external_requests):
    for key, value in public_env.items():
        monkeypatch.setenv(key, value)
    with context_for(public_env) as ctx:
        public_service.write_site(ctx, tmp_path / "site")
    with serving(tmp_path / "site") as base:
        page.goto(f"{base}/index.html")
        expect(page.get_by_role("heading", name="Tryghed i boligområderne")).to_be_visible()
        _no_marker(page.content(), "index.html")
        map_frame = page.frame_locator('iframe[src="map.html"]')
        expect(map_frame.locator("html[data-ready]")).to_have_count(1)
        expect(map_frame.locator(".dke-item", has_text=HOSTILE)).to_have_count(1)  # the list shows it as text
        frame = next(f for f in page.frames if f.url.endswith("map.html"))
        result = frame.evaluate(OPEN_ALL)
        settle(page)
        assert dialogs == []
        shown = "\n".join(result["shown"])
        assert HOSTILE in shown and HOSTILE_AREA in shown and PUBLIC_TEXT in shown
        _no_marker(frame.content() + shown, "map.html")
        _show_on_map(frame, PUBLIC_TEXT)
        photo = frame.locator("img.dke-public-photo").first
        data = page.request.get(f"{base}/{photo.get_attribute('src')}").body()
        assert not Image.open(io.BytesIO(data)).getexif() and is_good_colour(colour_of(data))
        assert dialogs == []
        assert external_requests == []


def test_local_login_survives_a_reload_until_logout(page, public_url):
    page.set_default_timeout(WAIT)
    page.goto(public_url)
    login(page, PLANNER, password=PASSWORD)
    expect(page.get_by_text(f"Logget ind som {PLANNER}")).to_be_visible(timeout=WAIT)
    expect(page.get_by_role("link", name="Offentliggør")).to_be_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "dke_geo_session")
    assert cookie["sameSite"] == "Strict" and PASSWORD not in cookie["value"]
    page.reload()
    expect(page.get_by_text(f"Logget ind som {PLANNER}")).to_be_visible(timeout=WAIT)
    page.get_by_role("button", name="Log ud").click()
    expect(page.get_by_role("button", name="Log ind", exact=True)).to_be_visible(timeout=WAIT)  # the page's own login
    page.reload()
    expect(page.get_by_role("button", name="Log ind", exact=True)).to_be_visible(timeout=WAIT)
    expect(page.get_by_text(f"Logget ind som {PLANNER}")).to_have_count(0)
    assert not [c for c in page.context.cookies() if c["name"] == "dke_geo_session"]


def test_reload_with_an_unsaved_finding_asks_first(page, public_url):
    """On the recording page a reload (pull-to-refresh on the tablet) with a typed note is not silent: the
    browser asks before leaving. After the note is cleared it no longer asks."""
    page.set_default_timeout(WAIT)
    page.goto(public_url)
    login(page, PLANNER, password=PASSWORD)
    open_from_menu(page, "Registrér fund")
    page.get_by_text(WALK).first.wait_for()
    page.locator("[class*='st-key-record_walk_']", has_text=WALK).get_by_role("button").click()
    note = page.get_by_label("Intern note")
    note.fill("Lampe ud ved nr. 12")
    note.press("Tab")  # commit the text to the app
    expect(note).to_have_value("Lampe ud ved nr. 12")
    page.wait_for_function("() => window.dkeLeaveGuard")
    asked: list[str] = []

    def dialog(d):
        asked.append(d.type)
        d.dismiss()  # stay on the page
    page.on("dialog", dialog)
    page.evaluate("() => setTimeout(() => location.reload(), 0)")
    expect(note).to_have_value("Lampe ud ved nr. 12")  # still there: the reload was cancelled
    assert asked == ["beforeunload"]
