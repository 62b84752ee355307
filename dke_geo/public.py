"""What residents may see, as plain data and words: the one vocabulary of the public side.

`PublicView` and its frozen dataclasses are what the public page, its map (maps/public.py), the static site
(public_site.py) and the public export are made from, and `PublicWalk` what the walk report for the Bydelsforum
is made from; services/public.py fills them from a whitelist of columns (store/public.py). Nothing here reads
the database or a file, so nothing here can reach an internal field. Also the plain-words labels the public texts
are built from: month, day, area, status, the suggested public text.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from dke_geo.categories import categories
from dke_geo.i18n import t
from dke_geo.lifecycle import Group
from dke_geo.model import TZ

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


@dataclass(frozen=True)
class PublicWalk:
    """One walk as it may be told outside the unit (the Bydelsforum report): the day, the light, the areas, whether
    it is demo data, and its published findings exactly as the public map shows them. No title, focus,
    participants, notes, fixes, or anything about its unpublished findings."""
    lang: str
    day: str                      # the date in words
    light: str                    # the light condition in words
    area_ids: tuple[str, ...]
    is_demo: bool
    findings: tuple[PublicFinding, ...]   # oldest first, numbered so in the report


def month_label(at: datetime, lang: str = "da") -> str:
    """The month and year of `at` in Copenhagen.

    >>> month_label(datetime(2017, 4, 20, 21, tzinfo=TZ))
    'april 2017'
    """
    local = at.astimezone(TZ)
    return f"{t(f'public.month.{local.month}', lang)} {local.year}"


def date_label(at, lang: str = "da") -> str:
    """A day in Copenhagen in words.

    >>> date_label(datetime(2018, 5, 12, 10, tzinfo=TZ)), date_label(datetime(2018, 5, 12, 10, tzinfo=TZ), "en")
    ('12. maj 2018', '12 May 2018')
    """
    local = pd.Timestamp(at).tz_convert(TZ)
    return t("public.date", lang, day=local.day, month=t(f"public.month.{local.month}", lang), year=local.year)


def area_label(area_id: str | None, names: dict[str, str], lang: str = "da") -> str:
    """The area's name; a finding outside every housing area is "elsewhere in Albertslund"."""
    return names.get(area_id or "", t("public.no_area", lang))


def suggest_text(category: str, area: str, at: datetime, lang: str = "da") -> str:
    """A public text from category, area name and month only (never from the internal note, which can name
    people).

    >>> suggest_text("lighting", "Blokland", datetime(2017, 4, 20, 21, tzinfo=TZ))
    'Belysning i Blokland, noteret ved en områdevandring i april 2017.'
    """
    return t("public.suggestion", lang, category=categories()[category].label(lang), area=area,
             month=month_label(at, lang))


def status_text(status: str, resolved_at, lang: str = "da") -> str:
    """A finding's status (open, planned, resolved) in plain words, with the day it was resolved."""
    if status == Group.RESOLVED.value and not pd.isna(resolved_at):
        return t("public.status.resolved", lang, date=date_label(resolved_at, lang))
    return t(f"public.status.{status}", lang)
