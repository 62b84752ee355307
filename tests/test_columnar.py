"""Whole-column reads (store.columnar) on a real SQLite file and a real PostGIS: the same rows and values as
SQLAlchemy reads them, typed by the table, whatever order NULLs and values come in. On SQLite through the worker
process (store/column_worker.py), which must survive what a running app meets: a worker killed, six sessions
reading at once, a locked or vanished database file, and the app itself killed."""
import os
import signal
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from dke_geo import fixtures
from dke_geo.errors import DatabaseBusy, DatabaseUnavailable
from dke_geo.store import columnar
from dke_geo.store import observations as obs_store
from dke_geo.store.db import bulk_insert, reading, transaction
from dke_geo.store.tables import observations
from tests.conftest import ROOT, open_database

COLUMNS = ("id", "walk_id", "lon", "lat", "area_id", "category", "severity", "perceived_safety", "observed_at",
           "deleted_at", "light_condition", "published", "is_demo")


def _load(engine, n: int, seed: int = 4) -> pd.DataFrame:
    """n synthetic findings, the first 1,500 without area, perceived safety or walk (the SQLite driver would
    otherwise type those columns from NULLs), and perceived safety set further on."""
    walk_frame = fixtures.synthetic_walks(10, seed)
    rows = fixtures.synthetic_observation_rows(n, seed, walk_frame)
    rows.loc[:1499, ["area_id", "walk_id"]] = None
    rows["perceived_safety"] = [None] * 1500 + [k % 5 + 1 for k in range(n - 1500)]
    rows.loc[n - 1, "is_demo"] = False
    with transaction(engine) as conn:
        bulk_insert(conn, "walks", walk_frame)
        bulk_insert(conn, "observations", rows)
    return rows


def test_frame_has_the_rows_and_values_sqlalchemy_reads(ctx):
    _load(ctx.engine, 4000)
    frame = obs_store.frame(ctx.columns, COLUMNS)
    with reading(ctx.engine) as conn:
        expected = pd.DataFrame([tuple(r) for r in conn.execute(select(*[observations.c[c] for c in COLUMNS]))],
                                columns=COLUMNS)
    assert len(frame) == 4000 and frame["id"].is_unique and set(frame["id"]) == set(expected["id"])
    frame, expected = frame.set_index("id").loc[expected["id"]], expected.set_index("id")
    assert frame["area_id"].isna().sum() == expected["area_id"].isna().sum() >= 1500
    assert frame["walk_id"].isna().sum() == 1500
    for column in ("lon", "lat", "severity", "category", "light_condition"):
        assert frame[column].tolist() == expected[column].tolist(), column
    assert frame["area_id"].fillna("-").tolist() == expected["area_id"].fillna("-").tolist()
    assert frame["perceived_safety"].fillna(0).astype(int).tolist() == expected["perceived_safety"].fillna(0).tolist()
    assert (frame["observed_at"] == pd.to_datetime(expected["observed_at"].tolist(), utc=True)).all()
    assert str(frame["observed_at"].dt.tz) == "Europe/Copenhagen" and frame["deleted_at"].isna().all()
    assert frame["is_demo"].dtype == bool and frame["is_demo"].sum() == 3999 and frame["published"].dtype == bool


def test_sqlite_reads_in_row_ranges_lose_and_repeat_nothing(tmp_path, monkeypatch):
    ctx = open_database(f"sqlite:///{tmp_path / 'ranges.sqlite'}")
    rows = _load(ctx.engine, 3001)
    monkeypatch.setattr(columnar, "SQLITE_READERS", 3)
    assert len(columnar._row_ranges(ctx.engine, select(observations.c.id))) == 3
    frame = obs_store.frame(ctx.columns, ("id", "area_id"))
    assert len(frame) == 3001 and sorted(frame["id"]) == sorted(rows["id"])
    ctx.close()


def test_an_empty_table_gives_an_empty_frame_with_the_columns(ctx):
    frame = obs_store.frame(ctx.columns, COLUMNS)
    assert frame.empty and list(frame.columns) == list(COLUMNS)


@pytest.mark.parametrize("column", ["area_id", "walk_id"])
def test_a_column_that_is_null_throughout_stays_missing(ctx, column):
    _load(ctx.engine, 1600)
    with transaction(ctx.engine) as conn:
        conn.execute(observations.update().values({column: None}))
    assert obs_store.frame(ctx.columns, ("id", column))[column].isna().all()


# ---------------------------------------------------------------- the SQLite worker (store/column_worker.py)
def _alive(pid: int) -> bool:
    """The process exists and is not a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _wait_until(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def sqlite_ctx(tmp_path):
    context = open_database(f"sqlite:///{tmp_path / 'dke_geo.sqlite'}")
    _load(context.engine, 3001)
    yield context
    context.close()


def test_a_worker_that_died_is_started_again(sqlite_ctx):
    first = obs_store.frame(sqlite_ctx.columns, ("id", "area_id"))
    pid = sqlite_ctx.columns.worker_pid()
    os.kill(pid, signal.SIGKILL)                      # killed between two reads (out of memory, an operator)
    _wait_until(lambda: not _alive(pid))
    again = obs_store.frame(sqlite_ctx.columns, ("id", "area_id"))
    assert sqlite_ctx.columns.worker_pid() not in (None, pid)
    assert sorted(again["id"]) == sorted(first["id"]) and len(again) == 3001


def test_sessions_reading_at_once_share_the_worker(sqlite_ctx):
    with ThreadPoolExecutor(6) as pool:               # six Streamlit sessions after a write, all reading cold
        frames = list(pool.map(lambda _: obs_store.frame(sqlite_ctx.columns, COLUMNS), range(6)))
    assert all(len(f) == 3001 and set(f["id"]) == set(frames[0]["id"]) for f in frames)
    assert all(f["observed_at"].equals(frames[0]["observed_at"]) for f in frames)


def test_a_locked_database_is_busy_and_reads_again_when_released(sqlite_ctx, monkeypatch):
    # The row ranges are planned on the app's own connection, which the lock would stop first: planned without
    # the database here, so that it is the worker that meets the lock.
    monkeypatch.setattr(columnar, "_row_ranges", lambda engine, query: [query])
    reader = columnar.ColumnReader(sqlite_ctx.engine, lock_wait_s=0.3)
    sqlite_ctx.engine.dispose()
    holder = sqlite3.connect(sqlite_ctx.engine.url.database, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")                 # a writer that holds the whole file
    try:
        with pytest.raises(DatabaseBusy):
            obs_store.frame(reader, ("id",))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert len(obs_store.frame(reader, ("id",))) == 3001
    reader.close()


def test_a_database_file_that_is_gone_is_unavailable_and_not_made(sqlite_ctx):
    path = Path(sqlite_ctx.engine.url.database)
    obs_store.frame(sqlite_ctx.columns, ("id",))
    path.rename(path.with_name("moved.sqlite"))       # the app still has it open; the worker opens it by name
    with pytest.raises(DatabaseUnavailable):
        obs_store.frame(sqlite_ctx.columns, ("id",))
    assert not path.exists()                          # read-only: an empty database is not made in its place


def test_the_worker_holds_one_sqlite_no_pandas_and_no_named_files(sqlite_ctx):
    frame = obs_store.frame(sqlite_ctx.columns, ("id", "category"))
    pid = sqlite_ctx.columns.worker_pid()
    mapped = {line.split(maxsplit=5)[5] for line in Path(f"/proc/{pid}/maps").read_text().splitlines()
              if len(line.split(maxsplit=5)) == 6}
    assert [Path(m).name for m in mapped if "sqlite" in Path(m).name.lower()] == ["libadbc_driver_sqlite.so"]
    assert not [m for m in mapped if "/pandas/" in m]  # ADBC's low-level API: no DB-API, no pandas
    opened = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd") if int(fd) > 2}
    assert [f for f in opened if not f.startswith("socket:")] == []  # between reads, beside the app's stdio: none
    ours = {line.split(maxsplit=5)[5] for line in Path("/proc/self/maps").read_text().splitlines()
            if "dke-columns" in line}
    assert ours == {"/memfd:dke-columns (deleted)"} and len(frame) == 3001   # the frame: anonymous memory


def test_the_worker_ends_with_the_app(tmp_path, sqlite_ctx):
    app = subprocess.Popen(
        [sys.executable, "-c", "import sys\nfrom dke_geo.context import AppContext\nfrom dke_geo import config\n"
         f"ctx = AppContext.open(config.load({{'DKE_GEO_DATABASE_URL': {sqlite_ctx.settings.database_url!r}}}))\n"
         "ctx.columns.start()\nprint(ctx.columns.worker_pid(), flush=True)\nsys.stdin.read()"],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    worker = int(app.stdout.readline())
    assert _alive(worker)
    app.kill()                                        # SIGKILL: no clean-up code runs in the app
    app.wait()
    _wait_until(lambda: not _alive(worker))

    sqlite_ctx.columns.start()
    worker = sqlite_ctx.columns.worker_pid()
    sqlite_ctx.columns.close()                        # and a context that is closed ends its worker at once
    assert sqlite_ctx.columns.worker_pid() is None and not _alive(worker)
