"""A file a user names is never the database: imports, area outlines, exports, reports, backups and restores refuse
the SQLite file and its companions (-wal, -shm, -journal), by any link, before anything opens them
(AppContext.refuse_database_file).

Why: GDAL (pyogrio) carries its own SQLite and opens any SQLite file as a GeoPackage. Had it opened the database
inside a process that holds it (the app, or the CLI with its engine), its close would drop that process's POSIX
locks, and another process could then delete the log the app still writes into (tests/e2e/test_side_by_side.py);
a write to the file would destroy it. So each test checks that this process still holds its lock on the database
afterwards, and that nothing was changed.
"""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dke_geo.errors import DatabaseFileRefused
from dke_geo.roles import SYSTEM
from dke_geo.services import areas, exports, imports, maintenance
from dke_geo.store.db import reading
from dke_geo.store.tables import observations
from tests.conftest import ROOT, open_database, prepare_app_data
from tests.e2e.helpers import locked_inodes


@pytest.fixture
def held(tmp_path):
    """A context on a SQLite database that this process has open and locked, as the app does (a pooled
    connection that has read)."""
    ctx = open_database(f"sqlite:///{tmp_path / 'data' / 'dke_geo.sqlite'}")
    maintenance.load_synthetic(ctx, 1000)
    assert _count(ctx) == 1000 and _locked(ctx)
    yield ctx
    ctx.close()


def _count(ctx) -> int:
    with reading(ctx.engine) as conn:
        return conn.execute(select(func.count()).select_from(observations)).scalar_one()


def _locked(ctx) -> bool:
    return Path(ctx.engine.url.database).stat().st_ino in locked_inodes(os.getpid())


def _link(ctx, tmp_path: Path, name: str, kind: str, companion: str = "") -> Path:
    """A file named `name` that is the database (or a companion): a hard link, a symbolic link, or its own path."""
    database = Path(ctx.engine.url.database + companion)
    if kind == "itself":
        return database
    link = tmp_path / "elsewhere" / name
    link.parent.mkdir(exist_ok=True)
    if kind == "hard link":
        os.link(database, link)
    else:
        link.symlink_to(database)
    return link


@pytest.mark.parametrize("kind", ["hard link", "symbolic link"])
@pytest.mark.parametrize("name", ["observations.gpkg", "observations.geojson", "observations.csv"])
def test_an_import_of_the_database_is_refused_before_it_is_opened(held, tmp_path, kind, name):
    path = _link(held, tmp_path, name, kind)
    with pytest.raises(DatabaseFileRefused) as refused:
        imports.import_findings(held, SYSTEM, path)
    assert str(path) in refused.value.message("da") and "er selve databasen" in refused.value.message("da")
    assert "is the database itself" in refused.value.message("en")
    assert _locked(held) and _count(held) == 1000       # no other library opened and closed it


def test_a_mapping_file_that_is_the_log_is_refused(held, tmp_path):
    upload = tmp_path / "fund.csv"
    upload.write_text("lat,lon\n55.66,12.36\n", encoding="utf-8")
    with pytest.raises(DatabaseFileRefused):
        imports.import_reports(held, SYSTEM, upload, mapping=_link(held, tmp_path, "mapping.toml", "symbolic link",
                                                                  "-wal"))
    assert _locked(held)


def test_area_outlines_from_the_database_are_refused(held, tmp_path):
    with pytest.raises(DatabaseFileRefused):
        areas.replace_from_file(held, SYSTEM, _link(held, tmp_path, "omraader.gpkg", "hard link"), "navn")
    assert _locked(held)


@pytest.mark.parametrize("companion", ["", "-wal", "-shm", "-journal"])
def test_an_export_onto_the_database_or_its_files_is_refused(held, companion):
    target = Path(held.engine.url.database + companion)   # the journal does not exist in WAL mode: refused too
    existed = target.exists() and target.stat().st_size
    with pytest.raises(DatabaseFileRefused):
        exports.export(held, SYSTEM, "gpkg", target)
    assert (target.exists() and target.stat().st_size) == existed and _locked(held) and _count(held) == 1000


def test_a_backup_onto_the_database_or_a_restore_from_it_is_refused(held, tmp_path):
    with pytest.raises(DatabaseFileRefused):
        maintenance.backup(held, Path(held.engine.url.database))
    with pytest.raises(DatabaseFileRefused):
        maintenance.restore(held, _link(held, tmp_path, "backup.zip", "symbolic link"), force=True)
    assert _locked(held) and _count(held) == 1000


def test_other_files_pass(held, tmp_path):
    assert held.refuse_database_file(tmp_path / "export.gpkg") == tmp_path / "export.gpkg"
    copy = tmp_path / "copy.sqlite"
    sqlite3.connect(copy).close()
    assert held.refuse_database_file(copy) == copy


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> tuple[dict, Path]:
    """A data folder prepared by init-db and demo, and its database file."""
    folder = tmp_path_factory.mktemp("refused")
    return prepare_app_data(folder), folder / "dke_geo.sqlite"


@pytest.mark.parametrize("command", [["report", "--period", "2017H1", "--out", "{db}"], ["backup", "--out", "{db}"],
                                     ["export", "--format", "gpkg", "--out", "{db}"], ["import", "{db}"],
                                     ["restore", "{db}", "--force"]])
def test_the_command_line_refuses_the_database_and_changes_nothing(prepared, command):
    env, database = prepared
    size = database.stat().st_size
    done = subprocess.run([sys.executable, "-m", "dke_geo", *[a.format(db=database) for a in command]], cwd=ROOT,
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "er selve databasen" in done.stderr, done.stderr
    assert database.stat().st_size == size
    with sqlite3.connect(database) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT count(*) FROM observations").fetchone() == (300,)
