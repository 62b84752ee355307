"""What was sent, on the pages (Streamlit's AppTest, the demo data, no SMTP server set up): the fixes board says mail
is not set up and shows each fix's latest message, the fix page every message; the admin page lists the outbox
with its failures, resends one, and overrides an organisation's contact with who and when."""
import pytest
from sqlalchemy import update

from dke_geo.roles import SYSTEM, Actor, Role
from dke_geo.services import fixes as svc
from dke_geo.services import notifications
from dke_geo.store.db import transaction
from dke_geo.store.tables import outbox
from tests.conftest import ROOT, context_for, prepare_app_data

BOARD = ROOT / "dke_geo/ui/pages/fixes.py"
ADMIN = ROOT / "dke_geo/ui/pages/admin.py"
PLANNER = Actor("demo-planlaegger", Role.PLANNER)
TITLE = "Skilte og synlige husnumre ved opgangene"


@pytest.fixture(scope="module")
def data_env(tmp_path_factory) -> dict:
    """The demo with one proposal approved (its message queued: no SMTP server is set up), and the ids."""
    env = {**prepare_app_data(tmp_path_factory.mktemp("outbox-pages")), "DKE_GEO_NOTIFY_INTERVAL_S": "0"}
    with context_for(env) as ctx:
        table = svc.fixes_frame(ctx, SYSTEM)
        fix_id = table.loc[table["title"] == TITLE, "id"].iloc[0]
        svc.transition_fix(ctx, PLANNER, fix_id, 1, "approved")
    return {**env, "fix_id": fix_id}


def _env(data_env: dict) -> dict:
    return {k: v for k, v in data_env.items() if k.startswith("DKE_GEO_")}


def test_the_board_says_mail_is_not_set_up_and_shows_each_fixs_latest_message(app_test, data_env):
    at = app_test(_env(data_env), BOARD, actor=PLANNER).run()
    assert not at.exception
    assert any(w.value.startswith("E-mail er ikke sat op (DKE_GEO_SMTP_HOST)") for w in at.warning)
    table = at.dataframe[0].value.set_index("Forslag")
    latest = table.loc[TITLE, "Seneste besked"]
    assert latest.startswith("Tildelt · ") and latest.endswith(" · I kø")
    page = app_test(_env(data_env), BOARD, actor=PLANNER)
    page.query_params["fix"] = data_env["fix_id"]
    page.run()
    assert "Beskeder til de ansvarlige" in [s.value for s in page.subheader]
    sent = next(d.value for d in page.dataframe if "Besked" in d.value.columns)
    assert sent[["Besked", "Til", "Status"]].values.tolist() == [["Tildelt", "Bo-Vest / boligselskabet", "I kø"]]


def test_the_admin_page_lists_the_outbox_resends_a_failed_message_and_overrides_a_contact(app_test, data_env):
    with context_for(_env(data_env)) as ctx, transaction(ctx.engine) as conn:
        conn.execute(update(outbox).values(state="failed", last_error="550 mailbox unavailable"))
    admin = Actor("demo-admin", Role.ADMIN)
    at = app_test(_env(data_env), ADMIN, actor=admin).run()
    assert not at.exception
    at.toggle(key="admin_outbox_failed").set_value(True).run()
    listed = next(d.value for d in at.dataframe if "Emne" in d.value.columns)
    assert listed["Seneste fejl"].tolist() == ["550 mailbox unavailable"]
    assert len(at.selectbox(key="admin_outbox_message").options) == 1
    at.selectbox(key="admin_outbox_message").select_index(0).run()
    at.button(key="admin_outbox_resend").click().run()
    resent = "Beskeden er lagt i kø igen (med samme Message-ID) og sendes ved næste kørsel."
    assert resent in [s.value for s in at.success]
    with context_for(_env(data_env)) as ctx:
        assert notifications.outbox(ctx, SYSTEM)["state"].tolist() == ["queued"]

    at.selectbox(key="admin_contact_org").set_value("forsyning")
    at.text_input(key="admin_contact_email").input("Ole <ole@forsyning.example>")
    at.selectbox(key="admin_contact_lang").set_value("en")
    at.button[-1].click().run()  # the contact form's save button
    assert at.error[0].value.startswith("»Ole <ole@forsyning.example>« er ikke én e-mailadresse")
    assert at.text_input(key="admin_contact_email").value == "Ole <ole@forsyning.example>"  # the form is kept
    at.text_input(key="admin_contact_email").input("vejlys@forsyning.example")
    at.button[-1].click().run()
    assert "Kontakten for Forsyningen \\(vej og belysning\\) er gemt." in [s.value for s in at.success]
    contacts = next(d.value for d in at.dataframe if "Sprog" in d.value.columns).set_index("Til")
    assert contacts.loc["Forsyningen (vej og belysning)"].tolist()[:2] == ["vejlys@forsyning.example", "EN"]
    assert contacts.loc["Forsyningen (vej og belysning)", "Ændret af"].startswith("demo-admin · ")
