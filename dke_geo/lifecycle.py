"""The workflow of a solution proposal (fix), as data: its states, the moves between them, and the
groups the states fall into. No I/O: the store and the services use these tables and functions.

    proposed ──> approved ──> in_progress ──> done ──> verified
        │            │              ^            │
        └──> rejected <┘             └────────────┘  (a follow-up walk finds the problem still there)

Like FixMyStreet's state table, each state belongs to a group, and a finding's status is derived from
the groups of its fixes (see `finding_status`):

- open: proposed (only a proposal: nobody has agreed to act yet)
- planned: approved, in_progress (someone has agreed to act and is acting)
- resolved: done, verified
- closed: rejected (counts for nothing: the finding is as if the fix never existed)
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from dke_geo.errors import DkeError
from dke_geo.i18n import t
from dke_geo.model import Fix, FixEvent, now


class State(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    VERIFIED = "verified"
    REJECTED = "rejected"


class Group(StrEnum):
    OPEN = "open"
    PLANNED = "planned"
    RESOLVED = "resolved"
    CLOSED = "closed"


GROUPS: dict[State, Group] = {
    State.PROPOSED: Group.OPEN,
    State.APPROVED: Group.PLANNED,
    State.IN_PROGRESS: Group.PLANNED,
    State.DONE: Group.RESOLVED,
    State.VERIFIED: Group.RESOLVED,
    State.REJECTED: Group.CLOSED,
}

INITIAL = State.PROPOSED
FOUND_FIXED = State.VERIFIED
"""A finding that a follow-up walk finds already fixed, with no fix agreed for it, is recorded as a fix that
starts verified: one event, from nothing to verified. The history says what was seen, no invented steps."""
FINAL = frozenset({State.VERIFIED, State.REJECTED})
"""No move leaves these states, and a fix in one of them can no longer be edited."""


@dataclass(frozen=True)
class Move:
    """One allowed transition. `follow_up`: a verdict given on a later walk (see services/fixes.py for who
    may give it); `needs_comment`: the comment is required (it is the rejection reason)."""
    source: State
    target: State
    follow_up: bool = False
    needs_comment: bool = False


MOVES: tuple[Move, ...] = (
    Move(State.PROPOSED, State.APPROVED),
    Move(State.PROPOSED, State.REJECTED, needs_comment=True),
    Move(State.APPROVED, State.IN_PROGRESS),
    Move(State.APPROVED, State.REJECTED, needs_comment=True),
    Move(State.IN_PROGRESS, State.DONE),
    Move(State.DONE, State.VERIFIED, follow_up=True),
    Move(State.DONE, State.IN_PROGRESS, follow_up=True),
)
_BY_PAIR = {(m.source, m.target): m for m in MOVES}


class TransitionRefused(DkeError):
    """A move the state table does not allow, or one that lacks its required reason."""

    key = "fixes.error.transition"

    def message(self, lang: str = "da") -> str:
        values = {**self.values, "source": t(f"fixes.state.{self.values['source']}", lang),
                  "target": t(f"fixes.state.{self.values['target']}", lang)}
        return t(self.key, lang, **values)


def group(state: str) -> Group:
    """The group of `state` (open, planned, resolved or closed)."""
    return GROUPS[State(state)]


def moves_from(state: str) -> list[Move]:
    """The moves allowed out of `state`, in table order (what a board offers as actions)."""
    return [m for m in MOVES if m.source == state]


def move(source: str, target: str) -> Move:
    """The table's move from `source` to `target`; TransitionRefused if there is none."""
    found = _BY_PAIR.get((State(source), State(target)))
    if found is None:
        raise TransitionRefused(source=str(source), target=str(target))
    return found


def create(fix: Fix, by: str, comment: str = "", at: datetime | None = None, *, found_fixed: bool = False,
           photo_id=None) -> tuple[Fix, FixEvent]:
    """A new fix at version 1 in its first state (INITIAL, or FOUND_FIXED) and the event that records it."""
    at = at or now()
    state = FOUND_FIXED if found_fixed else INITIAL
    fix = fix.model_copy(update={"state": state.value, "version": 1, "reject_reason": "", "created_by": by,
                                 "created_at": at, "updated_by": by, "updated_at": at})
    return fix, FixEvent(fix_id=fix.id, at=at, by=by, from_state=None, to_state=state.value, comment=comment,
                         photo_id=photo_id)


def apply_transition(fix: Fix, target: str, by: str, comment: str = "", at: datetime | None = None,
                     photo_id=None) -> tuple[Fix, FixEvent]:
    """Move `fix` to `target`: the changed copy (version + 1) and the event that records it.

    Refuses (TransitionRefused, nothing changed) a move not in MOVES, and a rejection without a reason.
    The rejection reason is the comment.

    >>> fixed, event = apply_transition(Fix(title="Ny lampe"), "approved", by="planner")
    >>> (fixed.state, fixed.version, event.from_state, event.to_state)
    ('approved', 2, 'proposed', 'approved')
    """
    chosen = move(fix.state, target)
    comment = (comment or "").strip()
    if chosen.needs_comment and not comment:
        raise TransitionRefused("fixes.error.reason_required", source=fix.state, target=str(target))
    at = at or now()
    changes = {"state": chosen.target.value, "version": fix.version + 1, "updated_by": by, "updated_at": at}
    if chosen.target == State.REJECTED:
        changes["reject_reason"] = comment
    event = FixEvent(fix_id=fix.id, at=at, by=by, from_state=fix.state, to_state=chosen.target.value,
                     comment=comment, photo_id=photo_id)
    return fix.model_copy(update=changes), event


EDITABLE = ("title", "description", "organisation", "contact_role", "due_date", "cost_dkk", "priority")


def apply_edit(fix: Fix, changes: dict, by: str, at: datetime | None = None) -> tuple[Fix, FixEvent | None]:
    """Change a fix's details (not its state): the validated copy (version + 1) and an event whose comment
    lists the changed fields, comma separated (from and to state both the current state). (fix, None) when
    nothing actually changes. A fix in a final state, a field not in EDITABLE and a bad value are refused."""
    if State(fix.state) in FINAL:
        raise DkeError("fixes.error.final", state=fix.state)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise DkeError("fixes.error.not_editable", field=", ".join(sorted(unknown)))
    at = at or now()
    edited = Fix.parse({**fix.model_dump(), **changes})
    changed = [f for f in EDITABLE if getattr(edited, f) != getattr(fix, f)]
    if not changed:
        return fix, None
    edited = edited.model_copy(update={"version": fix.version + 1, "updated_by": by, "updated_at": at})
    event = FixEvent(fix_id=fix.id, at=at, by=by, from_state=fix.state, to_state=fix.state,
                     comment=", ".join(changed))
    return edited, event


STATUS_RANK: dict[State, int] = {s: {Group.PLANNED: 2, Group.RESOLVED: 1}.get(g, 0) for s, g in GROUPS.items()}
"""The rule of `finding_status` as a rank per fix state, for vectorised use: a finding takes the status of
its fixes' highest rank."""
RANK_STATUS = {0: Group.OPEN, 1: Group.RESOLVED, 2: Group.PLANNED}


def finding_status(states: Iterable[str]) -> Group:
    """A finding's status from the states of its fixes.

    planned if any fix is approved or in progress (work is agreed and not finished, even when another
    fix is done); else resolved if any fix is done or verified; else open (no fix, or only proposed or
    rejected ones).

    >>> finding_status([]), finding_status(["done", "approved"]), finding_status(["rejected", "verified"])
    (<Group.OPEN: 'open'>, <Group.PLANNED: 'planned'>, <Group.RESOLVED: 'resolved'>)
    """
    return RANK_STATUS[max((STATUS_RANK[State(s)] for s in states), default=0)]
