"""The import use cases: findings (field apps, QGIS, spreadsheets, our own export) and incident reports; and what
prepares an import: a mapping file drafted from a foreign file, and the XLSForm for offline walks.

A dry run and a real import make the same plan: the file is read (interop/readers.py), its records checked by its
column mapping and the model (interop/records.py, in columns with the model deciding every doubtful row); a record
that fails is listed with its row number and every reason. The real import refuses the whole file when any
record fails, and writes all of it in one transaction (in bulk: store.db.bulk_insert). Records already stored
(same id, the same tool id kept as `external_id`, or, without either, the same content) are skipped, so importing
the same file twice adds nothing.

An import never publishes and never speaks for someone else: every finding is unpublished and recorded by the
importing user (`created_by`); the file's own author is kept as `source_created_by`, for internal readers only.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

import pandas as pd

from dke_geo import geo
from dke_geo import photos as photo_files
from dke_geo.context import AppContext
from dke_geo.errors import NotFound
from dke_geo.interop import column_mapping, mapping_writer, readers, records, xlsform
from dke_geo.interop.records import ImportRefused, ImportReport, Progress
from dke_geo.model import IncidentReport, LocationSource, Observation
from dke_geo.roles import Actor, Permission, require
from dke_geo.store import incidents as incident_store
from dke_geo.store import observations as obs_store
from dke_geo.store import photos as photo_store
from dke_geo.store import walks as walk_store
from dke_geo.store.db import reading, transaction

if TYPE_CHECKING:
    from sqlalchemy import Connection

CHUNK = 100_000
"""Rows written per bulk insert (COPY or executemany) inside the import's one transaction."""

__all__ = ["CHUNK", "ImportRefused", "ImportReport", "draft_mapping", "import_findings", "import_reports",
           "write_form", "write_mapping"]


@dataclass(frozen=True)
class _Target:
    name: str
    model: type
    add_frame: Callable[[Connection, pd.DataFrame], int]
    stored_keys: Callable


_FINDINGS = _Target("observations", Observation, obs_store.add_frame, obs_store.stored_keys)
_REPORTS = _Target("incident_reports", IncidentReport, incident_store.add_frame, incident_store.stored_keys)
_NOT_STORED = ("row", "outside", "has_id", "position", "photo", "content_id")


def import_findings(ctx: AppContext, actor: Actor, path: Path, *, mapping: Path | None = None,
                    walk_id: UUID | str | None = None, dry_run: bool = False, allow_outside: bool = False,
                    layer: str | None = None, progress: Progress | None = None) -> ImportReport:
    """Import the findings in `path` (all or nothing), or with `dry_run` only report what would happen.

    `walk_id` puts every finding on that walk; `mapping` names a mapping file (else one is chosen by the
    file's columns); `layer` chooses the layer of a GeoPackage or the sheet of a workbook; `allow_outside` accepts
    points outside the municipality (never outside WGS84) and counts them in the report. Photos the file carries
    (ODK Central's zip) are stored with their findings. Raises ImportRefused (with the report) when any record is
    rejected and `dry_run` is false.

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
    base = {"location_source": LocationSource.IMPORT.value}
    overrides = {"created_by": actor.name, "updated_by": actor.name, "published": False, "deleted": False,
                 **({"walk_id": walk.id} if walk else {})}
    return _run(ctx, actor, _FINDINGS, Path(path), mapping, layer, base, overrides, dry_run, allow_outside, progress)


def import_reports(ctx: AppContext, actor: Actor, path: Path, *, mapping: Path | None = None, dry_run: bool = False,
                   allow_outside: bool = False, layer: str | None = None,
                   progress: Progress | None = None) -> ImportReport:
    """Import police or resident incident reports (date, type, point) from `path` into their own table,
    apart from walk findings; same rules as `import_findings`. Without a source column the file name is
    the source."""
    require(actor, Permission.IMPORT)
    base = {"source": Path(path).name}
    return _run(ctx, actor, _REPORTS, Path(path), mapping, layer, base, {}, dry_run, allow_outside, progress)


def _run(ctx: AppContext, actor: Actor, target: _Target, path: Path, mapping_path: Path | None, layer: str | None,
         base: dict, overrides: dict, dry_run: bool, allow_outside: bool, progress: Progress | None) -> ImportReport:
    for named in (path, mapping_path):
        if named is not None:
            ctx.refuse_database_file(named)
    source = readers.read(path, layer)
    chosen = column_mapping.choose(source, target.name, mapping_path, target.model.model_fields)
    report = ImportReport(file=path.name, target=target.name, mapping=chosen.name, columns={},
                          total=len(source.rows), layer=source.layer, notes=list(source.notes))
    with reading(ctx.engine) as conn:
        stored_walks = walk_store.ids(conn)
    checked = records.check(source, chosen, target.model, report, base, overrides, stored_walks, allow_outside,
                            progress)
    attachments = source.attachments
    del source  # the file's rows are checked: a million of them are not held through the write
    accepted = checked.accepted
    accepted["area_id"] = geo.assign_areas(accepted["lon"], accepted["lat"], ctx.areas())  # never from the file
    ids, externals = target.stored_keys(ctx.columns)
    stored = (accepted["id"].isin(ids) | accepted["external_id"].isin(externals)).to_numpy(dtype=bool)
    fresh = accepted.loc[~stored] if stored.any() else accepted  # a million new rows are not copied
    report.new, report.existing = len(fresh), int(stored.sum())
    report.new_walks = len([w for w in checked.walks if str(w.id) not in stored_walks])
    report.preview = records.preview(accepted, stored, target.model)
    with_photos = fresh.loc[fresh["photo"].notna()] if attachments is not None else fresh.iloc[:0]
    report.photos = len(with_photos)
    if dry_run:
        return report
    if report.rejected:
        raise ImportRefused(report)
    processed = _photos(attachments, with_photos)  # every photo checked before anything is written
    files = photo_files.PhotoFiles()
    try:
        photo_rows = [files.stage(UUID(obs_id), photo, actor.name) for obs_id, photo in processed]
        rows = fresh.drop(columns=list(_NOT_STORED))
        with transaction(ctx.engine) as conn:
            for walk in checked.walks:
                walk_store.add(conn, walk)
            added = sum(target.add_frame(conn, rows.iloc[start:start + CHUNK]) for start in range(0, len(rows), CHUNK))
            photo_store.add_many(conn, photo_rows)
            files.publish()
    except BaseException:
        files.discard()
        raise
    report.new, report.existing = added, len(accepted) - added
    report.imported = True
    if progress:
        progress(report.total, report.total)
    return report


def _photos(attachments: readers.Attachments | None, rows: pd.DataFrame
            ) -> list[tuple[str, photo_files.ProcessedPhoto]]:
    """The photos the file carries for these findings, decoded and checked (a damaged one is named)."""
    out = []
    for obs_id, name in zip(rows["id"], rows["photo"], strict=True):
        data = attachments.get(name)
        if data is not None:
            out.append((obs_id, photo_files.process(photo_files.Upload(str(name), data))))
    return out


def draft_mapping(ctx: AppContext, actor: Actor, path: Path, *, layer: str | None = None) -> mapping_writer.Draft:
    """A mapping for a foreign file, ready to edit: the columns found for each field, and every distinct value of
    its category column against our category ids (best guess; empty where none fits)."""
    require(actor, Permission.IMPORT)
    return mapping_writer.draft(readers.read(Path(path), layer), Path(path).name)


def write_mapping(ctx: AppContext, actor: Actor, path: Path, out: Path, *, layer: str | None = None,
                  categories: dict[str, str] | None = None) -> mapping_writer.Draft:
    """Write the drafted mapping of `path` to the TOML file `out` (category values as given in `categories`, else
    the best guesses), so that `import path --mapping out` imports it once the blanks are filled in."""
    draft = draft_mapping(ctx, actor, path, layer=layer)
    if categories is not None:
        draft = draft.with_categories(categories)
    mapping_writer.write(draft, Path(out))
    return draft


def write_form(ctx: AppContext, actor: Actor, out: Path, *, walk_id: UUID | str | None = None) -> Path:
    """Write the XLSForm for offline walks in ODK Collect or KoBoCollect to `out` (.xlsx), with the walk's id as
    the default of its walk question when `walk_id` is given."""
    require(actor, Permission.IMPORT)
    if walk_id is not None:
        with reading(ctx.engine) as conn:
            if walk_store.get(conn, walk_id) is None:
                raise NotFound(what=f"walk {walk_id}")
    return xlsform.write(Path(out), walk_id=str(walk_id) if walk_id else "")

