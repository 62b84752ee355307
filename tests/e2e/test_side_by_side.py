"""The app and the command line side by side, on SQLite and on PostGIS: what the app stores while an operator runs
commands beside it is in the database at once, for every other process, and in a backup taken then.

This is how issue 13 lost data: the Hotspots page read its columns through ADBC's SQLite driver inside the app
process, a second SQLite library that opened and closed the database file there. POSIX locks belong to the process,
so that close dropped the app's own locks, and the next process to open and close the database (`user list`,
`init-db`, a sqlite3 shell) believed itself the last one, checkpointed and deleted the write-ahead log the app kept
writing into. Saves, publications and logins then reached only the deleted file: invisible to other processes,
missing from backups, lost in a crash. So the test does what the user did: a planner opens the Hotspots page in
Chromium (the column read) on a real `streamlit run`, the operator runs `user list`, `init-db` and Python's sqlite3
beside it, and then staff save a finding, a planner publishes it, users log in, an account is removed and a backup
is taken; a separate process reads each of them at once, and the backup, restored into an empty database, holds
them all. On SQLite it also checks the app's process directly: it still holds its lock on the database file, and
none of its open files is a deleted database file or log. (What a removed user's open tab may still do belongs to
the sessions' tests; here only the database's side of `user remove`.)
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import ROOT, StreamlitServer, prepare_app_data
from tests.e2e.helpers import WAIT, locked_inodes, login, open_files, start_walk, tap_map

pytestmark = pytest.mark.browser


@dataclass
class App:
    """A running app (`streamlit run`) and the environment its commands run with."""
    server: StreamlitServer
    env: dict

    @property
    def pid(self) -> int:
        return self.server.proc.pid

    @property
    def sqlite_file(self) -> Path | None:
        return None if self.env["DKE_GEO_DATABASE_URL"] else Path(self.env["DKE_GEO_DATA_DIR"]) / "dke_geo.sqlite"


@pytest.fixture(scope="module")
def sqlite_app(tmp_path_factory, streamlit_server) -> App:
    env = prepare_app_data(tmp_path_factory.mktemp("side_by_side"))
    return App(streamlit_server(env), env)


@pytest.fixture(scope="module")
def postgis_app(pg_server, tmp_path_factory, streamlit_server) -> App:
    name = f"side_{uuid.uuid4().hex[:8]}"
    pg_server.admin(f"CREATE DATABASE {name}")
    env = prepare_app_data(tmp_path_factory.mktemp("side_by_side_pg"), pg_server.url(name))
    return App(streamlit_server(env), env)


@pytest.fixture
def empty_database(request, tmp_path):
    """`empty_database(app)`: the URL of a new, empty database of the app's kind to restore a backup into (a new
    SQLite file; a new database on the tests' PostGIS server)."""
    def make(app: App) -> str:
        if app.sqlite_file:
            return f"sqlite:///{tmp_path / 'restored' / 'dke_geo.sqlite'}"
        return request.getfixturevalue("pg_server").new_database("restored")
    return make


# ---------------------------------------------------------------- the other processes
def _cli(env: dict, *args: str, stdin: str | None = None) -> str:
    """`python -m dke_geo ARGS` in a process of its own, as an operator runs it beside the app."""
    done = subprocess.run([sys.executable, "-m", "dke_geo", *args], cwd=ROOT, env={**os.environ, **env}, input=stdin,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


_QUERY = """
import json, sys
from sqlalchemy import text
from dke_geo.store.db import make_engine, reading
engine = make_engine(sys.argv[1])
with reading(engine) as conn:
    print(json.dumps([list(row) for row in conn.execute(text(sys.argv[2]), json.loads(sys.argv[3]))], default=str))
"""


def _elsewhere(database_url: str, sql: str, **params) -> list[list]:
    """The rows of `sql`, read by a process of its own that opens the database, reads and closes it."""
    done = subprocess.run([sys.executable, "-c", _QUERY, database_url, sql, json.dumps(params)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _sqlite_shell(path: Path) -> None:
    """Python's sqlite3 in a process of its own: opens the file, reads, closes (as the sqlite3 shell does)."""
    subprocess.run([sys.executable, "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
                    "c.execute('SELECT count(*) FROM walks').fetchone(); c.close()", str(path)], check=True, timeout=60)


def _url(env: dict) -> str:
    return env["DKE_GEO_DATABASE_URL"] or f"sqlite:///{Path(env['DKE_GEO_DATA_DIR']) / 'dke_geo.sqlite'}"


# ---------------------------------------------------------------- the app's process, seen from outside
def _assert_app_holds_the_database(app: App) -> None:
    """The app's database file and its log exist, the app has them open, none of its open files is a deleted
    database file, and it still holds its lock on the database file (which other processes' close relies on)."""
    database, wal = app.sqlite_file, app.sqlite_file.with_name("dke_geo.sqlite-wal")
    assert wal.exists(), "the write-ahead log was deleted under the running app"
    opened = open_files(app.pid)
    assert not [f for f in opened if "dke_geo.sqlite" in f and f.endswith("(deleted)")], opened
    assert str(database) in opened and str(wal) in opened, opened
    assert database.stat().st_ino in locked_inodes(app.pid), "the app lost its lock on the database file"


# ---------------------------------------------------------------- the people in the browser
def _session(browser: Browser, app: App, name: str, *, tablet: bool = False) -> Page:
    """A browser of its own (own cookies) with `name` logged in."""
    size = {"width": 768, "height": 1024} if tablet else {"width": 1280, "height": 900}
    context = browser.new_context(viewport=size, locale="da-DK")
    context.route(lambda u: not u.startswith(("http://127.0.0.1", "data:", "blob:")), lambda route: route.abort())
    page = context.new_page()
    page.set_default_timeout(WAIT)
    page.goto(app.server.url)
    login(page, name)
    return page


def _open_hotspots(page: Page, app: App) -> None:
    """The planner's map: its findings are read as whole columns (store/columnar.py)."""
    page.goto(f"{app.server.url}/hotspots")
    expect(page.get_by_role("heading", name="Hotspots: hvor skal vi handle først?")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^\d+ fund og 0 indmeldte hændelser i filteret\.$"))).to_be_visible()
    expect(page.frame_locator('iframe[title="Hotspots: hvor skal vi handle først?"]').locator(".leaflet-container")
           ).to_be_visible()


def _save_finding(page: Page, app: App, note: str) -> str:
    """Staff start a walk and save one finding with `note`; returns the walk's title."""
    page.goto(f"{app.server.url}/record")
    expect(page.get_by_role("heading", name="Registrér fund")).to_be_visible()
    title = start_walk(page)
    tap_map(page, 0.5, 0.5)
    page.get_by_role("radio", name="Belysning", exact=True).click()
    page.get_by_label("Intern note").fill(note)
    page.get_by_role("button", name="Gem fund").click()
    expect(page.get_by_text("Gemt kl.").first).to_be_visible()
    return title


def _publish_walk_finding(page: Page, app: App, walk_title: str) -> None:
    """The planner publishes the (only) finding of the walk with the suggested public text."""
    page.goto(f"{app.server.url}/publish")
    expect(page.get_by_role("heading", name="Offentliggørelse af fund")).to_be_visible()
    page.get_by_role("combobox", name="Vandring").click()
    page.get_by_role("option", name=walk_title).click()
    expect(page.get_by_role("button", name="Offentliggør hele vandringen (1 fund)")).to_be_visible()
    page.get_by_role("button", name="Offentliggør", exact=True).click()
    expect(page.get_by_text("Offentliggjort.", exact=True)).to_be_visible()


# ---------------------------------------------------------------- the test
def _side_by_side(browser: Browser, app: App, tmp_path: Path, empty_url: str) -> None:
    url = _url(app.env)
    note = f"Side om side {uuid.uuid4().hex[:8]}"
    planner = _session(browser, app, "demo-planlaegger")
    staff = None
    try:
        expect.set_options(timeout=WAIT)
        _open_hotspots(planner, app)                       # the planner's map: the column read ...
        assert "demo-planlaegger" in _cli(app.env, "user", "list")   # ... and the operator beside it
        _cli(app.env, "init-db")
        if app.sqlite_file:
            _sqlite_shell(app.sqlite_file)
            _assert_app_holds_the_database(app)

        logins = "SELECT count(*) FROM login_attempts WHERE name = :name AND success"
        [[before]] = _elsewhere(url, logins, name="demo-medarbejder")
        staff = _session(browser, app, "demo-medarbejder", tablet=True)   # a login ...
        assert _elsewhere(url, logins, name="demo-medarbejder") == [[before + 1]]   # ... stored for everyone at once

        walk_title = _save_finding(staff, app, note)       # a save ...
        found = _elsewhere(url, "SELECT id, published FROM observations WHERE internal_note = :note", note=note)
        assert len(found) == 1 and not found[0][1]         # ... seen by another process at once
        obs_id = found[0][0]

        _publish_walk_finding(planner, app, walk_title)    # a publication ...
        published = "SELECT id FROM observations WHERE published AND id = :id"
        assert _elsewhere(url, published, id=obs_id) == [[obs_id]]
        events = "SELECT action, by FROM publication_events WHERE observation_id = :id"
        assert _elsewhere(url, events, id=obs_id) == [["published", "demo-planlaegger"]]   # ... and its record

        _cli(app.env, "user", "add", "midlertidig", "--role", "staff", "--password-stdin",
             stdin="midlertidig-2024\n")
        _cli(app.env, "user", "remove", "midlertidig")     # an account removed beside the app ...
        assert "midlertidig" not in _cli(app.env, "user", "list")
        assert _elsewhere(url, "SELECT name FROM users WHERE name = 'midlertidig'") == []   # ... gone for everyone
        if app.sqlite_file:
            _sqlite_shell(app.sqlite_file)
            _assert_app_holds_the_database(app)

        archive = tmp_path / "backup.zip"                  # a backup taken while the app runs ...
        _cli(app.env, "backup", "--out", str(archive))
        restored = {"DKE_GEO_DATA_DIR": str(tmp_path / "restored"), "DKE_GEO_DATABASE_URL": empty_url}
        _cli(restored, "restore", str(archive))            # ... restored into an empty database holds it all
        assert _elsewhere(empty_url, "SELECT id FROM observations WHERE internal_note = :note", note=note) == [[obs_id]]
        assert _elsewhere(empty_url, published, id=obs_id) == [[obs_id]]
        assert _elsewhere(empty_url, events, id=obs_id) == [["published", "demo-planlaegger"]]
        assert _elsewhere(empty_url, logins, name="demo-medarbejder") == [[before + 1]]
        assert _elsewhere(empty_url, "SELECT name FROM users WHERE name = 'midlertidig'") == []
    finally:
        planner.context.close()
        if staff is not None:
            staff.context.close()


def test_sqlite_the_app_and_the_command_line_side_by_side_lose_nothing(browser: Browser, sqlite_app, tmp_path,
                                                                        empty_database):
    _side_by_side(browser, sqlite_app, tmp_path, empty_database(sqlite_app))


@pytest.mark.postgis
def test_postgis_the_app_and_the_command_line_side_by_side_lose_nothing(browser: Browser, postgis_app, tmp_path,
                                                                        empty_database):
    _side_by_side(browser, postgis_app, tmp_path, empty_database(postgis_app))
