"""The import use cases: findings (field apps, QGIS, spreadsheets, our own export) and incident reports.

A dry run and a real import make the same plan: the file is read (interop/readers.py), each record checked by
its column mapping and the model (interop/records.py); a record that fails is listed with its row number and
every reason. The real import refuses the whole file when any record fails, and writes all of it in one
transaction. Records already stored (same id, or the same tool id kept as `external_id`) are skipped, so
importing the same file twice adds nothing.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

from dke_geo import geo
from dke_geo.context import AppContext
from dke_geo.errors import NotFound
from dke_geo.interop import column_mapping, readers, records
from dke_geo.interop.records import ImportRefused, ImportReport, Progress
from dke_geo.model import IncidentReport, LocationSource, Observation
from dke_geo.roles import Actor, Permission, require
from dke_geo.store import incidents as incident_store
from dke_geo.store import observations as obs_store
from dke_geo.store import walks as walk_store
from dke_geo.store.db import reading, transaction

if TYPE_CHECKING:
    from sqlalchemy import Connection

CHUNK = 1000

__all__ = ["CHUNK", "ImportRefused", "ImportReport", "import_findings", "import_reports"]


@dataclass(frozen=True)
class _Target:
    name: str
    model: type
    add_many: Callable[[Connection, Iterable], int]
    existing_keys: Callable[[Connection, list[str], list[str]], tuple[set[str], set[str]]]


_FINDINGS = _Target("observations", Observation, obs_store.add_many, obs_store.existing_keys)
_REPORTS = _Target("incident_reports", IncidentReport, incident_store.add_many, incident_store.existing_keys)


def import_findings(ctx: AppContext, actor: Actor, path: Path, *, mapping: Path | None = None,
                    walk_id: UUID | str | None = None, dry_run: bool = False, allow_outside: bool = False,
                    progress: Progress | None = None) -> ImportReport:
    """Import the findings in `path` (all or nothing), or with `dry_run` only report what would happen.

    `walk_id` puts every finding on that walk; `mapping` names a mapping file (else one is chosen by the
    file's columns); `allow_outside` accepts points outside the municipality and counts them in the report.
    Raises ImportRefused (with the report) when any record is rejected and `dry_run` is false.

    Example (with a database; tests/test_import.py runs it)::

        report = import_findings(ctx, actor, Path("kobo.csv"), dry_run=True)
        [(r.row, r.reasons("en")) for r in report.rejected]  # every refused row with its reasons
    """
    require(actor, Permission.IMPORT)
    walk = None
    if walk_id is not None:
        with reading(ctx.engine) as conn:
            walk = walk_store.get(conn, walk_id)
        if walk is None:
            raise NotFound(what=f"walk {walk_id}")
    base = {"location_source": LocationSource.IMPORT.value, "created_by": actor.name, "updated_by": actor.name}
    overrides = {"walk_id": walk.id} if walk else {}
    return _run(ctx, _FINDINGS, Path(path), mapping, base, overrides, dry_run, allow_outside, progress)


def import_reports(ctx: AppContext, actor: Actor, path: Path, *, mapping: Path | None = None, dry_run: bool = False,
                   allow_outside: bool = False, progress: Progress | None = None) -> ImportReport:
    """Import police or resident incident reports (date, type, point) from `path` into their own table,
    apart from walk findings; same rules as `import_findings`. Without a source column the file name is
    the source."""
    require(actor, Permission.IMPORT)
    base = {"source": Path(path).name}
    return _run(ctx, _REPORTS, Path(path), mapping, base, {}, dry_run, allow_outside, progress)


def _run(ctx: AppContext, target: _Target, path: Path, mapping_path: Path | None, base: dict, overrides: dict,
         dry_run: bool, allow_outside: bool, progress: Progress | None) -> ImportReport:
    for named in (path, mapping_path):
        if named is not None:
            ctx.refuse_database_file(named)
    source = readers.read(path)
    chosen = column_mapping.choose(source, target.name, mapping_path, target.model.model_fields)
    report = ImportReport(file=path.name, target=target.name, mapping=chosen.name, columns={},
                          total=len(source.rows))
    with reading(ctx.engine) as conn:
        stored_walks = walk_store.ids(conn)
    checked = records.check(source, chosen, target.model, report, base, overrides, stored_walks, allow_outside,
                            progress)
    items = [item for _row, item in checked.accepted]
    if items:  # each item's area is derived from its point, never taken from the file
        for item, area_id in zip(items, geo.assign_areas([i.lon for i in items], [i.lat for i in items],
                                                         ctx.areas()), strict=True):
            item.area_id = area_id
    with reading(ctx.engine) as conn:
        ids, externals = target.existing_keys(conn, [str(i.id) for i in items],
                                              [i.external_id for i in items if i.external_id])
    stored = {f"id:{v}" for v in ids} | {f"ext:{v}" for v in externals}
    fresh = [item for item in items if not (set(records.keys(item)) & stored)]
    report.new, report.existing = len(fresh), len(items) - len(fresh)
    report.new_walks = len([w for w in checked.walks if str(w.id) not in stored_walks])
    report.preview = records.preview(checked.accepted, stored)
    if dry_run:
        return report
    if report.rejected:
        raise ImportRefused(report)
    with transaction(ctx.engine) as conn:
        for walk in checked.walks:
            walk_store.add(conn, walk)
        added = 0
        for start in range(0, len(fresh), CHUNK):
            added += target.add_many(conn, fresh[start:start + CHUNK])
    report.new, report.existing = added, len(items) - added
    report.imported = True
    if progress:
        progress(report.total, report.total)
    return report
