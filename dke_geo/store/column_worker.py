"""The process that reads whole columns of the SQLite file through ADBC, for store/columnar.py.

ADBC's SQLite driver carries its own copy of the SQLite library. Two SQLite libraries in one process must never
open the same database file: POSIX locks belong to the process, so when the second library closes its file, the
first one's locks are gone, and another process may checkpoint and delete the write-ahead log the app is still
writing into ("How To Corrupt An SQLite Database File", section 2.2). So the app's process keeps one SQLite
library (Python's sqlite3, under SQLAlchemy) and this separate process does the ADBC reads.

Protocol, one JSON object per line: the request on stdin `{"database", "queries", "busy_ms", "marker", "out"}`,
the answer on stdout `{"rows": n}` or `{"error": text}`. Each query is read on its own thread and connection
(read-only); a first row whose `marker` column is 1 (a typed placeholder, see columnar.py) is cut out; the
table is written as an Arrow IPC file to `out`, which the app maps into memory. Imports nothing of dke_geo.
"""
from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from functools import partial
from urllib.parse import quote

import adbc_driver_sqlite.dbapi
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc


def _read(database: str, busy_ms: int, marker: str, sql: str) -> pa.Table:
    with closing(adbc_driver_sqlite.dbapi.connect(f"file:{quote(database)}?mode=ro")) as conn, \
            closing(conn.cursor()) as cursor:
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")  # wait out a writer's lock, as the app does
        cursor.execute(sql)
        table = cursor.fetch_arrow_table()
    first = pc.index(table[marker], 1).as_py()  # the first row in practice: cut out, not copied
    if first >= 0:
        table = pa.concat_tables([table.slice(0, first), table.slice(first + 1)])
    return table.drop_columns([marker])


def answer(request: dict) -> dict:
    """Read the request's queries at once and write their rows, in order, to its `out` file."""
    queries = request["queries"]
    with ThreadPoolExecutor(len(queries)) as pool:
        tables = list(pool.map(partial(_read, request["database"], request["busy_ms"], request["marker"]), queries))
    table = pa.concat_tables(tables)
    with pa.OSFile(request["out"], "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return {"rows": table.num_rows}


def main() -> None:
    for line in sys.stdin:
        try:
            response = answer(json.loads(line))
        except Exception as exc:  # noqa: BLE001 (every failure goes back to the app, which names it)
            response = {"error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(response) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
