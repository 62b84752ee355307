"""What the benchmarks share: the sizes, the two databases, stores of synthetic findings built once per run, the
machine, and timing.

- Sizes: 10k / 100k / 1M findings (`DKE_GEO_BENCH_SIZES=10000,100000` for a shorter run).
- Databases: a SQLite file, and a throwaway PostGIS server started the way the tests start theirs
  (tests/pgserver.PgServer); `DKE_GEO_BENCH_DATABASES=sqlite` leaves PostGIS out.
- `store(db, n)`: a migrated database holding n synthetic findings and n/20 incident reports
  (fixtures.load_synthetic: generated with numpy, bulk-inserted in one transaction), 1 in 16 findings published
  with a public text. Built on first use and
  shared by every script of the run, so the 1M stores are loaded once; scripts add rows but never delete any.
Everything lives in one temporary folder that is removed, with the server, when the run ends.
"""
from __future__ import annotations

import atexit
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, update

from dke_geo import fixtures
from dke_geo.services import areas as area_service
from dke_geo.store.db import make_engine, migrate, transaction
from dke_geo.store.tables import observations

SIZES = tuple(int(s) for s in os.environ.get("DKE_GEO_BENCH_SIZES", "10000,100000,1000000").split(","))
DATABASES = tuple(os.environ.get("DKE_GEO_BENCH_DATABASES", "sqlite,postgis").split(","))
LABELS = {"sqlite": "SQLite", "postgis": "PostGIS"}
PUBLISHED_SHARE = "1 in 16"

_state: dict = {"stores": {}, "load_s": {}, "server": None, "folder": None}


def folder() -> Path:
    """The run's temporary folder (removed at exit)."""
    if _state["folder"] is None:
        _state["folder"] = Path(tempfile.mkdtemp(prefix="dke-bench-"))
    return _state["folder"]


def empty(db: str, name: str) -> Engine:
    """A new, migrated database with the areas and nothing else."""
    if db == "sqlite":
        engine = make_engine(f"sqlite:///{folder() / f'{name}.sqlite'}")
    else:
        server = _server()
        server.admin(f"CREATE DATABASE {name}")
        engine = make_engine(server.url(name))
    migrate(engine)
    area_service.seed_if_empty(engine)
    return engine


def store(db: str, n: int) -> Engine:
    """The shared store of n synthetic findings on `db` ("sqlite" or "postgis"), built on first use."""
    key = (db, n)
    if key not in _state["stores"]:
        engine = empty(db, f"store_{n}")
        started = time.perf_counter()
        fixtures.load_synthetic(engine, n, reports=n // 20)
        _state["load_s"][key] = time.perf_counter() - started
        with transaction(engine) as conn:   # ids are random hex: those starting with 0 are 1 in 16
            conn.execute(update(observations).where(observations.c.id < "1")
                         .values(published=True, public_text="Syntetisk: offentlig tekst om fundet."))
        print(f"   store {LABELS[db]} {n:,}: loaded in {time.perf_counter() - started:.0f} s", flush=True)
        _state["stores"][key] = engine
    return _state["stores"][key]


def load_seconds(db: str, n: int) -> float:
    """How long the bulk insert of `store(db, n)` took: the no-checks baseline an import is compared with."""
    store(db, n)
    return _state["load_s"][(db, n)]


def _server():
    if _state["server"] is None:
        from tests.pgserver import PgServer  # the same throwaway server as the tests

        _state["server"] = PgServer().start()
    return _state["server"]


@atexit.register
def close() -> None:
    """Dispose the stores, stop the PostGIS server, remove the folder."""
    for engine in _state["stores"].values():
        engine.dispose()
    _state["stores"].clear()
    if _state["server"] is not None:
        _state["server"].remove()
        _state["server"] = None
    if _state["folder"] is not None:
        shutil.rmtree(_state["folder"], ignore_errors=True)
        _state["folder"] = None


def timed(action: Callable, repeat: int = 1) -> tuple[float, object]:
    """The median wall time of `repeat` runs of `action` (seconds) and its last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def machine() -> str:
    """CPU model, cores, RAM, OS and Python: written at the top of bench/RESULTS.md."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB RAM, {platform.platform()}, "
            f"Python {platform.python_version()}")
