"""The pages of this part through AppTest: which pages each role gets, the municipality login (OpenID
Connect) mapped to roles, the planner publishing a finding that then shows on the public page, and the
admin page."""
import json
import time
import uuid

import pytest
from streamlit.testing.v1 import AppTest

from dke_geo.roles import SYSTEM, Actor, Role
from dke_geo.services import users as user_service
from tests.conftest import ROOT, context_for, prepare_app_data
from tests.public_data import site_data

PAGES = {"home": "dke_geo/ui/pages/home.py", "public": "dke_geo/ui/pages/public.py",
         "accessibility": "dke_geo/ui/pages/accessibility.py",
         "publish": "dke_geo/ui/pages/publish.py", "admin": "dke_geo/ui/pages/admin.py"}
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "0" * 64, "client_id": "dke-geo",
        "client_secret": "not-a-secret", "server_metadata_url": "https://login.example.dk/.well-known/openid-configuration"}


@pytest.fixture(scope="module")
def data_env(tmp_path_factory) -> dict:
    """One app database with the demo data for this module (the tests add to it, never depend on order)."""
    return prepare_app_data(tmp_path_factory.mktemp("public-app"))


@pytest.fixture
def app(app_test, data_env):
    """app(actor=None, script=the whole app) -> an AppTest on the module's data, not yet run."""
    return lambda actor=None, **kwargs: app_test(data_env, actor=actor, **kwargs)


def _app(app, actor: Actor | None = None) -> AppTest:
    return app(actor).run()


def public_document(at: AppTest) -> str:
    """The map-and-list document the public page sends to its frame (ui/public_frame.py)."""
    def walk(node):
        yield node
        for child in getattr(node, "children", {}).values():
            yield from walk(child)
    [frame] = [n.proto for n in walk(at._tree) if type(getattr(n, "proto", None)).__name__ == "BidiComponent"
               and n.proto.component_name == "dke_geo.public_frame"]
    return json.loads(frame.json)["doc"]


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
    (Role.PUBLIC, {"public", "accessibility"}),
    (Role.STAFF, {"home", "public", "accessibility"}),
    (Role.PLANNER, {"home", "public", "accessibility", "publish"}),
    (Role.ADMIN, {"home", "public", "accessibility", "publish", "admin"}),
])
def test_pages_by_role(app, role, pages):
    at = _app(app, Actor(f"test-{role.value}", role) if role != Role.PUBLIC else None)
    assert not at.exception
    assert _reachable(at) == pages
    if role == Role.PUBLIC:  # the public lands on the public map
        assert at.title[0].value.startswith("Tryghed i boligområderne")


def test_planner_publishes_a_finding_that_then_shows_publicly(app):
    at = _app(app, Actor("demo-planlaegger", Role.PLANNER))
    at.switch_page(PAGES["publish"]).run()
    assert not at.exception
    text = at.text_area[0]
    assert "noteret ved en områdevandring" in text.value  # the suggestion is offered
    text.input("Lampen ved cykelstien er gået ud; kommunen skifter den.").run()
    next(b for b in at.button if b.key == "publish_do").click().run()
    assert not at.exception and [s.value for s in at.success] == ["Offentliggjort."]
    at.button(key="logout").click().run()  # as the public
    at.switch_page(PAGES["public"]).run()
    assert "Lampen ved cykelstien er gået ud; kommunen skifter den." in site_data(public_document(at))["texts"]


def test_publish_page_refuses_the_wrong_role_in_the_core(app):
    """Even if a page were reached without the role, the service refuses: shown as a message, no trace."""
    at = app(Actor("demo-medarbejder", Role.STAFF), script=ROOT / PAGES["publish"]).run()
    assert not at.exception
    assert "må ikke offentliggøre fund" in at.error[0].value


def test_admin_adds_a_user_and_a_mismatch_keeps_the_form(app):
    at = _app(app, Actor("demo-admin", Role.ADMIN))
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


def _login() -> dict:
    """The claims of a fresh login that st.user holds beside the e-mail (from the provider's ID token)."""
    return {"iss": "https://login.example", "sub": uuid.uuid4().hex, "iat": int(time.time()), "nonce": "n"}


def test_municipality_login_maps_the_email_to_a_role(app, data_env):
    with context_for(data_env) as ctx:
        user_service.add_user(ctx, SYSTEM, "anna", Role.PLANNER, email="Anna.Jensen@albertslund.dk")
    at = app()
    at.secrets["auth"] = AUTH
    at.run()
    assert not at.text_input and "Log ind" not in [b.label for b in at.button]  # the public map: a login link
    at.switch_page("dke_geo/ui/pages/login.py").run()  # the "Medarbejder-login" link's page
    assert [b.label for b in at.button] == ["Log ind med kommunens konto"]
    assert not at.text_input  # no local password form beside it
    at.user = {"is_logged_in": True, "email": "anna.jensen@albertslund.dk", "name": "Anna Jensen", **_login()}
    at.run()
    assert any("anna (Planlægger)" in c.value for c in at.sidebar.caption)
    assert "publish" in _reachable(at)


def test_municipality_login_with_an_unknown_email_gets_no_role(app):
    at = app()
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, "email": "stranger@example.org", **_login()}
    at.run()
    assert not at.exception
    # back from the provider at `/`, the login page says why
    assert [e.value for e in at.error] == ["stranger@example.org har ingen adgang til værktøjet. Kontakt DKE."]
    assert _reachable(at) == {"public", "accessibility"}



def test_accessibility_statement_says_what_is_tested_and_whom_to_contact(app_test, data_env):
    env = {**data_env, "DKE_GEO_ACCESSIBILITY_CONTACT": "tilgaengelighed@albertslund.dk"}
    at = app_test(env, script=ROOT / PAGES["accessibility"]).run()
    assert not at.exception
    assert at.title[0].value.startswith("Tilgængelighedserklæring")
    text = "\n".join(m.value for m in at.markdown)
    assert "tilgaengelighed@albertslund" in text and "WCAG 2" in text and "390 px, 1280 px" in text
    assert "Digitaliseringsstyrelsen" in text
