"""Publishing findings to the residents' public map.

Findings are unpublished by default. A planner publishes them one by one or a whole walk at a time, with a
public text they write or a suggested one, built from the category, the area and the month only (never from
the internal note, which can name people). Photos reach the public only when approved one by one, and only
while their finding is published. Every action is appended to publication_events.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

import pandas as pd
from sqlalchemy import Engine

from dke_geo.categories import categories
from dke_geo.errors import DkeError, NotFound
from dke_geo.i18n import t
from dke_geo.model import MAX_NOTE, TZ, now
from dke_geo.roles import Actor, Permission, require
from dke_geo.services import areas as area_service
from dke_geo.store import publication as pub_store
from dke_geo.store.db import reading, transaction


class Action(StrEnum):
    PUBLISHED = "published"            # also when the public text of a published finding changes
    UNPUBLISHED = "unpublished"
    PHOTO_APPROVED = "photo_approved"
    PHOTO_WITHDRAWN = "photo_withdrawn"


def month_label(at: datetime, lang: str = "da") -> str:
    """The month and year of `at` in Copenhagen, e.g. "april 2017"."""
    local = at.astimezone(TZ)
    return f"{t(f'public.month.{local.month}', lang)} {local.year}"


def area_names(engine: Engine) -> dict[str, str]:
    """Area id -> name, for the areas in the database."""
    areas = area_service.current(engine)
    return dict(zip(areas["id"], areas["name"], strict=True))


def area_label(area_id: str | None, names: dict[str, str], lang: str = "da") -> str:
    """The area's name; a finding outside every housing area is "elsewhere in Albertslund"."""
    return names.get(area_id or "", t("public.no_area", lang))


def suggest_text(category: str, area: str, at: datetime, lang: str = "da") -> str:
    """A public text from category, area name and month only.

    >>> from datetime import datetime; from dke_geo.model import TZ
    >>> suggest_text("lighting", "Blokland", datetime(2017, 4, 20, 21, tzinfo=TZ))
    'Belysning i Blokland, noteret ved en områdevandring i april 2017.'
    """
    return t("public.suggestion", lang, category=categories()[category].label(lang), area=area,
             month=month_label(at, lang))


def suggested_text(engine: Engine, actor: Actor, obs_id: UUID | str, lang: str = "da") -> str:
    """The suggested public text for one finding (what the planner may accept as it is)."""
    require(actor, Permission.PUBLISH)
    with reading(engine) as conn:
        row = _finding(conn, obs_id)
    return suggest_text(row.category, area_label(row.area_id, area_names(engine), lang), row.observed_at, lang)


def _finding(conn, obs_id: UUID | str):
    row = pub_store.finding(conn, str(obs_id))
    if row is None:
        raise NotFound(what=str(obs_id))
    return row


def _clean(text: str | None) -> str:
    text = (text or "").strip()
    if len(text) > MAX_NOTE:
        raise DkeError("public.error.text_too_long", length=len(text), max=MAX_NOTE)
    return text


def publish(engine: Engine, actor: Actor, obs_id: UUID | str, public_text: str | None = None,
            lang: str = "da") -> str:
    """Publish one finding with `public_text` (empty: the suggested text); returns the text published.

    Publishing an already published finding with a new text changes its text (and is recorded);
    with the same text it changes nothing.
    """
    require(actor, Permission.PUBLISH)
    text = _clean(public_text)
    names = area_names(engine)
    with transaction(engine) as conn:
        row = _finding(conn, obs_id)
        text = text or suggest_text(row.category, area_label(row.area_id, names, lang), row.observed_at, lang)
        if not (row.published and row.public_text == text):
            at = now()
            pub_store.set_published(conn, row.id, True, text, actor.name, at)
            pub_store.record(conn, row.id, Action.PUBLISHED, actor.name, at, text)
    return text


def publish_walk(engine: Engine, actor: Actor, walk_id: UUID | str, lang: str = "da") -> int:
    """Publish every unpublished finding of a walk, each with its own public text if it has one, else the
    suggested text. Returns how many were published (all or none: one transaction)."""
    require(actor, Permission.PUBLISH)
    names = area_names(engine)
    with transaction(engine) as conn:
        rows = [r for r in pub_store.walk_findings(conn, str(walk_id)) if not r.published]
        at = now()
        for row in rows:
            text = row.public_text or suggest_text(row.category, area_label(row.area_id, names, lang),
                                                   row.observed_at, lang)
            pub_store.set_published(conn, row.id, True, text, actor.name, at)
            pub_store.record(conn, row.id, Action.PUBLISHED, actor.name, at, text)
    return len(rows)


def unpublish(engine: Engine, actor: Actor, obs_id: UUID | str) -> None:
    """Take a finding off the public map (its public text is kept for a later re-publication)."""
    require(actor, Permission.PUBLISH)
    with transaction(engine) as conn:
        row = _finding(conn, obs_id)
        if row.published:
            at = now()
            pub_store.set_published(conn, row.id, False, None, actor.name, at)
            pub_store.record(conn, row.id, Action.UNPUBLISHED, actor.name, at)


def approve_photo(engine: Engine, actor: Actor, photo_id: UUID | str, approved: bool = True) -> None:
    """Approve one photo for the public map, or withdraw the approval. It shows only while its finding is
    published, and always without its EXIF data."""
    require(actor, Permission.PUBLISH)
    with transaction(engine) as conn:
        row = pub_store.photo(conn, str(photo_id))
        if row is None:
            raise NotFound(what=str(photo_id))
        if row.public_approved != approved:
            pub_store.set_photo_approved(conn, row.id, approved)
            pub_store.record(conn, row.observation_id, Action.PHOTO_APPROVED if approved else Action.PHOTO_WITHDRAWN,
                             actor.name, now(), photo_id=row.id)


def queue(engine: Engine, actor: Actor, walk_id: UUID | str | None = None, lang: str = "da") -> pd.DataFrame:
    """The findings a planner can publish (all, or one walk's), newest first, with the area's name, the
    month, the category's label, the internal note (to judge what may go out) and the photo counts."""
    require(actor, Permission.PUBLISH)
    with reading(engine) as conn:
        table = pub_store.queue(conn, None if walk_id is None else str(walk_id))
    names = area_names(engine)
    table["area"] = [area_label(a, names, lang) for a in table["area_id"]]
    table["month"] = [month_label(at, lang) for at in table["observed_at"]]
    table["category_label"] = [categories()[c].label(lang) for c in table["category"]]
    return table


def finding_photos(engine: Engine, actor: Actor, obs_id: UUID | str) -> list[dict]:
    """A finding's photos for the planner to approve: id, file paths and approval."""
    require(actor, Permission.PUBLISH)
    with reading(engine) as conn:
        return [dict(r._mapping) for r in pub_store.finding_photos(conn, str(obs_id))]


def history(engine: Engine, actor: Actor, obs_id: UUID | str) -> list[dict]:
    """A finding's publication history, oldest first: at, by, action, public text, photo."""
    require(actor, Permission.PUBLISH)
    with reading(engine) as conn:
        return [{k: v for k, v in r._mapping.items() if k != "id"} for r in pub_store.events(conn, str(obs_id))]
