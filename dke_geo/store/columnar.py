"""Whole-column reads through ADBC (Arrow Database Connectivity), for frames of up to millions of rows.

The database driver fills Arrow arrays column by column, in C, instead of making one Python tuple and
object per row: a million findings arrive in about a quarter of the time (bench/RESULTS.md), which is
what keeps the Hotspots map under its cold-start target. Strings stay in Arrow memory (pandas' `str`
dtype), so no million Python strings are made either.

SQLite is read in another process (store/column_worker.py): ADBC's SQLite driver brings a second SQLite
library, and two SQLite libraries must never open the same file in one process (their POSIX locks would
break each other's; tests/e2e/test_side_by_side.py shows what that lost). The worker reads row ranges at once
on two threads and hands each over as an Arrow file in an anonymous memory file (memfd, passed over a Unix
socket), mapped here without a copy; it is ended with the reader or, at the latest, with this process.
PostgreSQL is read in this process through libpq (no file locks involved), in one go: its server is the limit.

Reads open their own short-lived connections (SQLite read-only), outside any SQLAlchemy transaction:
callers that cache by data version read the version first, so what they cache is never older than
its label.
"""
from __future__ import annotations

import itertools
import json
import mmap
import os
import socket
import subprocess
import sys
import threading
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
    started on first use (or by `start`), started again if it died, and ended by `close` or with this process.
    Safe to share between threads: SQLite reads take turns on the one worker."""

    def __init__(self, engine: Engine, lock_wait_s: float = LOCK_WAIT_S):
        self.engine = engine
        self.lock_wait_s = lock_wait_s
        self._lock = threading.Lock()
        self._worker: subprocess.Popen | None = None
        self._socket: socket.socket | None = None

    def start(self) -> None:
        """Start the SQLite worker now (it takes half a second to load), so the first read does not wait."""
        if self.engine.dialect.name == "sqlite":
            with self._lock:
                self._ensure_worker()

    def close(self) -> None:
        """End the worker (it sees its socket close and exits; killed if it has not within 5 s)."""
        with self._lock:
            self._stop_worker(timeout=5)

    def frame(self, query: Select) -> pd.DataFrame:
        """The rows of `query` (on one table) as a DataFrame, typed by the query's columns: UtcDateTime as
        Europe/Copenhagen datetimes, Boolean as bool, text as pandas `str` (missing: NaN), numbers as numpy
        numbers. Raises DatabaseBusy or DatabaseUnavailable when the database cannot be read now."""
        if self.engine.dialect.name == "sqlite":
            table = self._read_sqlite([_sql(self.engine, _with_typed_first_row(part))
                                       for part in _row_ranges(self.engine, query)])
        else:
            table = _read_postgresql(self.engine, query)
        return _to_pandas(table, list(query.selected_columns))

    def worker_pid(self) -> int | None:
        """The SQLite worker's process id (None before the first read)."""
        with self._lock:
            return self._worker.pid if self._worker is not None else None

    # ---------------------------------------------------------------- the SQLite worker
    def _ensure_worker(self) -> None:
        if self._worker is not None and self._worker.poll() is None:
            return
        self._stop_worker(timeout=0)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with theirs:
            self._worker = subprocess.Popen(
                [sys.executable, "-m", "dke_geo.store.column_worker", str(theirs.fileno())],
                pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, cwd=Path(__file__).resolve().parents[2])
        self._socket = ours

    def _stop_worker(self, timeout: float) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        if self._worker is not None:
            try:
                self._worker.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._worker.kill()
                self._worker.wait()
            self._worker = None

    def _read_sqlite(self, queries: list[str]) -> pa.Table:
        request = json.dumps({"database": os.path.abspath(self.engine.url.database), "queries": queries,
                              "busy_ms": int(self.lock_wait_s * 1000), "marker": _FIRST}).encode()
        with self._lock:
            fds = self._ask(request, len(queries))
        tables = []
        try:
            for fd in fds:  # mapped, not copied: the memory goes when the frame made from it does
                tables.append(pa.ipc.open_file(pa.py_buffer(mmap.mmap(fd, 0, prot=mmap.PROT_READ))).read_all())
        finally:
            for fd in fds:
                os.close(fd)
        return pa.concat_tables(tables)

    def _ask(self, request: bytes, files: int) -> list[int]:
        """Send one request to the worker (started again, once, if it died) and return the memory files it sent."""
        for attempt in (1, 2):
            self._ensure_worker()
            try:
                self._socket.send(request)
                message, fds, flags, _ = socket.recv_fds(self._socket, 1 << 16, files)
            except OSError:
                message, fds, flags = b"", [], 0
            except BaseException:  # interrupted between question and answer: the next answer would be this one's
                self._stop_worker(timeout=0)
                raise
            if message:
                answer = json.loads(message)
                if "error" not in answer and len(fds) == files and not flags & socket.MSG_CTRUNC:
                    return fds
                for fd in fds:
                    os.close(fd)
                error = RuntimeError(answer.get("error", "the worker sent an incomplete answer"))
                raise_clear_driver_error(error, invalidated=answer.get("status") == "IO")  # IO: cannot open the file
                raise error
            self._stop_worker(timeout=0)  # it died (killed, out of memory): its socket is closed
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
