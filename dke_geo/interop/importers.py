"""Import of findings (field apps, QGIS, spreadsheets, our own export) and of incident reports.

A dry run and a real import make the same plan: every record is converted by its mapping (mapping.py)
and validated by the model (`Observation.parse`, `IncidentReport.parse`: the one validator); a record
that fails is listed with its row number and every reason. The real import refuses the whole file when
any record fails, and writes all of it in one transaction. Records already stored (same id, or the same
tool id kept as `external_id`) are skipped, so importing the same file twice adds nothing.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Connection, Engine, select

from dke_geo import geo, organisations
from dke_geo.errors import DkeError, InvalidInput, NotFound
from dke_geo.i18n import t
from dke_geo.interop import mapping as mapping_mod
from dke_geo.interop import readers
from dke_geo.interop.mapping import Converter, Mapping, parse_time
from dke_geo.model import IncidentReport, LocationSource, Observation, Walk
from dke_geo.roles import Actor, Permission, require
from dke_geo.services import areas as area_service
from dke_geo.store import incidents as incident_store
from dke_geo.store import observations as obs_store
from dke_geo.store import walks as walk_store
from dke_geo.store.db import reading, transaction
from dke_geo.store.tables import incident_reports, observations, walks

Progress = Callable[[int, int], None]
"""Called as progress(done, total) while records are checked and written (for a progress bar)."""
CHUNK = 1000


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


@dataclass(frozen=True)
class _Target:
    name: str
    model: type
    table: Any
    add_many: Callable[[Connection, Iterable], int]


_FINDINGS = _Target("observations", Observation, observations, obs_store.add_many)
_REPORTS = _Target("incident_reports", IncidentReport, incident_reports, incident_store.add_many)


def import_findings(engine: Engine, actor: Actor, path: Path, *, mapping: Path | None = None,
                    walk_id: UUID | str | None = None, dry_run: bool = False, allow_outside: bool = False,
                    progress: Progress | None = None) -> ImportReport:
    """Import the findings in `path` (all or nothing), or with `dry_run` only report what would happen.

    `walk_id` puts every finding on that walk; `mapping` names a mapping file (else one is chosen by the
    file's columns); `allow_outside` accepts points outside the municipality and counts them in the report.
    Raises ImportRefused (with the report) when any record is rejected and `dry_run` is false.

    >>> report = import_findings(engine, actor, Path("kobo.csv"), dry_run=True)  # doctest: +SKIP
    >>> [(r.row, r.reasons("en")) for r in report.rejected]  # doctest: +SKIP
    """
    require(actor, Permission.IMPORT)
    walk = None
    if walk_id is not None:
        with reading(engine) as conn:
            walk = walk_store.get(conn, walk_id)
        if walk is None:
            raise NotFound(what=f"walk {walk_id}")
    base = {"location_source": LocationSource.IMPORT.value, "created_by": actor.name, "updated_by": actor.name}
    overrides = {"walk_id": walk.id} if walk else {}
    return _run(engine, _FINDINGS, Path(path), mapping, base, overrides, dry_run, allow_outside, progress)


def import_reports(engine: Engine, actor: Actor, path: Path, *, mapping: Path | None = None, dry_run: bool = False,
                   allow_outside: bool = False, progress: Progress | None = None) -> ImportReport:
    """Import police or resident incident reports (date, type, point) from `path` into their own table,
    apart from walk findings; same rules as `import_findings`. Without a source column the file name is
    the source."""
    require(actor, Permission.IMPORT)
    base = {"source": Path(path).name}
    return _run(engine, _REPORTS, Path(path), mapping, base, {}, dry_run, allow_outside, progress)


def _run(engine: Engine, target: _Target, path: Path, mapping_path: Path | None, base: dict, overrides: dict,
         dry_run: bool, allow_outside: bool, progress: Progress | None) -> ImportReport:
    source = readers.read(path)
    chosen = mapping_mod.choose(source, target.name, mapping_path, target.model.model_fields)
    converter = Converter(source, chosen, target.model.model_fields)
    report = ImportReport(file=path.name, target=target.name, mapping=chosen.name, columns=converter.describe(),
                          total=len(source.rows))
    file_walks = _walks(source, chosen, report) if target is _FINDINGS else []
    with reading(engine) as conn:
        stored_walks = set(conn.execute(select(walks.c.id)).scalars())
    known_walks = stored_walks | {str(w.id) for w in file_walks}
    accepted: list[tuple[int, Any]] = []
    seen: dict[str, int] = {}
    step = max(1, report.total // 100)
    for i, record in enumerate(converter.records(base)):
        record.data.update(overrides)
        item, errors, outside = _validate(target, record, allow_outside)
        if item is not None:
            for key in _keys(item):
                if key in seen:
                    errors.append(DkeError(f"import.error.duplicate_{source.unit}", row=seen[key]))
                    break
            walk = getattr(item, "walk_id", None)
            if walk is not None and str(walk) not in known_walks:
                errors.append(DkeError("import.error.unknown_walk", walk=str(walk)))
        if errors:
            report.rejected.append(Rejection(record.row, source.unit, errors))
        else:
            seen.update(dict.fromkeys(_keys(item), record.row))
            report.outside += outside
            accepted.append((record.row, item))
        if progress and (i + 1) % step == 0:
            progress(i + 1, report.total)
    items = [item for _row, item in accepted]
    _assign_areas(engine, items)
    with reading(engine) as conn:
        stored = _stored_keys(conn, target, items)
    fresh = [item for item in items if not (set(_keys(item)) & stored)]
    report.new, report.existing = len(fresh), len(items) - len(fresh)
    report.new_walks = len([w for w in file_walks if str(w.id) not in stored_walks])
    report.preview = _preview(accepted, stored)
    if dry_run:
        return report
    if report.rejected:
        raise ImportRefused(report)
    with transaction(engine) as conn:
        for walk in file_walks:
            walk_store.add(conn, walk)
        added = 0
        for start in range(0, len(fresh), CHUNK):
            added += target.add_many(conn, fresh[start:start + CHUNK])
    report.new, report.existing = added, len(items) - added
    report.imported = True
    if progress:
        progress(report.total, report.total)
    return report


def _validate(target: _Target, record, allow_outside: bool) -> tuple[Any, list[DkeError], bool]:
    """The model object for a record, or every reason it fails. A point outside the municipality is
    accepted only with `allow_outside`, and then counted (never silently)."""
    errors = list(record.errors)
    located = "lon" in record.data and "lat" in record.data
    try:
        item = target.model.parse(record.data)
    except InvalidInput as exc:
        # without a point the model would only repeat "longitude/latitude required": the reason is already given
        problems = [e for e in exc.errors if located or not (e["type"] == "missing" and e["loc"][0] in ("lon", "lat"))]
        if allow_outside and not errors and problems and all(e["type"] == "outside_municipality" for e in problems):
            return target.model.parse(record.data, allow_outside=True), [], True
        if problems:
            errors.append(InvalidInput(problems))
        return None, errors, False
    return (None if errors else item), errors, False


def _keys(item) -> list[str]:
    keys = [f"id:{item.id}"]
    if item.external_id:
        keys.append(f"ext:{item.external_id}")
    return keys


def _stored_keys(conn: Connection, target: _Target, items: list) -> set[str]:
    """Which of the items' ids and external ids are already in the database."""
    table = target.table
    found: set[str] = set()
    ids = [str(i.id) for i in items]
    externals = [i.external_id for i in items if i.external_id]
    for start in range(0, max(len(ids), len(externals)), 500):
        found |= {f"id:{v}" for v in conn.execute(select(table.c.id).where(table.c.id.in_(ids[start:start + 500])))
                  .scalars()}
        found |= {f"ext:{v}" for v in conn.execute(select(table.c.external_id)
                                                   .where(table.c.external_id.in_(externals[start:start + 500])))
                  .scalars()}
    return found


def _assign_areas(engine: Engine, items: list) -> None:
    """Each item's area, derived from its point (never taken from the file)."""
    if items:
        assigned = geo.assign_areas([i.lon for i in items], [i.lat for i in items], area_service.current(engine))
        for item, area_id in zip(items, assigned, strict=True):
            item.area_id = area_id


def _preview(accepted: list[tuple[int, Any]], stored: set[str]) -> pd.DataFrame:
    """One line per accepted record: what would be (or was) imported, and what is already stored."""
    rows = []
    for row, item in accepted:
        data = {"row": row, "id": str(item.id), "lon": item.lon, "lat": item.lat, "area_id": item.area_id,
                "stored": bool(set(_keys(item)) & stored)}
        if isinstance(item, Observation):
            data |= {"category": item.category, "severity": item.severity, "observed_at": item.observed_at,
                     "walk_id": item.walk_id and str(item.walk_id)}
        else:
            data |= {"type": item.type, "reported_at": item.reported_at, "source": item.source}
        rows.append(data)
    return pd.DataFrame(rows)


def _walks(source: readers.Source, chosen: Mapping, report: ImportReport) -> list[Walk]:
    """The walks table of our own GeoPackage or Excel export, so its findings keep their walk."""
    table = source.tables.get("walks")
    if table is None:
        return []
    zone = ZoneInfo(chosen.timezone)
    out = []
    for i, row in enumerate(table.to_dict("records")):
        data = {k: v for k, v in row.items() if k in Walk.model_fields and not mapping_mod.is_empty(v)}
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
