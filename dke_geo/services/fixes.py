"""Solution proposals (fixes): create, edit, move through the workflow, follow up on a later walk, and the
board's queries and figures.

Who may do what (checked here, whatever a page shows):
- Permission.MANAGE_FIXES (planners, admins): create and edit fixes and make every move of
  `lifecycle.MOVES`. Approving needs a responsible organisation.
- Permission.RECORD (staff, in the field) gives a verdict on a follow-up walk, and nothing else: through
  `follow_up` a done fix goes to verified ("fixed") or back to in progress ("still a problem"), and through
  `follow_up_finding` an open finding is recorded as found fixed (a fix that starts verified) or as still a
  problem (a new proposal for the planners to approve or reject). Each needs a walk that covers an area of
  the finding(s), and the walk's title goes into the event. Staff cannot approve, reject, start or complete.
- Permission.VIEW_INTERNAL (staff, planners, admins): read the board, a fix and its history.

- The responsible organisation, through the signed link in a message (no login): `report_via_link` reports
  its fix in progress or done (services/report_back.py checks the link).

Every change is a conditional write on the fix's version (see store/fixes.py): a change made on a stale
version is refused with "changed by X at T, reload" (errors.Conflict) and changes nothing. The messages a change
causes (services/notifications.py) are queued in the same transaction as its event.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING
from uuid import UUID

import pandas as pd

from dke_geo import lifecycle, notices, organisations, photos
from dke_geo.categories import categories
from dke_geo.context import AppContext
from dke_geo.errors import Conflict, DkeError, InvalidInput, NotFound
from dke_geo.i18n import t
from dke_geo.interop import writers
from dke_geo.lifecycle import Group, State
from dke_geo.model import TZ, Fix, FixEvent, Observation, Photo, Walk, now
from dke_geo.roles import Actor, Permission, Role, require
from dke_geo.services import notifications, report_back
from dke_geo.store import fixes as fix_store
from dke_geo.store import observations as obs_store
from dke_geo.store import photos as photo_store
from dke_geo.store import walks as walk_store
from dke_geo.store.db import ConstraintViolation, reading, transaction

if TYPE_CHECKING:
    from sqlalchemy import Connection


class Verdict(StrEnum):
    """What staff see on a follow-up walk."""
    FIXED = "fixed"
    STILL_A_PROBLEM = "still_a_problem"


_FOLLOW_UP_TARGET = {Verdict.FIXED: State.VERIFIED, Verdict.STILL_A_PROBLEM: State.IN_PROGRESS}


# ------------------------------------------------------------------ changes
def create_fix(ctx: AppContext, actor: Actor, data: dict) -> Fix:
    """Propose a fix for one or more findings.

    `data`: title (required), observation_ids (at least one), organisation (an id from
    data/organisations.toml), and optionally description, contact_role, due_date, cost_dkk, priority.

    Example (with a database; tests/test_fixes.py runs it)::

        fix = create_fix(ctx, planner, {"title": "Ny lampe", "observation_ids": [oid], "organisation": "bo-vest"})
        (fix.state, fix.version)  # ('proposed', 1)
    """
    require(actor, Permission.MANAGE_FIXES)
    _only_fields(data, (*lifecycle.EDITABLE, "observation_ids"))
    fix = Fix.parse(data)
    _check_organisation(fix.organisation)
    fix.observation_ids = list(dict.fromkeys(fix.observation_ids))
    if not fix.observation_ids:
        raise DkeError("fixes.error.no_findings")
    fix, event = lifecycle.create(fix, actor.name)
    with transaction(ctx.engine) as conn:
        _check_findings(conn, fix.observation_ids)
        fix_store.add(conn, fix, event)
    return fix


def edit_fix(ctx: AppContext, actor: Actor, fix_id: UUID | str, expected_version: int, changes: dict) -> Fix:
    """Change a fix's details (title, organisation, due date ...); recorded as an event naming the fields."""
    require(actor, Permission.MANAGE_FIXES)
    if "organisation" in changes:
        _check_organisation(changes["organisation"])

    def change(conn: Connection, current: Fix, photo_id: UUID | None) -> tuple[Fix, FixEvent | None]:
        return lifecycle.apply_edit(current, changes, actor.name)
    return _change(ctx, actor, fix_id, expected_version, change)


def transition_fix(ctx: AppContext, actor: Actor, fix_id: UUID | str, expected_version: int, target: str,
                   comment: str = "", photo: photos.Upload | None = None) -> Fix:
    """Move a fix to `target` (a state) with an optional comment and after photo; rejection needs the reason
    as comment.

    Raises TransitionRefused for a move not in the table, Conflict when the fix changed since
    `expected_version` was loaded; in both cases nothing is written.
    """
    require(actor, Permission.MANAGE_FIXES)

    def change(conn: Connection, current: Fix, photo_id: UUID | None) -> tuple[Fix, FixEvent]:
        if target == State.APPROVED and not current.organisation:
            raise DkeError("fixes.error.approve_needs_organisation")
        return lifecycle.apply_transition(current, target, actor.name, comment, photo_id=photo_id)
    return _change(ctx, actor, fix_id, expected_version, change, photo)


def follow_up(ctx: AppContext, actor: Actor, walk_id: UUID | str, fix_id: UUID | str, expected_version: int,
              verdict: Verdict | str, comment: str = "", photo: photos.Upload | None = None) -> Fix:
    """A done fix seen again on a later walk: "fixed" makes it verified, "still a problem" puts it back in
    progress; optionally with an after photo. Only the follow-up moves of the table are possible here."""
    require(actor, Permission.RECORD)
    target = _FOLLOW_UP_TARGET[Verdict(verdict)]

    def change(conn: Connection, current: Fix, photo_id: UUID | None) -> tuple[Fix, FixEvent]:
        walk = _covering_walk(conn, walk_id, current.observation_ids)
        if not lifecycle.move(current.state, target).follow_up:
            raise lifecycle.TransitionRefused(source=current.state, target=target.value)
        return lifecycle.apply_transition(current, target, actor.name, _walk_comment(walk, comment),
                                          photo_id=photo_id)
    return _change(ctx, actor, fix_id, expected_version, change, photo)


def follow_up_finding(ctx: AppContext, actor: Actor, walk_id: UUID | str, observation_id: UUID | str,
                      verdict: Verdict | str, comment: str = "", photo: photos.Upload | None = None) -> Fix:
    """An open finding (no agreed fix) seen again on a later walk.

    "fixed": recorded as a fix that starts verified, so the finding is resolved and the history says it was
    found fixed on this walk (with the after photo, if given). "still a problem": a new proposal on the board
    for the planners, unless one is already waiting for this finding.
    """
    require(actor, Permission.RECORD)
    verdict = Verdict(verdict)
    processed = photos.process(photo) if photo else None
    with _photo_files() as files, transaction(ctx.engine) as conn:
        walk = _covering_walk(conn, walk_id, [observation_id])
        finding = obs_store.get(conn, observation_id, lock=True)  # one verdict at a time per finding
        states = fix_store.states_for_finding(conn, observation_id)
        if lifecycle.finding_status(states) != Group.OPEN:
            raise DkeError("fixes.error.finding_not_open")
        if verdict == Verdict.STILL_A_PROBLEM and State.PROPOSED in states:
            raise DkeError("fixes.error.already_proposed")
        category = categories()[finding.category].label("da")
        key = "fixes.followup.found_fixed_title" if verdict == Verdict.FIXED else "fixes.followup.still_title"
        fix = Fix(title=t(key, "da", category=category), observation_ids=[finding.id], priority="medium",
                  is_demo=finding.is_demo)
        photo_id = processed and _add_photo(conn, files, finding.id, fix.id, processed, actor)
        fix, event = lifecycle.create(fix, actor.name, _walk_comment(walk, comment),
                                      found_fixed=verdict == Verdict.FIXED, photo_id=photo_id)
        fix_store.add(conn, fix, event)
        files.publish()
    return fix


def report_via_link(ctx: AppContext, token: str, expected_version: int, target: str, comment: str = "",
                    photo: photos.Upload | None = None, client: str = "") -> Fix:
    """The responsible organisation reports its fix in progress or done through the signed link of a message,
    with an optional comment and after photo (the same checks as in the field). The event's actor is
    "<organisation> (via link)"; DKE is told; staff still verify it on a follow-up walk.

    No login: the link (`token`) is the authority, checked by services/report_back.py (forged, expired, revoked,
    rate-limited: LinkRefused). Only the moves of the state table towards in progress or done are possible
    (TransitionRefused otherwise, as for planners); a stale `expected_version` is a Conflict.
    """
    grant = report_back.grant(ctx, token, client, kind="report")
    if target not in notices.REPORT_TARGETS:
        raise DkeError("reportback.error.target")
    actor = Actor(t("notify.via_link", "da", organisation=organisations.label(grant.organisation, "da")), Role.PUBLIC)

    def change(conn: Connection, current: Fix, photo_id: UUID | None) -> tuple[Fix, FixEvent]:
        if lifecycle.move(current.state, target).follow_up:  # done -> in progress is the follow-up walk's verdict
            raise lifecycle.TransitionRefused(source=current.state, target=target)
        return lifecycle.apply_transition(current, target, actor.name, comment, photo_id=photo_id)
    try:
        return _change(ctx, actor, grant.fix_id, expected_version, change, photo, via_link=True)
    except Conflict:  # the planners' message names who changed it: not for the organisation
        raise Conflict("reportback.error.changed") from None


def _change(ctx: AppContext, actor: Actor, fix_id: UUID | str, expected_version: int, change,
            photo: photos.Upload | None = None, *, via_link: bool = False) -> Fix:
    """Load the fix, refuse a stale version, apply `change` (given the stored after photo's id, if any) and
    write it conditionally, with the photo's row and files and the messages it causes: all or nothing."""
    processed = photos.process(photo) if photo else None
    try:
        with _photo_files() as files, transaction(ctx.engine) as conn:
            current = _load(conn, fix_id)
            if current.version != expected_version:
                raise _conflict(current)
            photo_id = processed and _add_photo(conn, files, current.observation_ids[0], current.id, processed,
                                                actor)
            changed, event = change(conn, current, photo_id)
            if event is None:
                return current
            if not fix_store.save_change(conn, changed, event, expected_version):
                raise _conflict(_load(conn, fix_id))
            notifications.queue_for_change(ctx, conn, current, changed, actor.name, via_link=via_link,
                                           comment=event.comment, with_photo=photo_id is not None)
            files.publish()
    except ConstraintViolation:  # the unique (fix_id, version) of the history caught a concurrent writer
        with reading(ctx.engine) as conn:
            raise _conflict(_load(conn, fix_id)) from None
    return changed


@contextmanager
def _photo_files() -> Iterator[photos.PhotoFiles]:
    """Files of an after photo: removed again if the change fails anywhere (its row goes with the rollback)."""
    files = photos.PhotoFiles()
    try:
        yield files
    except BaseException:
        files.discard()
        raise


def _add_photo(conn: Connection, files: photos.PhotoFiles, observation_id: UUID, fix_id: UUID,
               processed: photos.ProcessedPhoto, actor: Actor) -> UUID:
    """Stage an after photo's files and store its row, attached to the fix and one of its findings."""
    photo = files.stage(observation_id, processed, actor.name).model_copy(update={"fix_id": fix_id})
    photo_store.add_many(conn, [photo])
    return photo.id


def _conflict(current: Fix) -> Conflict:
    return Conflict("fixes.error.conflict", by=current.updated_by,
                    at=current.updated_at.astimezone(TZ).strftime("%d.%m.%Y %H:%M:%S"))


def _load(conn: Connection, fix_id: UUID | str) -> Fix:
    fix = fix_store.get(conn, fix_id)
    if fix is None:
        raise NotFound("fixes.error.not_found", id=str(fix_id))
    return fix


def _only_fields(data: dict, allowed: tuple[str, ...]) -> None:
    unknown = set(data) - set(allowed)
    if unknown:
        raise DkeError("fixes.error.not_editable", field=", ".join(sorted(unknown)))


def _check_organisation(org_id: str | None) -> None:
    """A fix's organisation: required, and one that may be responsible for a fix (data/organisations.toml)."""
    if not org_id:
        raise InvalidInput([{"type": "missing", "loc": ("organisation",), "ctx": {}, "msg": "required"}])
    allowed = ", ".join(organisations.responsible())
    if org_id not in organisations.organisations():
        raise DkeError("error.unknown_organisation", value=org_id, allowed=allowed)
    if org_id not in organisations.responsible():
        raise DkeError("fixes.error.not_responsible", value=org_id, allowed=allowed)


def _check_findings(conn: Connection, ids: list[UUID]) -> None:
    found = obs_store.live_ids(conn, ids)
    missing = [str(i) for i in ids if str(i) not in found]
    if missing:
        raise NotFound("fixes.error.finding_not_found", id=missing[0])


def _covering_walk(conn: Connection, walk_id: UUID | str, observation_ids: list) -> Walk:
    """The follow-up walk, which must cover the area of at least one of the findings."""
    walk = walk_store.get(conn, walk_id)
    if walk is None:
        raise NotFound("fixes.error.walk_not_found", id=str(walk_id))
    if not obs_store.area_ids(conn, observation_ids) & set(walk.area_ids):
        raise DkeError("fixes.error.walk_area", walk=walk.title)
    return walk


def _walk_comment(walk: Walk, comment: str) -> str:
    comment = (comment or "").strip()
    return f"{walk.title}: {comment}" if comment else walk.title


# ------------------------------------------------------------------ reading
@dataclass(frozen=True)
class FixDetail:
    """What the fix page shows: the fix, its history (oldest first), its findings with their derived status
    (id -> open/planned/resolved: it depends on all their fixes, not only this one), and the photos taken when
    the findings were recorded (before) and those added on its changes (after)."""
    fix: Fix
    events: list[FixEvent]
    findings: list[Observation]
    statuses: dict[str, str]
    before: list[Photo]
    after: list[Photo]


def get_fix(ctx: AppContext, actor: Actor, fix_id: UUID | str) -> FixDetail:
    require(actor, Permission.VIEW_INTERNAL)
    with reading(ctx.engine) as conn:
        fix = _load(conn, fix_id)
        findings = [o for o in (obs_store.get(conn, i) for i in fix.observation_ids) if o is not None]
        pictures = [p for group in photo_store.for_observations(conn, fix.observation_ids).values() for p in group]
        statuses = fix_store.finding_statuses(conn, fix.observation_ids).set_index("observation_id")["status"]
        return FixDetail(fix=fix, events=fix_store.events(conn, fix_id), findings=findings, statuses=statuses.to_dict(),
                         before=[p for p in pictures if p.fix_id is None],
                         after=[p for p in pictures if p.fix_id == fix.id])


def candidate_findings(ctx: AppContext, actor: Actor, *, area: str | None = None,
                       walk_id: UUID | str | None = None) -> pd.DataFrame:
    """Findings a planner can build a fix from, with their derived status and internal note: open ones first
    (those still without an agreed fix), then planned, then resolved; newest first within each."""
    require(actor, Permission.VIEW_INTERNAL)
    points = obs_store.frame(ctx.columns, ("id", "walk_id", "area_id", "category", "severity", "observed_at",
                                      "internal_note", "is_demo"))
    with reading(ctx.engine) as conn:
        status = fix_store.finding_statuses(conn).set_index("observation_id")["status"]
    if area:
        points = points[points["area_id"] == area]
    if walk_id:
        points = points[points["walk_id"] == str(walk_id)]
    points = points.assign(status=points["id"].map(status))
    order = points["status"].map({Group.OPEN.value: 0, Group.PLANNED.value: 1, Group.RESOLVED.value: 2})
    return (points.assign(_order=order).sort_values(["_order", "observed_at"], ascending=[True, False])
            .drop(columns="_order").reset_index(drop=True))


@dataclass(frozen=True)
class BoardChoices:
    """What the board's filters offer: area id -> name, walk id -> title (newest first)."""
    areas: dict[str, str]
    walks: dict[str, str]


def board_choices(ctx: AppContext, actor: Actor) -> BoardChoices:
    require(actor, Permission.VIEW_INTERNAL)
    with reading(ctx.engine) as conn:
        walks = {str(w.id): f"{w.started_at:%d.%m.%Y} · {w.title}" for w, _ in walk_store.recent(conn, limit=500)}
    return BoardChoices(areas=ctx.area_names(), walks=walks)


def overdue_mask(table: pd.DataFrame, today: date | None = None) -> pd.Series:
    """True for fixes past their due date and not yet done (open or planned)."""
    today = today or now().date()
    unfinished = table["state"].map(lambda s: lifecycle.group(s) in (Group.OPEN, Group.PLANNED))
    due = pd.to_datetime(table["due_date"])
    return (unfinished & due.notna() & (due < pd.Timestamp(today))).astype(bool)


def is_overdue(fix: Fix, today: date | None = None) -> bool:
    """`overdue_mask` for one fix."""
    return bool(overdue_mask(pd.DataFrame([{"state": fix.state, "due_date": fix.due_date}]), today).iloc[0])


def fixes_frame(ctx: AppContext, actor: Actor, *, area: str | None = None, organisation: str | None = None,
                walk_id: UUID | str | None = None, overdue_only: bool = False, state: str | None = None,
                today: date | None = None) -> pd.DataFrame:
    """The fixes as a table for the board, the CLI and charts, filtered; overdue ones first, then by due date.

    Adds `group` (open/planned/resolved/closed) and `overdue` to the stored columns (see store.fixes.frame).
    """
    require(actor, Permission.VIEW_INTERNAL)
    with reading(ctx.engine) as conn:
        table = fix_store.frame(conn)
    table["group"] = [lifecycle.group(s).value for s in table["state"]]
    table["overdue"] = overdue_mask(table, today)
    keep = pd.Series(True, index=table.index)
    if area:
        keep &= table["area_ids"].map(lambda ids: area in ids)
    if walk_id:
        keep &= table["walk_ids"].map(lambda ids: str(walk_id) in ids)
    if organisation:
        keep &= table["organisation"] == organisation
    if state:
        keep &= table["state"] == state
    if overdue_only:
        keep &= table["overdue"]
    table = table[keep]
    return table.sort_values(["overdue", "due_date", "created_at"], ascending=[False, True, True],
                             na_position="last").reset_index(drop=True)


def figures(table: pd.DataFrame, by: str) -> pd.DataFrame:
    """Per organisation (`by="organisation"`) or per category (`by="category"`): how many fixes there are,
    how many are open (not yet done or rejected), how many overdue, and the median days from proposal to
    done and to verified. A fix covering findings of several categories counts in each."""
    if by not in ("organisation", "category"):
        raise ValueError(f"figures by {by!r}")
    rows = table.explode("categories").rename(columns={"categories": "category"}) if by == "category" else table
    rows = rows.assign(
        is_open=rows["group"].isin([Group.OPEN.value, Group.PLANNED.value]),
        days_done=(rows["done_at"] - pd.to_datetime(rows["created_at"], utc=True)).dt.total_seconds() / 86400,
        days_verified=(rows["verified_at"] - pd.to_datetime(rows["created_at"], utc=True)).dt.total_seconds() / 86400)
    out = rows.groupby(rows[by].fillna(""), sort=True).agg(
        fixes=("id", "size"), open=("is_open", "sum"), overdue=("overdue", "sum"),
        median_days_to_done=("days_done", "median"), median_days_to_verified=("days_verified", "median"))
    out[["open", "overdue"]] = out[["open", "overdue"]].astype(int)
    return out.round(1).reset_index()


def fix_figures(ctx: AppContext, actor: Actor, by: str) -> pd.DataFrame:
    """`figures` over all fixes, for the planner's charts."""
    return figures(fixes_frame(ctx, actor), by)


CSV_COLUMNS = ("id", "title", "state", "organisation", "contact_role", "due_date", "overdue", "priority", "cost_dkk",
               "area_ids", "categories", "created_at", "done_at", "verified_at", "reject_reason", "version", "is_demo")


def to_csv(table: pd.DataFrame, lang: str = "da") -> bytes:
    """The board as CSV for a spreadsheet, written by the project's one CSV writer (`writers.csv_bytes`: UTF-8
    with a BOM, formulas neutralised, since titles and contact roles are typed by people): one row per fix,
    lists joined with "; ", organisation and state in `lang`. For internal use: it holds no finding notes, but
    fix descriptions are left out too."""
    rows = []
    for row in table.to_dict("records"):
        values = {**row, "state": t(f"fixes.state.{row['state']}", lang),
                  "organisation": organisations.label(row["organisation"], lang) if row["organisation"] else "",
                  "area_ids": "; ".join(row["area_ids"]), "categories": "; ".join(row["categories"])}
        rows.append(["" if _missing(values[c]) else _csv_value(values[c]) for c in CSV_COLUMNS])
    return writers.csv_bytes(pd.DataFrame(rows, columns=list(CSV_COLUMNS), dtype=object))


def _missing(value) -> bool:
    return value is None or (not isinstance(value, (list, str)) and pd.isna(value))


def _csv_value(value):
    """A cell: times in Copenhagen as ISO text, numbers as numbers (a negative cost stays a number), else text."""
    if isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, pd.Timestamp):
        return value.tz_convert(TZ).isoformat(timespec="seconds")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


# ------------------------------------------------------------------ follow-up
@dataclass(frozen=True)
class FollowUpItems:
    """What a follow-up walk can check: done-but-not-verified fixes and open findings in its areas, each
    with a position (a fix's at the middle of its findings there) for the field map."""
    fixes: pd.DataFrame     # id, title, version, organisation, lon, lat, done_at
    findings: pd.DataFrame  # the most serious open findings: id, category, severity, observed_at,
    #                         internal_note, lon, lat, proposed (a proposal for it is waiting)
    open_total: int         # how many open findings there are in the areas in all


FOLLOW_UP_FINDINGS = 50


def follow_up_items(ctx: AppContext, actor: Actor, walk_id: UUID | str,
                    limit: int = FOLLOW_UP_FINDINGS) -> FollowUpItems:
    """The fixes and findings a follow-up walk should look at, from earlier walks in the walk's areas: every
    done fix, and the `limit` most serious open findings (newest first). Read once per data version and shared
    (callers must not change the frames): the recording page draws them twice a run (its map's layer and its
    panel), and a tap on the map changes no data. The version is read first, so what is cached under it is never
    older than it."""
    require(actor, Permission.VIEW_INTERNAL)
    return ctx.cached("fixes.follow_up", ctx.data_version(), (str(walk_id), limit),
                      lambda: _read_follow_up(ctx, walk_id, limit))


def _read_follow_up(ctx: AppContext, walk_id: UUID | str, limit: int) -> FollowUpItems:
    with reading(ctx.engine) as conn:
        walk = walk_store.get(conn, walk_id)
        if walk is None:
            raise NotFound("fixes.error.walk_not_found", id=str(walk_id))
        table = fix_store.frame(conn)
        done = table[(table["state"] == State.DONE.value)
                     & table["area_ids"].map(lambda ids: bool(set(ids) & set(walk.area_ids)))]
        points = fix_store.finding_points(conn, done["observation_ids"].explode().dropna())
        findings, total = fix_store.open_findings(conn, walk.area_ids, walk.id, limit)
    points = points[points["area_id"].isin(walk.area_ids)]
    # object ids even when nothing is done (exploding an empty column makes floats, which merge refuses)
    positions = (done[["id", "observation_ids"]].explode("observation_ids").astype({"observation_ids": object})
                 .merge(points, left_on="observation_ids", right_on="id", suffixes=("", "_obs"))
                 .groupby("id")[["lon", "lat"]].mean())
    done = done.join(positions, on="id", how="inner")
    return FollowUpItems(
        fixes=done[["id", "title", "version", "organisation", "lon", "lat", "done_at"]].reset_index(drop=True),
        findings=findings.astype({"proposed": bool}), open_total=total)
