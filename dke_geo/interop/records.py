"""Checking the records of an import file: every record converted by its column mapping (column_mapping.py)
and validated by the model (`Observation.parse`, `IncidentReport.parse`: the one validator); a record that fails
is kept with its row number and every reason. Format code only: what is stored already, and the writing, are
the import use case's (services/imports.py), which a dry run and a real import share.

The rows are checked in columns first (batch.py: the same conversions and rules over whole columns); only the rows
that cannot be vouched for that way go through the Converter and the model one by one, and those give every
rejection its reasons. Then, for all accepted rows alike: the identity of each finding (its own id, the field
app's id, or one derived from its content), duplicates within the file, and walks that are neither stored nor in
the file.
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from dke_geo import geo, organisations
from dke_geo.errors import DkeError, InvalidInput
from dke_geo.i18n import t
from dke_geo.interop import batch, column_mapping, readers
from dke_geo.interop.column_mapping import ID_NAMESPACE, Converter, Mapping, MappingError, parse_time
from dke_geo.model import IncidentReport, Observation, Walk

Progress = Callable[[int, int], None]
"""Called as progress(done, total) while records are checked and written (for a progress bar)."""

CONTENT_NAMESPACE = uuid.UUID("6a4be3f1-0d7c-4b61-9a43-3f0c1e2b9d55")
CONTENT_FIELDS = {Observation: ("observed_at", "category", "internal_note"), IncidentReport: ("reported_at", "type")}
"""What a record without any id is known by, besides its point (to the centimetre): the same finding in any file,
of any format, gets the same id, so importing it again adds nothing."""
MAX_LISTED = 12  # rows listed for a group of rejections with the same reasons; the rest are counted


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

    @property
    def kind(self) -> tuple:
        """What went wrong, without the values: rejections of the same kind are reported as one group."""
        parts: list = []
        for error in self.errors:
            if isinstance(error, InvalidInput):
                parts.extend((str(e["loc"][0]) if e["loc"] else "", e["type"]) for e in error.errors)
            else:
                parts.append(error.key)
        return (self.unit, *parts)


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
    photos: int = 0            # photos carried by the file for new findings: would be (dry run) or were stored
    imported: bool = False
    layer: str | None = None
    notes: list[DkeError] = field(default_factory=list)
    identity: dict[str, int] = field(default_factory=dict)   # how each record's identity was found: how many
    identity_column: str = ""
    preview: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def ok(self) -> bool:
        return not self.rejected

    def summary(self, lang: str = "da") -> list[str]:
        """What was found and what would be (or was) done, as text lines."""
        key = "import.report.done" if self.imported else "import.report.checked"
        out = [t(key, lang, file=self.file, mapping=self.mapping, total=self.total, new=self.new,
                 existing=self.existing, rejected=len(self.rejected))]
        out += [note.message(lang) for note in self.notes]
        out.append(t("import.report.columns", lang,
                     columns=", ".join(f"{k} <- {v}" for k, v in self.columns.items())))
        if self.identity:
            out.append(t("import.report.identity", lang, how="; ".join(
                t(f"import.identity.{how}", lang, n=n, column=self.identity_column)
                for how, n in self.identity.items() if n)))
        if self.new_walks:
            out.append(t("import.report.walks", lang, n=self.new_walks))
        if self.photos:
            out.append(t("import.report.photos", lang, n=self.photos))
        if self.outside:
            out.append(t("import.report.outside", lang, n=self.outside))
        return out

    def groups(self) -> list[list[Rejection]]:
        """The rejections grouped by what went wrong, in the order of their first row."""
        grouped: dict[tuple, list[Rejection]] = {}
        for rejection in self.rejected:
            grouped.setdefault(rejection.kind, []).append(rejection)
        return list(grouped.values())

    def lines(self, lang: str = "da") -> list[str]:
        """The summary and then the rejected records (the command line prints these): a reason that recurs is
        written once, with how many rows and which ("300 rows: ...; rows 2-301")."""
        out = self.summary(lang)
        for group in self.groups():
            first = group[0]
            reasons = " ".join(first.reasons(lang))
            if len(group) == 1:
                out.append(f"  {t(f'import.unit.{first.unit}', lang, n=first.row)}: {reasons}")
            else:
                out.append("  " + t("import.report.group", lang, n=len(group), unit=t(f"import.units.{first.unit}",
                                                                                        lang),
                                    example=t(f"import.unit.{first.unit}", lang, n=first.row), reasons=reasons,
                                    rows=spans([r.row for r in group], lang)))
        return out


def spans(rows: list[int], lang: str = "da") -> str:
    """Row numbers as ranges: [2, 3, 4, 7] -> "2-4, 7"; after MAX_LISTED ranges, how many more.

    >>> spans([2, 3, 4, 7, 9, 10])
    '2-4, 7, 9-10'
    """
    ranges: list[str] = []
    start = previous = rows[0]
    for row in [*rows[1:], None]:
        if row is not None and row == previous + 1:
            previous = row
            continue
        ranges.append(str(start) if start == previous else f"{start}-{previous}")
        if row is not None:
            start = previous = row
    shown = ", ".join(ranges[:MAX_LISTED])
    return shown + (t("import.report.more", lang, n=len(ranges) - MAX_LISTED) if len(ranges) > MAX_LISTED else "")


class ImportRefused(DkeError):
    """The real import of a file with rejected records: nothing was written."""
    key = "import.error.refused"

    def __init__(self, report: ImportReport):
        self.report = report
        super().__init__(n=len(report.rejected), total=report.total)


@dataclass
class Checked:
    """The accepted records of a file in file order, one row each with the model's values (UUIDs as text, enums
    as their values; `row` the number in the file, `outside` whether it lies outside the municipality, `photo`
    the attachment it names), and the walks the file carries."""
    accepted: pd.DataFrame
    walks: list[Walk]


def check(source: readers.Source, chosen: Mapping, model: type, report: ImportReport, base: dict, overrides: dict,
          known_walks: set[str], allow_outside: bool, progress: Progress | None = None, *,
          in_columns: bool = True) -> Checked:
    """Convert and validate every record of `source`; rejected ones go into `report` with their reasons, as do
    duplicates within the file and findings on a walk neither stored (`known_walks`) nor in the file.

    `in_columns=False` checks every row one by one (the reference the columnar check is tested against)."""
    converter = Converter(source, chosen, model.model_fields)
    if not converter.located:
        raise MappingError("import.error.no_location_columns", mapping=chosen.name,
                           columns=", ".join(source.columns) or "-")
    report.columns = converter.describe()
    file_walks = walks_in_file(source, chosen, report) if model is Observation else []
    known_walks = known_walks | {str(w.id) for w in file_walks}
    total = len(source.rows)
    if in_columns:
        vouched = batch.check(converter, model, base, overrides, allow_outside)
    else:
        vouched = batch.Columns(pd.DataFrame(), np.arange(total), np.zeros(0, dtype=bool))
    if progress:
        progress(total - len(vouched.rest), total)
    parts = [_vouched_rows(vouched, converter)] if len(vouched.values) else []
    rejected: list[Rejection] = []
    step = max(1, len(vouched.rest) // 50)
    for i, record in enumerate(converter.records(base, vouched.rest)):
        record.data.update(overrides)
        item, errors, outside = _validate(model, record, allow_outside)
        if errors:
            rejected.append(Rejection(record.row, source.unit, errors))
        else:
            parts.append(_item_row(item, record, converter, outside))
        if progress and (i + 1) % step == 0:
            progress(total - len(vouched.rest) + i + 1, total)
    # each step below keeps the frame it is given when it has nothing to change: a million rows are not copied
    accepted = (parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)) if parts else _item_frame(model)
    if not accepted["row"].is_monotonic_increasing:
        accepted = accepted.sort_values("row", kind="stable").reset_index(drop=True)
    accepted = _identify(accepted, converter, model, report)
    accepted, refused = _file_checks(accepted, model, source.unit, known_walks)
    report.rejected = sorted(rejected + refused, key=lambda r: r.row)
    report.outside = int(accepted["outside"].sum())
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


# ---------------------------------------------------------------- accepted rows as one frame
def _vouched_rows(vouched: batch.Columns, converter: Converter) -> pd.DataFrame:
    frame = vouched.values.copy(deep=False)  # new columns, the same data (copy on write)
    positions = frame.index.to_numpy()
    frame.insert(0, "row", converter.source.row_numbers[positions])
    frame["outside"] = vouched.outside
    frame["has_id"] = frame["id"].notna().to_numpy()
    frame["position"] = positions
    frame["photo"] = _photos(converter, positions)
    return frame.reset_index(drop=True)


def _item_row(item, record, converter: Converter, outside: bool) -> pd.DataFrame:
    data = item.model_dump(mode="python", exclude={"photos"})
    for name, value in data.items():
        if isinstance(value, uuid.UUID):
            data[name] = str(value)
        elif hasattr(value, "value"):
            data[name] = value.value
    position = record.position
    data |= {"row": record.row, "outside": outside, "has_id": "id" in record.data, "position": position,
             "photo": _photos(converter, np.array([position]))[0]}
    return pd.DataFrame([data])


def _item_frame(model: type) -> pd.DataFrame:
    names = [n for n in model.model_fields if n != "photos"] + (["light_condition"] if model is Observation else [])
    return pd.DataFrame(columns=["row", *names, "outside", "has_id", "position", "photo"])


def _photos(converter: Converter, positions: np.ndarray) -> list:
    """The attachment file each row names (ODK Central's zip carries them), else None."""
    if converter.photo is None or converter.source.attachments is None:
        return [None] * len(positions)
    cells = converter.source.rows[converter.photo].to_numpy(dtype=object)[positions]
    return [None if column_mapping.is_empty(c) else str(c).strip() for c in cells]


# ---------------------------------------------------------------- identity, duplicates, walks
def _identify(accepted: pd.DataFrame, converter: Converter, model: type, report: ImportReport) -> pd.DataFrame:
    """Each record's id: its own (our export), else derived from the field app's id (kept as external_id), else
    from its content (point to the centimetre, time as given, and CONTENT_FIELDS), so that the same record
    imported again, from this file or another export of it, is recognised. The report says how many of each."""
    if not len(accepted):
        return accepted.assign(content_id=pd.Series(dtype=bool))
    own = accepted["has_id"].to_numpy(dtype=bool)
    external = ~own & accepted["external_id"].notna().to_numpy()
    content = ~own & ~external
    if external.any() or content.any():
        ids = accepted["id"].astype(object).to_numpy().copy()
        ids[external] = [str(uuid.uuid5(ID_NAMESPACE, str(e))) for e in accepted.loc[external, "external_id"]]
        if content.any():
            ids[content] = content_ids(accepted.loc[content], converter, model)
        accepted["id"] = ids
    report.identity = {"own": int(own.sum()), "external": int(external.sum()), "content": int(content.sum())}
    report.identity_column = converter.columns.get("external_id", "")
    accepted["content_id"] = content
    return accepted


def content_ids(rows: pd.DataFrame, converter: Converter, model: type) -> list[str]:
    """Ids from what a record says: its point (EPSG:25832, to the centimetre), its time when the file gives one,
    and CONTENT_FIELDS, whatever file or format it comes in."""
    x, y = geo.to_metric(rows["lon"].to_numpy(dtype=float), rows["lat"].to_numpy(dtype=float))
    when, *others = CONTENT_FIELDS[model]
    column = converter.columns.get(when)
    given = (~converter.source.rows[column].map(column_mapping.is_empty).to_numpy(dtype=bool)[rows["position"]]
             if column else np.zeros(len(rows), dtype=bool))
    times = pd.to_datetime(rows[when], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%S.%f").to_numpy(dtype=object)
    times[~given] = ""
    parts = [np.char.mod("%.2f", np.round(x, 2)), np.char.mod("%.2f", np.round(y, 2)), times,
             *[rows[name].fillna("").astype(str).to_numpy(dtype=object) for name in others]]
    return [str(uuid.uuid5(CONTENT_NAMESPACE, "\x1f".join(map(str, key)))) for key in zip(*parts, strict=True)]


def _file_checks(accepted: pd.DataFrame, model: type, unit: str, known_walks: set[str]
                 ) -> tuple[pd.DataFrame, list[Rejection]]:
    """Records that are duplicates of an earlier one in the file (same id, or same tool id), or on a walk that is
    neither stored nor in the file, are rejected; as row by row, a rejected record does not make later ones
    duplicates."""
    if not len(accepted):
        return accepted, []
    ids, external = accepted["id"], accepted["external_id"]
    walks = accepted["walk_id"] if model is Observation else pd.Series([None] * len(accepted))
    unknown = (walks.notna() & ~walks.astype(object).isin(known_walks)).to_numpy(dtype=bool)
    collide = (ids.duplicated(keep=False) | (external.notna() & external.duplicated(keep=False))).to_numpy(dtype=bool)
    refused: dict[int, list[DkeError]] = {}
    seen: dict[str, int] = {}
    rows = accepted["row"].to_numpy()
    for i in np.flatnonzero(collide | unknown):
        errors: list[DkeError] = []
        keys = [f"id:{ids.iat[i]}"] + ([f"ext:{external.iat[i]}"] if external.iat[i] is not None
                                      and not pd.isna(external.iat[i]) else [])
        for key in keys if collide[i] else []:
            if key in seen:
                how = "content" if accepted["content_id"].iat[i] else "id"
                errors.append(DkeError(f"import.error.duplicate_{how}_{unit}", row=seen[key]))
                break
        if unknown[i]:
            errors.append(DkeError("import.error.unknown_walk", walk=str(walks.iat[i])))
        if errors:
            refused[i] = errors
        elif collide[i]:
            seen.update(dict.fromkeys(keys, int(rows[i])))
    if not refused:
        return accepted, []
    keep = np.ones(len(accepted), dtype=bool)
    keep[list(refused)] = False
    return (accepted.loc[keep].reset_index(drop=True),
            [Rejection(int(rows[i]), unit, errors) for i, errors in refused.items()])


def preview(accepted: pd.DataFrame, stored: np.ndarray, model: type) -> pd.DataFrame:
    """One line per accepted record: what would be (or was) imported, and what is already stored."""
    columns = ["row", "id", "lon", "lat", "area_id"] + (
        ["category", "severity", "observed_at", "walk_id"] if model is Observation else ["type", "reported_at",
                                                                                         "source"])
    out = accepted.reindex(columns=columns).copy()
    out["stored"] = stored
    return out


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
