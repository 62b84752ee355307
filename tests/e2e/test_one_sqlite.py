"""One SQLite library per process touches the database file (STYLE.md, habit 17), checked on the running app after
every page has been used: recording a finding, the Hotspots map (the column read), the fix board, publishing, an
export to GeoPackage and a PDF report.

Why it matters: POSIX locks belong to the process, so if a second SQLite library in the app's process opens and
closes the database file, the app's own locks are gone and another process may delete the write-ahead log under
it (tests/e2e/test_side_by_side.py shows what that lost). The app's process holds Python's sqlite3 (under
SQLAlchemy) for the database. ADBC's SQLite driver, the fast column reader, must never be loaded there: it runs
in its own process (store/column_worker.py). Two more SQLite copies are loaded and that is fine, because neither
can reach the database file:
- PROJ's, bundled with pyproj (coordinate transformations), opens only its own `proj.db`;
- GDAL's, linked into pyogrio's libgdal (its name does not say so; the test finds SQLite by the file header string
  its code carries), opens GeoPackages: the exports write a new file in a temporary folder of their
  own (services/exports.py), and files a user names (imports, area outlines, export and backup targets) are
  refused when they are the database or its companion files before any reader or writer opens them
  (AppContext.refuse_database_file; tests/test_database_file_refused.py).
WeasyPrint (PDF reports) brings Pango, HarfBuzz and fontconfig, none of which holds a SQLite copy; the test lists
every mapped library that carries a SQLite, and fails on one it does not know.

What the test sees from outside, in /proc: the libraries the app maps, the SQLite files it holds open (the
database and PROJ's proj.db, nothing else), and that its lock on the database survived the export and the report.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.conftest import prepare_app_data
from tests.e2e.helpers import WAIT, locked_inodes, login, mapped_files, open_files, sqlite_libraries
from tests.e2e.test_side_by_side import _open_hotspots, _save_finding

pytestmark = pytest.mark.browser
KNOWN_SQLITE_COPIES = {
    "Python's sqlite3 (the app's database)": re.compile(r"^/usr/lib/[^/]+/libsqlite3\.so[.0-9]*$"),
    "PROJ's, in pyproj (its proj.db only)": re.compile(r"/site-packages/pyproj\.libs/libsqlite3-[^/]+\.so[.0-9]*$"),
    "GDAL's, linked into pyogrio's libgdal (GeoPackages)": re.compile(
        r"/site-packages/pyogrio\.libs/libgdal-[^/]+\.so[.0-9]*$"),
}


class _App:
    def __init__(self, server, env):
        self.server, self.env = server, env
        self.database = Path(env["DKE_GEO_DATA_DIR"]) / "dke_geo.sqlite"


@pytest.fixture(scope="module")
def app(tmp_path_factory, streamlit_server) -> _App:
    env = prepare_app_data(tmp_path_factory.mktemp("one_sqlite"))
    return _App(streamlit_server(env), env)


def _sqlite_files(paths: list[str]) -> set[str]:
    """Which of the open files are SQLite databases (by their header)."""
    found = set()
    for path in paths:
        if path.startswith("/") and not path.endswith("(deleted)") and Path(path).is_file():
            with open(path, "rb") as file:
                if file.read(16) == b"SQLite format 3\x00":
                    found.add(path)
    return found


def test_the_app_never_loads_adbc_sqlite_and_no_other_sqlite_opens_the_database(browser: Browser, app, capsys):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="da-DK", accept_downloads=True)
    context.route(lambda u: not u.startswith(("http://127.0.0.1", "data:", "blob:")), lambda route: route.abort())
    page = context.new_page()
    page.set_default_timeout(WAIT)
    expect.set_options(timeout=WAIT)
    pid = app.server.proc.pid
    try:
        page.goto(app.server.url)
        login(page, "demo-admin")                                   # every page is open to the admin
        _save_finding(page, app, "Én SQLite pr. proces")             # recording
        _open_hotspots(page, app)                                   # the column read
        page.goto(f"{app.server.url}/fixes")
        expect(page.get_by_role("heading", name="Løsningsforslag: fra forslag til kontrolleret løsning")
               ).to_be_visible()
        page.goto(f"{app.server.url}/publish")
        expect(page.get_by_role("heading", name="Offentliggørelse af fund")).to_be_visible()
        expect(page.get_by_role("button", name="Offentliggør", exact=True)).to_be_visible()
        page.goto(f"{app.server.url}/data")
        page.get_by_role("tab", name="Eksport").click()
        page.get_by_role("button", name="Lav eksporten").click()    # GeoPackage, the default: GDAL writes it
        expect(page.get_by_role("button", name=re.compile(r"^Hent dke-geo-all-.*\.gpkg$"))).to_be_visible()
        page.get_by_role("tab", name="Rapporter").click()
        page.get_by_role("button", name="Halvår (PDF)").click()     # WeasyPrint
        expect(page.get_by_role("button", name=re.compile(r"^Hent .*report\.pdf$"))).to_be_visible()
        expect(page.get_by_test_id("stException")).to_have_count(0)

        assert not [p for p in mapped_files(pid) if "adbc_driver_sqlite" in p]   # ADBC's SQLite: never here
        libraries = sqlite_libraries(pid)
        with capsys.disabled():
            print("\nLibraries carrying a SQLite in the app's process:", *libraries, sep="\n  ")
        unknown = [p for p in libraries if not any(rule.search(p) for rule in KNOWN_SQLITE_COPIES.values())]
        assert unknown == [], f"a SQLite copy nobody has checked: {unknown}"
        assert len(libraries) == len(KNOWN_SQLITE_COPIES), libraries

        opened = open_files(pid)
        others = _sqlite_files(opened) - {str(app.database)}
        assert str(app.database) in opened and {Path(p).name for p in others} <= {"proj.db"}, others
        assert app.database.stat().st_ino in locked_inodes(pid)    # no other SQLite opened and closed it
        assert not [f for f in opened if "dke_geo.sqlite" in f and f.endswith("(deleted)")], opened
    finally:
        context.close()
