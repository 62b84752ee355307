"""What the browser tests share: logging in through the sidebar form as one of the demo accounts."""
from playwright.sync_api import Page, expect

from dke_geo.fixtures import DEMO_USERS
from dke_geo.services.sessions import COOKIE

PASSWORDS = {name: password for name, _role, password in DEMO_USERS}


def login(page: Page, name: str = "demo-medarbejder", *, open_sidebar: bool = False) -> None:
    """Log in as a demo account on the page that is open; `open_sidebar` for a tablet-sized viewport,
    where the sidebar starts closed."""
    if open_sidebar:
        page.get_by_test_id("stExpandSidebarButton").click()
    page.get_by_label("Brugernavn").fill(name)
    page.get_by_label("Adgangskode").fill(PASSWORDS[name])
    page.get_by_role("button", name="Log ind").click()
    expect(page.get_by_text(f"Logget ind som {name}")).to_be_visible(timeout=30_000)
    for _ in range(150):  # the login cookie is written by a component after the page shows the login: a test that
        if any(c["name"] == COOKIE for c in page.context.cookies()):  # goes to another URL next needs it there
            return
        page.wait_for_timeout(200)
    raise AssertionError(f"no {COOKIE} cookie 30 s after logging in")
