"""The reports' use cases: what the walk report and the half-year summary are made from, read with the
reader's role checked, and handed to the report builder (dke_geo/reports.py)."""
from __future__ import annotations

from uuid import UUID

from dke_geo import reports
from dke_geo.context import AppContext
from dke_geo.errors import NotFound
from dke_geo.roles import Actor, Permission, require
from dke_geo.services import fixes as fix_service
from dke_geo.services import public as public_service
from dke_geo.store import observations as obs_store
from dke_geo.store import photos as photo_store
from dke_geo.store import walks as walk_store
from dke_geo.store.db import reading


def walk_report(ctx: AppContext, actor: Actor, walk_id: UUID | str, lang: str = "da", fmt: str = "html", *,
                forum: bool = False) -> bytes:
    """One walk's report as HTML or PDF bytes: the internal one (reports.walk_report), or with `forum` the one for
    the Bydelsforum (reports.forum_report), made only from what the public map shows (public.walk_view)."""
    require(actor, Permission.VIEW_INTERNAL)
    if forum:
        return reports.forum_report(public_service.walk_view(ctx, actor, walk_id, lang), ctx.areas(), fmt)
    with reading(ctx.engine) as conn:
        walk = walk_store.get(conn, walk_id)
        if walk is None:
            raise NotFound(what=f"walk {walk_id}")
        found = sorted(obs_store.for_walk(conn, walk.id), key=lambda o: (o.observed_at, str(o.id)))
        pictures = photo_store.for_observations(conn, [o.id for o in found])
    fixes = fix_service.fixes_frame(ctx, actor, walk_id=walk.id)
    return reports.walk_report(walk, found, pictures, fixes, ctx.areas(), lang, fmt)


def period_report(ctx: AppContext, actor: Actor, period: str, lang: str = "da", fmt: str = "html") -> bytes:
    """The half-year summary of `period` ("2017H1") as HTML or PDF bytes (see reports.period_report)."""
    require(actor, Permission.VIEW_INTERNAL)
    span = reports.parse_period(period)
    with reading(ctx.engine) as conn:
        walks = walk_store.started_between(conn, span.start, span.end)
    found = obs_store.frame(ctx.columns, ("id", "walk_id", "area_id", "category", "observed_at"))
    found = found[(found["observed_at"] >= span.start) & (found["observed_at"] < span.end)]
    return reports.period_report(span, walks, found, fix_service.fixes_frame(ctx, actor), ctx.areas(), lang, fmt)
