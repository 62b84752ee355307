"""The residents' public view as plain data: the one source for the public page, its map and the static site.

Built as a whitelist. The store reads only fixed columns of published, not deleted findings
(`store.publication.PUBLIC_FINDING_COLUMNS`) and of approved photos; this module copies only the fields of
the frozen dataclasses below. Internal notes, who recorded or published, walks and their participants,
unpublished findings, unapproved photos and user names are never read, so a column added later cannot leak.
Photos are re-encoded from their pixels (`photos.public_jpeg`), so no EXIF, GPS or camera data goes out.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Engine

from dke_geo import geo, photos
from dke_geo.categories import categories
from dke_geo.i18n import t
from dke_geo.lifecycle import Group
from dke_geo.model import TZ
from dke_geo.services import areas as area_service
from dke_geo.services.publishing import area_label, month_label
from dke_geo.store import fixes as fix_store
from dke_geo.store import publication as pub_store
from dke_geo.store.db import reading

THUMB_SIDE = 320


@dataclass(frozen=True)
class PublicPhoto:
    """An approved photo, ready to serve: JPEG bytes (and a small thumbnail) with no metadata, named by a
    hash of its content."""
    name: str
    data: bytes
    thumb: bytes
    width: int
    height: int


@dataclass(frozen=True)
class PublicFinding:
    lon: float
    lat: float
    category: str          # the category id (for colours)
    category_label: str
    colour: str
    icon: str
    area: str
    month: str
    text: str
    status: str            # the fixes' status in plain words
    photos: tuple[PublicPhoto, ...]


@dataclass(frozen=True)
class AreaDensity:
    area_id: str
    name: str
    findings: int
    per_km2: float


@dataclass(frozen=True)
class PublicView:
    lang: str
    findings: tuple[PublicFinding, ...]
    density: tuple[AreaDensity, ...]


def date_label(at, lang: str = "da") -> str:
    """A day in Copenhagen in words: "12. maj 2018" / "12 May 2018"."""
    local = pd.Timestamp(at).tz_convert(TZ)
    return t("public.date", lang, day=local.day, month=t(f"public.month.{local.month}", lang), year=local.year)


def _status(status: str, resolved_at, lang: str) -> str:
    if status == Group.RESOLVED.value and not pd.isna(resolved_at):
        return t("public.status.resolved", lang, date=date_label(resolved_at, lang))
    return t(f"public.status.{status}", lang)


def _photo(path: str) -> PublicPhoto | None:
    try:
        data, width, height = photos.public_jpeg(photos.file(path).read_bytes())
    except (OSError, photos.PhotoError):
        return None  # a missing or broken file is left out rather than breaking the public page
    thumb = photos.public_jpeg(data, THUMB_SIDE)[0]
    return PublicPhoto(hashlib.sha256(data).hexdigest()[:20] + ".jpg", data, thumb, width, height)


def public_view(engine: Engine, lang: str = "da") -> PublicView:
    """What the public may see, in `lang`. No login needed: nothing internal is ever read."""
    with reading(engine) as conn:
        rows = pub_store.public_findings(conn)
        photo_rows = pub_store.public_photos(conn, rows["id"])
        statuses = fix_store.finding_statuses(conn).set_index("observation_id")
    areas = area_service.current(engine)
    names = dict(zip(areas["id"], areas["name"], strict=True))
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
        findings.append(PublicFinding(
            lon=round(float(row.lon), 6), lat=round(float(row.lat), 6), category=cat.id,
            category_label=cat.label(lang), colour=cat.colour, icon=cat.icon,
            area=area_label(row.area_id, names, lang), month=month_label(row.observed_at, lang), text=row.public_text,
            status=_status(status["status"], status["resolved_at"], lang) if status is not None
            else t("public.status.open", lang),
            photos=tuple(by_finding.get(row.id, ()))))
    counts = rows["area_id"].value_counts()
    km2 = areas.to_crs(geo.METRIC).area / 1e6
    density = tuple(AreaDensity(a, n, int(counts.get(a, 0)), round(int(counts.get(a, 0)) / k, 1) if k else 0.0)
                    for a, n, k in zip(areas["id"], areas["name"], km2, strict=True))
    return PublicView(lang, tuple(findings), density)
