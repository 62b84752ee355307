"""The entry page through Streamlit's AppTest (no browser)."""
import pytest
from streamlit.testing.v1 import AppTest

from dke_geo.roles import Actor, Role
from tests.conftest import prepare_app_data


@pytest.fixture(scope="module")
def data_env(tmp_path_factory) -> dict:
    """init-db + demo once for the module (no test here changes what another one reads)."""
    return prepare_app_data(tmp_path_factory.mktemp("app"))


@pytest.fixture
def app(app_test, data_env):
    """The whole app on the module's data: app(actor=None) -> AppTest, not yet run."""
    return lambda actor=None: app_test(data_env, actor=actor)


def _map_html(at) -> str:
    maps = at.get("iframe")  # a map the page does not read back from: its own HTML page in an iframe
    assert maps, "no map on the page"
    return maps[0].proto.srcdoc


def _as_staff(app) -> AppTest:
    """Staff on the entry page (they start on the recording page)."""
    at = app(Actor("demo-medarbejder", Role.STAFF)).run()
    return at.switch_page("dke_geo/ui/pages/home.py").run()


def _login_page(app) -> AppTest:
    at = app().run()
    return at.switch_page("dke_geo/ui/pages/login.py").run()


def test_entry_page_shows_the_area_map_in_danish(app):
    at = _as_staff(app)
    assert not at.exception
    assert at.title[0].value == "Albertslund Kommune og boligområderne"
    html = _map_html(at)
    assert "Blokland" in html and "Galgebakken" in html and "dke-area-hedemarksvaenge" in html
    table = at.dataframe[0].value
    assert set(table["Område"]) >= {"Blokland", "Morbærhaven"}
    assert table.set_index("Område").loc["Blokland", "Fund"] == 200


def test_language_switch_to_english(app):
    at = _as_staff(app)
    at.button_group(key="lang").set_value("en").run()
    assert not at.exception
    assert at.title[0].value == "Albertslund Municipality and its housing areas"
    assert "Findings" in at.dataframe[0].value.columns


def test_wrong_login_shows_a_message_not_a_trace(app):
    at = _login_page(app)
    at.text_input(key="login_name").input("demo-medarbejder")
    at.text_input(key="login_password").input("forkert-kode-123")
    next(b for b in at.button if b.label == "Log ind").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == ["Forkert brugernavn eller adgangskode."]
    assert at.text_input(key="login_name").value == "demo-medarbejder"  # the form keeps what was typed


def test_right_login_shows_who_is_logged_in_and_the_start_page(app):
    at = _login_page(app)
    at.text_input(key="login_name").input("demo-planlaegger")
    at.text_input(key="login_password").input("demo-planlaegger-2017")
    next(b for b in at.button if b.label == "Log ind").click().run()
    assert not at.exception
    assert any("demo-planlaegger (Planlægger)" in c.value for c in at.sidebar.caption)
    assert at.title[0].value == "Hotspots: hvor skal vi handle først?"  # planners start on Hotspots


def test_nobody_sees_no_login_form_on_the_public_map(app):
    at = app().run()
    assert at.title[0].value.startswith("Tryghed i boligområderne")
    assert not at.text_input  # a "Medarbejder-login" link, no form in a resident's way


def test_demo_data_is_announced_on_every_page(app):
    at = app().run()  # the public page: no sidebar for residents, the notice heads the page
    assert any("DEMO" in w.value for w in at.warning) and not at.sidebar.warning


def test_the_hotspots_warm_up_starts_with_the_first_staff_tab_not_for_residents(app_test, tmp_path):
    """A server only residents use never reads the findings for the Hotspots page; the first staff tab starts the
    read in the background (once per server), so the planner's first view finds it cached."""
    from dke_geo.services.hotspots import HotspotsData
    from dke_geo.ui import session

    def cached_data():  # what the Hotspots page would find in the server's cache now (None: nothing read)
        ctx = session.context()
        return ctx.cached("hotspots.data", ctx.data_version(), None, lambda: None)

    public = app_test(prepare_app_data(tmp_path / "public")).run()  # a resident on the public map
    assert not public.exception
    assert cached_data() is None

    staff = app_test(prepare_app_data(tmp_path / "staff"), actor=Actor("demo-medarbejder", Role.STAFF)).run()
    assert not staff.exception
    session._warm_up_thread(session.config.load().values).join(60)  # the one thread this server started
    assert isinstance(cached_data(), HotspotsData)
