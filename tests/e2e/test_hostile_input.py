"""Hostile text in every field of the recording form, in Debian chromium: the walk's title and focus, the finding's
note, a photo's file name. Nothing runs (no dialog, no request anywhere, no new element from the text), nothing
is rendered as Markdown or HTML, no stack trace; every text comes back exactly as typed, on the page and in the
database."""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from dke_geo.store.db import make_engine, reading
from dke_geo.store.tables import observations, walks
from dke_geo.store.tables import photos as photo_rows
from tests import images
from tests.conftest import prepare_app_data
from tests.e2e.helpers import WAIT, field_map, login, tap_map, wait_for_app_run

pytestmark = [pytest.mark.browser,
              pytest.mark.browser_context_args(viewport={"width": 768, "height": 1024})]

# Each names what it would do if it ran; the marker string is what the test looks for in the DOM.
TITLE = '<img src=x onerror="window.pwned=1">Vandring **fed** [klik](javascript:window.pwned=2)'
FOCUS = ":red[rød] $x^2$ <script>window.pwned=3</script> {{7*7}} ${7*7} %s"
NOTE = ("=cmd|' /C calc'!A0 \"'><svg onload=window.pwned=4> <iframe src=javascript:window.pwned=5></iframe>\n"
        "# Overskrift\n- punkt\n`kode` ~~slet~~ \u202egnilrevo-ltr\u202c æøå 🙂 ':smile:' <b>fed</b> &amp; &lt;")
PHOTO_NAME = '"><img src=x onerror=window.pwned=6>.jpg'


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory, streamlit_server):
    env = prepare_app_data(tmp_path_factory.mktemp("hostile_app"))
    return streamlit_server(env).url, Path(env["DKE_GEO_DATA_DIR"])


def _login(page: Page, url: str) -> None:
    page.goto(url)
    login(page)
    page.goto(f"{url}/record")
    expect(page.get_by_role("heading", name="Registrér fund")).to_be_visible(timeout=WAIT)


def _nothing_ran(page: Page, dialogs: list) -> None:
    assert dialogs == []
    assert page.evaluate("window.pwned") is None
    for frame in page.frames:
        assert frame.evaluate("window.pwned") is None, frame.url
    expect(page.get_by_test_id("stException")).to_have_count(0)
    # no element was made from the text: the only <img>/<svg>/<script>/<iframe> are the app's own
    assert page.locator('img[src="x"], svg[onload], iframe[src^="javascript"]').count() == 0
    for frame in page.frames:
        assert frame.locator('img[src="x"], svg[onload]').count() == 0


def test_hostile_text_in_every_field_comes_back_as_typed(page: Page, hostile_app, external_requests, tmp_path):
    url, data_dir = hostile_app
    page.set_default_timeout(WAIT)
    expect.set_options(timeout=WAIT)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    _login(page, url)

    page.get_by_label("Titel").fill(TITLE)
    page.get_by_label("Fokus").fill(FOCUS)
    page.get_by_role("button", name="Blokland", exact=True).click()
    page.get_by_role("button", name="Start vandringen").click()
    expect(page.get_by_text(TITLE, exact=True).first).to_be_visible()        # the title as typed, not rendered
    expect(page.get_by_text(FOCUS, exact=False).first).to_be_visible()
    expect(field_map(page).locator(".leaflet-container")).to_be_visible()

    tap_map(page, 0.5, 0.5)
    page.get_by_role("radio", name="Belysning", exact=True).click()
    expect(page.get_by_role("radio", name="Belysning", exact=True)).to_be_checked()
    wait_for_app_run(page)  # a file given while that rerun runs can be lost with it
    photo = tmp_path / PHOTO_NAME.replace("/", "_")
    photo.write_bytes(images.jpeg(images.striped(400, 300)))
    page.locator('.st-key-record_page input[type="file"]').first.set_input_files(photo)
    # the caption is the name as text (Chromium sends the quote of a file name as %22)
    expect(page.get_by_text("%22><img src=x onerror=window.pwned=6>.jpg", exact=True).first).to_be_visible()
    page.get_by_label("Intern note").fill(NOTE)
    _nothing_ran(page, dialogs)
    page.get_by_role("button", name="Gem fund").click()
    expect(page.get_by_text("Gemt kl.").first).to_be_visible()
    wait_for_app_run(page)

    engine = make_engine(f"sqlite:///{data_dir / 'dke_geo.sqlite'}")
    try:
        with reading(engine) as conn:
            walk = conn.execute(select(walks).where(walks.c.title == TITLE)).one()
            (row,) = conn.execute(select(observations).where(observations.c.walk_id == walk.id)).all()
            (stored_photo,) = conn.execute(select(photo_rows).where(photo_rows.c.observation_id == row.id)).all()
    finally:
        engine.dispose()
    assert (walk.title, walk.focus, row.internal_note) == (TITLE, FOCUS, NOTE)   # stored exactly as typed
    assert stored_photo.full_path.startswith(f"photos/{row.id}/")              # the name chose no path
    note_on_page = page.locator(f".st-key-record_finding_{row.id}")
    expect(note_on_page).to_contain_text("=cmd|' /C calc'!A0")
    expect(note_on_page).to_contain_text("<svg onload=window.pwned=4>")         # shown as text
    expect(note_on_page).to_contain_text("# Overskrift")                        # not a heading
    expect(note_on_page.locator("h1, h2, h3, li, code, del, b")).to_have_count(0)
    expect(note_on_page.locator("strong")).to_have_text(["💡 Belysning"])   # the page's own bold label only
    expect(field_map(page).locator(f'.dke-pin[data-obs="{row.id}"]')).to_be_visible()
    field_map(page).locator(f'.dke-pin[data-obs="{row.id}"]').click()                # the pin's popup and tooltip
    _nothing_ran(page, dialogs)
    assert external_requests == []
