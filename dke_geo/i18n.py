"""Danish/English strings: one table, kept in dke_geo/strings/*.toml (a file per part of the app).

Danish is the default. A key missing in a language is a bug, caught by tests/test_i18n.py.
"""
from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

LANGUAGES = ("da", "en")
DEFAULT_LANGUAGE = "da"
_DIR = Path(__file__).with_name("strings")


@cache
def table() -> dict[str, dict[str, str]]:
    """All strings, key -> {language: text}; a key defined in two files is an error."""
    merged: dict[str, dict[str, str]] = {}
    for path in sorted(_DIR.glob("*.toml")):
        with path.open("rb") as f:
            for key, texts in tomllib.load(f).items():
                if key in merged:
                    raise ValueError(f"string key {key!r} defined twice ({path.name})")
                merged[key] = texts
    return merged


def t(key: str, lang: str = DEFAULT_LANGUAGE, **values) -> str:
    """The text for `key` in `lang`, formatted with `values`.

    >>> t("app.title", "en")
    'Area walks'
    """
    texts = table()[key]
    text = texts.get(lang) or texts[DEFAULT_LANGUAGE]
    return text.format(**values) if values else text
