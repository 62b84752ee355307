"""Engine, connections and migrations for the embedded SQLite file and for PostgreSQL + PostGIS.

Every write goes through `transaction(engine)`: one transaction, all or nothing.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import pandas as pd
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from dke_geo.errors import DatabaseBusy, DatabaseUnavailable
from dke_geo.store.tables import meta, metadata

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
    keys and a busy timeout on every connection, so concurrent tablets wait instead of failing; PostgreSQL
    connections are checked before use (pool_pre_ping), so the first save after a database restart works."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": lock_wait_s}, pool_timeout=lock_wait_s)
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
    shows (the outbox's delivery state, the report-back page's rate limit), so sending mail every minute does not
    make every map read the database again.

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


def bulk_insert(conn: Connection, table_name: str, frame: pd.DataFrame, chunk: int = 50_000) -> int:
    """Insert the rows of a DataFrame (columns named as the table's) with executemany in chunks, in the caller's
    transaction: how the benchmarks' synthetic stores are made. Returns the number of rows."""
    table = metadata.tables[table_name]
    for start in range(0, len(frame), chunk):
        conn.execute(table.insert(), _records(frame.iloc[start:start + chunk]))
    return len(frame)


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows for an executemany: timestamps as aware datetimes, missing values as None."""
    columns = []
    for name in frame.columns:
        values = frame[name]
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            columns.append(list(values.dt.to_pydatetime()))
        else:
            columns.append([None if v is None or v is pd.NA or v != v else v for v in values.tolist()])
    names = [str(c) for c in frame.columns]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def touch(conn: Connection) -> None:
    """Mark the data as changed (inside the writing transaction)."""
    conn.execute(update(meta).where(meta.c.key == "data_version").values(value=meta.c.value + 1))


def data_version(conn: Connection) -> int:
    """A number that grows with every committed write: the key for caches."""
    return conn.execute(select(meta.c.value).where(meta.c.key == "data_version")).scalar_one()
