"""Engine, connections and migrations for the embedded SQLite file and for PostgreSQL + PostGIS.

Every write goes through `transaction(engine)`: one transaction, all or nothing.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache, partial
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from dke_geo import config
from dke_geo.errors import DkeError
from dke_geo.store.tables import meta

MIGRATIONS = Path(__file__).with_name("migrations")
LOCK_WAIT_S = 30
"""How long a write waits for another writer (SQLite's busy timeout, PostgreSQL's lock_timeout, a free pooled
connection) before the user is told the database is busy. Concurrent tablets wait rather than fail: under the
load test (tests/test_concurrency.py) no write waits anywhere near this long."""


class DatabaseUnavailable(DkeError):
    """The database cannot be reached (PostGIS down, disk gone): nothing was written."""
    key = "app.error_db"


class DatabaseBusy(DkeError):
    """Another writer held the data longer than LOCK_WAIT_S (a very large import, say), or PostgreSQL ended this
    transaction to break a deadlock: nothing was written, and saving the same form again is safe (findings carry
    the id their form was opened with)."""
    key = "reliability.db_busy"


def make_engine(url: str | None = None, lock_wait_s: float = LOCK_WAIT_S) -> Engine:
    """An engine for `url` (default: the configured database). SQLite gets WAL, foreign keys and a
    busy timeout on every connection, so concurrent tablets wait instead of failing; PostgreSQL connections are
    checked before use (pool_pre_ping), so the first save after a database restart works."""
    url = url or config.database_url()
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


@cache
def default_engine() -> Engine:
    """The process-wide engine for the configured database."""
    return make_engine()


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration; safe to run again."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction; commits at the end, rolls back everything on any error. Writes also bump the
    data version, which caches of maps and charts key on.

    Contention is resolved by waiting inside the database (SQLite: BEGIN IMMEDIATE and the busy timeout;
    PostgreSQL: row locks, with the version checks of fixes), not by re-running the block; what is left,
    a wait past LOCK_WAIT_S or a lost server, becomes DatabaseBusy or DatabaseUnavailable: a clear message, the
    form kept, nothing written."""
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(writing=True)
            with conn.begin():
                yield conn
                touch(conn)
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


def touch(conn: Connection) -> None:
    """Mark the data as changed (inside the writing transaction)."""
    conn.execute(update(meta).where(meta.c.key == "data_version").values(value=meta.c.value + 1))


def data_version(conn: Connection) -> int:
    """A number that grows with every committed write: the key for caches."""
    return conn.execute(select(meta.c.value).where(meta.c.key == "data_version")).scalar_one()
