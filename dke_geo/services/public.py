"""The public side's use cases: what residents see (the public page, the static site), and the planner's
publishing that decides it.

What residents see is read through a whitelist (store/public.py: fixed columns of published, not deleted
findings and approved photos) and copied into the frozen dataclasses of dke_geo/public.py, so internal notes,
who recorded or published, walks and their participants, unpublished findings, unapproved photos and user
names are never read, and a column added later cannot leak. Photos are re-encoded from their pixels
(`photos.public_jpeg`), so no EXIF, GPS or camera data goes out. No login is needed for the view.

Findings are unpublished by default. A planner publishes them one by one or a whole walk at a time, with a
public text they write or a suggested one, built from the category, the area and the month only (never from
the internal note, which can name people). Photos reach the public only when approved one by one, and only
while their finding is published. Every action is appended to publication_events.
"""
from __future__ import annotations

import hashlib
import shutil
import tempfile
from enum import StrEnum
from pathlib import Path
from uuid import UUID

import pandas as pd

from dke_geo import accessibility, geo, photos, public_site
from dke_geo.categories import categories
from dke_geo.context import AppContext
from dke_geo.errors import DkeError, NotFound
from dke_geo.i18n import t
from dke_geo.model import MAX_NOTE, TZ, now
from dke_geo.public import (
    THUMB_SIDE,
    AreaDensity,
    PublicFinding,
    PublicPhoto,
    PublicView,
    PublicWalk,
    area_label,
    date_label,
    month_label,
    public_key,
    public_text,
    status_text,
    suggest_text,
)
from dke_geo.roles import Actor, Permission, require
from dke_geo.store import fixes as fix_store
from dke_geo.store import public as pub_store
from dke_geo.store.db import data_version, reading, transaction


class Action(StrEnum):
    PUBLISHED = "published"            # also when the public text of a published finding changes
    UNPUBLISHED = "unpublished"
    PHOTO_APPROVED = "photo_approved"
    PHOTO_WITHDRAWN = "photo_withdrawn"


def suggested_text(ctx: AppContext, actor: Actor, obs_id: UUID | str, lang: str = "da") -> str:
    """The suggested public text for one finding (what the planner may accept as it is)."""
    require(actor, Permission.PUBLISH)
    with reading(ctx.engine) as conn:
        row = _finding(conn, obs_id)
    return suggest_text(row.category, area_label(row.area_id, ctx.area_names(), lang), row.observed_at, lang)


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


def publish(ctx: AppContext, actor: Actor, obs_id: UUID | str, public_text: str | None = None,
            lang: str = "da", public_text_en: str | None = None) -> str:
    """Publish one finding with `public_text` (empty: the suggested text); returns the Danish text published.

    `public_text_en` is the optional English text shown on English pages ("" removes it; None keeps the one
    stored). Publishing an already published finding with new texts changes them (and is recorded); with the
    same texts it changes nothing.
    """
    require(actor, Permission.PUBLISH)
    text = _clean(public_text)
    text_en = None if public_text_en is None else _clean(public_text_en)
    names = ctx.area_names()
    with transaction(ctx.engine) as conn:
        row = _finding(conn, obs_id)
        text = text or suggest_text(row.category, area_label(row.area_id, names, lang), row.observed_at, lang)
        english = row.public_text_en if text_en is None else text_en
        if not (row.published and row.public_text == text and row.public_text_en == english):
            at = now()
            pub_store.set_published(conn, row.id, True, text, actor.name, at, english)
            pub_store.record(conn, row.id, Action.PUBLISHED, actor.name, at, text, public_text_en=english)
    return text


def publish_walk(ctx: AppContext, actor: Actor, walk_id: UUID | str, lang: str = "da") -> int:
    """Publish every unpublished finding of a walk, each with its own public text if it has one, else the
    suggested text. Returns how many were published (all or none: one transaction)."""
    require(actor, Permission.PUBLISH)
    names = ctx.area_names()
    with transaction(ctx.engine) as conn:
        rows = [r for r in pub_store.walk_findings(conn, str(walk_id)) if not r.published]
        at = now()
        for row in rows:
            text = row.public_text or suggest_text(row.category, area_label(row.area_id, names, lang),
                                                   row.observed_at, lang)
            pub_store.set_published(conn, row.id, True, text, actor.name, at)
            pub_store.record(conn, row.id, Action.PUBLISHED, actor.name, at, text, public_text_en=row.public_text_en)
    return len(rows)


def unpublish(ctx: AppContext, actor: Actor, obs_id: UUID | str) -> None:
    """Take a finding off the public map (its public text is kept for a later re-publication)."""
    require(actor, Permission.PUBLISH)
    with transaction(ctx.engine) as conn:
        row = _finding(conn, obs_id)
        if row.published:
            at = now()
            pub_store.set_published(conn, row.id, False, None, actor.name, at)
            pub_store.record(conn, row.id, Action.UNPUBLISHED, actor.name, at)


def approve_photo(ctx: AppContext, actor: Actor, photo_id: UUID | str, approved: bool = True) -> None:
    """Approve one photo for the public map, or withdraw the approval. It shows only while its finding is
    published, and always without its EXIF data."""
    require(actor, Permission.PUBLISH)
    with transaction(ctx.engine) as conn:
        row = pub_store.photo(conn, str(photo_id))
        if row is None:
            raise NotFound(what=str(photo_id))
        if row.public_approved != approved:
            pub_store.set_photo_approved(conn, row.id, approved)
            pub_store.record(conn, row.observation_id, Action.PHOTO_APPROVED if approved else Action.PHOTO_WITHDRAWN,
                             actor.name, now(), photo_id=row.id)


def queue(ctx: AppContext, actor: Actor, walk_id: UUID | str | None = None, lang: str = "da") -> pd.DataFrame:
    """The findings a planner can publish (all, or one walk's), newest first, with the area's name, the
    month, the category's label, the internal note (to judge what may go out) and the photo counts."""
    require(actor, Permission.PUBLISH)
    with reading(ctx.engine) as conn:
        table = pub_store.queue(conn, None if walk_id is None else str(walk_id))
    names = ctx.area_names()
    table["area"] = [area_label(a, names, lang) for a in table["area_id"]]
    table["month"] = [month_label(at, lang) for at in table["observed_at"]]
    table["category_label"] = [categories()[c].label(lang) for c in table["category"]]
    return table


def finding_photos(ctx: AppContext, actor: Actor, obs_id: UUID | str) -> list[dict]:
    """A finding's photos for the planner to approve: id, file paths and approval."""
    require(actor, Permission.PUBLISH)
    with reading(ctx.engine) as conn:
        return [dict(r._mapping) for r in pub_store.finding_photos(conn, str(obs_id))]


def history(ctx: AppContext, actor: Actor, obs_id: UUID | str) -> list[dict]:
    """A finding's publication history, oldest first: at, by, action, public text, photo."""
    require(actor, Permission.PUBLISH)
    with reading(ctx.engine) as conn:
        return [{k: v for k, v in r._mapping.items() if k != "id"} for r in pub_store.events(conn, str(obs_id))]


# ------------------------------------------------------------------ what residents see
def view(ctx: AppContext, lang: str = "da") -> PublicView:
    """What the public may see, in `lang`, built once per data version (photos are re-encoded then). No login
    needed: nothing internal is ever read."""
    with reading(ctx.engine) as conn:
        version = data_version(conn)
    return ctx.cached("public.view", version, lang, lambda: _build_view(ctx, lang))


def walk_view(ctx: AppContext, actor: Actor, walk_id: UUID | str, lang: str = "da") -> PublicWalk:
    """What may be told outside the unit about one walk, for the Bydelsforum report: its day, light and areas, and
    its published findings exactly as the public map shows them (oldest first), read through the same whitelist.
    Made by those who see internal data, since it is they who send it out."""
    require(actor, Permission.VIEW_INTERNAL)
    with reading(ctx.engine) as conn:
        walk = pub_store.public_walk(conn, str(walk_id))
        if walk is None:
            raise NotFound(what=f"walk {walk_id}")
        rows = pub_store.public_findings(conn, walk_id=str(walk_id)).iloc[::-1]
        extra = _read_extras(conn, rows)
    return PublicWalk(lang, date_label(walk.started_at, lang), t(f"light.{walk.light_condition}", lang),
                      tuple(walk.area_ids), bool(walk.is_demo), _public_findings(ctx, rows, *extra, lang))


def _build_view(ctx: AppContext, lang: str) -> PublicView:
    with reading(ctx.engine) as conn:
        rows = pub_store.public_findings(conn)
        extra = _read_extras(conn, rows)
    findings = _public_findings(ctx, rows, *extra, lang)
    areas = ctx.areas()
    counts = rows["area_id"].value_counts()
    km2 = areas.to_crs(geo.METRIC).area / 1e6
    density = tuple(AreaDensity(a, n, int(counts.get(a, 0)), round(int(counts.get(a, 0)) / k, 1) if k else 0.0)
                    for a, n, k in zip(areas["id"], areas["name"], km2, strict=True))
    return PublicView(lang, findings, density)


def _read_extras(conn, rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What the published findings `rows` are shown with: their approved photos and their fixes' status."""
    return pub_store.public_photos(conn, rows["id"]), fix_store.finding_statuses(conn).set_index("observation_id")


def _public_findings(ctx: AppContext, rows: pd.DataFrame, photo_rows: pd.DataFrame, statuses: pd.DataFrame,
                     lang: str) -> tuple[PublicFinding, ...]:
    """The published findings `rows` (store.public.public_findings) as residents see them, in the same order: their
    approved photos re-encoded without metadata (after the connection is given back: it takes a while), and their
    fixes' status in plain words."""
    names = ctx.area_names()
    cats = categories()
    by_finding: dict[str, list[PublicPhoto]] = {}
    for row in photo_rows.itertuples():
        photo = _photo(row.full_path)
        if photo is not None:
            by_finding.setdefault(row.observation_id, []).append(photo)
    findings = []
    for row in rows.itertuples():
        cat = cats[row.category]
        status = statuses.loc[row.id] if row.id in statuses.index else None
        group, resolved_at = (status["status"], status["resolved_at"]) if status is not None else ("open", None)
        text, text_lang = public_text(row.public_text, row.public_text_en, lang)
        local = row.observed_at.astimezone(TZ)
        findings.append(PublicFinding(
            key=public_key(row.id), lon=round(float(row.lon), 6), lat=round(float(row.lat), 6), category=cat.id,
            category_label=cat.label(lang), colour=cat.colour, icon=cat.icon,
            area=area_label(row.area_id, names, lang), month=month_label(row.observed_at, lang),
            month_key=f"{local.year}-{local.month:02d}", text=text, text_lang=text_lang,
            status=status_text(group, resolved_at, lang), status_group=group,
            photos=tuple(by_finding.get(row.id, ()))))
    return tuple(findings)


def _photo(path: str) -> PublicPhoto | None:
    try:
        data, width, height = photos.public_jpeg(photos.file(path).read_bytes())
    except (OSError, photos.PhotoError):
        return None  # a missing or broken file is left out rather than breaking the public page
    thumb = photos.public_jpeg(data, THUMB_SIDE)[0]
    return PublicPhoto(hashlib.sha256(data).hexdigest()[:20] + ".jpg", data, thumb, width, height)


def write_site(ctx: AppContext, out: Path, lang: str = "da") -> dict[str, int]:
    """Write the public map as a static site into `out` (replacing an earlier export there; a folder that is not
    one is refused, not overwritten); returns what it holds. Built in a temporary folder and swapped in, so a
    photo or finding withdrawn since the last export never lingers."""
    out = Path(out).resolve()
    if out.exists() and any(out.iterdir()) and not (out / public_site.MARKER).exists():
        raise DkeError("public.error.out_not_empty", path=str(out))
    public = view(ctx, lang)
    out.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        statement = accessibility.statement(lang, ctx.settings["DKE_GEO_ACCESSIBILITY_CONTACT"])
        written = public_site.write(build, public, ctx.areas(), now(), statement)
        build.chmod(0o755)
        if out.exists():
            shutil.rmtree(out)
        build.rename(out)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    return written
