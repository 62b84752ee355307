"""A mapping file drafted from a foreign file (`import FILE --write-mapping OUT.toml`, and the table on the Import
page): the columns found for each field and every distinct value of its category column set against our category
ids, best guesses filled in, so that a planner checks a few lines instead of writing TOML from nothing, and the
second run imports.

Columns are looked for with the candidates of every shipped mapping (data/import_mappings/); a category value is
matched to one of ours by its id, its Danish or English label, a shipped mapping's value table, or a close
spelling; what matches nothing is guessed as "other" and marked so in the file.
"""
from __future__ import annotations

import difflib
import json
import tempfile
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import pandas as pd

from dke_geo.categories import categories
from dke_geo.interop import column_mapping
from dke_geo.interop.column_mapping import is_empty, resolve
from dke_geo.interop.readers import Source

OTHER = "other"
CATEGORY_STEMS = ("categ", "kateg", "type", "art", "kind", "class", "klass", "tema", "theme")
"""How a foreign file's column for what kind of thing a row is begins (any language, loosely compared), when no
shipped mapping names it: "type", "Catégorie du problème", "Kategori"."""
LOCATION_KEYS = ("lon", "lat", "geopoint", "wkt")
FIELDS = ("external_id", "walk_id", "category", "severity", "perceived_safety", "internal_note", "public_text",
          "observed_at", "gps_accuracy_m")
"""The fields a drafted mapping offers (a foreign file has no use for our export's bookkeeping columns)."""
MAX_VALUES = 200  # distinct category values listed at most (a column with more is not a choice list)


@dataclass(frozen=True)
class Draft:
    """A drafted mapping: the file's columns for each field ("" where none was found), the location, and each
    distinct category value with the category id it maps to and whether that was a guess."""
    file: str
    columns: tuple[str, ...]
    location: dict[str, str] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)
    category_column: str = ""
    categories: dict[str, str] = field(default_factory=dict)
    guessed: frozenset[str] = frozenset()

    def with_categories(self, chosen: dict[str, str]) -> Draft:
        """The draft with the category values mapped as `chosen` says (value -> category id), e.g. from the page."""
        known = set(categories())
        unknown = {v for v in chosen.values() if v not in known}
        if unknown:
            raise ValueError(f"unknown category id(s): {', '.join(sorted(unknown))}")
        return replace(self, categories={**self.categories, **chosen},
                       guessed=frozenset(self.guessed - set(chosen)))

    def table(self) -> pd.DataFrame:
        """The category values as rows (value, category id, guessed), for the page's table."""
        return pd.DataFrame({"value": list(self.categories), "category": list(self.categories.values()),
                             "guessed": [v in self.guessed for v in self.categories]})


def draft(source: Source, name: str) -> Draft:
    """The mapping drafted for the file `name` read into `source`."""
    columns = source.columns
    shipped = column_mapping.builtin("observations")
    location: dict[str, str] = {}
    if source.geometry is None:
        for key in LOCATION_KEYS:
            found = next((c for m in shipped if key in m.location for c in [resolve(m.location[key], columns)] if c),
                         "")
            if found:
                location[key] = found
        if not (location.get("lon") and location.get("lat")):
            location.pop("lon", None), location.pop("lat", None)
    fields = dict.fromkeys(FIELDS, "")
    for mapping in shipped:
        for name_, candidates in mapping.fields.items():
            if name_ in fields and not fields[name_]:
                fields[name_] = resolve(candidates, columns) or ""
    category = fields.get("category") or _named_category_column(columns) or _likeliest_category_column(source)
    fields["category"] = category or ""
    values = _distinct(source.rows[category]) if category else []
    synonyms = {k: v for m in shipped for k, v in m.values.get("category", {}).items()}
    guesses = {value: _guess(value, synonyms) for value in values}
    return Draft(name, tuple(columns), location, fields, category or "",
                 {v: g or OTHER for v, g in guesses.items()}, frozenset(v for v, g in guesses.items() if not g))


def _distinct(cells: pd.Series) -> list[str]:
    values = [str(v).strip() for v in cells.tolist() if not is_empty(v)]
    return list(dict.fromkeys(values))[:MAX_VALUES]


def _named_category_column(columns: list[str]) -> str:
    for column in columns:
        if column_mapping.loose(column_mapping.leaf(column)).startswith(CATEGORY_STEMS):
            return column
    return ""


def _likeliest_category_column(source: Source) -> str:
    """The text column whose values most often name one of our categories (none: "")."""
    names = column_mapping.category_names()
    best, score = "", 0
    for column in source.columns:
        values = _distinct(source.rows[column])
        hits = sum(v.casefold() in names for v in values)
        if hits > score:
            best, score = column, hits
    return best


def _guess(value: str, synonyms: dict[str, str]) -> str:
    """Our category for a file's value: its id or a label, a shipped synonym, or a close spelling; else ""."""
    folded = value.casefold()
    names = column_mapping.category_names()
    if folded in names:
        return names[folded]
    if folded in synonyms:
        return synonyms[folded]
    close = difflib.get_close_matches(folded, [*names, *synonyms], n=1, cutoff=0.75)
    if close:
        return names.get(close[0]) or synonyms[close[0]]
    words = set(folded.replace("/", " ").replace("-", " ").split())
    for key, cat_id in {**synonyms, **names}.items():
        if len(key) >= 4 and any(w.startswith(key) or (len(w) >= 4 and key.startswith(w)) for w in words):
            return cat_id
    return ""


def write(draft_: Draft, out: Path) -> Path:
    """The draft as a mapping file (TOML with comments saying what to check), written under a temporary name and
    renamed, so a failed write leaves no half file."""
    ids = ", ".join(categories())
    lines = [f"# Import mapping drafted by dke-geo from {draft_.file} on {date.today():%Y-%m-%d}.",
             "# Check it, then import with: python -m dke_geo import FILE --mapping THIS_FILE",
             f"# Columns of the file: {', '.join(draft_.columns)}",
             f"name = {_toml(draft_.file + ' (drafted mapping)')}", 'target = "observations"', "", "[location]"]
    if draft_.location:
        lines += [f"{key} = {_toml(column)}" for key, column in draft_.location.items()]
    else:
        lines.append("# the file's own geometry is used")
    lines += ["", "[fields]"]
    for name, column in draft_.fields.items():
        lines.append(f"{name} = {_toml(column)}" if column else f"# {name} = \"\"  (no column found)")
    lines += ["", "[values.category]",
              f"# each value of the column {draft_.category_column!r} -> one of: {ids}"]
    for value, cat in draft_.categories.items():
        note = "  # no match found: guessed" if value in draft_.guessed else ""
        lines.append(f"{_toml(value)} = {_toml(cat)}{note}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=out.parent, prefix=f".{out.name}.", suffix=".tmp",
                                     delete=False) as tmp:
        tmp.write("\n".join(lines) + "\n")
    Path(tmp.name).replace(out)
    return out


def _toml(text: str) -> str:
    """A TOML basic string (JSON's escapes, and DEL, which TOML wants escaped too)."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")
