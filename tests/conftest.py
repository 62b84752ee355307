"""Test infrastructure: a real SQLite file and a real throwaway PostGIS server (the same tests run on
both through the `engine` fixture, and `ctx`/`demo_ctx`, a fresh app context on it), Streamlit's AppTest on a
prepared data folder (`app_test`), real `streamlit run` servers (`streamlit_server`) and Debian's Chromium for
Playwright. Nothing is cleared between tests: each one makes its own context (or its own environment, for the app).

PostGIS and Chromium are required: a missing server or browser fails the run, never skips it
(`.ci/run` installs them; see README).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dke_geo import config
from dke_geo.config import StartupError
from dke_geo.context import AppContext
from dke_geo.errors import DkeError
from dke_geo.roles import SYSTEM
from dke_geo.services import areas as area_service
from dke_geo.store.db import make_engine, migrate
from tests.pgserver import PgServer, PostgisMissing, free_port

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"


# ---------------------------------------------------------------- PostgreSQL + PostGIS (the server: tests/pgserver.py)
@pytest.fixture(scope="session")
def pg_server():
    try:
        server = PgServer()
    except PostgisMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    server.start()
    try:
        server.admin("CREATE DATABASE dke_template")
        template = make_engine(server.url("dke_template"))
        migrate(template)  # creates the postgis extension and the schema once
        template.dispose()
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.tmp, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server) -> str:
    """A fresh, migrated PostGIS database for one test."""
    return pg_server.new_database("t", template="dke_template")


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'dke_geo.sqlite'}"


def open_database(url: str) -> AppContext:
    """A fresh app context on the database at `url`, migrated and holding the shipped area outlines: the database
    as init-db leaves it (without init-db's sweep of the data folder, which belongs to the process environment)."""
    engine = make_engine(url)
    migrate(engine)
    context = AppContext(config.load({"DKE_GEO_DATABASE_URL": url}), engine)
    area_service.seed_if_empty(context)
    return context


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def engine(request, tmp_path):
    """The same test on a real SQLite file and on a real PostGIS database (migrated, areas seeded)."""
    if request.param == "postgis":
        url = request.getfixturevalue("pg_url")
    else:
        url = f"sqlite:///{tmp_path / 'dke_geo.sqlite'}"
    context = open_database(url)
    yield context.engine
    context.close()


@pytest.fixture
def ctx(engine):
    """A fresh app context on `engine` (so on both databases), as the app and the CLI make one."""
    context = AppContext(config.load({"DKE_GEO_DATABASE_URL": engine.url.render_as_string(hide_password=False)}),
                         engine)
    yield context
    context.columns.close()


@pytest.fixture
def demo_ctx(ctx) -> AppContext:
    """`ctx` with the demo walks, findings, fixes and accounts loaded."""
    from dke_geo.services import maintenance
    maintenance.load_demo(ctx)
    return ctx


@pytest.fixture
def demo_engine(demo_ctx):
    """The engine of `demo_ctx`, for tests that work on the store directly."""
    return demo_ctx.engine


# ---------------------------------------------------------------- the app's data, its context, AppTest
APP = ROOT / "streamlit_app.py"


def prepare_app_data(data_dir: Path, database_url: str = "") -> dict:
    """init-db + demo through the command line, as an operator prepares the app (the app itself no longer
    migrates: it refuses a database without the newest migration); returns the environment to run it with. The
    demo is asked for by name, as a database named by DKE_GEO_DATABASE_URL gets it only then."""
    env = {"DKE_GEO_DATA_DIR": str(data_dir), "DKE_GEO_DATABASE_URL": database_url, "DKE_GEO_TILE_URL": ""}
    for args in (["init-db"], ["demo"]):
        subprocess.run([sys.executable, "-m", "dke_geo", *args], cwd=ROOT, env={**os.environ, **env}, check=True,
                       capture_output=True)
    return env


@contextmanager
def context_for(env: dict) -> Iterator[AppContext]:
    """A fresh app context on the database of an app under test (to prepare or check its data from the test),
    closed afterwards."""
    context = AppContext.open(config.load(env))
    try:
        yield context
    finally:
        context.close()


def log_in(at: AppTest, env: dict, actor) -> AppTest:
    """Log `actor` into the AppTest's tab on the database of the app with environment `env`: a real session, as
    the login box starts one, which the app checks at every run (a page script run alone reads only the actor).
    The account is made with the actor's role if it does not exist (a demo account does)."""
    import secrets

    from dke_geo.services import sessions
    from dke_geo.services import users as user_service
    from dke_geo.ui import auth
    with context_for(env) as context:
        accounts = {u["name"]: u["role"] for u in user_service.list_users(context, SYSTEM)}
        if actor.name not in accounts:
            user_service.add_user(context, SYSTEM, actor.name, actor.role, secrets.token_urlsafe(16))
        else:
            assert accounts[actor.name] == actor.role.value, f"{actor.name} has the role {accounts[actor.name]}"
        at.session_state[auth.SESSION] = sessions.start(context, actor)
    at.session_state["actor"] = actor
    return at


@pytest.fixture
def app_test(monkeypatch):
    """Factory for Streamlit's AppTest on a prepared data folder: `app_test(env, script=APP, actor=None)` sets the
    environment `env` (from prepare_app_data, or any init-db'ed folder) for this test and returns the AppTest of
    `script` (a file, default the whole app, or a function run with `args`), with `actor` (an account of that
    database) logged in (`log_in`) and `timeout` seconds for each run, not yet run.

    The app makes one context per configuration (ui/session.py), so a test with its own data folder gets its own
    context and nothing is cleared between tests. At the end the contexts this test used release what they hold
    (connections, the column reader's worker process); they stay usable for the next test on the same data."""
    used: list[dict] = []

    def make(env: dict, script: str | Path | Callable = APP, *, actor=None, args: tuple = (),
             timeout: float = 60) -> AppTest:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        used.append(env)
        if callable(script):
            at = AppTest.from_function(script, args=args, default_timeout=timeout)
        else:
            at = AppTest.from_file(str(script), default_timeout=timeout)
        return at if actor is None else log_in(at, env, actor)

    yield make
    from dke_geo.ui import session
    for env in used:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        # a bad setting or an unprepared or unreachable database: the app made no context to close
        with suppress(StartupError, session.NotReady, DkeError):
            session.context().close()


# ---------------------------------------------------------------- Streamlit server
def answers_ok(url: str, proc: subprocess.Popen, seconds: float, get=urllib.request.urlopen) -> bool:
    """Poll `url` (with `get`) until it answers b"ok", as a server's health endpoint does once it serves: True then,
    False when `proc` (the server) has exited or `seconds` have passed."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if get(url, timeout=2).read() == b"ok":
                return True
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.2)


class StreamlitServer:
    """A real `streamlit run` of the app (or of another `script`) with the environment `env`, on its own port."""

    def __init__(self, env: dict, port: int | None = None, args: tuple[str, ...] = (), script: Path = APP):
        self.args = list(args)  # more `streamlit run` options, e.g. --secrets.files
        self.script = script
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **env}
        self.log_path = Path(tempfile.mkstemp(prefix="streamlit-", suffix=".log")[1])

    def start(self):
        self.log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(self.script), "--server.headless=true",
             "--server.address=127.0.0.1", f"--server.port={self.port}", "--browser.gatherUsageStats=false",
             "--server.fileWatcherType=none", *self.args],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        if not answers_ok(f"{self.url}/_stcore/health", self.proc, 90):
            self.stop()
            raise RuntimeError(f"streamlit did not start: {self.log_path.read_text()[-3000:]}")
        return self

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()


@pytest.fixture(scope="module")
def streamlit_server():
    """Factory: `streamlit_server(env, port=None, args=())` starts a real `streamlit run` of the app with `env`
    (a prepared data folder: prepare_app_data) and returns it (`.url`, `.port`); every server it started is
    stopped when the test module is done."""
    started: list[StreamlitServer] = []

    def start(env: dict, port: int | None = None, args: tuple[str, ...] = ()) -> StreamlitServer:
        server = StreamlitServer(env, port, args)
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def app_env(tmp_path_factory) -> dict:
    """Environment of the shared app under test: its own SQLite file with the demo data, no tiles."""
    return prepare_app_data(tmp_path_factory.mktemp("appdata"))


@pytest.fixture(scope="session")
def streamlit_url(app_env):
    """The shared app under test (read-only browser tests use it; one that changes data starts its own)."""
    server = StreamlitServer(app_env).start()
    try:
        yield server.url
    finally:
        server.stop()


# ---------------------------------------------------------------- Playwright on Debian's Chromium
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian chromium is required for the browser tests: apt-get install chromium", pytrace=False)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}, "locale": "da-DK"}


@pytest.fixture
def external_requests(page):
    """Every request the page makes to a host other than the app: must stay empty (no CDNs)."""
    seen: list[str] = []

    def check(route):
        seen.append(route.request.url)
        route.abort()

    page.context.route(lambda url: not url.startswith(("http://127.0.0.1", "http://localhost", "data:", "blob:")),
                       check)
    return seen


@pytest.fixture
def app_page(page, streamlit_url, external_requests):
    """The shared app's first page, open in Chromium."""
    from tests.e2e.helpers import WAIT
    page.set_default_timeout(WAIT)
    page.goto(streamlit_url)
    return page


# ---------------------------------------------------------------- a real SMTP server (tests/smtp_server.py)
@pytest.fixture
def smtp_server(tmp_path):
    """A real SMTP server on 127.0.0.1 with STARTTLS and AUTH, started; stopped after the test."""
    from tests.smtp_server import SmtpServer
    server = SmtpServer(tmp_path).start()
    yield server
    server.stop()
