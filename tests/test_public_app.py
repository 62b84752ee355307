"""The pages of this part through AppTest: which pages each role gets, the municipality login (OpenID
Connect) mapped to roles, the planner publishing a finding that then shows on the public page, and the
admin page."""
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dke_geo.roles import SYSTEM, Actor, Role
from dke_geo.services import users as user_service
from dke_geo.store.db import default_engine

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")
PAGES = {"home": "dke_geo/ui/pages/home.py", "public": "dke_geo/ui/pages/public.py",
         "publish": "dke_geo/ui/pages/publish.py", "admin": "dke_geo/ui/pages/admin.py"}
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "0" * 64, "client_id": "dke-geo",
        "client_secret": "not-a-secret", "server_metadata_url": "https://login.example.dk/.well-known/openid-configuration"}


@pytest.fixture(scope="module")
def app_env(tmp_path_factory):
    """One app database with the demo data for this module (the tests add to it, never depend on order)."""
    from tests.conftest import prepare_app_data
    with pytest.MonkeyPatch.context() as patch:
        for key, value in prepare_app_data(tmp_path_factory.mktemp("public-app")).items():
            patch.setenv(key, value)
        default_engine.cache_clear()
        st.cache_resource.clear()
        st.cache_data.clear()
        yield
        default_engine.cache_clear()
        st.cache_resource.clear()
        st.cache_data.clear()


def _app(actor: Actor | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if actor is not None:
        at.session_state["actor"] = actor
    return at.run()


def _reachable(at: AppTest) -> set[str]:
    out = set()
    for name, path in PAGES.items():
        try:
            at.switch_page(path)
        except ValueError:
            continue
        out.add(name)
    return out


@pytest.mark.parametrize(("role", "pages"), [
    (Role.PUBLIC, {"public"}),
    (Role.STAFF, {"home", "public"}),
    (Role.PLANNER, {"home", "public", "publish"}),
    (Role.ADMIN, {"home", "public", "publish", "admin"}),
])
def test_pages_by_role(app_env, role, pages):
    at = _app(Actor(f"test-{role.value}", role) if role != Role.PUBLIC else None)
    assert not at.exception
    assert _reachable(at) == pages
    if role == Role.PUBLIC:  # the public lands on the public map
        assert at.title[0].value.startswith("Tryghed i boligområderne")


def test_planner_publishes_a_finding_that_then_shows_publicly(app_env):
    at = _app(Actor("demo-planlaegger", Role.PLANNER))
    at.switch_page(PAGES["publish"]).run()
    assert not at.exception
    text = at.text_area[0]
    assert "noteret ved en områdevandring" in text.value  # the suggestion is offered
    text.input("Lampen ved cykelstien er gået ud; kommunen skifter den.").run()
    next(b for b in at.button if b.key == "publish_do").click().run()
    assert not at.exception and [s.value for s in at.success] == ["Offentliggjort."]
    at.session_state["actor"] = Actor("", Role.PUBLIC)
    at.switch_page(PAGES["public"]).run()
    findings = at.dataframe[1].value
    assert findings["Beskrivelse"].tolist() == ["Lampen ved cykelstien er gået ud; kommunen skifter den."]


def test_publish_page_refuses_the_wrong_role_in_the_core(app_env):
    """Even if a page were reached without the role, the service refuses: shown as a message, no trace."""
    at = AppTest.from_file(str(Path(APP).parent / PAGES["publish"]), default_timeout=60)
    at.session_state["actor"] = Actor("demo-medarbejder", Role.STAFF)
    at.run()
    assert not at.exception
    assert "må ikke offentliggøre fund" in at.error[0].value


def test_admin_adds_a_user_and_a_mismatch_keeps_the_form(app_env):
    at = _app(Actor("demo-admin", Role.ADMIN))
    at.switch_page(PAGES["admin"]).run()
    at.text_input(key="admin_add_name").input("Bo Hansen")
    at.text_input(key="admin_add_password").input("en-lang-kode-123")
    at.text_input(key="admin_add_again").input("en-anden-kode-123")
    at.button(key="FormSubmitter:admin_add-Opret bruger").click().run()
    assert [e.value for e in at.error] == ["De to adgangskoder er ikke ens. Intet er gemt."]
    assert at.text_input(key="admin_add_name").value == "Bo Hansen"
    at.text_input(key="admin_add_again").input("en-lang-kode-123")
    at.button(key="FormSubmitter:admin_add-Opret bruger").click().run()
    assert [s.value for s in at.success] == ["Brugeren Bo Hansen er oprettet."]
    assert "Bo Hansen" in at.dataframe[0].value["Brugernavn"].tolist()
    assert "demo-admin" not in at.selectbox(key="admin_user").options  # never remove or demote yourself


def test_municipality_login_maps_the_email_to_a_role(app_env):
    user_service.add_user(default_engine(), SYSTEM, "anna", Role.PLANNER, email="Anna.Jensen@albertslund.dk")
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = AUTH
    at.run()
    assert [b.label for b in at.sidebar.button] == ["Log ind med kommunens konto"]
    assert not at.sidebar.text_input  # no local password form beside it
    at.user = {"is_logged_in": True, "email": "anna.jensen@albertslund.dk", "name": "Anna Jensen"}
    at.run()
    assert any("anna (Planlægger)" in c.value for c in at.sidebar.caption)
    assert "publish" in _reachable(at)


def test_municipality_login_with_an_unknown_email_gets_no_role(app_env):
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, "email": "stranger@example.org"}
    at.run()
    assert not at.exception
    assert [e.value for e in at.sidebar.error] == ["stranger@example.org har ingen adgang til værktøjet. Kontakt DKE."]
    assert _reachable(at) == {"public"}
