"""What the browser tests share: the one timeout they wait with, logging in on the login page as one of the demo
accounts (or any account with its password), waiting for conditions (the app idle, the page settled) instead of for
a fixed time, and looking into the app's process from outside (its open files, locks and mapped libraries, from
/proc)."""
import functools
import http.server
import mmap
import os
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from playwright.sync_api import Frame, Page, expect

from dke_geo.fixtures import DEMO_USERS
from dke_geo.services.sessions import COOKIE

WAIT = 30_000
"""Milliseconds any browser test waits for something to show (a first page load on a busy CI machine included)."""
PASSWORDS = {name: password for name, _role, password in DEMO_USERS}
LOGGED_OUT = "Du er logget ud (i denne eller en anden fane eller browser). Log ind igen for at fortsætte."
"""What a tab says at its next interaction when its login was ended by a logout (its own, or a copy's)."""


def login(page: Page, name: str = "demo-medarbejder", *, password: str | None = None) -> None:
    """Log in on the login page (the public map's "Medarbejder-login" link leads there) of the app that is open, as
    a demo account or as any account with its `password`; the app then shows the role's start page."""
    page.goto(re.match(r"https?://[^/]+", page.url).group(0) + "/login")
    page.get_by_label("Brugernavn").fill(name)
    page.get_by_label("Adgangskode").fill(password or PASSWORDS[name])
    page.get_by_role("button", name="Log ind").click()
    page.wait_for_function("() => !location.pathname.endsWith('/login')", timeout=WAIT)  # sent on to the start page
    wait_for_login_cookie(page)


def wait_for_login_cookie(page: Page) -> None:
    """The login cookie is written by a component after the page shows the login: a test that goes to another URL
    next needs it there."""
    wait_for_app_run(page)
    page.wait_for_function("name => document.cookie.split('; ').some(c => c.startsWith(name + '='))", arg=COOKIE,
                           timeout=WAIT)


def wait_for_app_run(page: Page) -> None:
    """Wait until the app is connected and its script is not running (Streamlit's own marker on its root element,
    which its end-to-end tests wait on): every rerun asked for so far has finished."""
    expect(page.locator('[data-testid="stApp"][data-test-connection-state="CONNECTED"]')).to_have_count(
        1, timeout=WAIT)
    expect(page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]')).to_have_count(
        1, timeout=WAIT)
    expect(page.get_by_test_id("stStatusWidget")).to_be_hidden(timeout=WAIT)


_SETTLED = """() => new Promise(done => {
  // Every image has loaded or failed (an injected onerror handler has had its turn), then two frames later
  // (anything a handler scheduled has run).
  const pending = [...document.images].filter(img => !img.complete);
  const loaded = img => new Promise(r => { img.addEventListener("load", r); img.addEventListener("error", r); });
  Promise.all(pending.map(loaded))
    .then(() => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(() => done(true), 0))));
})"""


def settle(page: Page) -> None:
    """Wait, in the page and in each of its frames, until every image has loaded or failed and the handlers that
    fired have run: a dialog that an injected text could raise (an `<img onerror>`, a handler on a popup's
    element) has been raised by then."""
    frames: list[Frame] = [page.main_frame, *[f for f in page.frames if f != page.main_frame]]
    for frame in frames:
        frame.evaluate(_SETTLED)


def open_files(pid: int) -> list[str]:
    """What the process has open: the targets of /proc/PID/fd (a deleted file ends in ' (deleted)')."""
    out = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with suppress(FileNotFoundError):  # closed meanwhile
            out.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
    return out


def locked_inodes(pid: int) -> set[int]:
    """The inodes on which the process holds a POSIX (fcntl) lock, from /proc/locks."""
    inodes = set()
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if fields[1] == "POSIX" and fields[4] == str(pid):
            inodes.add(int(fields[5].rsplit(":", 1)[1]))
    return inodes


def mapped_files(pid: int) -> set[str]:
    """The files mapped into the process's memory (its shared libraries among them), from /proc/PID/maps."""
    return {fields[5] for fields in (line.split(maxsplit=5) for line in Path(f"/proc/{pid}/maps").read_text()
                                     .splitlines()) if len(fields) == 6}


def sqlite_libraries(pid: int) -> list[str]:
    """The shared libraries mapped into the process that carry a SQLite library of their own, whatever their name
    (pyogrio's GDAL, say, has one linked in): those holding SQLite's file header string, which its B-tree code
    compiles in (bindings such as Python's _sqlite3 module only call a SQLite and do not hold it)."""
    found = []
    for path in sorted(mapped_files(pid)):
        if ".so" in Path(path).name and Path(path).is_file():
            with open(path, "rb") as file, mmap.mmap(file.fileno(), 0, prot=mmap.PROT_READ) as data:
                if data.find(b"SQLite format 3\x00") >= 0:
                    found.append(path)
    return found


def open_from_menu(page: Page, label: str) -> None:
    """Open a page from the top menu as a user does: its link in the menu itself, or under the Danish "Mere"
    section (the pages a role uses less, dke_geo/ui/navigation.py); then wait for the page to have run."""
    link = page.get_by_test_id("stTopNavLink").filter(has_text=label)
    if not link.count():
        page.get_by_test_id("stTopNavSection").filter(has_text="Mere").click()
        link = page.get_by_role("menuitem", name=label)
    link.first.click()
    wait_for_app_run(page)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@contextmanager
def serving(folder: Path) -> Iterator[str]:
    """`folder` served over http on 127.0.0.1, as a web host serves the static site: its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_QuietHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def start_walk(page: Page) -> str:
    """Start a walk in Blokland from the recording page (a fresh title each time); returns its title."""
    title = f"Aftenvandring {uuid.uuid4().hex[:6]}"
    expect(page.get_by_role("heading", name="Seneste vandringer")).to_be_visible()
    start = page.locator('[data-testid="stExpander"] details').first
    if start.get_attribute("open") is None:  # closed while another walk is open
        start.locator("summary").click()
    expect(page.get_by_label("Titel")).to_be_editable()
    page.get_by_label("Titel").fill(title)
    page.get_by_role("button", name="Blokland", exact=True).click()
    expect(page.get_by_role("button", name="Blokland", exact=True)).to_have_attribute("aria-pressed", "true")
    page.get_by_role("button", name="Start vandringen").click()
    expect(page.get_by_text(title).first).to_be_visible()
    expect(field_map(page).locator(".leaflet-container")).to_be_visible()
    return title


def field_map(page: Page):
    """The recording page's map frame."""
    return page.frame_locator('iframe[title="streamlit_folium.st_folium"]')


def tap_map(page: Page, fx: float, fy: float) -> tuple[float, float]:
    """Tap the map at a fraction of its size; returns the (lon, lat) Leaflet itself reports for the tap."""
    container = field_map(page).locator(".leaflet-container")
    container.scroll_into_view_if_needed()
    box = container.bounding_box()
    frame = page.locator('iframe[title="streamlit_folium.st_folium"]').element_handle().content_frame()
    frame.evaluate("() => window.map.once('click', e => { window.dkeTap = [e.latlng.lng, e.latlng.lat]; })")
    container.click(position={"x": box["width"] * fx, "y": box["height"] * fy})
    expect(field_map(page).locator(".dke-pending")).to_be_visible()
    expect(page.get_by_text("(Tryk på kortet)")).to_be_visible()
    return tuple(frame.evaluate("() => window.dkeTap"))
