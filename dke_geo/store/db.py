"""Engine, connections and migrations for the embedded SQLite file and for PostgreSQL + PostGIS.

Every write goes through `transaction(engine)`: one transaction, all or nothing.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError

from dke_geo import config
from dke_geo.errors import DkeError
from dke_geo.store.tables import meta

MIGRATIONS = Path(__file__).with_name("migrations")


class DatabaseUnavailable(DkeError):
    """The database cannot be reached (PostGIS down, disk gone): nothing was written."""
    key = "app.error_db"


def make_engine(url: str | None = None) -> Engine:
    """An engine for `url` (default: the configured database). SQLite gets WAL, foreign keys and a
    busy timeout on every connection, so concurrent tablets wait instead of failing."""
    url = url or config.database_url()
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_pragmas(dbapi_conn, _record):
    dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see _sqlite_begin)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
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
    data version, which caches of maps and charts key on."""
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(writing=True)
            with conn.begin():
                yield conn
                touch(conn)
    except OperationalError as exc:
        if _is_connection_error(exc):
            raise DatabaseUnavailable() from exc
        raise


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for reads, with the same clear error when the database is away."""
    try:
        with engine.connect() as conn:
            yield conn
    except OperationalError as exc:
        if _is_connection_error(exc):
            raise DatabaseUnavailable() from exc
        raise


def _is_connection_error(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return any(s in text for s in ("connection", "could not connect", "server closed", "terminating",
                                   "unable to open database", "disk i/o"))


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
