"""What residents may see, as plain data and words: the one vocabulary of the public side.

`PublicView` and its frozen dataclasses are what the public page, its map (maps/public.py), the static site
(public_site.py) and the public export are made from, and `PublicWalk` what the walk report for the Bydelsforum
is made from; services/public.py fills them from a whitelist of columns (store/public.py). Nothing here reads
the database or a file, so nothing here can reach an internal field. Also the plain-words labels the public texts
are built from: month, day, area, status, the suggested public text.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from dke_geo.categories import categories
from dke_geo.i18n import t
from dke_geo.lifecycle import Group
from dke_geo.model import TZ

THUMB_SIDE = 320
STATUS_GROUPS = (Group.OPEN.value, Group.PLANNED.value, Group.RESOLVED.value)
ANSWERABLE = frozenset({Group.PLANNED.value, Group.RESOLVED.value})


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
    key: str               # a public name for the finding (public_key): links list, map and answers
    lon: float
    lat: float
    category: str          # the category id (for colours)
    category_label: str
    colour: str
    icon: str
    area: str
    month: str
    month_key: str         # "2017-04": sorts the months
    text: str
    text_lang: str         # the language `text` is written in ("da" when no English text was written)
    status: str            # the fixes' status in plain words
    status_group: str      # open, planned or resolved (Group): the legend's symbol, and whether residents may answer
    photos: tuple[PublicPhoto, ...]

    @property
    def answerable(self) -> bool:
        """Residents may say whether it is still a problem once something is planned or done about it."""
        return self.status_group in ANSWERABLE


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
def public_key(obs_id: str) -> str:
    """The name a published finding goes by on the public side: a hash of its id, so the public pages, the static
    site and residents' answers can point at a finding without carrying the internal id.

    >>> public_key("6f1d6c1e-2b8a-4a51-9c1e-0d6b7e2a2017")
    'f-8b893d65f5423ac0'
    """
    return "f-" + hashlib.sha256(f"dke-geo public {obs_id}".encode()).hexdigest()[:16]


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


def public_text(danish: str, english: str, lang: str) -> tuple[str, str]:
    """The public text to show in `lang`, and the language it is written in: the English text on an English page
    when the planner wrote one, else the Danish text (marked Danish, so a screen reader reads it as Danish).

    >>> public_text("Lampen er gået ud.", "The lamp is out.", "en"), public_text("Lampen er gået ud.", "", "en")
    (('The lamp is out.', 'en'), ('Lampen er gået ud.', 'da'))
    """
    if lang == "en" and english:
        return english, "en"
    return danish, "da"


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
