"""Two app servers, one database: two `streamlit run` processes on different ports against one PostGIS database
(and one photo folder), as behind a load balancer. A finding saved on a tablet served by one appears on the
walk map of a tablet served by the other at its next rerun, and both see the same walk."""
from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from dke_geo.store.db import make_engine, reading
from dke_geo.store.tables import observations, walks
from tests.conftest import prepare_app_data
from tests.e2e.helpers import WAIT, field_map, login, start_walk, tap_map, wait_for_app_run

pytestmark = [pytest.mark.browser, pytest.mark.postgis]


@pytest.fixture(scope="module")
def two_servers(pg_server, tmp_path_factory, streamlit_server):
    """Servers A and B on their own ports, one PostGIS database with the demo data, one data folder."""
    name = f"two_{uuid.uuid4().hex[:8]}"
    pg_server.admin(f"CREATE DATABASE {name}")
    env = prepare_app_data(tmp_path_factory.mktemp("two_servers"), pg_server.url(name))
    servers = [streamlit_server(env), streamlit_server(env)]
    assert servers[0].port != servers[1].port
    return [s.url for s in servers], env["DKE_GEO_DATABASE_URL"]


def _tablet(browser: Browser, url: str) -> Page:
    """A tablet of its own (own cookies) logged in as staff on `url`'s recording page."""
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="da-DK")
    context.route(lambda u: not u.startswith(("http://127.0.0.1", "data:", "blob:")), lambda route: route.abort())
    page = context.new_page()
    page.set_default_timeout(WAIT)
    page.goto(url)
    login(page)
    page.goto(f"{url}/record")
    expect(page.get_by_role("heading", name="Registrér fund")).to_be_visible(timeout=WAIT)
    return page


def _walk_id(database_url: str, title: str) -> str:
    engine = make_engine(database_url)
    try:
        with reading(engine) as conn:
            return conn.execute(select(walks.c.id).where(walks.c.title == title)).scalar_one()
    finally:
        engine.dispose()


def _findings(database_url: str, walk_id: str) -> list:
    engine = make_engine(database_url)
    try:
        with reading(engine) as conn:
            return conn.execute(select(observations).where(observations.c.walk_id == walk_id)).fetchall()
    finally:
        engine.dispose()


def test_a_finding_saved_on_one_server_appears_on_the_other(browser: Browser, two_servers):
    (url_a, url_b), database_url = two_servers
    a, b = _tablet(browser, url_a), _tablet(browser, url_b)
    try:
        expect.set_options(timeout=WAIT)
        title = start_walk(a)                               # server A starts the walk ...
        walk_id = _walk_id(database_url, title)
        b.reload()                                           # ... and B lists it: the other tablet joins the walk
        expect(b.get_by_text(title).first).to_be_visible()
        b.locator(f".st-key-record_open_{walk_id} button").click()
        expect(field_map(b).locator(".leaflet-container")).to_be_visible()
        expect(b.get_by_text("Vandringens fund (0)")).to_be_visible()
        expect(field_map(b).locator(".dke-pin")).to_have_count(0)

        tap_map(a, 0.5, 0.5)                                    # a finding saved through A
        a.get_by_role("radio", name="Belysning", exact=True).click()
        a.get_by_label("Intern note").fill("Gemt via server A")
        a.get_by_role("button", name="Gem fund").click()
        expect(a.get_by_text("Gemt kl.").first).to_be_visible()
        (row,) = _findings(database_url, walk_id)

        wait_for_app_run(b)
        expect(field_map(b).locator(".dke-pin")).to_have_count(0)   # B has not rerun since
        b.get_by_role("heading", name="Registrér fund").click()   # focus on the page, not in a field
        b.keyboard.press("r")                                # a rerun on B (Streamlit's rerun key) ...
        expect(field_map(b).locator(f'.dke-pin[data-obs="{row.id}"]')).to_be_visible()   # ... shows it on B's map
        expect(b.get_by_text("Vandringens fund (1)")).to_be_visible()
        expect(b.get_by_text("Gemt via server A")).to_be_visible()
        expect(b.get_by_test_id("stException")).to_have_count(0)
    finally:
        a.context.close()
        b.context.close()
