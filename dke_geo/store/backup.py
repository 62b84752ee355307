"""Backups: one archive holding a consistent copy of the database and the photo files it refers to; and restoring
such an archive (`python -m dke_geo backup --out FILE`, `python -m dke_geo restore FILE`).

Consistent while tablets keep saving:
- SQLite: sqlite3's online backup API copies every page in one step inside one read transaction, so the copy is
  the database as of one moment (WAL: readers do not block writers, so nobody waits for the backup).
- PostgreSQL + PostGIS: `pg_dump --format=custom`, which also reads one snapshot. Without pg_dump on the PATH,
  `backup` refuses with the commands to run by hand (`pg_guidance`).
- Photos are copied after the database. A photo row is committed only once its files are in place
  (photos.PhotoFiles renames them inside the transaction) and files are never deleted, so every file the copy
  refers to exists; files of later saves are left out, because only referenced files are copied.

The archive is a zip: `manifest.json` (format, time, database kind, schema revision, row counts), `database.sqlite`
or `database.pgdump`, and `photos/...` under the paths the photos table stores. It is written under a temporary
name and renamed at the end, so an interrupted backup never looks complete; it is readable by its owner only (0600),
and restored files are too (private_files).

Restoring refuses to overwrite a database that holds data (walks, findings, fixes, users ...) unless `force`;
it checks the copy (SQLite integrity check), replaces the database in one step, brings the schema up to the newest
migration, and puts the photo files back under the data folder.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from sqlalchemy import Engine, func, insert, select, text, update
from sqlalchemy.engine import make_url

from dke_geo import config, private_files
from dke_geo.errors import DkeError
from dke_geo.model import now
from dke_geo.store.db import migrate, reading, transaction
from dke_geo.store.tables import meta, metadata, photos

FORMAT = 1
DATA_TABLES = ("walks", "observations", "photos", "fixes", "fix_events", "publication_events", "incident_reports",
               "users")
"""Tables whose rows make a database "hold data" (the areas and the meta row are there after init-db)."""
_PHOTO_COLUMNS = ("full_path", "thumb_path", "original_path")


class BackupError(DkeError):
    """A backup or restore that cannot be done as asked; nothing was changed."""
    key = "reliability.backup_error"


@dataclass(frozen=True)
class Result:
    """What a backup wrote or a restore put back."""
    archive: Path
    database: str            # "sqlite" or "postgresql"
    counts: dict[str, int]   # rows per table in DATA_TABLES
    photo_files: int
    created_at: str


def backup(engine: Engine, out: Path) -> Result:
    """Write a consistent backup of `engine`'s database and the photos it refers to into the zip `out`.

    Example (tests/test_backup.py runs it)::

        backup(ctx.engine, Path("dke-geo-2024-05-01.zip")).counts["observations"]
    """
    out = Path(out)
    private_files.make_folder(out.parent)
    kind = engine.dialect.name
    with tempfile.TemporaryDirectory(prefix="dke-backup-", dir=out.parent) as tmp:  # 0700
        if kind == "sqlite":
            dump = Path(tmp) / "database.sqlite"
            _sqlite_copy(_sqlite_path(engine), dump)
            counts, revision, files = _describe_sqlite(dump)
        else:
            dump = Path(tmp) / "database.pgdump"
            counts, revision, files = _pg_dump(engine, dump)
        missing = [name for name in files if not _photo_file(name).is_file()]
        if missing:
            raise BackupError("reliability.backup_missing_photos", n=len(missing), first=missing[0])
        manifest = {"format": FORMAT, "created_at": now().isoformat(timespec="seconds"), "database": kind,
                    "schema_revision": revision, "counts": counts, "photo_files": len(files)}
        partial = Path(tmp) / "backup.zip"
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
            archive.writestr("manifest.json", json.dumps(manifest, indent=1))
            archive.write(dump, dump.name)
            for name in files:  # JPEG/PNG/HEIC are compressed already: stored as they are
                archive.write(_photo_file(name), name, compress_type=zipfile.ZIP_STORED)
        partial.chmod(private_files.FILE_MODE)  # the whole database and the original photos: the owner's only
        os.replace(partial, out)
    return Result(out, kind, counts, len(files), manifest["created_at"])


def restore(engine: Engine, archive_path: Path, force: bool = False) -> Result:
    """Put the backup `archive_path` back into `engine`'s database and the data folder.

    Refuses (BackupError, nothing changed) a file that is not one of our backups, a backup of the other kind of
    database, a damaged copy, and a target database that holds data unless `force`.
    """
    with _open_archive(archive_path) as archive:
        manifest = _manifest(archive)
        kind = engine.dialect.name
        if manifest["database"] != kind:
            raise BackupError("reliability.restore_wrong_kind", backup=manifest["database"], target=kind)
        migrate(engine)    # a new, empty database can be restored into without init-db
        versions = _versions(engine)
        held = {table: n for table, n in _counts(engine).items() if n}
        if held and not force:
            raise BackupError("reliability.restore_not_empty",
                              counts=", ".join(f"{table} {n}" for table, n in held.items()))
        names = [n for n in archive.namelist() if n.startswith("photos/")]
        for name in names:
            _safe_photo_name(name)
        with tempfile.TemporaryDirectory(prefix="dke-restore-") as tmp:
            if kind == "sqlite":
                copy = Path(archive.extract("database.sqlite", tmp))
                _check_sqlite(copy)
                engine.dispose()   # our pooled connections must not outlive the database they were opened on
                _sqlite_copy(copy, _sqlite_path(engine))
            else:
                _pg_restore(engine, Path(archive.extract("database.pgdump", tmp)))
        migrate(engine)
        _move_versions_on(engine, versions)
        for name in names:
            _extract(archive, name, _photo_file(name))
    return Result(Path(archive_path), kind, _counts(engine), len(names), manifest["created_at"])


_VERSIONS = ("data_version", "areas_version")
"""The counters that caches key on (context.py): each must only ever grow, a restore included."""


def _versions(engine: Engine) -> dict[str, int]:
    with reading(engine) as conn:
        return dict(conn.execute(select(meta.c.key, meta.c.value).where(meta.c.key.in_(_VERSIONS))).all())


def _move_versions_on(engine: Engine, before: dict[str, int]) -> None:
    """Set each version counter above both its value before the restore and the backup's: a running app that
    cached data of a version must never see that version again with other data (the restored database would
    otherwise count up to it again)."""
    restored = _versions(engine)
    with transaction(engine) as conn:  # (whose own bump of data_version comes on top: still only upwards)
        for key in _VERSIONS:
            value = max(before.get(key, 0), restored.get(key, 0)) + 1
            if key in restored:
                conn.execute(update(meta).where(meta.c.key == key).values(value=value))
            else:
                conn.execute(insert(meta).values(key=key, value=value))


def pg_guidance(engine: Engine) -> str:
    """How to back up and restore a PostgreSQL + PostGIS database by hand (when pg_dump is not installed here)."""
    url = _libpq_url(engine)
    return (f"pg_dump was not found on this machine. Install the PostgreSQL client tools of the server's version "
            f"(Debian: apt-get install postgresql-client-15), or run on a machine that has them:\n"
            f"  backup:  pg_dump --format=custom --no-owner --file=dke-geo.pgdump '{url}'\n"
            f"           and copy the photos folder: {config.data_dir() / 'photos'}\n"
            f"  restore: pg_restore --clean --if-exists --no-owner --single-transaction --exit-on-error "
            f"--dbname='{url}' dke-geo.pgdump\n"
            f"           then put the photos folder back and run: python -m dke_geo init-db\n"
            f"The password, if any, goes in PGPASSWORD or ~/.pgpass, never on the command line.")


# ---------------------------------------------------------------- SQLite
def _sqlite_path(engine: Engine) -> Path:
    path = engine.url.database
    if not path or path == ":memory:":
        raise BackupError("reliability.backup_memory")
    return Path(path)


def _sqlite_copy(source: Path, target: Path) -> None:
    """Copy the database `source` into `target` (made 0600 if new) with the online backup API, in one step (one
    snapshot)."""
    private_files.make_folder(target.parent)
    private_files.create_empty(target)
    src = sqlite3.connect(source, timeout=60)
    dst = sqlite3.connect(target, timeout=60)
    try:
        src.backup(dst, pages=-1)
    finally:
        dst.close()
        src.close()


def _check_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    try:
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise BackupError("reliability.restore_damaged", reason=str(exc)) from None
    finally:
        conn.close()
    if result != "ok":
        raise BackupError("reliability.restore_damaged", reason=result)


def _describe_sqlite(path: Path) -> tuple[dict[str, int], str, list[str]]:
    """Counts, schema revision and photo files of a copied SQLite database (read from the copy itself)."""
    conn = sqlite3.connect(path)
    try:
        counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in DATA_TABLES}
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        rows = conn.execute(f"SELECT {', '.join(_PHOTO_COLUMNS)} FROM photos").fetchall()
    finally:
        conn.close()
    return counts, revision, _photo_names(rows)


# ---------------------------------------------------------------- PostgreSQL
def _libpq_url(engine: Engine) -> str:
    """The database URL as libpq tools take it, without the password."""
    return make_url(engine.url).set(drivername="postgresql", password=None).render_as_string(hide_password=False)


def _pg_env(engine: Engine) -> dict:
    env = dict(os.environ)
    if engine.url.password:
        env["PGPASSWORD"] = engine.url.password
    return env


def _pg_tool(name: str, engine: Engine) -> str:
    tool = shutil.which(name)
    if tool is None:
        raise BackupError("reliability.backup_no_pg_dump", guidance=pg_guidance(engine))
    return tool


def _pg_dump(engine: Engine, out: Path) -> tuple[dict[str, int], str, list[str]]:
    """pg_dump into `out`, and the counts, schema revision and photo files of exactly what it dumped: pg_dump reads
    the snapshot exported by the transaction we read them in."""
    tool = _pg_tool("pg_dump", engine)
    with reading(engine) as conn:
        conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            counts = {t: conn.execute(select(func.count()).select_from(metadata.tables[t])).scalar_one()
                      for t in DATA_TABLES}
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
            rows = conn.execute(select(*[photos.c[c] for c in _PHOTO_COLUMNS])).all()
            done = subprocess.run([tool, "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
                                   f"--file={out}", _libpq_url(engine)], capture_output=True, text=True,
                                  env=_pg_env(engine))
    if done.returncode:
        raise BackupError("reliability.backup_pg_failed", tool="pg_dump", reason=done.stderr.strip()[-2000:])
    return counts, revision, _photo_names(rows)


def _pg_restore(engine: Engine, dump: Path) -> None:
    """Replace the database's objects with the dump's, all or nothing (one transaction)."""
    engine.dispose()
    done = subprocess.run([_pg_tool("pg_restore", engine), "--clean", "--if-exists", "--no-owner", "--no-privileges",
                           "--single-transaction", "--exit-on-error", f"--dbname={_libpq_url(engine)}", str(dump)],
                          capture_output=True, text=True, env=_pg_env(engine))
    if done.returncode:
        raise BackupError("reliability.backup_pg_failed", tool="pg_restore", reason=done.stderr.strip()[-2000:])


# ---------------------------------------------------------------- both
def _counts(engine: Engine) -> dict[str, int]:
    with reading(engine) as conn:
        return {t: conn.execute(select(func.count()).select_from(metadata.tables[t])).scalar_one()
                for t in DATA_TABLES}


def _photo_names(rows) -> list[str]:
    """The archive names of the photo files the rows refer to: their stored paths, relative to the data folder."""
    return sorted({_safe_photo_name(p) for row in rows for p in row if p})


def _safe_photo_name(name: str) -> str:
    """A stored photo path or archive member, refused unless it is a plain path under photos/ (no absolute path,
    no '..'), so neither a backup nor a restore can reach outside the data folder."""
    parts = PurePosixPath(name).parts
    if name.startswith("/") or "\\" in name or len(parts) < 2 or parts[0] != "photos" or ".." in parts:
        raise BackupError("reliability.backup_bad_path", path=name)
    return name


def _photo_file(name: str) -> Path:
    return config.data_dir() / name


def _extract(archive: zipfile.ZipFile, name: str, target: Path) -> None:
    """One photo file back into place, written under a temporary name and renamed (never half a file)."""
    private_files.make_folder(target.parent)
    temp = target.with_name(f".{target.name}.restore.tmp")
    with archive.open(name) as src, private_files.open_private(temp, exclusive=False) as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    os.replace(temp, target)


def _open_archive(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BackupError("reliability.restore_not_backup", name=Path(path).name, reason=str(exc)) from None


def _manifest(archive: zipfile.ZipFile) -> dict:
    try:
        manifest = json.loads(archive.read("manifest.json"))
        datetime.fromisoformat(manifest["created_at"])
        ok = manifest["format"] == FORMAT and manifest["database"] in ("sqlite", "postgresql")
        dump = "database.sqlite" if manifest["database"] == "sqlite" else "database.pgdump"
    except (KeyError, ValueError, TypeError) as exc:
        raise BackupError("reliability.restore_not_backup", name=archive.filename, reason=repr(exc)) from None
    if not ok or dump not in archive.namelist():
        raise BackupError("reliability.restore_not_backup", name=archive.filename, reason=f"format {manifest}")
    return manifest
