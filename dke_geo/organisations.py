"""The organisations DKE works with, loaded from data/organisations.toml (data, not code, so DKE can add one
without a release): a walk's participants and a fix's responsible organisation are stored as their ids and
shown by these labels in the reader's language."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache

from dke_geo.config import ROOT
from dke_geo.i18n import LANGUAGES

ORGANISATIONS_FILE = ROOT / "data" / "organisations.toml"
OTHER = "andre"  # the organisation of a walk's participants that are not in the list; their name kept beside it
DKE = "dke"  # the unit itself: told when an organisation reports back on a fix
EMAIL = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[A-Za-z0-9-]{2,}")
"""A contact address: one plain address (no display name, no list), so nothing else can be smuggled into a
message's recipients."""


@dataclass(frozen=True)
class Organisation:
    id: str
    da: str
    en: str
    responsible: bool = True  # may be responsible for a fix; every organisation may take part in a walk
    email: str = ""  # a function mailbox for the messages about its fixes (overridable on the admin page)
    language: str = "da"  # the language of those messages

    def label(self, lang: str = "da") -> str:
        return self.en if lang == "en" else self.da


@cache
def organisations() -> dict[str, Organisation]:
    """The organisations by id, in file order; each id checked to be usable and unique."""
    with ORGANISATIONS_FILE.open("rb") as f:
        rows = tomllib.load(f)["organisation"]
    out: dict[str, Organisation] = {}
    for row in rows:
        org = Organisation(**row)
        if not re.fullmatch(r"[a-z][a-z0-9-]*", org.id) or org.id in out:
            raise ValueError(f"bad or duplicate organisation id {org.id!r} in {ORGANISATIONS_FILE}")
        if (org.email and not EMAIL.fullmatch(org.email)) or org.language not in LANGUAGES:
            raise ValueError(f"organisation {org.id!r} in {ORGANISATIONS_FILE}: bad email or language")
        out[org.id] = org
    if OTHER not in out:
        raise ValueError(f"{ORGANISATIONS_FILE} needs the organisation {OTHER!r}")
    return out


def responsible() -> dict[str, Organisation]:
    """The organisations that may be responsible for a fix (not those marked `responsible = false`)."""
    return {org_id: org for org_id, org in organisations().items() if org.responsible}


def label(org_id: str, lang: str = "da") -> str:
    """The organisation's name in `lang`; an id no longer in the list shows as itself."""
    org = organisations().get(org_id)
    return org.label(lang) if org else org_id


def participant_label(org_id: str, lang: str = "da", kept_label: str | None = None) -> str:
    """How one of a walk's participating organisations reads in `lang`: its label, followed by the name kept for
    one that is not in the list (id `andre`).

    >>> participant_label("beboere", "en"), participant_label("andre", "da", "Vejafdelingen")
    ('Residents', 'Andre: Vejafdelingen')
    """
    return f"{label(org_id, lang)}: {kept_label}" if kept_label else label(org_id, lang)


def find(text: str) -> str | None:
    """The id of the organisation whose id or Danish or English label is `text` (any case), else None: for files
    written before walks stored ids."""
    wanted = text.strip().casefold()
    return next((org.id for org in organisations().values()
                 if wanted in (org.id, org.da.casefold(), org.en.casefold())), None)
