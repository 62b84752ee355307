"""What the responsible organisations may see of their fixes, read through a whitelist: fixed columns of fixes,
of their (not deleted) findings, and the ids of photos approved for the public, copied into `notices.FixNotice`.
Internal notes, who recorded or changed anything, event comments and unapproved photos are never read here, and a
column added later is not read either (the same design as store/public.py)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, and_, func, select

from dke_geo.notices import FixNotice, Place
from dke_geo.store.tables import areas, fix_events, fix_observations, fixes, observations, photos

NOTICE_FIX_COLUMNS = ("id", "title", "description", "state", "organisation", "contact_role", "due_date")
NOTICE_FINDING_COLUMNS = ("category", "lon", "lat")


def _approved_photos():
    """Photos the public may see: approved one by one, not deleted, of a published finding that is not deleted."""
    return and_(photos.c.public_approved.is_(True), photos.c.deleted.is_(False), observations.c.published.is_(True),
                observations.c.deleted.is_(False))


def fix_notices(conn: Connection, *, fix_ids: Iterable[str] | None = None, organisation: str | None = None,
                states: Iterable[str] | None = None) -> list[FixNotice]:
    """The fixes (those of `fix_ids`, or of `organisation` in `states`) as their organisation may see them."""
    query = select(*[fixes.c[c] for c in NOTICE_FIX_COLUMNS]).order_by(fixes.c.due_date, fixes.c.title, fixes.c.id)
    if fix_ids is not None:
        query = query.where(fixes.c.id.in_([str(i) for i in fix_ids]))
    if organisation is not None:
        query = query.where(fixes.c.organisation == organisation)
    if states is not None:
        query = query.where(fixes.c.state.in_(list(states)))
    rows = conn.execute(query).fetchall()
    ids = [r.id for r in rows]
    places: dict[str, list[Place]] = {}
    for fix_id, area, area_id, category, lon, lat in conn.execute(
            select(fix_observations.c.fix_id, areas.c.name, observations.c.area_id,
                   *[observations.c[c] for c in NOTICE_FINDING_COLUMNS])
            .join(observations, observations.c.id == fix_observations.c.observation_id)
            .outerjoin(areas, areas.c.id == observations.c.area_id)
            .where(fix_observations.c.fix_id.in_(ids), observations.c.deleted.is_(False))
            .order_by(fix_observations.c.fix_id, observations.c.id)):
        places.setdefault(fix_id, []).append(Place(area or area_id or "", category, lon, lat))
    pictures: dict[str, list[str]] = {}
    for fix_id, photo_id in conn.execute(
            select(fix_observations.c.fix_id, photos.c.id)
            .join(observations, observations.c.id == fix_observations.c.observation_id)
            .join(photos, photos.c.observation_id == observations.c.id)
            .where(fix_observations.c.fix_id.in_(ids), _approved_photos())
            .order_by(photos.c.created_at, photos.c.id)):
        pictures.setdefault(fix_id, []).append(photo_id)
    return [FixNotice(id=r.id, title=r.title, description=r.description, state=r.state, organisation=r.organisation,
                      contact_role=r.contact_role, due_date=r.due_date, places=tuple(places.get(r.id, ())),
                      photo_ids=tuple(pictures.get(r.id, ()))) for r in rows]


def approved_photo_paths(conn: Connection, photo_ids: Iterable[str]) -> list[tuple[str, str]]:
    """(id, full image path) of those of `photo_ids` that are still approved for the public now (a photo withdrawn
    after its message was queued is not attached)."""
    return [tuple(r) for r in conn.execute(
        select(photos.c.id, photos.c.full_path).join(observations, observations.c.id == photos.c.observation_id)
        .where(photos.c.id.in_([str(i) for i in photo_ids]), _approved_photos())
        .order_by(photos.c.created_at, photos.c.id))]


def verified_since(conn: Connection, organisation: str, since: datetime) -> dict[str, datetime]:
    """fix id -> when it was verified, for the organisation's verified fixes verified at or after `since`."""
    first = func.min(fix_events.c.at)
    rows = conn.execute(select(fix_events.c.fix_id, first).join(fixes, fixes.c.id == fix_events.c.fix_id)
                        .where(fixes.c.organisation == organisation, fixes.c.state == "verified",
                               fix_events.c.to_state == "verified")
                        .group_by(fix_events.c.fix_id).having(first >= since))
    return dict(rows.all())


def with_due_dates(conn: Connection, states: Iterable[str]) -> list:
    """(id, organisation, state, due_date) of the fixes in `states` that have a due date and an organisation."""
    return conn.execute(select(fixes.c.id, fixes.c.organisation, fixes.c.state, fixes.c.due_date)
                        .where(fixes.c.state.in_(list(states)), fixes.c.due_date.is_not(None),
                               fixes.c.organisation != "")).fetchall()


def organisations_with(conn: Connection, states: Iterable[str]) -> list[str]:
    """The organisations responsible for at least one fix in `states`."""
    return sorted(conn.execute(select(fixes.c.organisation).distinct()
                               .where(fixes.c.state.in_(list(states)), fixes.c.organisation != "")).scalars())
