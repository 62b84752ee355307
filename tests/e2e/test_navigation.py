"""The app's addresses and menu in Debian chromium at a tablet's 768 px: a resident's link to /public and a staff
member's bookmark of /record work before any login (never Streamlit's English "Page not found"), the login is a
small "Medarbejder-login" link and no form in a resident's way, each role starts where it works and finds its
pages in the menu without an English "N more", and the chosen language stays in the address and over a reload."""
import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import PASSWORDS, WAIT, login, wait_for_app_run, wait_for_login_cookie

pytestmark = [pytest.mark.browser, pytest.mark.browser_context_args(viewport={"width": 768, "height": 1024})]
PUBLIC_TITLE = "Tryghed i boligområderne: hvad vi fandt, og hvad der bliver gjort"


@pytest.fixture(autouse=True)
def _patient(page: Page) -> None:
    """A busy machine: every wait in these tests is the suite's WAIT."""
    page.set_default_timeout(WAIT)
    expect.set_options(timeout=WAIT)


def _open(page: Page, url: str) -> None:
    page.goto(url)
    wait_for_app_run(page)
    expect(page.get_by_text("Page not found")).to_have_count(0)  # Streamlit's English modal


def _menu(page: Page) -> list[str]:
    """The labels shown in the top menu itself (not behind a section)."""
    return [t.split("\n")[-1].strip() for t in page.get_by_test_id("stTopNavLink").all_inner_texts()]  # no icon


def test_a_residents_link_and_a_staff_bookmark_work_before_logging_in(page: Page, streamlit_url, external_requests):
    _open(page, f"{streamlit_url}/public")
    expect(page.get_by_role("heading", name=PUBLIC_TITLE)).to_be_visible()
    expect(page.get_by_role("link", name="Medarbejder-login")).to_be_visible()
    expect(page.locator("input[type=password]")).to_have_count(0)  # no login form in a resident's way

    _open(page, f"{streamlit_url}/record")  # the bookmark: the address stays, the page says how to log in
    expect(page.get_by_text("Denne side er for kommunens medarbejdere. Log ind herunder, så åbner siden.")
           ).to_be_visible()
    page.get_by_label("Brugernavn").fill("demo-medarbejder")
    page.get_by_label("Adgangskode").fill(PASSWORDS["demo-medarbejder"])
    page.get_by_role("button", name="Log ind").click()
    expect(page.get_by_role("heading", name="Registrér fund")).to_be_visible()
    assert page.url.split("?")[0].endswith("/record")
    wait_for_login_cookie(page)

    _open(page, f"{streamlit_url}/admin")  # logged in, but not the staff's page: said in Danish
    expect(page.get_by_text("Denne side hører ikke til din rolle (Medarbejder).")).to_be_visible()
    page.get_by_role("link", name="Til din startside").click()
    expect(page.get_by_role("heading", name="Registrér fund")).to_be_visible()
    assert external_requests == []


@pytest.mark.parametrize(("name", "start", "menu"), [
    ("demo-medarbejder", "Registrér fund", ["Registrér fund", "Hotspots", "Løsninger"]),
    ("demo-planlaegger", "Hotspots: hvor skal vi handle først?",
     ["Hotspots", "Løsninger", "Offentliggør", "Registrér fund"]),
])
def test_each_role_starts_where_it_works_and_its_menu_fits(page: Page, streamlit_url, name, start, menu):
    _open(page, f"{streamlit_url}/public")
    page.get_by_role("link", name="Medarbejder-login").click()
    expect(page.get_by_role("heading", name="Medarbejder-login")).to_be_visible()
    login(page, name)
    expect(page.get_by_role("heading", name=start)).to_be_visible()
    assert _menu(page) == menu
    for label in menu:  # each one visible in the menu itself, none pushed behind an overflow
        expect(page.get_by_test_id("stTopNavLink").filter(has_text=label)).to_be_visible()
    expect(page.get_by_text(re.compile(r"^\d+ more$"))).to_have_count(0)
    page.get_by_test_id("stTopNavSection").filter(has_text="Mere").click()  # the rest, in a Danish section
    expect(page.get_by_role("menuitem", name="Offentligt kort")).to_be_visible()


def test_the_language_stays_in_the_address_and_over_a_reload(page: Page, streamlit_url):
    _open(page, f"{streamlit_url}/public?lang=en")
    expect(page.get_by_role("heading", name="Safety in the housing areas: what we found and what is being done")
           ).to_be_visible()
    page.reload()
    wait_for_app_run(page)
    expect(page.get_by_role("heading", name="Safety in the housing areas: what we found and what is being done")
           ).to_be_visible()
    page.get_by_role("link", name="Staff login").click()
    expect(page.get_by_role("heading", name="Staff login")).to_be_visible()
    assert "lang=en" in page.url
    page.get_by_role("radio", name="DA").click()
    expect(page.get_by_role("heading", name="Medarbejder-login")).to_be_visible()
    page.wait_for_function("() => !location.search.includes('lang=')")  # Danish, the default: a clean address
