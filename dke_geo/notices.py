"""Which messages the responsible organisations get, and when: the rules as data and pure functions (no I/O).
services/notifications.py queues what these say, in the transaction of the change that causes it.

- A fix approved and assigned to an organisation: ASSIGNED to it. From then on every move of its state is MOVED
  to it (a move the organisation made itself through its link goes to DKE instead, as REPORTED_BACK), a new due
  date is DUE_CHANGED, and a new organisation gets ASSIGNED while the old one gets UNASSIGNED (its link stops
  working). A mere proposal (or its rejection) tells nobody: nobody has agreed to act yet.
- A planned fix (approved or in progress) with a due date: a REMINDER 7 days before it, and OVERDUE the day after
  it has passed; once each per organisation and due date (a new due date re-arms both).
- Once a week (from Monday 07:00, Copenhagen time) a DIGEST per organisation: its open, overdue and recently
  verified fixes.

What an organisation may see of a fix is `FixNotice`: what it needs to act, copied from a whitelist of columns
(store/notifications.py), never an internal note or who recorded a finding.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from uuid import UUID

from dke_geo import lifecycle, organisations
from dke_geo.lifecycle import Group, State
from dke_geo.model import TZ, Fix


class Kind(StrEnum):
    ASSIGNED = "assigned"
    MOVED = "moved"
    DUE_CHANGED = "due_changed"
    UNASSIGNED = "unassigned"
    REMINDER = "reminder"
    OVERDUE = "overdue"
    DIGEST = "digest"
    REPORTED_BACK = "reported_back"


REMINDER_DAYS = 7
RECENT_DAYS = 7
"""The digest lists fixes verified in the last week."""
DIGEST_WEEKDAY, DIGEST_HOUR = 0, 7
"""The week's digests are due from Monday 07:00 (Copenhagen time)."""
LINK_DAYS = 30
"""How long a report-back link works."""
REPORT_TARGETS = (State.IN_PROGRESS, State.DONE)
"""The states an organisation may report through its link (only along the moves of lifecycle.MOVES)."""
_TOLD = frozenset({State.APPROVED, State.IN_PROGRESS, State.DONE})
"""States in which the responsible organisation has been told of the fix and is still working on it."""


@dataclass(frozen=True)
class Notice:
    """One message to queue: what kind, to which organisation."""
    kind: Kind
    organisation: str


def for_change(before: Fix, after: Fix, *, via_link: bool = False) -> list[Notice]:
    """The messages a change of `before` into `after` causes.

    >>> proposed = Fix(title="Ny lampe", organisation="bo-vest")
    >>> approved = proposed.model_copy(update={"state": "approved"})
    >>> for_change(proposed, approved)
    [Notice(kind=<Kind.ASSIGNED: 'assigned'>, organisation='bo-vest')]
    >>> started = approved.model_copy(update={"state": "in_progress"})
    >>> [n.kind.value for n in for_change(approved, started)], [n.organisation for n in for_change(
    ...     approved, started, via_link=True)]
    (['moved'], ['dke'])
    >>> for_change(proposed, proposed.model_copy(update={"state": "rejected"}))
    []
    """
    if before.state != after.state:
        if before.state == State.PROPOSED:
            return [Notice(Kind.ASSIGNED, after.organisation)] if after.state == State.APPROVED else []
        if via_link:
            return [Notice(Kind.REPORTED_BACK, organisations.DKE)]
        return [Notice(Kind.MOVED, after.organisation)] if after.organisation else []
    if State(before.state) not in _TOLD:
        return []
    if before.organisation != after.organisation:
        return [n for n in (Notice(Kind.ASSIGNED, after.organisation), Notice(Kind.UNASSIGNED, before.organisation))
                if n.organisation]
    if before.due_date != after.due_date:
        return [Notice(Kind.DUE_CHANGED, after.organisation)]
    return []


def reminder(state: str, due: date | None, today: date) -> Kind | None:
    """REMINDER within REMINDER_DAYS of the due date, OVERDUE once it has passed, for a planned fix; else None.

    >>> reminder("approved", date(2026, 12, 8), date(2026, 12, 1)), reminder("in_progress", date(2026, 12, 1),
    ...     date(2026, 12, 2)), reminder("done", date(2026, 12, 1), date(2026, 12, 2))
    (<Kind.REMINDER: 'reminder'>, <Kind.OVERDUE: 'overdue'>, None)
    """
    if due is None or lifecycle.group(state) != Group.PLANNED:
        return None
    if today > due:
        return Kind.OVERDUE
    return Kind.REMINDER if (due - today).days <= REMINDER_DAYS else None


def digest_week(at: datetime) -> str | None:
    """The ISO week whose digests are due at `at` ("2026-W49"), or None before Monday 07:00 of that week.

    >>> digest_week(datetime(2026, 11, 30, 6, 59, tzinfo=TZ)), digest_week(datetime(2026, 12, 2, 12, tzinfo=TZ))
    (None, '2026-W49')
    """
    local = at.astimezone(TZ)
    if local.weekday() == DIGEST_WEEKDAY and local.hour < DIGEST_HOUR:
        return None
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"


def dedupe_key(kind: Kind, organisation: str, *, fix_id: UUID | str | None = None, version: int | None = None,
               due: date | None = None, week: str | None = None) -> str:
    """What makes a message unique: a change's by its event (fix and version), a reminder by its due date, a digest
    by its week. Queueing the same key twice stores one message."""
    cause = week if kind == Kind.DIGEST else f"{fix_id}:{due.isoformat()}" if due is not None else f"{fix_id}:{version}"
    return f"{kind.value}:{organisation}:{cause}"


MAX_ATTEMPTS = 10
BACKOFF_FIRST_S, BACKOFF_MAX_S = 60, 6 * 3600
LEASE_S = 600
"""A message claimed by a sender that has neither marked it sent nor failed after this long belongs to a sender
that died: another sender may take it, and this is the only way one message can go out twice."""


def retry_at(attempts: int, now: datetime) -> datetime | None:
    """When to try again after `attempts` failed tries: 1, 2, 4 ... minutes, at most 6 hours apart; None once
    MAX_ATTEMPTS have failed (the message is then marked failed; an administrator can resend it).

    >>> t0 = datetime(2026, 12, 1, 12, tzinfo=TZ)
    >>> [int((retry_at(n, t0) - t0).total_seconds()) for n in (1, 2, 3, 10 - 1)], retry_at(10, t0)
    ([60, 120, 240, 15360], None)
    """
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + timedelta(seconds=min(BACKOFF_FIRST_S * 2 ** (attempts - 1), BACKOFF_MAX_S))


@dataclass(frozen=True)
class Place:
    """One finding of a fix as an organisation sees it: where and what, no note, no person."""
    area: str
    category: str
    lon: float
    lat: float


@dataclass(frozen=True)
class FixNotice:
    """What an organisation may see of a fix, in a message and on the report-back page."""
    id: str
    title: str
    description: str
    state: str
    organisation: str
    contact_role: str
    due_date: date | None
    places: tuple[Place, ...]
    photo_ids: tuple[str, ...]  # the findings' photos approved for the public

    def days_overdue(self, today: date) -> int:
        """Days past the due date (0 when not overdue or finished)."""
        if self.due_date is None or lifecycle.group(self.state) not in (Group.OPEN, Group.PLANNED):
            return 0
        return max(0, (today - self.due_date).days)
