"""Solution proposals (fixes), their findings and their append-only history in the database.

A change is written with a conditional UPDATE (`WHERE version = :expected`), so of two writers that
loaded the same version exactly one succeeds, on SQLite (writers serialised by BEGIN IMMEDIATE) and on
PostgreSQL (the second UPDATE waits for the first's row lock, then finds the version changed and matches
no row). The unique (fix_id, version) on fix_events backs this up: one event per version.
"""
from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

import pandas as pd
from sqlalchemy import Connection, exists, func, insert, or_, select, update

from dke_geo import lifecycle
from dke_geo.lifecycle import State
from dke_geo.model import Fix, FixEvent
from dke_geo.store.tables import fix_events, fix_observations, fixes, observations

_RESOLVED = [s.value for s, g in lifecycle.GROUPS.items() if g == lifecycle.Group.RESOLVED]


def _row(fix: Fix) -> dict:
    data = fix.model_dump(mode="python", exclude={"observation_ids"})
    data["id"] = str(fix.id)
    data["priority"] = fix.priority.value
    return data


def _event_row(event: FixEvent, version: int) -> dict:
    data = event.model_dump(mode="python", exclude={"id"})
    data["fix_id"] = str(event.fix_id)
    data["photo_id"] = event.photo_id and str(event.photo_id)
    data["version"] = version
    return data


def add(conn: Connection, fix: Fix, *history: FixEvent) -> None:
    """Store a new fix, its links to findings and its history: one event per version, the last one at
    `fix.version` (a fix created now has one event at version 1; the demo brings whole histories)."""
    conn.execute(insert(fixes).values(_row(fix)))
    link_findings(conn, fix.id, fix.observation_ids)
    first = fix.version - len(history) + 1
    conn.execute(insert(fix_events), [_event_row(e, first + i) for i, e in enumerate(history)])


def link_findings(conn: Connection, fix_id: UUID | str, observation_ids: Iterable[UUID | str]) -> None:
    rows = [{"fix_id": str(fix_id), "observation_id": str(o)} for o in observation_ids]
    if rows:
        conn.execute(insert(fix_observations), rows)


def save_change(conn: Connection, fix: Fix, event: FixEvent, expected_version: int) -> bool:
    """Write `fix` (already at its new version) and its event, only if the stored version is still
    `expected_version`. False, and nothing written, when someone else changed it first."""
    data = _row(fix)
    data.pop("id")
    done = conn.execute(update(fixes).where(fixes.c.id == str(fix.id), fixes.c.version == expected_version)
                        .values(data)).rowcount
    if done != 1:
        return False
    conn.execute(insert(fix_events).values(_event_row(event, fix.version)))
    return True


def _to_model(row, observation_ids: list[str]) -> Fix:
    data = {k: v for k, v in row._mapping.items() if k in Fix.model_fields}
    return Fix.model_validate({**data, "observation_ids": observation_ids})


def get(conn: Connection, fix_id: UUID | str) -> Fix | None:
    row = conn.execute(select(fixes).where(fixes.c.id == str(fix_id))).first()
    if row is None:
        return None
    linked = conn.execute(select(fix_observations.c.observation_id)
                          .where(fix_observations.c.fix_id == str(fix_id))
                          .order_by(fix_observations.c.observation_id)).scalars().all()
    return _to_model(row, list(linked))


def events(conn: Connection, fix_id: UUID | str) -> list[FixEvent]:
    """A fix's history, oldest first."""
    rows = conn.execute(select(fix_events).where(fix_events.c.fix_id == str(fix_id))
                        .order_by(fix_events.c.version))
    return [FixEvent.model_validate({k: v for k, v in r._mapping.items() if k != "version"}) for r in rows]


def linked_observation_ids(conn: Connection) -> list[str]:
    """The findings that have at least one fix."""
    return list(conn.execute(select(fix_observations.c.observation_id).distinct()).scalars())


def states_for_finding(conn: Connection, observation_id: UUID | str) -> list[str]:
    """The states of the fixes linked to one finding."""
    return list(conn.execute(select(fixes.c.state).join(fix_observations, fix_observations.c.fix_id == fixes.c.id)
                             .where(fix_observations.c.observation_id == str(observation_id))).scalars())


def _has_fix_in(states: Iterable[str]):
    """SQL: the finding (observations row) has a fix in one of `states`."""
    return exists(select(fix_observations.c.fix_id).join(fixes, fixes.c.id == fix_observations.c.fix_id)
                  .where(fix_observations.c.observation_id == observations.c.id, fixes.c.state.in_(list(states))))


def open_findings(conn: Connection, area_ids: Iterable[str], exclude_walk_id: UUID | str | None = None,
                  limit: int = 50) -> tuple[pd.DataFrame, int]:
    """The open findings (status open: no fix approved, running, done or verified) in `area_ids`, except
    those of `exclude_walk_id`: the `limit` most serious, newest first, and how many there are in all.

    Columns: id, category, severity, observed_at, internal_note, lon, lat, proposed (a proposal is waiting).
    Filtered in SQL, so a follow-up walk reads its areas' rows only.
    """
    settled = [s.value for s, rank in lifecycle.STATUS_RANK.items() if rank > 0]
    where = [observations.c.area_id.in_(list(area_ids)), observations.c.deleted.is_(False), ~_has_fix_in(settled)]
    if exclude_walk_id is not None:
        where.append(or_(observations.c.walk_id.is_(None), observations.c.walk_id != str(exclude_walk_id)))
    total = conn.execute(select(func.count()).select_from(observations).where(*where)).scalar_one()
    columns = ["id", "category", "severity", "observed_at", "internal_note", "lon", "lat"]
    rows = conn.execute(select(*[observations.c[c] for c in columns],
                               _has_fix_in([State.PROPOSED.value]).label("proposed")).where(*where)
                        .order_by(observations.c.severity.desc(), observations.c.observed_at.desc()).limit(limit))
    return pd.DataFrame(rows.fetchall(), columns=[*columns, "proposed"]), total


def finding_points(conn: Connection, observation_ids: Iterable[str]) -> pd.DataFrame:
    """id, lon, lat, area_id of the given findings."""
    rows = conn.execute(select(observations.c.id, observations.c.lon, observations.c.lat, observations.c.area_id)
                        .where(observations.c.id.in_([str(i) for i in observation_ids])))
    return pd.DataFrame(rows.fetchall(), columns=["id", "lon", "lat", "area_id"])


FRAME_COLUMNS = ("id", "title", "description", "organisation", "contact_role", "due_date", "cost_dkk", "priority",
                 "state", "reject_reason", "version", "created_by", "created_at", "updated_by", "updated_at",
                 "is_demo")


def frame(conn: Connection) -> pd.DataFrame:
    """All fixes, one row each, with what the board filters on: the areas, walks and categories of their
    findings (sorted lists), and when each first reached done and verified (NaT if never)."""
    result = conn.execute(select(*[fixes.c[c] for c in FRAME_COLUMNS]))
    table = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    links = pd.DataFrame(conn.execute(
        select(fix_observations.c.fix_id, observations.c.id, observations.c.area_id, observations.c.walk_id,
               observations.c.category)
        .join(observations, observations.c.id == fix_observations.c.observation_id)).fetchall(),
        columns=["fix_id", "observation_id", "area_id", "walk_id", "category"])
    reached = pd.DataFrame(conn.execute(
        select(fix_events.c.fix_id, fix_events.c.to_state, func.min(fix_events.c.at))
        .where(fix_events.c.to_state.in_([State.DONE.value, State.VERIFIED.value]))
        .group_by(fix_events.c.fix_id, fix_events.c.to_state)).fetchall(), columns=["fix_id", "to_state", "at"])
    for column, source in (("observation_ids", "observation_id"), ("area_ids", "area_id"), ("walk_ids", "walk_id"),
                           ("categories", "category")):
        values = links.dropna(subset=[source]).groupby("fix_id")[source].agg(lambda s: sorted(set(s)))
        table[column] = pd.Series([values.get(i, []) for i in table["id"]], index=table.index, dtype=object)
    for state in (State.DONE, State.VERIFIED):
        times = reached[reached["to_state"] == state.value].set_index("fix_id")["at"]
        table[f"{state.value}_at"] = _lookup_times(times, table["id"])
    return table


def _lookup_times(times: pd.Series, keys: pd.Series) -> pd.Series:
    """`times` (indexed by id) looked up for each of `keys`, as UTC timestamps (NaT where missing)."""
    return pd.Series(pd.to_datetime(times.reindex(keys).to_numpy(), utc=True), index=keys.index)


def finding_statuses(conn: Connection, observation_ids: Iterable[UUID | str] | None = None) -> pd.DataFrame:
    """Every (not deleted) finding's status, derived from its fixes by `lifecycle.finding_status`; only those
    of `observation_ids` when given.

    Columns: observation_id, status ("open", "planned" or "resolved"), resolved_at (when the finding
    became resolved: the latest time one of its resolved fixes entered done or verified from an
    unresolved state; NaT unless resolved).
    """
    query = select(observations.c.id).where(observations.c.deleted.is_(False))
    link_query = (select(fix_observations.c.observation_id, fixes.c.id, fixes.c.state)
                  .join(fixes, fixes.c.id == fix_observations.c.fix_id))
    if observation_ids is not None:
        wanted = [str(i) for i in observation_ids]
        query = query.where(observations.c.id.in_(wanted))
        link_query = link_query.where(fix_observations.c.observation_id.in_(wanted))
    ids = conn.execute(query).scalars().all()
    links = pd.DataFrame(conn.execute(link_query).fetchall(), columns=["observation_id", "fix_id", "state"])
    entered = pd.DataFrame(conn.execute(
        select(fix_events.c.fix_id, func.max(fix_events.c.at))
        .where(fix_events.c.to_state.in_(_RESOLVED),
               fix_events.c.from_state.is_(None) | fix_events.c.from_state.not_in(_RESOLVED))
        .group_by(fix_events.c.fix_id)).fetchall(), columns=["fix_id", "at"])
    out = pd.DataFrame({"observation_id": pd.Series(ids, dtype=object)})
    links["rank"] = links["state"].map(lambda s: lifecycle.STATUS_RANK[State(s)]).astype(int)
    rank = links.groupby("observation_id")["rank"].max()
    ranks = out["observation_id"].map(rank).fillna(0).astype(int)
    out["status"] = ranks.map({r: g.value for r, g in lifecycle.RANK_STATUS.items()}).astype("str")
    resolved_links = links[links["rank"] == 1].merge(entered, on="fix_id", how="left")
    out["resolved_at"] = _lookup_times(resolved_links.groupby("observation_id")["at"].max(), out["observation_id"])
    out.loc[out["status"] != lifecycle.Group.RESOLVED.value, "resolved_at"] = pd.NaT
    return out
