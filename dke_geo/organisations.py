"""The organisations that can be responsible for a fix, loaded from data/organisations.toml (data, not
code, so DKE can add one without a release)."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache

from dke_geo.config import ROOT

ORGANISATIONS_FILE = ROOT / "data" / "organisations.toml"


@dataclass(frozen=True)
class Organisation:
    id: str
    da: str
    en: str

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
        out[org.id] = org
    return out


def label(org_id: str, lang: str = "da") -> str:
    """The organisation's name in `lang`; an id no longer in the list shows as itself."""
    org = organisations().get(org_id)
    return org.label(lang) if org else org_id
