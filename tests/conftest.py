"""Test infrastructure: a real SQLite file and a real throwaway PostGIS server (the same tests run on
both through the `engine` fixture), a headless Streamlit server and Debian's Chromium for Playwright.

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
from pathlib import Path

import pytest

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


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def engine(request, tmp_path):
    """The same test on a real SQLite file and on a real PostGIS database."""
    if request.param == "postgis":
        url = request.getfixturevalue("pg_url")
    else:
        url = f"sqlite:///{tmp_path / 'dke_geo.sqlite'}"
    e = make_engine(url)
    migrate(e)
    from dke_geo.services import areas as area_service
    area_service.seed_if_empty(e)
    yield e
    e.dispose()


@pytest.fixture
def demo_engine(engine):
    """`engine` with the demo walks and findings loaded."""
    from dke_geo import fixtures
    fixtures.load_demo(engine)
    return engine


# ---------------------------------------------------------------- Streamlit server
class StreamlitServer:
    def __init__(self, env: dict, port: int | None = None, args: tuple[str, ...] = ()):
        self.args = list(args)  # more `streamlit run` options, e.g. --secrets.files
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **env}
        self.log_path = Path(tempfile.mkstemp(prefix="streamlit-", suffix=".log")[1])

    def start(self):
        self.log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"), "--server.headless=true",
             "--server.address=127.0.0.1", f"--server.port={self.port}", "--browser.gatherUsageStats=false",
             "--server.fileWatcherType=none", *self.args],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 90
        while True:
            try:
                if urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2).read() == b"ok":
                    return self
            except OSError:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"streamlit did not start: {self.log_path.read_text()[-3000:]}")
            time.sleep(0.2)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def prepare_app_data(data_dir: Path, database_url: str = "") -> dict:
    """init-db + demo for an app under test; returns the environment to run it with."""
    env = {"DKE_GEO_DATA_DIR": str(data_dir), "DKE_GEO_DATABASE_URL": database_url, "DKE_GEO_TILE_URL": ""}
    for args in (["init-db"], ["demo", "--if-empty"]):
        subprocess.run([sys.executable, "-m", "dke_geo", *args], cwd=ROOT, env={**os.environ, **env}, check=True,
                       capture_output=True)
    return env


@pytest.fixture(scope="session")
def app_env(tmp_path_factory) -> dict:
    """Environment of the shared app under test: its own SQLite file with the demo data, no tiles."""
    return prepare_app_data(tmp_path_factory.mktemp("appdata"))


@pytest.fixture(scope="session")
def streamlit_url(app_env):
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
    page.set_default_timeout(20_000)
    page.goto(streamlit_url)
    return page
