"""Finding categories, loaded from data/categories.toml (data, not code)."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache

from dke_geo.config import ROOT

CATEGORIES_FILE = ROOT / "data" / "categories.toml"


@dataclass(frozen=True)
class Category:
    id: str
    da: str
    en: str
    icon: str
    colour: str

    def label(self, lang: str = "da") -> str:
        return self.en if lang == "en" else self.da


@cache
def categories() -> dict[str, Category]:
    """The categories by id, in file order; each checked for a usable id and colour."""
    with CATEGORIES_FILE.open("rb") as f:
        rows = tomllib.load(f)["category"]
    out: dict[str, Category] = {}
    for row in rows:
        cat = Category(**row)
        if not re.fullmatch(r"[a-z][a-z0-9_]*", cat.id) or cat.id in out:
            raise ValueError(f"bad or duplicate category id {cat.id!r} in {CATEGORIES_FILE}")
        if not re.fullmatch(r"#[0-9a-fA-F]{6}", cat.colour):
            raise ValueError(f"category {cat.id!r}: colour must be #rrggbb, not {cat.colour!r}")
        out[cat.id] = cat
    return out
