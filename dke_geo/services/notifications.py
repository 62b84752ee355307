"""Telling the responsible organisations (README "Telling the responsible organisations").

- `queue_for_change` is called by services/fixes.py inside the transaction that stores a fix's change and its
  event, so the message and the event are written together or not at all (a transactional outbox).
- `queue_due` queues the reminders (7 days before a due date, and once it has passed) and the weekly digests,
  each at most once (a unique key per fix and due date, per organisation and week).
- `send_queued` delivers the outbox over SMTP (dke_geo/mail.py): each message is claimed by one sender only
  (store/outbox.py), sent with its own Message-ID, and marked sent; a failure is retried with exponential
  backoff (notices.retry_at). A sender that dies between sending and marking leaves its message claimed; after
  notices.LEASE_S another sender sends it again, with the same Message-ID: the only way a message goes twice.
- The app runs `Scheduler` (one thread per app context) doing both every DKE_GEO_NOTIFY_INTERVAL_S; the command
  line's `notify send` and `notify digest` do the same once, for a cron job or systemd timer.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import pandas as pd

from dke_geo import mail, messages, notices, organisations, photos, report_links
from dke_geo.context import AppContext
from dke_geo.errors import DkeError
from dke_geo.i18n import LANGUAGES
from dke_geo.lifecycle import FINAL, State
from dke_geo.model import TZ, Fix, now
from dke_geo.notices import Kind
from dke_geo.roles import Actor, Permission, require
from dke_geo.store import contacts as contact_store
from dke_geo.store import notices as notice_store
from dke_geo.store import outbox as outbox_store
from dke_geo.store.db import reading, transaction

if TYPE_CHECKING:
    from sqlalchemy import Connection

log = logging.getLogger(__name__)
MAX_PHOTOS = 5
"""At most this many approved photos go with one message (the first ones, oldest first)."""
_PLANNED = (State.APPROVED.value, State.IN_PROGRESS.value)


# ------------------------------------------------------------------ contacts
@dataclass(frozen=True)
class Contact:
    """Where an organisation's messages go: the file's contact, or an administrator's override of it."""
    organisation: str
    email: str
    language: str
    overridden_by: str | None = None
    overridden_at: datetime | None = None


def _contacts(conn: Connection) -> dict[str, Contact]:
    stored = contact_store.overrides(conn)
    out = {}
    for org_id, org in organisations.organisations().items():
        over = stored.get(org_id)
        out[org_id] = (Contact(org_id, over["email"], over["language"], over["updated_by"], over["updated_at"])
                       if over else Contact(org_id, org.email, org.language))
    return out


def contact_of(conn: Connection, org_id: str) -> Contact:
    """The contact of one organisation now (an override, else the file's), read in the caller's connection."""
    return _contacts(conn).get(org_id) or Contact(org_id, "", "da")


def contacts(ctx: AppContext, actor: Actor) -> list[Contact]:
    """Every organisation's contact, as messages use it now (for the admin page)."""
    require(actor, Permission.MANAGE_CONTACTS)
    with reading(ctx.engine) as conn:
        return list(_contacts(conn).values())


def set_contact(ctx: AppContext, actor: Actor, organisation: str, email: str, language: str = "da") -> Contact:
    """Override an organisation's contact e-mail and language (an empty e-mail goes back to the file's), recorded
    with who and when. The address must be one function mailbox (no name, no list)."""
    require(actor, Permission.MANAGE_CONTACTS)
    email = (email or "").strip()
    if organisation not in organisations.organisations():
        raise DkeError("error.unknown_organisation", value=organisation,
                       allowed=", ".join(organisations.organisations()))
    if (email and not organisations.EMAIL.fullmatch(email)) or language not in LANGUAGES:
        raise DkeError("notify.error.email", value=email)
    with transaction(ctx.engine, changes_data=False) as conn:
        contact_store.set_override(conn, organisation, email, language, actor.name, now())
        return contact_of(conn, organisation)


def contact_history(ctx: AppContext, actor: Actor) -> list[dict]:
    """Every change of a contact, newest first."""
    require(actor, Permission.MANAGE_CONTACTS)
    with reading(ctx.engine) as conn:
        return contact_store.events(conn)


# ------------------------------------------------------------------ queueing
def _link(ctx: AppContext, fix_id: str, organisation: str) -> str | None:
    """The report-back link for the organisation, when the app's public address is configured."""
    public_url = ctx.settings["DKE_GEO_PUBLIC_URL"]
    if not public_url:
        return None
    return report_links.url(public_url, report_links.token(report_links.secret(), fix_id, organisation))


def _row(ctx: AppContext, kind: Kind, contact: Contact, message: messages.Message, key: str, by: str, at: datetime,
         fix_id: str | None = None, version: int | None = None, photo_ids: tuple[str, ...] = ()) -> dict:
    row_id = str(uuid.uuid4())
    sender = ctx.settings["DKE_GEO_SMTP_FROM"]
    domain = sender.rstrip(">").rsplit("@", 1)[1] if "@" in sender else "dke-geo.invalid"
    return {"id": row_id, "message_id": f"<{row_id}@{domain}>", "dedupe_key": key, "kind": kind.value,
            "organisation": contact.organisation, "language": contact.language, "fix_id": fix_id,
            "fix_version": version, "subject": message.subject, "body_text": message.text, "body_html": message.html,
            "photo_ids": list(photo_ids[:MAX_PHOTOS]), "state": outbox_store.QUEUED, "attempts": 0,
            "next_attempt_at": at, "last_error": "", "recipient": "", "created_by": by, "created_at": at}


def _fix_row(ctx: AppContext, conn: Connection, kind: Kind, organisation: str, fix: notices.FixNotice, key: str,
             by: str, at: datetime, version: int | None = None) -> dict:
    """A message to `organisation` about one of its fixes, with its link and approved photos."""
    contact = contact_of(conn, organisation)
    link = None if kind == Kind.UNASSIGNED or State(fix.state) in FINAL else _link(ctx, fix.id, organisation)
    photo_ids = () if kind == Kind.UNASSIGNED else fix.photo_ids
    message = messages.fix_message(kind, fix, organisation, contact.language, at.astimezone(TZ).date(), link,
                                   min(len(photo_ids), MAX_PHOTOS))
    return _row(ctx, kind, contact, message, key, by, at, fix.id, version, photo_ids)


def queue_for_change(ctx: AppContext, conn: Connection, before: Fix, after: Fix, by: str, *, via_link: bool = False,
                     comment: str = "", with_photo: bool = False) -> int:
    """Queue, in the caller's transaction (the one storing the change and its event), the messages the change of
    `before` into `after` causes (notices.for_change). Returns how many."""
    wanted = notices.for_change(before, after, via_link=via_link)
    if not wanted:
        return 0
    [fix] = notice_store.fix_notices(conn, fix_ids=[str(after.id)])
    at = now()
    rows = []
    for notice in wanted:
        key = notices.dedupe_key(notice.kind, notice.organisation, fix_id=after.id, version=after.version)
        if notice.kind == Kind.REPORTED_BACK:
            contact = contact_of(conn, notice.organisation)
            public_url = ctx.settings["DKE_GEO_PUBLIC_URL"]
            message = messages.reported_back(fix, after.organisation, before.state, contact.language,
                                             at.astimezone(TZ).date(), comment, with_photo,
                                             f"{public_url}/fixes?fix={after.id}" if public_url else None)
            rows.append(_row(ctx, notice.kind, contact, message, key, by, at, fix.id, after.version))
        else:
            rows.append(_fix_row(ctx, conn, notice.kind, notice.organisation, fix, key, by, at, after.version))
    return outbox_store.add(conn, rows)


def queue_due(ctx: AppContext, at: datetime | None = None) -> int:
    """Queue the reminders and overdue notices that are due, and this week's digests once Monday 07:00 has come;
    each at most once, so running this every minute, from two servers and a cron job at once, is safe. Returns
    how many were queued. Writes only when something is new (a tick that finds nothing changes nothing)."""
    at = at or now()
    today = at.astimezone(TZ).date()
    week = notices.digest_week(at)
    with reading(ctx.engine) as conn:
        reminders = {}
        for fix_id, org, state, due in notice_store.with_due_dates(conn, _PLANNED):
            kind = notices.reminder(state, due, today)
            if kind is not None:
                reminders[notices.dedupe_key(kind, org, fix_id=fix_id, due=due)] = (kind, fix_id, org)
        digests = {notices.dedupe_key(Kind.DIGEST, org, week=week): org
                   for org in notice_store.organisations_with(conn, (*_PLANNED, State.VERIFIED.value))} if week else {}
        known = outbox_store.known_keys(conn, [*reminders, *digests])
    reminders = {k: v for k, v in reminders.items() if k not in known}
    digests = {k: v for k, v in digests.items() if k not in known}
    if not reminders and not digests:
        return 0
    with transaction(ctx.engine, changes_data=False) as conn:
        fixes = {f.id: f for f in notice_store.fix_notices(conn, fix_ids=[v[1] for v in reminders.values()])}
        rows = [_fix_row(ctx, conn, kind, org, fixes[fix_id], key, "system", at)
                for key, (kind, fix_id, org) in reminders.items() if fix_id in fixes]
        rows += [row for key, org in digests.items() if (row := _digest_row(ctx, conn, org, week, key, at))]
        return outbox_store.add(conn, rows)


def _digest_row(ctx: AppContext, conn: Connection, org: str, week: str, key: str, at: datetime) -> dict | None:
    """The week's digest for `org`, or None when it has nothing open and nothing verified in the last week."""
    open_fixes = notice_store.fix_notices(conn, organisation=org, states=_PLANNED)
    verified_at = notice_store.verified_since(conn, org, at - timedelta(days=notices.RECENT_DAYS))
    verified = notice_store.fix_notices(conn, fix_ids=list(verified_at)) if verified_at else []
    if not open_fixes and not verified:
        return None
    contact = contact_of(conn, org)
    links = {f.id: link for f in open_fixes if (link := _link(ctx, f.id, org))}
    message = messages.digest(org, contact.language, week, at.astimezone(TZ).date(), open_fixes,
                              [(f, verified_at[f.id]) for f in verified], links)
    return _row(ctx, Kind.DIGEST, contact, message, key, "system", at)


def queue_digests(ctx: AppContext, at: datetime | None = None) -> int:
    """Queue this week's digests now (`notify digest`), even before Monday 07:00; at most one per organisation
    and week. Returns how many were queued."""
    at = at or now()
    week = notices.digest_week(at) or notices.digest_week(at + timedelta(hours=notices.DIGEST_HOUR))
    with reading(ctx.engine) as conn:
        wanted = {notices.dedupe_key(Kind.DIGEST, org, week=week): org
                  for org in notice_store.organisations_with(conn, (*_PLANNED, State.VERIFIED.value))}
        known = outbox_store.known_keys(conn, wanted)
    wanted = {k: v for k, v in wanted.items() if k not in known}
    if not wanted:
        return 0
    with transaction(ctx.engine, changes_data=False) as conn:
        rows = [row for key, org in wanted.items() if (row := _digest_row(ctx, conn, org, week, key, at))]
        return outbox_store.add(conn, rows)


# ------------------------------------------------------------------ sending
@dataclass(frozen=True)
class SendResult:
    """What one run of the sender did."""
    configured: bool  # an SMTP server is set (else nothing was tried)
    sent: int
    failed: int       # tried and failed this time (queued again, or failed for good)
    waiting: int      # queued messages left afterwards


def _sender() -> str:
    """This sender's name in the rows it claims: host, process and thread."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:120]


def send_queued(ctx: AppContext, at: datetime | None = None, *, lease_s: float = notices.LEASE_S,
                limit: int = 100) -> SendResult:
    """Deliver the messages that are due (at most `limit`), each claimed first so no other sender sends it too.
    Without an SMTP server nothing is tried and the messages stay queued."""
    smtp = mail.Smtp.from_settings(ctx.settings)
    at = at or now()
    sent = failed = 0
    if smtp is not None:
        lease_before = at - timedelta(seconds=lease_s)
        me = _sender()
        with reading(ctx.engine) as conn:
            due = outbox_store.due(conn, at, lease_before, limit)
        for message_id in due:
            with transaction(ctx.engine, changes_data=False) as conn:
                if not outbox_store.claim(conn, message_id, me, at, lease_before):
                    continue  # another sender has it
                row = outbox_store.get(conn, message_id)
                contact = contact_of(conn, row.organisation)
                pictures = notice_store.approved_photo_paths(conn, row.photo_ids)
            try:
                _deliver(smtp, row, contact, pictures)
            except mail.SendFailed as exc:
                failed += 1
                log.warning("message %s to %s not sent (attempt %d): %s", row.message_id, row.organisation,
                            row.attempts, exc)
                with transaction(ctx.engine, changes_data=False) as conn:
                    outbox_store.mark_failed(conn, message_id, me, str(exc), notices.retry_at(row.attempts, at))
                continue
            with transaction(ctx.engine, changes_data=False) as conn:
                outbox_store.mark_sent(conn, message_id, me, contact.email, at)
            sent += 1
    with reading(ctx.engine) as conn:
        waiting = outbox_store.counts(conn).get(outbox_store.QUEUED, 0)
    return SendResult(smtp is not None, sent, failed, waiting)


def _deliver(smtp: mail.Smtp, row, contact: Contact, pictures: list[tuple[str, str]]) -> None:
    """Build the MIME message of an outbox row and send it; the photos re-encoded from their pixels (no EXIF)."""
    if not contact.email:
        raise mail.SendFailed(f"no contact e-mail for {row.organisation}: set one on the admin page")
    attachments = []
    for number, (_, path) in enumerate(pictures, start=1):
        try:
            data = photos.public_jpeg(photos.file(path).read_bytes())[0]
        except (OSError, photos.PhotoError):
            continue  # a photo file that is gone is left out, not the message
        attachments.append(mail.Attachment(f"foto-{number}.jpg", data))
    mail.send(smtp, mail.build(row.message_id, smtp.sender, contact.email, row.subject, row.body_text,
                               row.body_html, row.language, attachments))


# ------------------------------------------------------------------ the outbox, for the pages and the CLI
@dataclass(frozen=True)
class Delivery:
    """For the fixes board: whether mail can go out, how many messages wait or failed, each fix's newest."""
    configured: bool
    queued: int
    failed: int
    latest: pd.DataFrame  # fix_id, kind, state, created_at, sent_at


def delivery(ctx: AppContext, actor: Actor) -> Delivery:
    require(actor, Permission.VIEW_INTERNAL)
    with reading(ctx.engine) as conn:
        counts = outbox_store.counts(conn)
        latest = outbox_store.latest_per_fix(conn)
    return Delivery(ctx.settings.smtp_configured, counts.get(outbox_store.QUEUED, 0) +
                    counts.get(outbox_store.SENDING, 0), counts.get(outbox_store.FAILED, 0), latest)


def fix_messages(ctx: AppContext, actor: Actor, fix_id: str) -> pd.DataFrame:
    """What was sent about one fix, to whom and when, and whether it was delivered (newest first)."""
    require(actor, Permission.VIEW_INTERNAL)
    with reading(ctx.engine) as conn:
        return outbox_store.frame(conn, fix_id=str(fix_id))


def outbox(ctx: AppContext, actor: Actor, *, failed_only: bool = False, limit: int = 500) -> pd.DataFrame:
    """The newest messages (all, or those that failed or are being retried), for the admin page and `notify list`."""
    require(actor, Permission.MANAGE_CONTACTS)
    with reading(ctx.engine) as conn:
        return outbox_store.frame(conn, failed_only=failed_only, limit=limit)


def resend(ctx: AppContext, actor: Actor, message_id: str) -> None:
    """Queue a sent or failed message again, with its Message-ID, so the recipient's mail program can tell it is
    the same message. It goes to the organisation's contact as it is now."""
    require(actor, Permission.MANAGE_CONTACTS)
    with transaction(ctx.engine, changes_data=False) as conn:
        if not outbox_store.requeue(conn, str(message_id), now()):
            raise DkeError("notify.error.not_resendable")


# ------------------------------------------------------------------ the app's scheduler
class Scheduler:
    """The app's sender: a daemon thread that, every `interval_s`, queues what is due and sends the outbox. One
    per app context (made by `start_scheduler`), whatever the number of browser sessions; stopped when the
    context closes. Two app servers each run one: the claims keep them from sending a message twice."""

    def __init__(self, ctx: AppContext, interval_s: float):
        self.ctx, self.interval_s = ctx, interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dke-geo-notify", daemon=True)

    def start(self) -> Scheduler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=60)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                queue_due(self.ctx)
                send_queued(self.ctx)
            except Exception:  # a database away, a bug: logged, and the next tick tries again
                log.exception("the notification scheduler's run failed; trying again in %g s", self.interval_s)
            self._stop.wait(self.interval_s)


def start_scheduler(ctx: AppContext) -> Scheduler | None:
    """Start the app context's scheduler (None when DKE_GEO_NOTIFY_INTERVAL_S is 0: a cron job sends instead).
    Streamlit runs no code before the first browser session, so the app makes its context, and starts sending,
    at the first page view after a start; `notify send` from cron covers an app that nobody has opened."""
    interval = float(ctx.settings["DKE_GEO_NOTIFY_INTERVAL_S"])
    if interval <= 0:
        return None
    scheduler = Scheduler(ctx, interval)
    ctx.on_close(scheduler.stop)
    return scheduler.start()
