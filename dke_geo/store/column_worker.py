"""The process that reads whole columns of the SQLite file through ADBC, for store/columnar.py.

ADBC's SQLite driver carries its own copy of the SQLite library. Two SQLite libraries in one process must never
open the same database file: POSIX locks belong to the process, so when the second library closes its file, the
first one's locks are gone, and another process may checkpoint and delete the write-ahead log the app is still
writing into ("How To Corrupt An SQLite Database File", section 2.2). So the app's process keeps one SQLite
library (Python's sqlite3, under SQLAlchemy) and this separate process does the ADBC reads; it holds no other
SQLite library (the memory maps are checked: this process's in tests/test_columnar.py, the app's in
tests/e2e/test_one_sqlite.py).

It speaks over one Unix socket (SOCK_SEQPACKET: one message per request and per answer), whose descriptor number
is its only argument. A request is JSON `{"database", "queries", "busy_ms", "marker"}`; each query is read on its
own thread and read-only connection, and its record batches are written as they arrive, as an Arrow IPC file,
into an anonymous memory file (memfd) without the placeholder row whose `marker` column is 1 (see columnar.py).
The answer `{"files": n}` carries the n memory files' descriptors (SCM_RIGHTS), in the order of the queries;
a failure answers `{"error": text, "status": ADBC status}` instead. The memory files have no name in any file
system, so nobody else can open them and none can be left behind: they are freed when the app drops the frame.

The worker ends when the app does: the app's end of the socket closes with the app, even on SIGKILL, and the
next receive here returns nothing. It uses ADBC's low-level API (AdbcDatabase, AdbcConnection, AdbcStatement)
straight into pyarrow, since the DB-API module imports pandas (80 MB more), and imports nothing of dke_geo.
"""
from __future__ import annotations

import json
import os
import socket
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, suppress
from urllib.parse import quote

import adbc_driver_manager
import adbc_driver_sqlite
import numpy as np
import pyarrow as pa
import pyarrow.ipc

BATCH_ROWS = 8192
"""Rows per record batch from the driver (its default is about a thousand; larger batches read faster)."""
MAX_MESSAGE = 1 << 20


def _read(database: str, busy_ms: int, marker: str, sql: str) -> int:
    """Run `sql` on a read-only connection and write its rows, without the marker row and column, as an Arrow IPC
    file into a new memory file; returns the memory file's descriptor."""
    fd = os.memfd_create("dke-columns", os.MFD_CLOEXEC)
    try:
        with ExitStack() as stack:
            db = stack.enter_context(adbc_driver_sqlite.connect(f"file:{quote(database)}?mode=ro"))
            conn = stack.enter_context(adbc_driver_manager.AdbcConnection(db))
            statement = stack.enter_context(adbc_driver_manager.AdbcStatement(conn))
            statement.set_sql_query(f"PRAGMA busy_timeout = {int(busy_ms)}")  # wait out a lock, as the app does
            statement.execute_update()
            statement.set_options(**{"adbc.sqlite.query.batch_rows": str(BATCH_ROWS)})
            statement.set_sql_query(sql)
            stream, _ = statement.execute_query()
            reader = stack.enter_context(pa.RecordBatchReader.from_stream(stream))
            schema = reader.schema.remove(reader.schema.get_field_index(marker))
            sink = stack.enter_context(pa.OSFile(f"/proc/self/fd/{fd}", "wb"))
            writer = stack.enter_context(pa.ipc.new_file(sink, schema))
            for batch in reader:
                kept = pa.RecordBatch.from_arrays(batch.columns[:-1], schema=schema)  # the marker is last
                found = _placeholder_rows(batch.column(marker))
                if found.size:  # the first row in practice: cut out, not copied
                    writer.write_batch(kept.slice(0, int(found[0])))
                    kept = kept.slice(int(found[0]) + 1)
                writer.write_batch(kept)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _placeholder_rows(marker: pa.Array) -> np.ndarray:
    """Where the marker is 1, read from its int64 values in place (Array.to_numpy would import pandas)."""
    values = np.frombuffer(marker.buffers()[1], dtype=np.int64, count=len(marker), offset=marker.offset * 8)
    return np.flatnonzero(values == 1)


def answer(request: dict) -> list[int]:
    """Read the request's queries at once; their memory files' descriptors, in order."""
    queries = request["queries"]
    with ThreadPoolExecutor(len(queries)) as pool:
        futures = [pool.submit(_read, request["database"], request["busy_ms"], request["marker"], sql)
                   for sql in queries]
    failed = next((f.exception() for f in futures if f.exception() is not None), None)
    if failed is not None:
        for future in futures:
            if future.exception() is None:
                os.close(future.result())
        raise failed
    return [f.result() for f in futures]


def main(fileno: int) -> None:
    with socket.socket(fileno=fileno) as app:
        while request := app.recv(MAX_MESSAGE):
            try:
                fds = answer(json.loads(request))
            except Exception as exc:  # noqa: BLE001 (every failure goes back to the app, which names it)
                status = getattr(exc, "status_code", None)
                app.send(json.dumps({"error": f"{type(exc).__name__}: {exc}",
                                     "status": status.name if status is not None else None}).encode())
                continue
            try:
                socket.send_fds(app, [json.dumps({"files": len(fds)}).encode()], fds)
            finally:
                for fd in fds:
                    os.close(fd)


if __name__ == "__main__":
    with suppress(BrokenPipeError, ConnectionResetError):  # the app ended while we answered
        main(int(sys.argv[1]))
