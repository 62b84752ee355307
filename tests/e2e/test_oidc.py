"""The municipality's OpenID Connect login, end to end: Streamlit's st.login against a real OpenID provider on
127.0.0.1 (oidc-provider-mock: discovery, authorization code flow, signed ID token, userinfo), then our mapping
of the verified e-mail to an account and its role. An e-mail with no account gets no access and a clear message."""
import os
import secrets
import subprocess
import sys

import pytest
from oidc_provider_mock import User, run_server_in_thread
from playwright.sync_api import Browser, Page, expect

from tests.conftest import ROOT, prepare_app_data
from tests.e2e.helpers import LOGGED_OUT, WAIT, open_from_menu
from tests.pgserver import free_port

pytestmark = pytest.mark.browser
PLANNER_EMAIL = "anna.planlaegger@albertslund.dk"
IDP_STYLESHEET = "https://cdn.jsdelivr.net/npm/@picocss/pico@2/css/pico.min.css"  # the test provider's own page


@pytest.fixture(scope="module")
def sso_url(tmp_path_factory, streamlit_server):
    users = [User(sub="anna", claims={"email": PLANNER_EMAIL, "email_verified": True, "name": "Anna"}),
             User(sub="fremmed", claims={"email": "fremmed@example.org", "email_verified": True})]
    data = tmp_path_factory.mktemp("sso")
    env = prepare_app_data(data)
    subprocess.run([sys.executable, "-m", "dke_geo", "user", "add", "anna", "--role", "planner", "--email",
                    PLANNER_EMAIL, "--no-password"], cwd=ROOT, env={**os.environ, **env}, check=True,
                   capture_output=True)
    port = free_port()
    with run_server_in_thread(user_claims=users) as idp:
        config = data / "secrets.toml"
        config.write_text(f"""[auth]
redirect_uri = "http://127.0.0.1:{port}/oauth2callback"
cookie_secret = "{secrets.token_hex(32)}"
client_id = "dke-geo"
client_secret = "{secrets.token_hex(16)}"
server_metadata_url = "http://127.0.0.1:{idp.server_port}/.well-known/openid-configuration"
""")
        server = streamlit_server(env, port=port, args=(f"--secrets.files={config}",))
        try:
            yield server.url
        finally:
            server.stop()  # before the provider it logs in with goes away


def _login_as(page: Page, url: str, sub: str) -> None:
    page.goto(url)  # the public map, with the staff's login link
    page.get_by_role("link", name="Medarbejder-login").click()
    expect(page.get_by_text("Log ind med kommunens konto (OpenID Connect).")).to_be_visible(timeout=WAIT)
    expect(page.get_by_label("Brugernavn")).to_have_count(0)  # no local password form beside the municipality's
    page.get_by_role("button", name="Log ind med kommunens konto").click()
    expect(page.get_by_role("heading", name="Authorize Client")).to_be_visible(timeout=WAIT)
    page.get_by_role("button", name=sub, exact=True).click()


def test_a_municipality_login_gets_the_role_of_its_e_mail(page: Page, sso_url, external_requests):
    _login_as(page, sso_url, "anna")
    expect(page.get_by_text("Logget ind som anna (Planlægger)")).to_be_visible(timeout=WAIT)
    expect(page.get_by_role("link", name="Hotspots")).to_be_visible()  # a planner's pages
    page.reload()  # the login is Streamlit's signed cookie: it survives a reload
    expect(page.get_by_text("Logget ind som anna (Planlægger)")).to_be_visible(timeout=WAIT)
    page.get_by_role("button", name="Log ud").click()  # ends the provider's session too (RP-initiated logout)
    page.wait_for_url("**/oauth2/end_session**", timeout=WAIT)
    page.get_by_role("button", name="End session").click()
    expect(page.get_by_role("link", name="Medarbejder-login")).to_be_visible(timeout=WAIT)  # back on the public map
    expect(page.get_by_role("link", name="Hotspots")).to_have_count(0)
    assert set(external_requests) <= {IDP_STYLESHEET}  # our pages asked no other host for anything


def test_an_e_mail_without_an_account_gets_no_access(page: Page, sso_url, external_requests):
    _login_as(page, sso_url, "fremmed")
    expect(page.get_by_text("fremmed@example.org")).to_be_visible(timeout=WAIT)
    expect(page.get_by_role("link", name="Hotspots")).to_have_count(0)
    expect(page.get_by_text("Logget ind som")).to_have_count(0)
    assert set(external_requests) <= {IDP_STYLESHEET}


def test_a_copied_municipality_login_ends_with_the_logout(page: Page, browser: Browser, sso_url, external_requests):
    """Streamlit's login cookie copied into a second browser works there like the original; after the first logs
    out, the second is logged out at its next click (the login's session row was ended), with the reason."""
    _login_as(page, sso_url, "anna")
    expect(page.get_by_text("Logget ind som anna (Planlægger)")).to_be_visible(timeout=WAIT)
    second = browser.new_context(viewport={"width": 1280, "height": 900}, locale="da-DK")
    second.route(lambda u: not u.startswith("http://127.0.0.1"), lambda route: route.abort())
    second.add_cookies(page.context.cookies())
    copy = second.new_page()
    copy.set_default_timeout(WAIT)
    copy.goto(sso_url)
    expect(copy.get_by_text("Logget ind som anna (Planlægger)")).to_be_visible(timeout=WAIT)
    page.get_by_role("button", name="Log ud").click()
    page.wait_for_url("**/oauth2/end_session**", timeout=WAIT)
    page.get_by_role("button", name="End session").click()
    expect(page.get_by_role("link", name="Medarbejder-login")).to_be_visible(timeout=WAIT)  # back on the public map
    open_from_menu(copy, "Offentligt kort")
    expect(copy.get_by_text(LOGGED_OUT)).to_be_visible(timeout=WAIT)
    expect(copy.get_by_text("Logget ind som")).to_have_count(0)
    expect(copy.get_by_role("link", name="Hotspots")).to_have_count(0)
    expect(copy.get_by_role("link", name="Medarbejder-login")).to_be_visible()
    second.close()
    assert set(external_requests) <= {IDP_STYLESHEET}
