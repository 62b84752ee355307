"""Telling the responsible organisations, against a real SMTP server on 127.0.0.1 (aiosmtpd: STARTTLS with a
certificate made by the test, AUTH only after STARTTLS), on SQLite and PostGIS: the message for every move and
the digest with their content and language; reminders once; SMTP down -> queued, retried with backoff, delivered
once; two senders never send one message twice; a sender killed mid-run resends nothing it marked sent; 20
planners moving fixes at once lose no message."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from dke_geo import config, notices
from dke_geo.errors import Conflict, DkeError
from dke_geo.model import Fix, now
from dke_geo.roles import SYSTEM, Actor, Role
from dke_geo.services import fixes, notifications
from dke_geo.store.db import reading, transaction
from dke_geo.store.tables import fix_events, outbox
from tests.conftest import ROOT
from tests.notify_data import CONTACT, PLANNER, PUBLIC_URL, mail_context, make_fix
from tests.smtp_server import PASSWORD, SmtpServer


@pytest.fixture
def mail(engine, smtp_server, tmp_path, monkeypatch):
    """An app context that sends through the test SMTP server (photos and the link key in tmp_path)."""
    monkeypatch.setenv("DKE_GEO_DATA_DIR", str(tmp_path))
    with mail_context(engine, smtp_server.env()) as context:
        yield context


def _rows(ctx, **where) -> list:
    query = select(outbox).order_by(outbox.c.created_at, outbox.c.id)
    for column, value in where.items():
        query = query.where(outbox.c[column] == value)
    with reading(ctx.engine) as conn:
        return conn.execute(query).fetchall()


def _kinds(ctx) -> list[tuple[str, str]]:
    return [(r.kind, r.organisation) for r in _rows(ctx)]


def test_every_move_tells_the_responsible_organisation_and_arrives_over_starttls_with_auth(mail, smtp_server):
    fix = make_fix(mail)
    assert _kinds(mail) == []  # a proposal tells nobody
    fix = fixes.transition_fix(mail, PLANNER, fix.id, fix.version, "approved")
    fix = fixes.transition_fix(mail, PLANNER, fix.id, fix.version, "in_progress")
    fix = fixes.edit_fix(mail, PLANNER, fix.id, fix.version, {"due_date": date(2030, 5, 1)})
    fix = fixes.edit_fix(mail, PLANNER, fix.id, fix.version, {"title": "Ny LED-lampe ved stien"})  # tells nobody
    fix = fixes.edit_fix(mail, PLANNER, fix.id, fix.version, {"organisation": "forsyning"})
    fixes.transition_fix(mail, PLANNER, fix.id, fix.version, "done")
    expected = [("assigned", "bo-vest"), ("moved", "bo-vest"), ("due_changed", "bo-vest"), ("assigned", "forsyning"),
                ("unassigned", "bo-vest"), ("moved", "forsyning")]
    assert sorted(_kinds(mail)) == sorted(expected)

    result = notifications.send_queued(mail)
    assert (result.configured, result.sent, result.failed, result.waiting) == (True, 6, 0, 0)
    got = smtp_server.wait_for(6)
    assert all(m.tls and m.authenticated for m in got)  # STARTTLS, then AUTH, then the message
    assert smtp_server.logins and all(ok for _, ok in smtp_server.logins)
    by_id = {m.message_id: m for m in got}
    rows = _rows(mail)
    assert set(by_id) == {r.message_id for r in rows}  # one Message-ID per outbox row
    for row in rows:
        sent = by_id[row.message_id]
        assert sent.rcpt_tos == (CONTACT[row.organisation],) and row.recipient == CONTACT[row.organisation]
        assert row.state == "sent" and row.attempts == 1 and sent.message["Subject"] == row.subject
        assert sent.message["From"] == "DKE Albertslund <dke-geo@albertslund.example>"
    assigned = by_id[_rows(mail, kind="assigned", organisation="bo-vest")[0].message_id]
    text, html = assigned.part("plain"), assigned.part("html")
    assert assigned.message["Subject"] == "Løsningsforslag til jer: Ny lampe ved stien"
    for content in (text, html):
        assert "Bo-Vest / boligselskabet" in content and "driftschef" in content and "LED-armatur på masten." in content
        assert "Blokland: Belysning" in content and f"{PUBLIC_URL}/report?t=" in content
    assert "Meld tilbage uden login" in text and "Linket gælder kun dette forslag og virker i 30 dage" in text
    moved = by_id[_rows(mail, kind="moved", organisation="forsyning")[0].message_id]
    assert moved.message["Subject"] == "Ny status »Udført«: Ny LED-lampe ved stien"
    unassigned = by_id[_rows(mail, kind="unassigned")[0].message_id]
    assert "report?t=" not in unassigned.part("plain")  # the old organisation's link is gone
    due = by_id[_rows(mail, kind="due_changed")[0].message_id]
    assert "Frist: 1.5.2030" in due.part("plain")


def test_an_organisation_set_to_english_gets_english_and_its_overridden_address(mail, smtp_server):
    notifications.set_contact(mail, SYSTEM, "forsyning", "vejlys@forsyning.example", "en")
    make_fix(mail, "approved", organisation="forsyning", due=date(2031, 1, 15))
    notifications.send_queued(mail)
    [got] = smtp_server.wait_for(1)
    assert got.rcpt_tos == ("vejlys@forsyning.example",)
    assert got.message["Subject"] == "A solution proposal for you: Ny lampe ved stien"
    assert got.message["Content-Language"] == "en"
    text = got.part("plain")
    assert "To Utilities (roads and lighting), attn. driftschef" in text and "Due date: 15.1.2031" in text
    assert "Report back without logging in" in text and "Blokland: Lighting" in text
    assert [(e["email"], e["language"], e["by"]) for e in notifications.contact_history(mail, SYSTEM)] == [
        ("vejlys@forsyning.example", "en", "system")]
    with pytest.raises(DkeError, match="not one e-mail address"):
        notifications.set_contact(mail, SYSTEM, "forsyning", "Ole Hansen <ole@forsyning.example>", "da")
    notifications.set_contact(mail, SYSTEM, "forsyning", "", "da")  # back to data/organisations.toml
    assert {c.organisation: c.email for c in notifications.contacts(mail, SYSTEM)}["forsyning"] == CONTACT["forsyning"]


def test_approved_photos_go_with_the_message_without_exif(mail, smtp_server):
    make_fix(mail, "approved", photo=True)
    notifications.send_queued(mail)
    [got] = smtp_server.wait_for(1)
    [attachment] = list(got.message.iter_attachments())
    data = attachment.get_content()
    assert attachment.get_content_type() == "image/jpeg" and data[:3] == b"\xff\xd8\xff"
    assert b"Exif" not in data
    assert "1 foto(s) vedhæftet" in got.part("plain")


def test_reminder_before_the_due_date_and_overdue_each_once(mail):
    today = now().date()
    fix = make_fix(mail, "approved", due=today + timedelta(days=10))
    before = len(_rows(mail))
    notifications.queue_due(mail)
    assert not _rows(mail, kind="reminder")  # 10 days off: not yet
    at = now() + timedelta(days=4)
    assert notifications.queue_due(mail, at) >= 1
    [reminder] = _rows(mail, kind="reminder")
    assert reminder.organisation == "bo-vest" and reminder.subject.startswith("Påmindelse, frist ")
    assert notifications.queue_due(mail, at) == 0 and notifications.queue_due(mail, at + timedelta(days=1)) == 0
    late = now() + timedelta(days=12)
    notifications.queue_due(mail, late)
    [overdue] = _rows(mail, kind="overdue")
    assert "(2 dage overskredet)" in overdue.body_text and "Fristen" in overdue.subject
    notifications.queue_due(mail, late + timedelta(days=3))
    assert len(_rows(mail, kind="overdue")) == 1
    # a new due date re-arms the reminders (and is told itself)
    fix = fixes.edit_fix(mail, PLANNER, fix.id, fix.version, {"due_date": today + timedelta(days=20)})
    notifications.queue_due(mail, now() + timedelta(days=15))
    assert len(_rows(mail, kind="reminder")) == 2 and len(_rows(mail, kind="due_changed")) == 1
    assert len(_rows(mail)) > before


def test_weekly_digest_per_organisation_once_a_week(mail, smtp_server):
    today = now().date()
    make_fix(mail, "approved", due=today - timedelta(days=9), title="Beskær buskene")
    make_fix(mail, "approved", "in_progress", due=today + timedelta(days=30), title="Nye skilte")
    make_fix(mail, "approved", "in_progress", "done", "verified", title="Ny lampe")
    make_fix(mail, "approved", organisation="miljo-teknik", title="Fjern graffiti")
    make_fix(mail, title="Kun et forslag", organisation="forsyning")  # proposed: no digest for forsyning
    assert notifications.queue_digests(mail) == 2
    assert notifications.queue_digests(mail) == 0
    notifications.queue_due(mail)  # the scheduler's run in the same week: no second digest
    digests = {r.organisation: r for r in _rows(mail, kind="digest")}
    assert set(digests) == {"bo-vest", "miljo-teknik"}
    text = digests["bo-vest"].body_text
    week = notices.digest_week(now()) or notices.digest_week(now() + timedelta(hours=7))
    assert digests["bo-vest"].subject == f"Ugeoversigt over jeres løsningsforslag ({week})"
    assert "Åbne forslag (2), heraf 1 overskredet" in text and "(9 dage overskredet)" in text
    assert text.index("Beskær buskene") < text.index("Nye skilte")  # overdue first
    assert "Kontrolleret den seneste uge (1)" in text and "Ny lampe: kontrolleret " in text
    assert text.count("/report?t=") == 2  # a link per open fix
    notifications.send_queued(mail)
    digest_ids = {r.message_id for r in _rows(mail, kind="digest")}
    assert len([m for m in smtp_server.wait_for(len(_rows(mail))) if m.message_id in digest_ids]) == 2


def test_smtp_down_queued_retried_with_backoff_and_delivered_once_when_it_comes_back(mail, smtp_server):
    smtp_server.stop()
    make_fix(mail, "approved")
    t0 = now()
    result = notifications.send_queued(mail, t0)
    assert (result.sent, result.failed, result.waiting) == (0, 1, 1)
    [row] = _rows(mail)
    assert row.state == "queued" and row.attempts == 1 and "Connection" in row.last_error
    assert row.next_attempt_at == t0 + timedelta(seconds=60)
    assert notifications.send_queued(mail, t0 + timedelta(seconds=30)).failed == 0  # not due yet: not tried
    assert _rows(mail)[0].attempts == 1
    t1 = t0 + timedelta(seconds=61)
    assert notifications.send_queued(mail, t1).failed == 1  # still down: the wait doubles
    assert _rows(mail)[0].next_attempt_at == t1 + timedelta(seconds=120)
    smtp_server.start()
    t2 = t1 + timedelta(seconds=121)
    assert notifications.send_queued(mail, t2).sent == 1
    assert notifications.send_queued(mail, t2 + timedelta(hours=1)).sent == 0
    [row] = _rows(mail)
    assert (row.state, row.attempts, row.last_error) == ("sent", 3, "")
    assert [m.message_id for m in smtp_server.wait_for(1)] == [row.message_id]


def test_gives_up_after_the_last_attempt_and_an_admin_resends_with_the_same_message_id(mail, smtp_server):
    make_fix(mail, "approved")
    smtp_server.stop()
    with transaction(mail.engine) as conn:
        conn.execute(update(outbox).values(attempts=notices.MAX_ATTEMPTS - 1))
    notifications.send_queued(mail)
    [row] = _rows(mail)
    assert row.state == "failed" and row.attempts == notices.MAX_ATTEMPTS
    assert notifications.outbox(mail, SYSTEM, failed_only=True)["id"].tolist() == [row.id]
    smtp_server.start()
    notifications.resend(mail, SYSTEM, row.id)
    with pytest.raises(DkeError, match="already queued"):
        notifications.resend(mail, SYSTEM, row.id)
    assert notifications.send_queued(mail).sent == 1
    notifications.resend(mail, SYSTEM, row.id)  # a sent one again: the same Message-ID, recognisably the same
    notifications.send_queued(mail)
    assert [m.message_id for m in smtp_server.wait_for(2)] == [row.message_id] * 2


def test_a_server_without_starttls_gets_nothing_and_no_password(engine, tmp_path, monkeypatch):
    monkeypatch.setenv("DKE_GEO_DATA_DIR", str(tmp_path))
    plain = SmtpServer(tmp_path, starttls=False).start()
    try:
        with mail_context(engine, plain.env()) as ctx:
            make_fix(ctx, "approved")
            assert notifications.send_queued(ctx).failed == 1
            [row] = _rows(ctx)
        assert "offers no STARTTLS" in row.last_error and row.state == "queued"
        assert plain.messages() == [] and plain.logins == []
    finally:
        plain.stop()


def test_a_refused_login_is_retried_and_the_password_never_printed(engine, smtp_server, tmp_path, monkeypatch):
    monkeypatch.setenv("DKE_GEO_DATA_DIR", str(tmp_path))
    env = {**smtp_server.env(), "DKE_GEO_SMTP_PASSWORD": "forkert-kode-123"}
    with mail_context(engine, env) as ctx:
        make_fix(ctx, "approved")
        notifications.send_queued(ctx)
        [row] = _rows(ctx)
        assert "login refused" in row.last_error and "forkert-kode-123" not in row.last_error
        assert "forkert-kode-123" not in repr(ctx.settings) and "forkert-kode-123" not in str(ctx.settings)
    assert smtp_server.messages() == [] and smtp_server.logins and set(smtp_server.logins) == {("dke-geo", False)}


def test_two_senders_at_once_send_every_message_once(engine, smtp_server, tmp_path, monkeypatch):
    """Two app servers' schedulers (each its own context and engine) sending the same outbox at the same moment."""
    monkeypatch.setenv("DKE_GEO_DATA_DIR", str(tmp_path))
    url = engine.url.render_as_string(hide_password=False)
    with mail_context(engine, smtp_server.env()) as ctx:
        for _ in range(12):
            make_fix(ctx, "approved", "in_progress")
    total = len(_rows(ctx))
    start = threading.Barrier(2)
    results = []

    def sender():
        from dke_geo.context import AppContext
        other = AppContext.open(config.load({"DKE_GEO_DATABASE_URL": url, **smtp_server.env()}))
        try:
            start.wait()
            results.append(notifications.send_queued(other))
        finally:
            other.close()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert sum(r.sent for r in results) == total == 24 and all(r.failed == 0 for r in results)
    got = smtp_server.wait_for(total)
    assert len(got) == total and len({m.message_id for m in got}) == total


def test_a_killed_sender_resends_nothing_it_marked_sent(engine, tmp_path, monkeypatch):
    """`notify send` killed with SIGKILL while the SMTP server is answering slowly; a new run sends the rest and
    nothing that was marked sent. The message it was sending when it died is the only one that can go twice: it
    stays claimed until the lease runs out, then goes again with the same Message-ID."""
    monkeypatch.setenv("DKE_GEO_DATA_DIR", str(tmp_path))
    slow = SmtpServer(tmp_path, delay_s=0.4).start()
    url = engine.url.render_as_string(hide_password=False)
    env = {**os.environ, **slow.env(), "DKE_GEO_DATABASE_URL": url, "DKE_GEO_DATA_DIR": str(tmp_path)}
    try:
        with mail_context(engine, slow.env()) as ctx:
            for _ in range(5):
                make_fix(ctx, "approved", "in_progress")
            sender = subprocess.Popen([sys.executable, "-m", "dke_geo", "notify", "send"], cwd=ROOT, env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            slow.wait_for(3)
            os.kill(sender.pid, signal.SIGKILL)
            sender.wait(30)
            before = {r.message_id: r.state for r in _rows(ctx)}
            marked = {m for m, s in before.items() if s == "sent"}
            stuck = {m for m, s in before.items() if s == "sending"}
            assert len(marked) >= 2 and len(stuck) <= 1
            received_before = len(slow.messages())

            again = subprocess.run([sys.executable, "-m", "dke_geo", "notify", "send"], cwd=ROOT, env=env,
                                   capture_output=True, text=True, timeout=300)
            assert again.returncode == 0, again.stderr
            after = slow.messages()[received_before:]
            assert not {m.message_id for m in after} & marked  # nothing already marked sent went again
            assert {m.message_id for m in after} == set(before) - marked - stuck
            assert {r.message_id: r.state for r in _rows(ctx)} == {m: "sending" if m in stuck else "sent"
                                                                  for m in before}
            # the duplicate window: once the lease is over, the message being sent when the sender died goes again
            assert notifications.send_queued(ctx, now() + timedelta(seconds=notices.LEASE_S + 1)).sent == len(stuck)
            assert all(r.state == "sent" for r in _rows(ctx))
            counts = {}
            for m in slow.messages():
                counts[m.message_id] = counts.get(m.message_id, 0) + 1
            assert set(counts) == set(before)
            assert all(n == 1 for m, n in counts.items() if m not in stuck)
    finally:
        slow.stop()


def test_twenty_planners_moving_fixes_at_once_lose_no_message(mail, smtp_server):
    """20 threads through the services: each moves its own fix along the workflow and changes its due date, and all
    of them fight over one shared fix. Every stored change has exactly the messages notices.for_change says, no
    losing change left one, and every message arrives once."""
    planners = [Actor(f"planner-{i:02d}", Role.PLANNER) for i in range(20)]
    own = [make_fix(mail, actor=p) for p in planners]
    shared = make_fix(mail, "approved")
    start = threading.Barrier(len(planners))
    conflicts, unchanged, errors = [], [], []

    def work(actor: Actor, fix):
        start.wait()
        try:
            for step in ("approved", "in_progress", {"due_date": date(2031, 3, 1)}, "done"):
                fix = (fixes.edit_fix(mail, actor, fix.id, fix.version, step) if isinstance(step, dict)
                       else fixes.transition_fix(mail, actor, fix.id, fix.version, step))
                current = fixes.get_fix(mail, actor, shared.id).fix
                change = {"due_date": date(2031, 1, 1) + timedelta(days=int(actor.name[-2:]))}
                try:
                    if fixes.edit_fix(mail, actor, shared.id, current.version, change).version == current.version:
                        unchanged.append(actor.name)  # its own date was still there: nothing to store or tell
                except Conflict:
                    conflicts.append(actor.name)
        except Exception as exc:  # reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=work, args=(p, f)) for p, f in zip(planners, own, strict=True)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(600)
    assert errors == []

    with reading(mail.engine) as conn:
        history = conn.execute(select(fix_events).order_by(fix_events.c.fix_id, fix_events.c.version)).fetchall()
    expected = set()
    for event in history:  # each stored change, replayed through the rules
        if event.from_state is None:
            continue
        before = Fix(title="x", organisation="bo-vest", state=event.from_state, due_date=date(2030, 1, 1))
        edited_due = event.from_state == event.to_state and "due_date" in event.comment.split(", ")
        after = before.model_copy(update={"state": event.to_state,
                                          "due_date": date(2030, 1, 2) if edited_due else before.due_date})
        expected |= {notices.dedupe_key(n.kind, n.organisation, fix_id=event.fix_id, version=event.version)
                     for n in notices.for_change(before, after)}
    stored = {r.dedupe_key for r in _rows(mail)}
    assert stored == expected
    shared_edits = sum(1 for e in history if e.fix_id == str(shared.id) and e.version > 2)
    assert len(stored) == 20 * 4 + 1 + shared_edits  # own fixes: 4 each; the shared one: approved + each edit
    assert shared_edits + len(conflicts) + len(unchanged) == 20 * 4  # every attempt: stored, refused or a no-op
    assert shared_edits >= 1 and len(conflicts) >= 1
    while notifications.send_queued(mail).sent:
        pass
    got = smtp_server.wait_for(len(stored), timeout=120)
    assert len({m.message_id for m in got}) == len(got) == len(stored)


def test_the_scheduler_sends_and_stops_with_its_context(engine, smtp_server, tmp_path, monkeypatch):
    monkeypatch.setenv("DKE_GEO_DATA_DIR", str(tmp_path))
    with mail_context(engine, {**smtp_server.env(), "DKE_GEO_NOTIFY_INTERVAL_S": "0.2"}) as ctx:
        make_fix(ctx, "approved")
        scheduler = notifications.start_scheduler(ctx)
        smtp_server.wait_for(1)
        ctx.close()  # what the app does when its context goes
        assert not scheduler._thread.is_alive()
    with mail_context(engine, {**smtp_server.env(), "DKE_GEO_NOTIFY_INTERVAL_S": "0"}) as ctx:
        assert notifications.start_scheduler(ctx) is None


def test_without_smtp_messages_stay_queued_and_the_cli_says_so(engine, tmp_path, monkeypatch):
    monkeypatch.setenv("DKE_GEO_DATA_DIR", str(tmp_path))
    with mail_context(engine, {}) as ctx:
        make_fix(ctx, "approved")
        assert notifications.send_queued(ctx) == notifications.SendResult(False, 0, 0, 1)
        assert notifications.delivery(ctx, PLANNER).configured is False
    env = {**os.environ, "DKE_GEO_DATABASE_URL": engine.url.render_as_string(hide_password=False),
           "DKE_GEO_DATA_DIR": str(tmp_path)}
    env = {k: v for k, v in env.items() if not k.startswith("DKE_GEO_SMTP")}
    out = subprocess.run([sys.executable, "-m", "dke_geo", "notify", "send"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    digest_due = int(notices.digest_week(now()) is not None)  # from Monday 07:00 `notify send` queues the digest
    assert out.stdout.strip() == (f"{digest_due} message(s) queued; DKE_GEO_SMTP_HOST is not set, so nothing is "
                                  f"sent: {1 + digest_due} message(s) wait in the outbox")
    digest = subprocess.run([sys.executable, "-m", "dke_geo", "notify", "digest"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert digest.stdout.strip() == f"{1 - digest_due} weekly digest(s) queued"  # once a week
    listed = subprocess.run([sys.executable, "-m", "dke_geo", "notify", "list"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert "queued  assigned      bo-vest" in listed.stdout and "queued  digest        bo-vest" in listed.stdout
    assert listed.stdout.endswith("2 message(s)\n")


def test_the_smtp_password_never_appears_in_a_startup_error_or_the_settings():
    with pytest.raises(config.StartupError) as refused:
        config.load({"DKE_GEO_SMTP_HOST": "smtp.albertslund.dk", "DKE_GEO_SMTP_PASSWORD": PASSWORD})
    assert "DKE_GEO_SMTP_FROM" in str(refused.value) and PASSWORD not in str(refused.value)
    settings = config.load({"DKE_GEO_SMTP_PASSWORD": PASSWORD})
    assert PASSWORD not in repr(settings) and "***" in repr(settings)
    assert settings["DKE_GEO_SMTP_PASSWORD"] == PASSWORD


def test_only_planned_fixes_with_a_due_date_are_reminded():
    assert notices.reminder("approved", date(2026, 12, 8), date(2026, 11, 30)) is None
    assert notices.reminder("proposed", date(2026, 12, 1), date(2026, 12, 2)) is None
    assert notices.reminder("in_progress", None, date(2026, 12, 2)) is None
