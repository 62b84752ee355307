"""WCAG 2.1 AA, measured: axe-core finds no serious or critical violation, in the page and in every frame, on each
page data/accessibility.toml lists (the public page, the static site, the recording page in its light and dark
theme, the fixes board), in each of its languages and at each of its widths. The accessibility statement says what
that file says, so it never claims a page, language or width this module does not test."""
from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack

import pytest
from playwright.sync_api import Page, expect

from dke_geo.accessibility import tested
from dke_geo.services import public as public_service
from tests.conftest import context_for, prepare_app_data
from tests.e2e.a11y import violations
from tests.e2e.helpers import WAIT, login, serving, wait_for_app_run

pytestmark = pytest.mark.browser
PUBLIC_FRAME = "iframe[title='{}']"
FRAME_TITLES = {"da": "Kort og liste over fundene", "en": "Map and list of the findings"}


@pytest.fixture(scope="module")
def app(tmp_path_factory, streamlit_server) -> tuple[str, dict]:
    """A server with the demo data on its own database (night mode stores the user's theme): (url, env)."""
    env = prepare_app_data(tmp_path_factory.mktemp("a11y"))
    return streamlit_server(env).url, env


@pytest.fixture(scope="module")
def site(app, tmp_path_factory):
    """The static site of the demo in each language, served over http: lang -> base URL."""
    _url, env = app
    urls = {}
    with ExitStack() as servers:
        with pytest.MonkeyPatch.context() as patch, context_for(env) as ctx:
            for key, value in env.items():
                patch.setenv(key, value)
            for lang in tested()["languages"]:
                folder = tmp_path_factory.mktemp(f"site-{lang}")
                public_service.write_site(ctx, folder / "site", lang)
                urls[lang] = servers.enter_context(serving(folder / "site"))
        yield urls


def _language(page: Page, lang: str) -> None:
    if lang != "da":
        switch = page.get_by_role("radio", name=lang, exact=True)
        switch.click()
        expect(switch).to_be_checked(timeout=WAIT)
        wait_for_app_run(page)
    expect(page.locator(f"html[lang='{lang}']")).to_have_count(1, timeout=WAIT)


def _public_ready(page: Page, lang: str) -> None:
    frame = page.frame_locator(PUBLIC_FRAME.format(FRAME_TITLES[lang]))
    expect(frame.locator("html[data-ready]")).to_have_count(1, timeout=WAIT)
    expect(frame.locator(".dke-item").first).to_be_visible(timeout=WAIT)


def _public(page: Page, lang: str, url: str, _site: dict) -> list[Callable[[], None]]:
    page.goto(url)
    wait_for_app_run(page)
    _language(page, lang)
    _public_ready(page, lang)
    return [lambda: _public_ready(page, lang)]


def _static(page: Page, lang: str, _url: str, site: dict) -> list[Callable[[], None]]:
    def ready(name: str) -> Callable[[], None]:
        def wait() -> None:
            page.goto(f"{site[lang]}/{name}")
            expect(page.locator(f"html[lang='{lang}']")).to_have_count(1)
            if name == "index.html":
                expect(page.frame_locator("#dke-frame").locator("html[data-ready]")).to_have_count(1, timeout=WAIT)
        return wait
    return [ready("index.html"), ready("map.html"), ready("tilgaengelighed.html")]


def _staff_page(page: Page, lang: str, url: str, user: str, path: str) -> None:
    """Logged in as `user`, the page at `path` in `lang` (kept in the address as the switch keeps it)."""
    page.goto(url)
    wait_for_app_run(page)
    login(page, user)
    page.goto(f"{url}/{path}" + ("?lang=en" if lang == "en" else ""))
    wait_for_app_run(page)
    expect(page.locator(f"html[lang='{lang}']")).to_have_count(1, timeout=WAIT)


def _record(page: Page, lang: str, url: str, _site: dict) -> list[Callable[[], None]]:
    _staff_page(page, lang, url, "demo-medarbejder", "record")
    page.locator("[class*='st-key-record_walk_']").first.get_by_role("button").first.click()
    wait_for_app_run(page)
    expect(page.locator(".st-key-record_walk_header")).to_be_visible(timeout=WAIT)
    resume = page.get_by_role("button", name={"da": "Genoptag vandringen", "en": "Resume the walk"}[lang])
    if resume.count():  # a demo walk has ended: open it again to see the form and its map
        resume.click()
        wait_for_app_run(page)
    expect(page.frame_locator('iframe[title="streamlit_folium.st_folium"]').locator(".leaflet-container")
           ).to_be_visible(timeout=WAIT)

    def dark() -> None:
        toggle = page.locator(".st-key-record_night_toggle input")
        if not toggle.is_checked():
            page.locator(".st-key-record_night_toggle label").click()
            wait_for_app_run(page)
        expect(page.locator(".stApp")).to_have_css("background-color", "rgb(13, 17, 23)", timeout=WAIT)
    return [lambda: wait_for_app_run(page), dark]


def _fixes(page: Page, lang: str, url: str, _site: dict) -> list[Callable[[], None]]:
    _staff_page(page, lang, url, "demo-planlaegger", "fixes")
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible(timeout=WAIT)
    return [lambda: wait_for_app_run(page)]


OPENERS = {"public": _public, "static": _static, "record": _record, "fixes": _fixes}


def test_every_page_the_statement_names_is_checked():
    assert {p["id"] for p in tested()["page"]} == set(OPENERS)


@pytest.mark.parametrize("lang", tested()["languages"])
@pytest.mark.parametrize("page_id", [p["id"] for p in tested()["page"]])
def test_no_serious_or_critical_violations(browser, app, site, page_id, lang):
    url, _env = app
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="da-DK")
    page = context.new_page()
    page.set_default_timeout(WAIT)
    try:
        states = OPENERS[page_id](page, lang, url, site)
        found = []
        for state in states:
            state()
            for width in tested()["widths"]:
                page.set_viewport_size({"width": width, "height": 900})
                page.wait_for_function("() => new Promise(r => requestAnimationFrame(() => r(true)))")
                seen, checked = violations(page)
                assert checked >= 1
                found += [f"{width}px {v}" for v in seen]
        assert found == [], "\n".join(found)
    finally:
        context.close()
