"""Sessions in the running app with the command line beside it, on SQLite and PostGIS (a real `streamlit run`,
Chromium, `python -m dke_geo` in another process): a removed account, a new password, a logout elsewhere and
a new role reach every open tab and every copy of the login cookie at its next interaction, and no removed
user is served again."""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import func, select

from dke_geo import config
from dke_geo.services import users as user_service
from dke_geo.store.db import make_engine, reading
from dke_geo.store.tables import login_attempts
from tests.conftest import ROOT, prepare_app_data
from tests.e2e.helpers import LOGGED_OUT, WAIT, login, open_from_menu, wait_for_app_run

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class App:
    url: str
    env: dict


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def app(request, tmp_path_factory, streamlit_server) -> App:
    """The app on its own database with the demo data, SQLite or PostGIS."""
    database_url = ""
    if request.param == "postgis":
        pg_server = request.getfixturevalue("pg_server")
        name = f"sessions_{uuid.uuid4().hex[:8]}"
        pg_server.admin(f"CREATE DATABASE {name}")
        database_url = pg_server.url(name)
    env = prepare_app_data(tmp_path_factory.mktemp(f"sessions-{request.param}"), database_url)
    env["DKE_GEO_TRUSTED_PROXIES"] = "1"  # as behind the municipality's reverse proxy: X-Forwarded-For names the client
    return App(streamlit_server(env).url, env)


def _cli(app: App, *args: str, stdin: str | None = None) -> str:
    """`python -m dke_geo ARGS` in its own process, as an administrator runs it beside the app."""
    done = subprocess.run([sys.executable, "-m", "dke_geo", *args], cwd=ROOT, env={**os.environ, **app.env},
                          input=stdin, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _account(app: App, role: str) -> tuple[str, str]:
    """A new account of `role` (made with the CLI): its name and password."""
    name, password = f"{role}-{uuid.uuid4().hex[:6]}", secrets.token_urlsafe(12)
    _cli(app, "user", "add", name, "--role", role, "--password-stdin", stdin=password + "\n")
    return name, password


def _tab(browser: Browser, cookies: list | None = None, address: str = "192.0.2.10") -> tuple[BrowserContext, Page]:
    """A browser of its own (its own cookies: `cookies`, copied from another) at the client `address` (what the
    reverse proxy puts into X-Forwarded-For), asking no other host for anything."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="da-DK",
                                  extra_http_headers={"X-Forwarded-For": address})
    context.route(lambda u: not u.startswith(("http://127.0.0.1", "data:", "blob:")), lambda route: route.abort())
    if cookies:
        context.add_cookies(cookies)
    page = context.new_page()
    page.set_default_timeout(WAIT)
    return context, page


def _logged_in(page: Page, name: str, role: str) -> None:
    expect(page.get_by_text(f"Logget ind som {name} ({role})")).to_be_visible(timeout=WAIT)


def _logged_out(page: Page, says: str) -> None:
    """The tab tells why, offers the login again and has none of the internal pages."""
    expect(page.get_by_text(says)).to_be_visible(timeout=WAIT)
    wait_for_app_run(page)  # the run has finished: nothing of the page before is left
    login_offered = page.get_by_role("button", name="Log ind", exact=True).or_(  # a staff page: the form in place
        page.get_by_role("link", name="Medarbejder-login"))                         # the public map: its link
    expect(login_offered.first).to_be_visible(timeout=WAIT)
    expect(page.get_by_text("Logget ind som")).to_have_count(0)
    expect(page.get_by_role("button", name="Log ud")).to_have_count(0)
    for internal in ("Hotspots", "Offentliggør", "Løsninger", "Kort over områderne"):
        expect(page.get_by_role("link", name=internal)).to_have_count(0)


def _open_hotspots(page: Page) -> None:
    open_from_menu(page, "Hotspots")
    expect(page.get_by_role("heading", name="Hotspots: hvor skal vi handle først?")).to_be_visible(timeout=WAIT)
    wait_for_app_run(page)


@pytest.mark.parametrize(("command", "says"), [
    ("remove", "Din konto er fjernet, så du er logget ud."),
    ("set-password", "Adgangskoden til din konto er ændret, så du er logget ud. Log ind med den nye adgangskode."),
], ids=["remove", "set-password"])
def test_an_open_tab_loses_the_account_removed_or_given_a_new_password_at_its_next_click(
        browser, app, command, says):
    """A planner works on the Hotspots page; in another process an administrator runs `user remove` (or
    `user set-password`). The planner's next click in the open tab finds the tab logged out, with the reason;
    a reload does not bring the login back (before: the tab kept the planner's pages until a reload)."""
    name, password = _account(app, "planner")
    context, page = _tab(browser)
    page.goto(app.url)
    login(page, name, password=password)
    _open_hotspots(page)
    if command == "remove":
        _cli(app, "user", "remove", name)
    else:
        _cli(app, "user", "set-password", name, "--password-stdin", stdin="en-helt-ny-kode-2024\n")
    page.locator(".st-key-hotspots_status").get_by_role("button", name="Løst").click()  # anything
    _logged_out(page, says)
    expect(page.get_by_role("heading", name="Hotspots: hvor skal vi handle først?")).to_have_count(0)
    page.reload()
    expect(page.get_by_role("button", name="Log ind", exact=True)).to_be_visible(timeout=WAIT)
    expect(page.get_by_role("link", name="Hotspots")).to_have_count(0)
    page.get_by_label("Brugernavn").fill(name)
    page.get_by_label("Adgangskode").fill(password)  # the old password lets nobody in again
    page.get_by_role("button", name="Log ind", exact=True).click()
    expect(page.get_by_text("Forkert brugernavn eller adgangskode.")).to_be_visible(timeout=WAIT)
    if command == "set-password":
        login(page, name, password="en-helt-ny-kode-2024")
    context.close()


def test_a_copied_cookie_is_logged_out_by_the_logout(browser, app):
    """The login cookie copied into a second browser works there like the original; after the first logs out,
    the second is logged out at its next click, and a third loading the copy later is not let in (before: the
    copy kept working for 12 hours)."""
    name, password = _account(app, "planner")
    first, page = _tab(browser)
    page.goto(app.url)
    login(page, name, password=password)
    cookies = first.cookies()
    second, copy = _tab(browser, cookies)
    copy.goto(app.url)
    _logged_in(copy, name, "Planlægger")
    expect(copy.get_by_role("link", name="Hotspots")).to_be_visible()

    page.get_by_role("button", name="Log ud").click()
    expect(page.get_by_role("button", name="Log ind", exact=True)).to_be_visible(timeout=WAIT)
    open_from_menu(copy, "Offentligt kort")  # its next click
    _logged_out(copy, LOGGED_OUT)
    third, later = _tab(browser, cookies)  # its next load
    later.goto(app.url)
    _logged_out(later, LOGGED_OUT)
    for context in (first, second, third):
        context.close()


def test_a_new_role_applies_at_the_next_click(browser, app):
    """`user set-role` while a planner's tab is open: the next click gives the tab the staff pages and says so."""
    name, password = _account(app, "planner")
    context, page = _tab(browser)
    page.goto(app.url)
    login(page, name, password=password)
    expect(page.get_by_role("link", name="Offentliggør")).to_be_visible(timeout=WAIT)
    _cli(app, "user", "set-role", name, "staff")
    open_from_menu(page, "Offentligt kort")
    expect(page.get_by_text("Din rolle er ændret til Medarbejder.")).to_be_visible(timeout=WAIT)
    _logged_in(page, name, "Medarbejder")
    expect(page.get_by_role("link", name="Offentliggør")).to_have_count(0)
    expect(page.get_by_role("link", name="Registrér fund")).to_be_visible()
    context.close()


def test_a_client_guessing_passwords_for_many_names_is_stopped_and_others_are_not(browser, app):
    """An attacker at one address tries a few passwords on each of many names (under the limit per name): after
    20 failures that address is refused, even with a right password, while a planner at another address logs
    in (before: no limit per client). The address is the one the trusted proxy put into X-Forwarded-For."""
    name, password = _account(app, "planner")
    attacker_context, attacker = _tab(browser, address="198.51.100.7")
    attacker.goto(f"{app.url}/login")
    engine = make_engine(config.load(app.env).database_url)
    try:
        for n in range(user_service.MAX_CLIENT_FAILURES):
            _try(attacker, f"gaet-{n // 4}", "forkert-kode-123")
            _poll(lambda: _failures(engine, "198.51.100.7") == n + 1)  # this attempt was counted, for this address
            wait_for_app_run(attacker)
            expect(attacker.get_by_text("Forkert brugernavn eller adgangskode.")).to_be_visible(timeout=WAIT)
    finally:
        engine.dispose()
    _try(attacker, name, password)
    locked = "For mange forkerte forsøg fra denne adresse. Prøv igen om 15 minutter."
    expect(attacker.get_by_text(locked)).to_be_visible(timeout=WAIT)
    expect(attacker.get_by_text("Logget ind som")).to_have_count(0)
    planner_context, planner = _tab(browser, address="203.0.113.9")
    planner.goto(app.url)
    login(planner, name, password=password)
    for context in (attacker_context, planner_context):
        context.close()


def _try(page: Page, name: str, password: str) -> None:
    page.get_by_label("Brugernavn").fill(name)
    page.get_by_label("Adgangskode").fill(password)
    page.get_by_role("button", name="Log ind", exact=True).click()


def _failures(engine, client: str) -> int:
    with reading(engine) as conn:
        return conn.execute(select(func.count()).select_from(login_attempts).where(
            login_attempts.c.client == client, login_attempts.c.success.is_(False))).scalar_one()


def _poll(condition, seconds: float = WAIT / 1000) -> None:
    """Wait until `condition()` holds, checking every 50 ms."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
