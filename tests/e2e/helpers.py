"""What the browser tests share: the one timeout they wait with, logging in on the login page as one of the demo
accounts, and waiting for conditions (the app idle, the page settled) instead of for a fixed time."""
import re

from playwright.sync_api import Frame, Page, expect

from dke_geo.fixtures import DEMO_USERS
from dke_geo.services.sessions import COOKIE

WAIT = 30_000
"""Milliseconds any browser test waits for something to show (a first page load on a busy CI machine included)."""
PASSWORDS = {name: password for name, _role, password in DEMO_USERS}


def login(page: Page, name: str = "demo-medarbejder") -> None:
    """Log in as a demo account on the login page (the public map's "Medarbejder-login" link leads there) of the
    app that is open; the app then shows the role's start page."""
    page.goto(re.match(r"https?://[^/]+", page.url).group(0) + "/login")
    page.get_by_label("Brugernavn").fill(name)
    page.get_by_label("Adgangskode").fill(PASSWORDS[name])
    page.get_by_role("button", name="Log ind").click()
    page.wait_for_function("() => !location.pathname.endsWith('/login')", timeout=WAIT)  # sent on to the start page
    wait_for_login_cookie(page)


def wait_for_login_cookie(page: Page) -> None:
    """The login cookie is written by a component after the page shows the login: a test that goes to another URL
    next needs it there."""
    wait_for_app_run(page)
    page.wait_for_function("name => document.cookie.split('; ').some(c => c.startsWith(name + '='))", arg=COOKIE,
                           timeout=WAIT)


def wait_for_app_run(page: Page) -> None:
    """Wait until the app is connected and its script is not running (Streamlit's own marker on its root element,
    which its end-to-end tests wait on): every rerun asked for so far has finished."""
    expect(page.locator('[data-testid="stApp"][data-test-connection-state="CONNECTED"]')).to_have_count(
        1, timeout=WAIT)
    expect(page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]')).to_have_count(
        1, timeout=WAIT)
    expect(page.get_by_test_id("stStatusWidget")).to_be_hidden(timeout=WAIT)


_SETTLED = """() => new Promise(done => {
  // Every image has loaded or failed (an injected onerror handler has had its turn), then two frames later
  // (anything a handler scheduled has run).
  const pending = [...document.images].filter(img => !img.complete);
  const loaded = img => new Promise(r => { img.addEventListener("load", r); img.addEventListener("error", r); });
  Promise.all(pending.map(loaded))
    .then(() => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(() => done(true), 0))));
})"""


def settle(page: Page) -> None:
    """Wait, in the page and in each of its frames, until every image has loaded or failed and the handlers that
    fired have run: a dialog that an injected text could raise (an `<img onerror>`, a handler on a popup's
    element) has been raised by then."""
    frames: list[Frame] = [page.main_frame, *[f for f in page.frames if f != page.main_frame]]
    for frame in frames:
        frame.evaluate(_SETTLED)
