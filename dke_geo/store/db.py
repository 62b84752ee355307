"""Engine, connections and migrations for the embedded SQLite file and for PostgreSQL + PostGIS.

Every write goes through `transaction(engine)`: one transaction, all or nothing.
"""
from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import pandas as pd
import pyarrow
import pyarrow.csv
from alembic import command
from alembic.config import Config
from sqlalchemy import JSON, Boolean, Connection, Engine, Float, Integer, create_engine, event, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from dke_geo import private_files
from dke_geo.errors import DatabaseBusy, DatabaseUnavailable
from dke_geo.store.tables import meta, metadata
from dke_geo.store.types import UtcDateTime

MIGRATIONS = Path(__file__).with_name("migrations")
LOCK_WAIT_S = 30
"""How long a write waits for another writer (SQLite's busy timeout, PostgreSQL's lock_timeout, a free pooled
connection) before the user is told the database is busy. Concurrent tablets wait rather than fail: under the
load test (tests/test_concurrency.py) no write waits anywhere near this long."""


class ConstraintViolation(Exception):
    """A write refused by a unique or foreign-key constraint (a name taken, a concurrent writer's version):
    the transaction was rolled back, nothing was written. The service says what it means."""


def make_engine(url: str, lock_wait_s: float = LOCK_WAIT_S) -> Engine:
    """An engine for the database at `url` (the app's is made by context.AppContext). SQLite gets WAL, foreign
    keys and a busy timeout on every connection, so concurrent tablets wait instead of failing, and its file and
    folder are made readable by this OS user only (private_files); PostgreSQL
    connections are checked before use (pool_pre_ping), so the first save after a database restart works."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": lock_wait_s}, pool_timeout=lock_wait_s)
        path = engine.url.database
        if path and path != ":memory:":  # a private folder and file: it holds notes and who recorded them
            private_files.make_folder(Path(path).parent)
            private_files.create_empty(Path(path))  # SQLite gives its -wal and -shm files this file's mode
        event.listen(engine, "connect", partial(_sqlite_pragmas, busy_ms=int(lock_wait_s * 1000)))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, pool_timeout=lock_wait_s)
    event.listen(engine, "connect", partial(_pg_settings, lock_ms=int(lock_wait_s * 1000)))
    return engine


def _pg_settings(dbapi_conn, _record, lock_ms: int):
    """A lock wait past LOCK_WAIT_S ends in a clear DatabaseBusy instead of hanging (set per session, not as a
    startup option, which connection poolers such as PgBouncer refuse)."""
    with dbapi_conn.cursor() as cur:
        cur.execute(f"SET lock_timeout = {lock_ms}")
    dbapi_conn.commit()


def _sqlite_pragmas(dbapi_conn, _record, busy_ms: int):
    dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see _sqlite_begin)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={busy_ms}")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_begin(conn: Connection):
    """Writers take the write lock at BEGIN (IMMEDIATE), so the busy timeout applies instead of a
    deadlock error when two transactions both try to upgrade from reading to writing."""
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("writing") else "BEGIN")


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration; safe to run again."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def schema_is_current(engine: Engine) -> bool:
    """True when the database has the newest migration (else `python -m dke_geo init-db` must run first)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with reading(engine) as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return current == ScriptDirectory.from_config(cfg).get_current_head()


@contextmanager
def transaction(engine: Engine, *, changes_data: bool = True) -> Iterator[Connection]:
    """One transaction; commits at the end, rolls back everything on any error. Writes also bump the
    data version, which caches of maps and charts key on; `changes_data=False` for bookkeeping that no cache
    shows (login attempts, sessions, the outbox's delivery state, the report-back page's rate limit), so a login or
    sending mail every minute does not make every planner's map read the database again.

    Contention is resolved by waiting inside the database (SQLite: BEGIN IMMEDIATE and the busy timeout;
    PostgreSQL: row locks, with the version checks of fixes), not by re-running the block; what is left,
    a wait past LOCK_WAIT_S or a lost server, becomes DatabaseBusy or DatabaseUnavailable: a clear message, the
    form kept, nothing written. A constraint that refuses a write becomes ConstraintViolation."""
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(writing=True)
            with conn.begin():
                yield conn
                if changes_data:
                    touch(conn)
    except IntegrityError as exc:
        raise ConstraintViolation(str(exc.orig)) from exc
    except (OperationalError, InterfaceError, PoolTimeout) as exc:
        _raise_clear(exc)
        raise


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for reads, with the same clear error when the database is away."""
    try:
        with engine.connect() as conn:
            yield conn
    except (OperationalError, InterfaceError, PoolTimeout) as exc:
        _raise_clear(exc)
        raise


_BUSY_SQLSTATES = {"40001", "40P01", "55P03"}  # serialization failure, deadlock, lock timeout
_BUSY_TEXT = ("database is locked", "database table is locked")
_AWAY_TEXT = ("connection", "could not connect", "server closed", "terminating", "unable to open database",
              "disk i/o", "the database system is")


def _raise_clear(exc: Exception) -> None:
    """Raise the DkeError a user can act on for a database failure that is not their input's fault."""
    if isinstance(exc, PoolTimeout):
        raise DatabaseBusy() from exc
    raise_clear_driver_error(exc.orig, invalidated=exc.connection_invalidated)


def raise_clear_driver_error(error: Exception, invalidated: bool = False) -> None:
    """The same for an error straight from a database driver (psycopg, sqlite3, ADBC): DatabaseBusy or
    DatabaseUnavailable when it is one of those, else nothing (the caller re-raises it)."""
    text = str(error).lower()
    if getattr(error, "sqlstate", None) in _BUSY_SQLSTATES or any(s in text for s in _BUSY_TEXT):
        raise DatabaseBusy() from error
    if invalidated or any(s in text for s in _AWAY_TEXT):
        raise DatabaseUnavailable() from error


def insert_ignoring_duplicates(conn: Connection, table, rows: list[dict]) -> int:
    """Insert rows, skipping any whose primary or unique key already exists; returns how many were new.
    This is what makes a retried save idempotent."""
    if not rows:
        return 0
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    key = list(table.primary_key.columns)[0]
    inserted = conn.execute(dialect.insert(table).on_conflict_do_nothing().returning(key), rows).all()
    return len(inserted)


def existing_values(conn: Connection, column, values: list[str], batch: int = 500) -> set[str]:
    """Which of `values` occur in `column` (asked for in batches: PostgreSQL takes at most 65,535 parameters)."""
    found: set[str] = set()
    for start in range(0, len(values), batch):
        found |= set(conn.execute(select(column).where(column.in_(values[start:start + batch]))).scalars())
    return found


def bulk_insert(conn: Connection, table_name: str, frame: pd.DataFrame, chunk: int = 100_000, *,
                skip_existing: bool = False) -> int:
    """Insert the rows of a DataFrame (columns named as the table's) in the caller's transaction, in bulk: on
    PostgreSQL with COPY (as CSV written by Arrow), on SQLite with one executemany per chunk. With
    `skip_existing`, rows whose primary or unique key is already stored are skipped, as
    `insert_ignoring_duplicates` does (PostgreSQL: COPY into a temporary table, then INSERT ... ON CONFLICT DO
    NOTHING). Returns the number of rows inserted. Imports and the benchmarks' synthetic stores use it."""
    table = metadata.tables[table_name]
    frame = _typed(frame[[c for c in frame.columns if c in table.c]], table)
    if not len(frame):
        return 0
    if conn.dialect.name == "postgresql":
        return _copy(conn, table, frame, chunk, skip_existing)
    names = list(frame.columns)
    sql = (f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
           + (" ON CONFLICT DO NOTHING" if skip_existing else ""))
    inserted = 0
    for start in range(0, len(frame), chunk):
        part = frame.iloc[start:start + chunk]
        columns = [_sqlite_values(part[name], table.c[name].type) for name in names]
        inserted += conn.exec_driver_sql(sql, list(zip(*columns, strict=True))).rowcount
    return inserted


def _typed(frame: pd.DataFrame, table) -> pd.DataFrame:
    """Each column in the type its table column needs: aware UTC times, booleans, nullable integers, floats,
    JSON as text, text (missing as None)."""
    out = {}
    for name in frame.columns:
        kind, values = table.c[name].type, frame[name]
        if isinstance(kind, UtcDateTime):
            out[name] = pd.to_datetime(values, utc=True).dt.as_unit("us")
        elif isinstance(kind, Boolean):
            out[name] = values.astype(bool)
        elif isinstance(kind, Integer):
            out[name] = pd.array(values.astype(object).where(values.notna(), None), dtype="Int64")
        elif isinstance(kind, Float):
            out[name] = pd.to_numeric(values.astype(object).where(values.notna(), None), errors="raise").astype(float)
        elif isinstance(kind, JSON):
            out[name] = values.map(json.dumps).astype(object)
        else:
            out[name] = values.astype(object).where(values.notna(), None).map(lambda v: v if v is None else str(v))
    return pd.DataFrame(out, index=frame.index)


def _sqlite_values(values: pd.Series, kind) -> list:
    """A typed column as SQLite stores it through SQLAlchemy (times as UTC text with microseconds)."""
    if isinstance(kind, UtcDateTime):
        text = values.dt.tz_convert(None).dt.strftime("%Y-%m-%d %H:%M:%S.%f")
        return text.astype(object).where(values.notna(), None).tolist()
    if isinstance(kind, Integer):
        return [None if v is pd.NA else int(v) for v in values]
    if isinstance(kind, Float):
        return [None if v != v else v for v in values.tolist()]
    return values.tolist()


def _copy(conn: Connection, table, frame: pd.DataFrame, chunk: int, skip_existing: bool) -> int:
    names = ", ".join(frame.columns)
    cursor = conn.connection.driver_connection.cursor()
    target = table.name
    if skip_existing:
        target = f"import_{table.name}"
        cursor.execute(f"CREATE TEMPORARY TABLE {target} (LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DROP")
    options = pyarrow.csv.WriteOptions(include_header=False, quoting_style="needed")
    with cursor.copy(f"COPY {target} ({names}) FROM STDIN (FORMAT csv)") as copy:
        for start in range(0, len(frame), chunk):
            buffer = io.BytesIO()
            pyarrow.csv.write_csv(pyarrow.Table.from_pandas(frame.iloc[start:start + chunk], preserve_index=False),
                                  buffer, options)
            copy.write(buffer.getvalue())
    if not skip_existing:
        return len(frame)
    cursor.execute(f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {target} ON CONFLICT DO NOTHING")
    inserted = cursor.rowcount
    cursor.execute(f"DROP TABLE {target}")
    return inserted


def touch(conn: Connection) -> None:
    """Mark the data as changed (inside the writing transaction)."""
    conn.execute(update(meta).where(meta.c.key == "data_version").values(value=meta.c.value + 1))


def data_version(conn: Connection) -> int:
    """A number that grows with every committed write: the key for caches."""
    return conn.execute(select(meta.c.value).where(meta.c.key == "data_version")).scalar_one()
