"""The baseline of the column read: the Hotspots page's two frames read the way the app read them before issue 13
(commit 976dd8f), through ADBC's SQLite driver inside the reading process, in the same row ranges on threads.

That way loads a second SQLite library into the process that holds the database (see store/column_worker.py), so
the app must never do it again; bench_hotspots_map runs this module in a throwaway process of its own
(`python -m bench.adbc_in_process DATABASE_URL`), which prints the seconds of one read of the findings and the
incident reports, after an untimed first read (the driver loaded, the file in the page cache), as the app's
reader is measured with its worker running.
"""
from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from urllib.parse import quote

import adbc_driver_sqlite.dbapi
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Select

from dke_geo.services.hotspots import FINDING_COLUMNS, REPORT_COLUMNS
from dke_geo.store import columnar
from dke_geo.store import incidents as incident_store
from dke_geo.store import observations as obs_store
from dke_geo.store.db import LOCK_WAIT_S, make_engine


class InProcessReader:
    """store.columnar's reader as it was: the same queries and typing, ADBC's SQLite in this process."""

    def __init__(self, url: str):
        self.engine = make_engine(url)

    def frame(self, query: Select) -> pd.DataFrame:
        parts = columnar._row_ranges(self.engine, query)
        with ThreadPoolExecutor(len(parts)) as pool:
            table = pa.concat_tables(pool.map(self._read, parts))
        return columnar._to_pandas(table, list(query.selected_columns))

    def _read(self, part: Select) -> pa.Table:
        database = f"file:{quote(self.engine.url.database)}?mode=ro"
        with closing(adbc_driver_sqlite.dbapi.connect(database)) as conn, closing(conn.cursor()) as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {LOCK_WAIT_S * 1000}")
            cursor.execute(columnar._sql(self.engine, columnar._with_typed_first_row(part)))
            table = cursor.fetch_arrow_table()
        first = pc.index(table[columnar._FIRST], 1).as_py()
        return pa.concat_tables([table.slice(0, first), table.slice(first + 1)]).drop_columns([columnar._FIRST])


def read_seconds(url: str) -> float:
    """One read of the page's two frames, after an untimed one."""
    reader = InProcessReader(url)

    def read():
        obs_store.frame(reader, FINDING_COLUMNS)
        incident_store.frame(reader, REPORT_COLUMNS)

    read()
    start = time.perf_counter()
    read()
    return time.perf_counter() - start


if __name__ == "__main__":
    print(read_seconds(sys.argv[1]))
