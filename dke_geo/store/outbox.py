"""The outbox of messages to the organisations: rows written in the transaction of what causes them, then claimed,
delivered and marked by the senders.

Two senders (two app servers' schedulers, a cron job beside them) never send the same row: a sender claims a
row with a conditional UPDATE (`... WHERE id = :id AND state = 'queued' AND next_attempt_at <= :now`), which
exactly one of them wins, on SQLite (writers serialised by BEGIN IMMEDIATE) and on PostgreSQL (the second UPDATE
waits for the first's row lock, then finds the row no longer queued and matches nothing). Only the winner sends.
A row left `sending` by a sender that died is claimed again once its lease has run out (notices.LEASE_S).
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, and_, func, or_, select, update

from dke_geo.store.db import existing_values, insert_ignoring_duplicates
from dke_geo.store.tables import outbox

QUEUED, SENDING, SENT, FAILED = "queued", "sending", "sent", "failed"
LIST_COLUMNS = ("id", "created_at", "kind", "organisation", "language", "fix_id", "subject", "state", "attempts",
                "next_attempt_at", "last_error", "recipient", "sent_at", "message_id")


def add(conn: Connection, rows: list[dict]) -> int:
    """Queue messages in the caller's transaction; one whose dedupe_key is already there is skipped. Returns how
    many were new."""
    return insert_ignoring_duplicates(conn, outbox, rows)


def known_keys(conn: Connection, keys: Iterable[str]) -> set[str]:
    """Which of these dedupe keys are already queued (or sent)."""
    return existing_values(conn, outbox.c.dedupe_key, list(keys))


def _claimable(now: datetime, lease_before: datetime):
    return or_(and_(outbox.c.state == QUEUED, outbox.c.next_attempt_at <= now),
               and_(outbox.c.state == SENDING, outbox.c.claimed_at < lease_before))


def due(conn: Connection, now: datetime, lease_before: datetime, limit: int) -> list[str]:
    """Ids of the messages a sender may claim now, oldest first: queued and due, or left sending past the lease."""
    return list(conn.execute(select(outbox.c.id).where(_claimable(now, lease_before))
                             .order_by(outbox.c.created_at, outbox.c.id).limit(limit)).scalars())


def claim(conn: Connection, message_id: str, sender: str, now: datetime, lease_before: datetime) -> bool:
    """Take the message for `sender` (one more attempt); False when another sender took it first."""
    return conn.execute(update(outbox).where(outbox.c.id == message_id, _claimable(now, lease_before))
                        .values(state=SENDING, claimed_by=sender, claimed_at=now,
                                attempts=outbox.c.attempts + 1)).rowcount == 1


def get(conn: Connection, message_id: str):
    return conn.execute(select(outbox).where(outbox.c.id == message_id)).first()


def _mine(message_id: str, sender: str):
    return and_(outbox.c.id == message_id, outbox.c.state == SENDING, outbox.c.claimed_by == sender)


def mark_sent(conn: Connection, message_id: str, sender: str, recipient: str, at: datetime) -> None:
    conn.execute(update(outbox).where(_mine(message_id, sender))
                 .values(state=SENT, sent_at=at, recipient=recipient, last_error=""))


def mark_failed(conn: Connection, message_id: str, sender: str, error: str, retry_at: datetime | None) -> None:
    """Back to the queue until `retry_at`, or failed for good (None)."""
    values = {"state": FAILED, "last_error": error} if retry_at is None else \
        {"state": QUEUED, "next_attempt_at": retry_at, "last_error": error}
    conn.execute(update(outbox).where(_mine(message_id, sender)).values(values))


def requeue(conn: Connection, message_id: str, at: datetime) -> bool:
    """Queue a sent or failed message again, with its Message-ID (an administrator's resend). False when it is
    queued or being sent already."""
    return conn.execute(update(outbox).where(outbox.c.id == message_id, outbox.c.state.in_([SENT, FAILED]))
                        .values(state=QUEUED, attempts=0, next_attempt_at=at, last_error="")).rowcount == 1


def frame(conn: Connection, *, fix_id: str | None = None, failed_only: bool = False,
          limit: int | None = None) -> pd.DataFrame:
    """Messages newest first (no bodies), of one fix or all, only the failed ones if asked."""
    query = select(*[outbox.c[c] for c in LIST_COLUMNS]).order_by(outbox.c.created_at.desc(), outbox.c.id)
    if fix_id is not None:
        query = query.where(outbox.c.fix_id == str(fix_id))
    if failed_only:
        query = query.where(or_(outbox.c.state == FAILED, outbox.c.last_error != ""))
    if limit is not None:
        query = query.limit(limit)
    return pd.DataFrame(conn.execute(query).fetchall(), columns=list(LIST_COLUMNS))


def latest_per_fix(conn: Connection) -> pd.DataFrame:
    """Each fix's newest message: fix_id, kind, state, created_at, sent_at."""
    newest = (select(outbox.c.fix_id, func.max(outbox.c.created_at).label("at")).where(outbox.c.fix_id.is_not(None))
              .group_by(outbox.c.fix_id).subquery())
    rows = conn.execute(select(outbox.c.fix_id, outbox.c.kind, outbox.c.state, outbox.c.created_at, outbox.c.sent_at)
                        .join(newest, and_(newest.c.fix_id == outbox.c.fix_id, newest.c.at == outbox.c.created_at)))
    return (pd.DataFrame(rows.fetchall(), columns=["fix_id", "kind", "state", "created_at", "sent_at"])
            .drop_duplicates("fix_id"))


def counts(conn: Connection) -> dict[str, int]:
    """How many messages are in each state."""
    return dict(conn.execute(select(outbox.c.state, func.count()).group_by(outbox.c.state)).all())
