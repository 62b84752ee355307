"""What the benchmarks share: the sizes, the two databases, stores of synthetic findings built once per run, the
machine, and timing.

- Sizes: 10k / 100k / 1M findings (the setting `DKE_GEO_BENCH_SIZES=10000,100000` for a shorter run).
- Databases: a SQLite file, and a throwaway PostGIS server started the way the tests start theirs
  (tests/pgserver.PgServer); `DKE_GEO_BENCH_DATABASES=sqlite` leaves PostGIS out.
- `store(db, n)`: the app context of a migrated database holding n synthetic findings and n/20 incident reports
  (maintenance.load_synthetic: generated with numpy, bulk-inserted in one transaction), 1 in 16 findings published
  with a public text. Built on first use and shared by every script of the run, so the 1M stores are loaded once;
  scripts add rows but never delete any. `published_store(db, n)`: the same with every finding published, each
  with a text of its own. `fresh(ctx)` is a new context on the same database (its own engine, nothing cached), for
  what is measured cold.
- Chromium: `Site` serves pages on 127.0.0.1 (our static/ at /app/static, as Streamlit does); `draw_seconds`
  measures a page drawn in headless Debian chromium. `naive_html` is the per-marker folium baseline.
Both settings are checked at start-up like every DKE_GEO_* setting (config.load). Everything lives in one temporary
folder that is removed, with the server, when the run ends.
"""
from __future__ import annotations

import atexit
import functools
import html
import http.server
import os
import platform
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import folium
from sqlalchemy import select, update

from dke_geo import config
from dke_geo.context import AppContext
from dke_geo.maps.base import CENTRE, STREAMLIT_ASSETS, localise, render, safe_popup, safe_tooltip
from dke_geo.public import PublicFinding
from dke_geo.services import areas as area_service
from dke_geo.services import maintenance
from dke_geo.store.db import make_engine, migrate, transaction
from dke_geo.store.tables import meta, observations

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = config.load()
SIZES = tuple(int(s) for s in (SETTINGS["DKE_GEO_BENCH_SIZES"] or "10000,100000,1000000").split(","))
DATABASES = tuple(s.strip() for s in (SETTINGS["DKE_GEO_BENCH_DATABASES"] or "sqlite,postgis").split(","))
LABELS = {"sqlite": "SQLite", "postgis": "PostGIS"}
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]
PUBLISHED_SHARE = "1 in 16"

_state: dict = {"stores": {}, "load_s": {}, "server": None, "folder": None, "contexts": []}


def folder() -> Path:
    """The run's temporary folder (removed at exit)."""
    if _state["folder"] is None:
        _state["folder"] = Path(tempfile.mkdtemp(prefix="dke-bench-"))
    return _state["folder"]


def _context(url: str) -> AppContext:
    """A context for the database at `url` (closed when the run ends, unless closed before)."""
    context = AppContext(config.load({**os.environ, "DKE_GEO_DATABASE_URL": url}), make_engine(url))
    _state["contexts"].append(context)
    return context


def empty(db: str, name: str) -> AppContext:
    """The app context of a new, migrated database with the areas and nothing else."""
    if db == "sqlite":
        url = f"sqlite:///{folder() / f'{name}.sqlite'}"
    else:
        server = _server()
        server.admin(f"CREATE DATABASE {name}")
        url = server.url(name)
    context = _context(url)
    migrate(context.engine)
    area_service.seed_if_empty(context)
    return context


def fresh(context: AppContext) -> AppContext:
    """A new context on the database of `context`, as a newly started app has: its own engine (no pooled
    connection) and nothing cached; its column reader's worker started and answering, as the app starts it with
    the context (ui/session.py), so its start-up is not what is timed. Close it after use."""
    new = _context(context.settings.database_url)
    new.columns.start()
    new.columns.frame(select(meta.c.key))
    return new


def fresh_times(ctx, measure, prepare=None, repeat: int = 3) -> tuple[float, object]:
    """The median of `measure(context)` on `repeat` fresh contexts on the database of `ctx` (nothing cached, a new
    engine), each after the untimed `prepare(context)`."""
    times, out = [], None
    for _ in range(repeat):
        context = fresh(ctx)
        try:
            if prepare:
                prepare(context)
            start = time.perf_counter()
            out = measure(context)
            times.append(time.perf_counter() - start)
        finally:
            context.close()
    return statistics.median(times), out


def store(db: str, n: int) -> AppContext:
    """The app context of the shared store of n synthetic findings on `db` ("sqlite" or "postgis"), built on first
    use."""
    return _store(db, n, every=False)


def published_store(db: str, n: int) -> AppContext:
    """The app context of a store like `store(db, n)` in which every finding is published, each with a public text
    of its own (its id in it: no two alike, so none is written once for many in the public page's data), built on
    first use."""
    return _store(db, n, every=True)


def _store(db: str, n: int, every: bool) -> AppContext:
    key = (db, n, every)
    if key not in _state["stores"]:
        context = empty(db, f"{'published' if every else 'store'}_{n}")
        started = time.perf_counter()
        maintenance.load_synthetic(context, n, reports=n // 20)
        _state["load_s"][key] = time.perf_counter() - started
        rows = update(observations)
        if not every:  # ids are random hex: those starting with 0 are 1 in 16
            rows = rows.where(observations.c.id < "1")
        text = "Syntetisk: offentlig tekst om fundet" + (" " + observations.c.id + "." if every else ".")
        with transaction(context.engine) as conn:
            conn.execute(rows.values(published=True, public_text=text))
        print(f"   store {LABELS[db]} {n:,}{', all published' if every else ''}: loaded in "
              f"{time.perf_counter() - started:.0f} s", flush=True)
        _state["stores"][key] = context
    return _state["stores"][key]


def load_seconds(db: str, n: int) -> float:
    """How long the bulk insert of `store(db, n)` took: the no-checks baseline an import is compared with."""
    store(db, n)
    return _state["load_s"][(db, n, False)]


def _server():
    if _state["server"] is None:
        from tests.pgserver import PgServer  # the same throwaway server as the tests

        _state["server"] = PgServer().start()
    return _state["server"]


@atexit.register
def close() -> None:
    """Close every context (their engines and column workers), stop the PostGIS server, remove the folder."""
    for context in _state["contexts"]:
        context.close()
    _state["contexts"].clear()
    _state["stores"].clear()
    if _state["server"] is not None:
        _state["server"].remove()
        _state["server"] = None
    if _state["folder"] is not None:
        shutil.rmtree(_state["folder"], ignore_errors=True)
        _state["folder"] = None


def chromium(playwright):
    """Debian's chromium, headless, launched through Playwright (its own browser download does not work here)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def timed(action: Callable, repeat: int = 1) -> tuple[float, object]:
    """The median wall time of `repeat` runs of `action` (seconds) and its last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def naive_html(findings: Sequence[PublicFinding]) -> str:
    """A plain folium map with one Marker, popup and tooltip per published finding, as HTML with our copies of its
    scripts: the per-marker way the public map is measured against. The popup is bound as Leaflet HTML
    (maps.base.safe_popup): folium's own Popup needs jQuery, which our maps never load, and would not draw."""
    m = folium.Map(location=CENTRE, zoom_start=14, tiles=None)
    for f in findings:
        text = f"{f.category_label}, {f.area}, {f.month}: {f.text}"
        marker = folium.Marker([f.lat, f.lon]).add_to(m)
        safe_popup(html.escape(text)).add_to(marker)
        safe_tooltip(html.escape(text[:40])).add_to(marker)
    return render(localise(m, STREAMLIT_ASSETS))


class Site:
    """Serves a folder on 127.0.0.1 with our static/ at /app/static (as Streamlit does)."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="bench-site-", dir=folder()))
        (self.dir / "app").mkdir()
        (self.dir / "app" / "static").symlink_to(ROOT / "static")
        handler = functools.partial(_QuietHandler, directory=str(self.dir))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, name: str, html: str | None = None) -> str:
        """The address of the file `name` in the served folder, written first when `html` is given."""
        if html is not None:
            (self.dir / name).write_text(html, encoding="utf-8")
        return f"http://127.0.0.1:{self.server.server_port}/{name}"

    def close(self):
        self.server.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def draw_seconds(browser, url: str, *, viewport: tuple[int, int] = (1280, 800), ready: str | None = None,
                 frame: str | None = None, repeat: int = 3, timeout_s: float = 180) -> float:
    """The median of `repeat` draws of `url` in a new page of `browser` (headless chromium) of `viewport`: from
    navigation to the second animation frame after the page (with its frames) has loaded and, if given, the
    JavaScript condition `ready` holds in the frame whose address ends with `frame` (default: the page itself).
    Only 127.0.0.1 is reached: anything else (map tiles) is refused at once."""
    times = []
    for _ in range(repeat):
        page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
        try:
            page.route(lambda u: not u.startswith("http://127.0.0.1"), lambda route: route.abort())
            page.goto(url, wait_until="load", timeout=timeout_s * 1000)
            target = page.frame(url=lambda u: u.endswith(frame)) if frame else page.main_frame
            if ready:
                target.wait_for_function(ready, timeout=timeout_s * 1000)
            drawn = target.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame("
                                    "() => r(performance.timeOrigin + performance.now()))))")
            times.append((drawn - page.evaluate("performance.timeOrigin")) / 1000)
        finally:
            page.close()
    return statistics.median(times)


def machine() -> str:
    """CPU model, cores, RAM, OS, Python and the load average when the benchmark starts (the machine is shared:
    a load above the number of cores slows every figure, the baselines of the same run alike): written at the top
    of each section of bench/RESULTS.md."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB RAM, {platform.platform()}, "
            f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f} at the start")
