"""The application context: the checked settings, the database engine and the caches of one running app or
command-line run, made once (`AppContext.open`, by `dke_geo.ui.session` and by the CLI) and passed to every
service explicitly. There is no module-level cache anywhere else: a test makes a fresh context instead of
clearing globals.

The caches are keyed by what they were built from: the outlines by the areas' version, everything read
from findings and fixes by the database's data version (which every committed write bumps), so a cached
value is never served after the data it came from changed.
"""
from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import geopandas as gpd
from sqlalchemy import Engine

from dke_geo import config, private_files
from dke_geo.config import Settings
from dke_geo.errors import DatabaseFileRefused
from dke_geo.store import areas as area_store
from dke_geo.store.columnar import ColumnReader
from dke_geo.store.db import data_version, make_engine, reading

T = TypeVar("T")


@dataclass(eq=False)
class AppContext:
    """Settings, engine, whole-column reader and caches of one app (or CLI run). Thread-safe: Streamlit serves
    each browser session from its own thread, and they share one context."""
    settings: Settings
    engine: Engine
    columns: ColumnReader = field(init=False, repr=False)
    _entries: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _closers: list[Callable[[], None]] = field(default_factory=list, repr=False)
    _recent: dict = field(default_factory=dict, repr=False)
    _building: dict = field(default_factory=dict, repr=False)
    max_entries: int = 32

    def __post_init__(self) -> None:
        self.columns = ColumnReader(self.engine)

    @classmethod
    def open(cls, settings: Settings | None = None, engine: Engine | None = None) -> AppContext:
        """A context for `settings` (default: checked from the environment, config.load), with its own engine
        unless one is given (tests share a migrated engine). The data folder is made here, private (0700), before
        anything (a photo, a draft, the login secret) is written into it."""
        settings = settings or config.load()
        private_files.make_folder(settings.data_dir)
        return cls(settings, engine or make_engine(settings.database_url))

    def on_close(self, stop: Callable[[], None]) -> None:
        """Have `stop` called when the context closes (before its engine goes): how a background thread that
        works on this context, such as the notification scheduler, ends with it."""
        self._closers.append(stop)

    def close(self) -> None:
        """Stop what runs on this context, end the column reader's worker and release the engine's connections."""
        while self._closers:
            self._closers.pop()()
        self.columns.close()
        self.engine.dispose()

    def data_version(self) -> int:
        """The database's data version now (read first by whoever caches what they read next)."""
        with reading(self.engine) as conn:
            return data_version(conn)

    def cached(self, kind: str, version: int, key: Hashable, build: Callable[[], T]) -> T:
        """`build()`, kept under (kind, key) for `version`: a newer version of `kind` drops the older entries, and
        the least recently used entries go when there are more than `max_entries`. One build per entry at a time:
        who asks while another session (or the warm-up at start) builds it waits for that value instead of
        building it again beside it, which on a 2-core server would slow both."""
        entry_key = (kind, key)
        with self._lock:
            found = self._found(entry_key, version)
            if found is not None:
                return found[0]
            building = self._building.setdefault((entry_key, version), threading.Lock())
        with building:
            with self._lock:
                found = self._found(entry_key, version)
            if found is not None:
                return found[0]
            try:
                value = build()
                with self._lock:
                    self._keep(kind, entry_key, version, value)
            finally:
                with self._lock:
                    self._building.pop((entry_key, version), None)
        return value

    def _found(self, entry_key: tuple, version: int) -> tuple | None:
        entry = self._entries.get(entry_key)
        if entry is not None and entry[0] == version:
            self._entries.move_to_end(entry_key)
            return (entry[1],)
        return None

    def _keep(self, kind: str, entry_key: tuple, version: int, value) -> None:
        for old in [k for k, (v, _) in self._entries.items() if k[0] == kind and v < version]:
            del self._entries[old]
        current = self._entries.get(entry_key)
        if current is None or current[0] <= version:
            self._entries[entry_key] = (version, value)
            self._entries.move_to_end(entry_key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def refuse_database_file(self, path: Path) -> Path:
        """`path`, unless it is the SQLite database or one of its companion files (-wal, -shm, -journal): then
        DatabaseFileRefused, before anything opens it. Every file a user names (to import, to export or report to,
        to back up to or restore from) passes here first. Read, the database would be opened and closed by another
        SQLite library in this process (GDAL's, taking it for a GeoPackage), which drops this process's locks on
        it, so that another process may delete the log the app still writes into (STYLE.md, habit 17); written,
        it would be destroyed. Compared by file identity (any hard or symbolic link to it) and by resolved path
        (a companion file that does not exist yet). PostgreSQL keeps no file here: nothing to refuse."""
        path = Path(path)
        if self.engine.dialect.name != "sqlite":
            return path
        database = Path(self.engine.url.database).resolve()
        ours = [database.with_name(database.name + suffix) for suffix in ("", "-wal", "-shm", "-journal")]
        if path.resolve() in ours or any(_same_file(path, file) for file in ours):
            raise DatabaseFileRefused(path=str(path))
        return path
    def allow(self, kind: str, client: str, limit: int, window_s: float) -> bool:
        """True, and counted, when `client` has done `kind` fewer than `limit` times in the last `window_s` seconds
        in this process; else False. A rate limit kept in memory only, so no client (an address) is ever stored:
        it restarts with the app, and each app server counts its own."""
        at = time.monotonic()
        with self._lock:
            for key in [k for k, times in self._recent.items() if not times or times[-1] < at - window_s]:
                del self._recent[key]  # nothing recent: forget the client
            times = self._recent.setdefault((kind, client), deque())
            while times and times[0] < at - window_s:
                times.popleft()
            if len(times) >= limit:
                return False
            times.append(at)
            return True

    def areas(self) -> gpd.GeoDataFrame:
        """The housing areas in the database (EPSG:4326, id, name, confidence, source, geometry), cached until
        they are replaced. Callers must not change the frame they get."""
        with reading(self.engine) as conn:
            version = area_store.version(conn)
        return self.cached("areas", version, None, lambda: self._load_areas())

    def area_names(self) -> dict[str, str]:
        """Area id -> name."""
        areas = self.areas()
        return dict(zip(areas["id"], areas["name"], strict=True))

    def _load_areas(self) -> gpd.GeoDataFrame:
        with reading(self.engine) as conn:
            return area_store.load(conn)


def _same_file(a: Path, b: Path) -> bool:
    """Whether a and b are one file (by device and inode, from stat: neither is opened)."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # either does not exist
        return False
