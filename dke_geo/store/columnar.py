"""Whole-column reads through ADBC (Arrow Database Connectivity), for frames of up to millions of rows.

The database driver fills Arrow arrays column by column, in C, instead of making one Python tuple and
object per row: a million findings arrive in about a quarter of the time (bench/RESULTS.md), which is
what keeps the Hotspots map under its cold-start target. Strings stay in Arrow memory (pandas' `str`
dtype), so no million Python strings are made either.

SQLite is read in another process (store/column_worker.py): ADBC's SQLite driver brings a second SQLite
library, and two SQLite libraries must never open the same file in one process (their POSIX locks would
break each other's). The worker reads row ranges at once on two threads and hands the table over as an Arrow
file in memory (tmpfs), mapped here without a copy. PostgreSQL is read in this process through libpq (no file
locks involved), in one go: its server is the limit.

Reads open their own short-lived connections (SQLite read-only), outside any SQLAlchemy transaction:
callers that cache by data version read the version first, so what they cache is never older than
its label.
"""
from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import uuid
from contextlib import closing
from pathlib import Path

import adbc_driver_manager
import adbc_driver_postgresql.dbapi
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.ipc
from sqlalchemy import Boolean, Engine, Float, Integer, Select, func, literal, literal_column, select

from dke_geo.errors import DatabaseUnavailable
from dke_geo.store.db import LOCK_WAIT_S, raise_clear_driver_error, reading
from dke_geo.store.types import TZ, UtcDateTime

_FIRST = "_typed_first_row"
SQLITE_READERS = max(1, min(4, os.cpu_count() or 1))
"""SQLite reads a large table in this many row ranges at once, one connection and thread each (the driver
releases the GIL): about 1.7 times faster on two cores."""


class ColumnReader:
    """Reads whole columns of one database (the app context has one). For SQLite it owns the worker process,
    started on first use (or by `start`) and ended by `close`; safe to share between threads."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._lock = threading.Lock()
        self._worker: subprocess.Popen | None = None
        self._folder: Path | None = None

    def start(self) -> None:
        """Start the SQLite worker now (it takes half a second to load), so the first read does not wait."""
        if self.engine.dialect.name == "sqlite":
            with self._lock:
                self._ensure_worker()

    def close(self) -> None:
        with self._lock:
            if self._worker is not None:
                self._worker.stdin.close()
                try:
                    self._worker.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._worker.kill()
                self._worker = None
            if self._folder is not None:
                shutil.rmtree(self._folder, ignore_errors=True)
                self._folder = None

    def frame(self, query: Select) -> pd.DataFrame:
        """The rows of `query` (on one table) as a DataFrame, typed by the query's columns: UtcDateTime as
        Europe/Copenhagen datetimes, Boolean as bool, text as pandas `str` (missing: NaN), numbers as numpy
        numbers."""
        if self.engine.dialect.name == "sqlite":
            table = self._read_sqlite([_sql(self.engine, _with_typed_first_row(part))
                                       for part in _row_ranges(self.engine, query)])
        else:
            table = _read_postgresql(self.engine, query)
        return _to_pandas(table, list(query.selected_columns))

    def worker_pid(self) -> int | None:
        """The SQLite worker's process id (None before the first read)."""
        return self._worker.pid if self._worker is not None else None

    # ---------------------------------------------------------------- the SQLite worker
    def _ensure_worker(self) -> subprocess.Popen:
        if self._worker is None or self._worker.poll() is not None:
            if self._folder is None:  # the frames can hold internal data: a folder only this user can read
                shm = Path("/dev/shm")  # noqa: S108 (mkdtemp: a private folder with an unguessable name)
                self._folder = Path(tempfile.mkdtemp(prefix="dke-columns-",
                                                     dir=shm if shm.is_dir() and os.access(shm, os.W_OK) else None))
            self._worker = subprocess.Popen([sys.executable, "-m", "dke_geo.store.column_worker"],
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                            cwd=Path(__file__).resolve().parents[2])
        return self._worker

    def _read_sqlite(self, queries: list[str]) -> pa.Table:
        with self._lock:
            out = self._ask({"database": self.engine.url.database, "queries": queries,
                             "busy_ms": LOCK_WAIT_S * 1000, "marker": _FIRST})
            try:
                return pa.ipc.open_file(pa.memory_map(str(out))).read_all()  # mapped: no copy
            finally:
                out.unlink(missing_ok=True)  # the mapping stays valid; the memory goes with the frame

    def _ask(self, request: dict) -> Path:
        """Send one request to the worker (started again once if it died) and return the file it wrote."""
        for attempt in (1, 2):
            worker = self._ensure_worker()
            out = self._folder / f"{uuid.uuid4().hex}.arrow"
            try:
                worker.stdin.write(json.dumps({**request, "out": str(out)}) + "\n")
                worker.stdin.flush()
                line = worker.stdout.readline()
            except (BrokenPipeError, OSError):
                line = ""
            if line:
                answer = json.loads(line)
                if "error" not in answer:
                    return out
                out.unlink(missing_ok=True)
                raise_clear_driver_error(RuntimeError(answer["error"]))
                raise RuntimeError(f"reading columns failed: {answer['error']}")
            worker.kill()
            self._worker = None
            if attempt == 2:
                raise DatabaseUnavailable()
        raise AssertionError("unreachable")


def _sql(engine: Engine, query: Select) -> str:
    return str(query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))


def _read_postgresql(engine: Engine, query: Select) -> pa.Table:
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with closing(adbc_driver_postgresql.dbapi.connect(url)) as conn, closing(conn.cursor()) as cursor:
            cursor.execute(_sql(engine, query))
            return cursor.fetch_arrow_table()
    except adbc_driver_manager.Error as exc:
        raise_clear_driver_error(exc)
        raise


def _row_ranges(engine: Engine, query: Select) -> list[Select]:
    """`query` split into SQLITE_READERS ranges of rowid (contiguous pages for each reader)."""
    rowid = literal_column("rowid")
    with reading(engine) as conn:
        low, high = conn.execute(select(func.min(rowid), func.max(rowid))
                                 .select_from(query.get_final_froms()[0])).one()
    if low is None:
        return [query]
    bounds = np.linspace(low, high + 1, SQLITE_READERS + 1).astype(np.int64)
    return [query.where(rowid >= int(a), rowid < int(b)) for a, b in itertools.pairwise(bounds)]


def _to_pandas(table: pa.Table, columns: list) -> pd.DataFrame:
    out = table.to_pandas()
    for column in columns:
        values = table[column.name]
        if isinstance(column.type, UtcDateTime):
            if pa.types.is_string(values.type):  # SQLite keeps UTC as text
                values = values.cast(pa.timestamp("us")).cast(pa.timestamp("us", tz="UTC"))
            out[column.name] = pd.Series(values.to_pandas(), index=out.index).dt.tz_convert(TZ)
        elif isinstance(column.type, Boolean):
            out[column.name] = out[column.name].astype(bool)
    return out


def _with_typed_first_row(query: Select) -> Select:
    """SQLite's ADBC driver takes each column's type from the first rows it sees (a column that starts
    with NULLs would be read as integers, then fail on the first text). A first row of typed
    placeholders, marked and dropped by the worker after the read, fixes every column's type."""
    placeholders = [literal(_placeholder(c.type)).label(c.name) for c in query.selected_columns]
    first = select(*placeholders, literal_column("1").label(_FIRST))
    return first.union_all(query.add_columns(literal_column("0").label(_FIRST)))


def _placeholder(kind) -> object:
    if isinstance(kind, Boolean | Integer):
        return 0
    if isinstance(kind, Float):
        return 0.5
    return ""  # text, and times (SQLite keeps them as text)
