"""Whole-column reads through ADBC (Arrow Database Connectivity), for frames of up to millions of rows.

The database driver fills Arrow arrays column by column, in C, instead of making one Python tuple and
object per row: a million findings arrive in about a quarter of the time (bench/RESULTS.md), which is
what keeps the planner's map under its cold-start target. Strings stay in Arrow memory (pandas' `str`
dtype), so no million Python strings are made either.

Reads open their own short-lived connection (SQLite read-only), outside any SQLAlchemy transaction:
callers that cache by data version read the version first, so what they cache is never older than
its label.
"""
from __future__ import annotations

import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from functools import partial
from urllib.parse import quote

import adbc_driver_manager
import adbc_driver_postgresql.dbapi
import adbc_driver_sqlite.dbapi
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Boolean, Engine, Float, Integer, Select, func, literal, literal_column, select

from dke_geo.store.db import LOCK_WAIT_S, raise_clear_driver_error, reading
from dke_geo.store.types import TZ, UtcDateTime

_FIRST = "_typed_first_row"
SQLITE_READERS = max(1, min(4, os.cpu_count() or 1))
"""SQLite reads a large table in this many row ranges at once, one connection and thread each (the driver
releases the GIL): about 1.7 times faster on two cores. PostgreSQL is read in one go: its server is the limit."""


def frame(engine: Engine, query: Select) -> pd.DataFrame:
    """The rows of `query` (on one table) as a DataFrame, typed by the query's columns: UtcDateTime as
    Europe/Copenhagen datetimes, Boolean as bool, text as pandas `str` (missing: NaN), numbers as numpy
    numbers."""
    if engine.dialect.name == "sqlite":
        parts = _row_ranges(engine, query)
        with ThreadPoolExecutor(len(parts)) as pool:
            table = pa.concat_tables(pool.map(partial(_read_sqlite, engine), parts))
    else:
        table = _read(engine, query)
    return _to_pandas(table, list(query.selected_columns))


def _read(engine: Engine, query: Select) -> pa.Table:
    sql = str(query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    try:
        with closing(_connect(engine)) as conn, closing(conn.cursor()) as cursor:
            if engine.dialect.name == "sqlite":  # wait out a writer's lock, as the engine's connections do
                cursor.execute(f"PRAGMA busy_timeout = {LOCK_WAIT_S * 1000}")
            cursor.execute(sql)
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


def _read_sqlite(engine: Engine, query: Select) -> pa.Table:
    table = _read(engine, _with_typed_first_row(query))
    first = pc.index(table[_FIRST], 1).as_py()  # the first row in practice: cut out, not copied
    return pa.concat_tables([table.slice(0, first), table.slice(first + 1)]).drop_columns([_FIRST])


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
    placeholders, marked and dropped after the read, fixes every column's type."""
    placeholders = [literal(_placeholder(c.type)).label(c.name) for c in query.selected_columns]
    first = select(*placeholders, literal_column("1").label(_FIRST))
    return first.union_all(query.add_columns(literal_column("0").label(_FIRST)))


def _placeholder(kind) -> object:
    if isinstance(kind, Boolean | Integer):
        return 0
    if isinstance(kind, Float):
        return 0.5
    return ""  # text, and times (SQLite keeps them as text)


def _connect(engine: Engine):
    url = engine.url
    if engine.dialect.name == "sqlite":
        return adbc_driver_sqlite.dbapi.connect(f"file:{quote(url.database)}?mode=ro")
    return adbc_driver_postgresql.dbapi.connect(url.set(drivername="postgresql").render_as_string(hide_password=False))
