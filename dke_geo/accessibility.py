"""The accessibility statement (tilgængelighedserklæring) that webtilgængelighedsloven asks of a Danish public body,
made from data/accessibility.toml: the same file tells the browser test what to check (tests/e2e/
test_accessibility.py), so the statement says only what the suite tests. The contact comes from settings
(DKE_GEO_ACCESSIBILITY_CONTACT). Shown by the app (ui/pages/accessibility.py) and the static site (public_site.py).
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from functools import cache

from dke_geo.config import ROOT
from dke_geo.i18n import t

TESTED_FILE = ROOT / "data" / "accessibility.toml"


@cache
def tested() -> dict:
    """What the accessibility check covers: standard, tool, impacts, languages, widths, pages, checks, limits."""
    with TESTED_FILE.open("rb") as f:
        return tomllib.load(f)


@dataclass(frozen=True)
class Statement:
    lang: str
    title: str
    sections: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]  # (heading, paragraphs, list items)


def statement(lang: str, contact: str) -> Statement:
    """The statement in `lang` with `contact` (how to reach the municipality; "" for the general wording).

    >>> statement("da", "dke@example.dk").sections[0][0]
    'Hvad erklæringen dækker'
    """
    data = tested()
    day: date = data["tested"]
    pages = tuple(p[lang] for p in data["page"])
    languages = ", ".join(t(f"a11y.lang.{x}", lang) for x in data["languages"])
    how = t("a11y.how", lang, tool=data["tool"], languages=languages,
            widths=", ".join(f"{w} px" for w in data["widths"]), date=day.strftime("%d.%m.%Y"))
    return Statement(lang, t("a11y.title", lang), (
        (t("a11y.scope.heading", lang), (t("a11y.scope", lang, standard=data["standard"]),), ()),
        (t("a11y.status.heading", lang), (t("a11y.status", lang),), ()),
        (t("a11y.tested.heading", lang), (how,), pages),
        (t("a11y.checked.heading", lang), (), tuple(c[lang] for c in data["checked"])),
        (t("a11y.limits.heading", lang), (), tuple(c[lang] for c in data["limitation"])),
        (t("a11y.contact.heading", lang),
         (t("a11y.contact", lang, contact=contact) if contact else t("a11y.contact_general", lang),
          t("a11y.complaint", lang)), ()),
    ))
