"""The report-back link in Debian chromium, on a real `streamlit run` with a real SMTP server: a planner approves a
fix, the app's scheduler e-mails Bo-Vest its link; Bo-Vest opens it (no login, nothing else of the app), reports the
work in progress and then done with an after photo; the fix is done, DKE's contact gets the report by e-mail, and
the follow-up panel of the next walk in the area offers the fix for verification. A tampered and an expired link
are refused with a clear message. Runs on its own app and database (it changes the data)."""
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from dke_geo import report_links
from dke_geo.model import now
from dke_geo.roles import Actor, Role
from dke_geo.services import fixes
from tests.conftest import context_for, prepare_app_data
from tests.e2e.helpers import WAIT, login, open_from_menu, wait_for_app_run
from tests.notify_data import jpeg
from tests.pgserver import free_port

pytestmark = pytest.mark.browser
TITLE = "Skilte og synlige husnumre ved opgangene"  # a demo proposal for Bo-Vest in Blokland
PLANNER = Actor("demo-planlaegger", Role.PLANNER)


def test_report_back_link_done_with_an_after_photo_tells_dke_and_offers_verification(
        page, tmp_path, streamlit_server, smtp_server, external_requests, monkeypatch):
    page.set_default_timeout(WAIT)
    port = free_port()
    env = {**prepare_app_data(tmp_path / "app"), **smtp_server.env(), "DKE_GEO_PUBLIC_URL": f"http://127.0.0.1:{port}",
           "DKE_GEO_NOTIFY_INTERVAL_S": "1"}
    monkeypatch.setenv("DKE_GEO_DATA_DIR", env["DKE_GEO_DATA_DIR"])  # the test makes an expired link with the key
    with context_for(env) as ctx:
        table = fixes.fixes_frame(ctx, PLANNER)
        fix_id = table.loc[table["title"] == TITLE, "id"].iloc[0]
        fixes.transition_fix(ctx, PLANNER, fix_id, 1, "approved")
    server = streamlit_server(env, port=port)
    page.goto(server.url)  # the first page view makes the app context, and with it the scheduler

    # The app's scheduler sends Bo-Vest the message; its link opens the report-back page.
    assigned = next(m for m in _arrived(smtp_server, "drift@bo-vest.example", 1)
                    if m.message["Subject"] == f"Løsningsforslag til jer: {TITLE}")
    link = re.search(r"http://127\.0\.0\.1:\d+/report\?t=[\w.%-]+", assigned.part("plain")).group(0)
    page.goto(link)
    expect(page.get_by_role("heading", name="Meld tilbage på et løsningsforslag")).to_be_visible()
    expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
    expect(page.get_by_text("Her melder Bo-Vest / boligselskabet tilbage")).to_be_visible()
    wait_for_app_run(page)
    # nothing else of the app: no menu, no login, no sidebar
    expect(page.get_by_role("link", name="Offentligt kort")).to_have_count(0)
    expect(page.get_by_label("Brugernavn")).to_have_count(0)
    expect(page.get_by_test_id("stSidebar")).to_have_count(0)

    # In progress, then done with a comment and an after photo.
    page.get_by_role("button", name="Send tilbagemelding").click()
    expect(page.get_by_text("Tak. Forslaget har nu status »I gang«, og DKE har fået besked.")).to_be_visible()
    expect(page.get_by_role("radiogroup").get_by_text("Udført", exact=True)).to_be_visible()
    page.get_by_role("radiogroup").get_by_text("Udført", exact=True).click()
    page.get_by_label("Kommentar til DKE (valgfri)").fill("Nye skilte og belyste husnumre er sat op")
    photo = tmp_path / "efter.jpg"
    photo.write_bytes(jpeg((20, 120, 220)))
    page.locator('.st-key-reportback_photo input[type="file"]').set_input_files(photo)
    expect(page.get_by_text("efter.jpg")).to_be_visible()
    page.get_by_role("button", name="Send tilbagemelding").click()
    expect(page.get_by_text("Tak. Forslaget har nu status »Udført«, og DKE har fået besked.")).to_be_visible()
    expect(page.get_by_text("Forslaget er meldt udført. DKE kontrollerer det på næste vandring")).to_be_visible()

    # The fix is done, by "Bo-Vest (via link)", with the after photo; DKE's contact has the report by e-mail.
    with context_for(env) as ctx:
        detail = fixes.get_fix(ctx, PLANNER, fix_id)
    assert detail.fix.state == "done" and len(detail.after) == 1
    assert [(e.by, e.to_state) for e in detail.events[-2:]] == [
        ("Bo-Vest / boligselskabet (via link)", "in_progress"), ("Bo-Vest / boligselskabet (via link)", "done")]
    reports = {m.message["Subject"] for m in _arrived(smtp_server, "dke@albertslund.example", 2)}
    assert reports == {f"Bo-Vest / boligselskabet melder »I gang«: {TITLE}",
                       f"Bo-Vest / boligselskabet melder »Udført«: {TITLE}"}

    # The next walk in Blokland offers it for verification.
    page.goto(server.url)
    login(page, "demo-medarbejder")
    open_from_menu(page, "Registrér fund")
    page.locator(".st-key-record_new_title input").fill("Opfølgning efter Bo-Vests tilbagemelding")
    page.locator(".st-key-record_new_areas").get_by_role("button", name="Blokland").click()
    page.get_by_role("button", name="Start vandringen").click()
    page.locator(".st-key-fixes_fu_list summary").click()  # the follow-up list starts folded, after the walk's own
    card = page.locator("[class*='st-key-fixes_fu_fix_']", has_text=TITLE)
    expect(card).to_be_visible()
    expect(card.get_by_role("button", name="Udbedret")).to_be_visible()

    # A tampered and an expired link are refused, saying so.
    page.goto(link[:-4] + ("AAAA" if not link.endswith("AAAA") else "BBBB"))
    expect(page.get_by_text("Dette link er ikke gyldigt")).to_be_visible()
    expired = report_links.token(report_links.secret(), fix_id, "bo-vest", now() - timedelta(days=31))
    page.goto(report_links.url(server.url, expired))
    expect(page.get_by_text("Linket er udløbet: et link virker i 30 dage.")).to_be_visible()
    expect(page.get_by_role("button", name="Send tilbagemelding")).to_have_count(0)
    assert external_requests == []


def _arrived(smtp_server, to: str, count: int):
    return smtp_server.wait_for(count, to=to, timeout=WAIT / 1000)
