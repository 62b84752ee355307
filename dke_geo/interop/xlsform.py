"""The XLSForm for walks without a connection: ODK Collect or KoBoCollect record offline, ODK Central or
KoBoToolbox collect the submissions, and their exports come back through `import` with no mapping to write.

Built from data/categories.toml (Danish and English labels), with severity, perceived safety, note, photo, a
geopoint (its accuracy is recorded with it) and the walk's id as a default. Two hidden values make the exports
ours: `dke_form` (data/import_mappings/dke_form.toml recognises it) and `finding_id`, a UUID made once per finding
on the tablet, so that every export of the same submission (CSV, OData, GeoJSON, the zip) is the same finding.
"""
from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from openpyxl import Workbook

from dke_geo.categories import categories
from dke_geo.i18n import LANGUAGES, t

FORM_ID = "dke_omraadevandring"
FORM_MARK = "dke-omraadevandring-1"
"""The value of the hidden `dke_form` question: which form (and version of its questions) an export is of."""
_LANGUAGE_NAMES = {"da": "Dansk (da)", "en": "English (en)"}
_TEXT_COLUMNS = ("label", "hint", "constraint_message")


def rows(walk_id: str = "") -> tuple[list[dict], list[dict]]:
    """The survey rows and the choice rows of the form (each a dict of XLSForm columns; texts per language)."""
    def say(key: str) -> dict:
        return {lang: t(key, lang) for lang in LANGUAGES}

    survey = [
        {"type": "start", "name": "start"},
        {"type": "end", "name": "end"},
        {"type": "calculate", "name": "dke_form", "calculation": f"'{FORM_MARK}'"},
        {"type": "calculate", "name": "finding_id", "calculation": "once(uuid())"},
        {"type": "text", "name": "walk_id", "label": say("form.walk"), "hint": say("form.walk_hint"),
         "default": walk_id},
        {"type": "geopoint", "name": "location", "label": say("form.location"), "hint": say("form.location_hint"),
         "required": "yes"},
        {"type": "select_one category", "name": "category", "label": say("form.category"), "required": "yes",
         "appearance": "minimal"},
        {"type": "select_one severity", "name": "severity", "label": say("form.severity"),
         "hint": say("form.severity_hint"), "required": "yes", "default": "2", "appearance": "horizontal"},
        {"type": "select_one safety", "name": "perceived_safety", "label": say("form.safety"),
         "hint": say("form.safety_hint"), "appearance": "horizontal"},
        {"type": "text", "name": "note", "label": say("form.note"), "appearance": "multiline"},
        {"type": "image", "name": "photo", "label": say("form.photo"), "parameters": "max-pixels=2048"},
    ]
    choices = [{"list_name": "category", "name": cat.id, "label": {"da": cat.da, "en": cat.en}}
               for cat in categories().values()]
    choices += [{"list_name": "severity", "name": str(n), "label": {lang: str(n) for lang in LANGUAGES}}
                for n in (1, 2, 3)]
    choices += [{"list_name": "safety", "name": str(n), "label": {lang: str(n) for lang in LANGUAGES}}
                for n in (1, 2, 3, 4, 5)]
    return survey, choices


def write(out: Path, walk_id: str = "") -> Path:
    """Write the form as an XLSForm workbook to `out` (written under a temporary name, then renamed)."""
    survey, choices = rows(walk_id)
    book = Workbook()
    sheet = book.active
    sheet.title = "survey"
    _table(sheet, survey, ("type", "name", "label", "hint", "required", "default", "appearance", "calculation",
                           "parameters"))
    _table(book.create_sheet("choices"), choices, ("list_name", "name", "label"))
    settings = book.create_sheet("settings")
    settings.append(["form_title", "form_id", "version", "default_language"])
    settings.append([t("form.title", "da"), FORM_ID, date.today().strftime("%Y%m%d"), _LANGUAGE_NAMES["da"]])
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp", delete=False) as tmp:
        book.save(tmp.name)
    Path(tmp.name).replace(out)
    return out


def _table(sheet, records: list[dict], columns: tuple[str, ...]) -> None:
    """Rows under a header; a text column becomes one column per language (`label::Dansk (da)`)."""
    header = [f"{c}::{_LANGUAGE_NAMES[lang]}" if c in _TEXT_COLUMNS else c
              for c in columns for lang in (LANGUAGES if c in _TEXT_COLUMNS else (None,))]
    sheet.append(header)
    for record in records:
        sheet.append([(record.get(c) or {}).get(lang, "") if c in _TEXT_COLUMNS else record.get(c, "")
                      for c in columns for lang in (LANGUAGES if c in _TEXT_COLUMNS else (None,))])
