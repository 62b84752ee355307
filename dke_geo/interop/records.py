"""Checking the records of an import file: every record converted by its column mapping (column_mapping.py)
and validated by the model (`Observation.parse`, `IncidentReport.parse`: the one validator); a record that fails
is kept with its row number and every reason. Format code only: what is stored already, and the writing, are
the import use case's (services/imports.py), which a dry run and a real import share.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from dke_geo import organisations
from dke_geo.errors import DkeError, InvalidInput
from dke_geo.i18n import t
from dke_geo.interop import column_mapping, readers
from dke_geo.interop.column_mapping import Converter, Mapping, parse_time
from dke_geo.model import Observation, Walk

Progress = Callable[[int, int], None]
"""Called as progress(done, total) while records are checked and written (for a progress bar)."""


@dataclass
class Rejection:
    """A record that cannot be imported: where it is in the file and why (translated when shown)."""
    row: int
    unit: str
    errors: list[DkeError]

    def reasons(self, lang: str = "da") -> list[str]:
        out: list[str] = []
        for error in self.errors:
            out.extend(error.messages(lang) if isinstance(error, InvalidInput) else [error.message(lang)])
        return out


@dataclass
class ImportReport:
    """What an import would do (dry run) or did."""
    file: str
    target: str
    mapping: str
    columns: dict[str, str]
    total: int
    rejected: list[Rejection] = field(default_factory=list)
    new: int = 0               # records not yet stored: would be (dry run) or were added
    existing: int = 0          # records already stored: skipped
    outside: int = 0           # accepted outside the municipality because that was asked for
    new_walks: int = 0
    imported: bool = False
    preview: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def ok(self) -> bool:
        return not self.rejected

    def summary(self, lang: str = "da") -> list[str]:
        """What was found and what would be (or was) done, as text lines."""
        key = "import.report.done" if self.imported else "import.report.checked"
        out = [t(key, lang, file=self.file, mapping=self.mapping, total=self.total, new=self.new,
                 existing=self.existing, rejected=len(self.rejected)),
               t("import.report.columns", lang, columns=", ".join(f"{k} <- {v}" for k, v in self.columns.items()))]
        if self.new_walks:
            out.append(t("import.report.walks", lang, n=self.new_walks))
        if self.outside:
            out.append(t("import.report.outside", lang, n=self.outside))
        return out

    def lines(self, lang: str = "da") -> list[str]:
        """The summary and then every rejected record with its reasons (the command line prints these)."""
        return self.summary(lang) + [f"  {t(f'import.unit.{r.unit}', lang, n=r.row)}: " + " ".join(r.reasons(lang))
                                     for r in self.rejected]


class ImportRefused(DkeError):
    """The real import of a file with rejected records: nothing was written."""
    key = "import.error.refused"

    def __init__(self, report: ImportReport):
        self.report = report
        super().__init__(n=len(report.rejected), total=report.total)


@dataclass
class Checked:
    """The records of a file that passed, in file order (row, model object), and the walks it carries."""
    accepted: list[tuple[int, Any]]
    walks: list[Walk]


def check(source: readers.Source, chosen: Mapping, model: type, report: ImportReport, base: dict, overrides: dict,
          known_walks: set[str], allow_outside: bool, progress: Progress | None = None) -> Checked:
    """Convert and validate every record of `source`; rejected ones go into `report` with their reasons, as do
    duplicates within the file and findings on a walk neither stored (`known_walks`) nor in the file."""
    converter = Converter(source, chosen, model.model_fields)
    report.columns = converter.describe()
    file_walks = walks_in_file(source, chosen, report) if model is Observation else []
    known_walks = known_walks | {str(w.id) for w in file_walks}
    accepted: list[tuple[int, Any]] = []
    seen: dict[str, int] = {}
    step = max(1, report.total // 100)
    for i, record in enumerate(converter.records(base)):
        record.data.update(overrides)
        item, errors, outside = _validate(model, record, allow_outside)
        if item is not None:
            for key in keys(item):
                if key in seen:
                    errors.append(DkeError(f"import.error.duplicate_{source.unit}", row=seen[key]))
                    break
            walk = getattr(item, "walk_id", None)
            if walk is not None and str(walk) not in known_walks:
                errors.append(DkeError("import.error.unknown_walk", walk=str(walk)))
        if errors:
            report.rejected.append(Rejection(record.row, source.unit, errors))
        else:
            seen.update(dict.fromkeys(keys(item), record.row))
            report.outside += outside
            accepted.append((record.row, item))
        if progress and (i + 1) % step == 0:
            progress(i + 1, report.total)
    return Checked(accepted, file_walks)


def _validate(model: type, record, allow_outside: bool) -> tuple[Any, list[DkeError], bool]:
    """The model object for a record, or every reason it fails. A point outside the municipality is
    accepted only with `allow_outside`, and then counted (never silently)."""
    errors = list(record.errors)
    located = "lon" in record.data and "lat" in record.data
    try:
        item = model.parse(record.data)
    except InvalidInput as exc:
        # without a point the model would only repeat "longitude/latitude required": the reason is already given
        problems = [e for e in exc.errors if located or not (e["type"] == "missing" and e["loc"][0] in ("lon", "lat"))]
        if allow_outside and not errors and problems and all(e["type"] == "outside_municipality" for e in problems):
            return model.parse(record.data, allow_outside=True), [], True
        if problems:
            errors.append(InvalidInput(problems))
        return None, errors, False
    return (None if errors else item), errors, False


def keys(item) -> list[str]:
    """The keys a record is known by: its id, and the tool's own id when it has one."""
    keys = [f"id:{item.id}"]
    if item.external_id:
        keys.append(f"ext:{item.external_id}")
    return keys


def preview(accepted: list[tuple[int, Any]], stored: set[str]) -> pd.DataFrame:
    """One line per accepted record: what would be (or was) imported, and what is already stored."""
    rows = []
    for row, item in accepted:
        data = {"row": row, "id": str(item.id), "lon": item.lon, "lat": item.lat, "area_id": item.area_id,
                "stored": bool(set(keys(item)) & stored)}
        if isinstance(item, Observation):
            data |= {"category": item.category, "severity": item.severity, "observed_at": item.observed_at,
                     "walk_id": item.walk_id and str(item.walk_id)}
        else:
            data |= {"type": item.type, "reported_at": item.reported_at, "source": item.source}
        rows.append(data)
    return pd.DataFrame(rows)


def walks_in_file(source: readers.Source, chosen: Mapping, report: ImportReport) -> list[Walk]:
    """The walks table of our own GeoPackage or Excel export, so its findings keep their walk."""
    table = source.tables.get("walks")
    if table is None:
        return []
    zone = ZoneInfo(chosen.timezone)
    out = []
    for i, row in enumerate(table.to_dict("records")):
        data = {k: v for k, v in row.items() if k in Walk.model_fields and not column_mapping.is_empty(v)}
        try:
            for key in ("area_ids", "organisations"):
                if isinstance(data.get(key), str):
                    data[key] = json.loads(data[key])
            if isinstance(data.get("organisations"), list):
                data["organisations"] = [_organisation(o) for o in data["organisations"]]
            for key in ("started_at", "ended_at", "created_at"):
                if key in data:
                    data[key] = parse_time(data[key], zone)
            out.append(Walk.parse(data))
        except (ValueError, InvalidInput) as exc:
            error = exc if isinstance(exc, InvalidInput) else DkeError("import.error.bad_walk", reason=str(exc))
            report.rejected.append(Rejection(i + (2 if source.unit == "row" else 1), "walk", [error]))
    return out


def _organisation(entry: Any) -> Any:
    """One of a walk's organisations as a file written before walks stored ids has it, {"name": label, "count": n}:
    the organisation whose id or label that is, else `andre` keeping the label. Any other entry as it is."""
    if not isinstance(entry, dict) or "organisation" in entry or not isinstance(entry.get("name"), str):
        return entry
    rest = {k: v for k, v in entry.items() if k != "name"}
    org_id = organisations.find(entry["name"])
    return {**rest, "organisation": org_id} if org_id else {**rest, "organisation": organisations.OTHER,
                                                             "label": entry["name"]}
