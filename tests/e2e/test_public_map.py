"""The residents' map and list in Debian chromium, on the demo (DKE's first half of 2017, a share published): the map
opens on the published findings; the list and the map are linked both ways; everything on the static site can be
reached and used with the keyboard alone, with a visible focus; a resident answers "Er det stadig et problem?" from
the list with the keyboard, and a client answering too often is held back with the text kept."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Frame, Page, expect
from sqlalchemy import func, select

from dke_geo.services import answers
from dke_geo.services import public as public_service
from dke_geo.store.db import reading
from dke_geo.store.tables import resident_answers
from tests.conftest import context_for, prepare_app_data
from tests.e2e.helpers import WAIT, serving, wait_for_app_run

pytestmark = pytest.mark.browser
FRAME = 'iframe[title="Kort og liste over fundene"]'

# What has the keyboard's focus, and whether it shows: an outline of at least 2 px that is not "none".
FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return {tag: el.tagName, id: el.id, cls: String(el.className || ""),
          text: (el.innerText || el.value || "").slice(0, 40),
          label: el.getAttribute("aria-label") || "", key: el.closest("[data-key]")?.dataset.key || "",
          visible: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2};
}"""


@pytest.fixture(scope="module")
def app(tmp_path_factory, streamlit_server) -> tuple[str, dict]:
    env = prepare_app_data(tmp_path_factory.mktemp("public-map"))
    return streamlit_server(env).url, env


@pytest.fixture(scope="module")
def site(app, tmp_path_factory):
    """The demo's static site, served over http (its base URL)."""
    _url, env = app
    folder = tmp_path_factory.mktemp("site") / "site"
    with pytest.MonkeyPatch.context() as patch, context_for(env) as ctx:
        for key, value in env.items():
            patch.setenv(key, value)
        public_service.write_site(ctx, folder)
    with serving(folder) as url:
        yield url


def _map_page(page: Page, site: str) -> Page:
    page.set_default_timeout(WAIT)
    page.goto(f"{site}/map.html")
    expect(page.locator("html[data-ready]")).to_have_count(1)
    return page


def test_the_map_opens_on_the_published_findings(page, site, external_requests):
    page = _map_page(page, site)
    inside = page.evaluate("""() => {
      const data = JSON.parse(document.getElementById("dke-data").textContent);
      const map = Object.values(window).find((v) => v instanceof L.Map);
      const view = map.getBounds();
      return {all: data.f.every((r) => view.contains([r[1], r[2]])), zoom: map.getZoom(), n: data.f.length};
    }""")
    assert inside["all"] and inside["zoom"] >= 14 and inside["n"] > 50  # zoomed to them, not the municipality
    expect(page.locator(".dke-cluster").first).to_be_visible()  # aggregated at this zoom
    expect(page.locator(".dke-legend")).to_contain_text("Løsning planlagt")
    assert external_requests == []


def test_list_and_map_are_linked_both_ways(page, site):
    page = _map_page(page, site)
    first = page.locator(".dke-item").first
    key, text = first.get_attribute("data-key"), first.locator(".dke-public-text").inner_text()
    first.get_by_role("button", name="Vis på kortet").click()  # list -> map: zoomed to it, its popup open
    expect(page.locator(".leaflet-popup-content")).to_contain_text(text)
    expect(page.locator(f".dke-pin[data-key='{key}']")).to_be_visible()
    expect(page.locator(f"#item-{key}")).to_have_attribute("aria-current", "true")
    page.get_by_role("button", name="Næste side").click()
    expect(page.locator(f"#item-{key}")).to_have_count(0)  # its list page is gone
    page.locator(".leaflet-popup-close-button").click()
    page.locator(f".dke-pin[data-key='{key}']").click()  # map -> list: back to its page, marked
    expect(page.locator(f"#item-{key}")).to_have_attribute("aria-current", "true")
    expect(page.locator("#dke-live")).to_contain_text("Markeret i listen")
    page.get_by_role("button", name="Vis i listen").click()  # from the popup, the keyboard goes to its item
    expect(page.locator(f"#item-{key} .dke-show")).to_be_focused()


def test_the_list_sorts_and_filters_for_a_screen_reader(page, site):
    page = _map_page(page, site)
    page.get_by_label("Område", exact=True).select_option("Galgebakken")
    expect(page.locator("#dke-live")).to_contain_text("Viser fund 1-")
    assert set(page.locator(".dke-item .dke-where").all_inner_texts()) <= {"Galgebakken · marts 2017"}
    page.get_by_label("Område", exact=True).select_option("")
    page.get_by_label("Sortér efter").select_option("status")
    badges = page.locator(".dke-item .dke-badge").all_inner_texts()
    assert badges == sorted(badges, key=lambda b: (not b.startswith("Noteret"), not b.startswith("Planlagt")))
    page.get_by_label("Status", exact=True).select_option("resolved")
    assert page.locator(".dke-item .dke-badge").all_inner_texts()[0].startswith("Udbedret den")


def test_every_control_of_the_static_site_is_reached_by_keyboard_with_a_visible_focus(page, site):
    page.set_default_timeout(WAIT)
    page.goto(f"{site}/index.html")
    frame = page.frame_locator("#dke-frame")
    expect(frame.locator("html[data-ready]")).to_have_count(1)
    map_frame: Frame = next(f for f in page.frames if f.url.endswith("map.html"))
    # The skip link is the first stop inside the map's page, shown when focused; it takes the reader to the list.
    map_frame.locator(".dke-skip").focus()
    assert map_frame.evaluate(FOCUSED)["visible"]
    assert map_frame.locator(".dke-skip").bounding_box()["y"] >= 0
    page.keyboard.press("Enter")
    expect(map_frame.locator("#dke-list")).to_be_focused()
    # Tab through everything: each control is reached, and each shows where the focus is.
    controls = map_frame.evaluate("""() => [...document.querySelectorAll(
        'a[href], button:not(:disabled), select, summary, [tabindex="0"]')]
        .filter((el) => el.offsetParent !== null || el.classList.contains('dke-skip')).length""")
    map_frame.locator(".dke-skip").focus()
    seen, hidden = set(), []
    for _ in range(controls + 40):
        page.keyboard.press("Tab")
        where = map_frame.evaluate(FOCUSED)
        if where["tag"] in ("BODY", "HTML"):
            continue
        name = (where["tag"], where["id"], where["cls"][:30], where["text"], where["label"], where["key"])
        seen.add(name)
        if not where["visible"]:
            hidden.append(name)
    assert hidden == []
    assert len(seen) >= controls - 2  # leaflet's own zoom buttons may be disabled at the limits
    kinds = {tag for tag, *_ in seen}
    assert {"A", "BUTTON", "SELECT", "SUMMARY"} <= kinds
    assert any("leaflet-marker-icon" in cls for _tag, _id, cls, *_ in seen)  # pins and clusters too
    # A pin or cluster is used with Enter: a cluster zooms in, a pin opens its popup with the focus in it.
    marker = map_frame.locator(".leaflet-marker-icon.dke-pin, .leaflet-marker-icon.dke-cluster").first
    marker.focus()
    zoom = map_frame.evaluate("() => Object.values(window).find((v) => v instanceof L.Map).getZoom()")
    page.keyboard.press("Enter")
    map_frame.wait_for_function("""(zoom) => document.querySelector('.leaflet-popup') ||
        Object.values(window).find((v) => v instanceof L.Map).getZoom() > zoom""", arg=zoom)


def _live(page: Page, url: str):
    page.set_default_timeout(WAIT)
    page.goto(url)
    wait_for_app_run(page)
    frame = page.frame_locator(FRAME)
    expect(frame.locator("html[data-ready]")).to_have_count(1)
    return frame


def _answer_count(env: dict) -> int:
    with context_for(env) as ctx, reading(ctx.engine) as conn:
        return conn.execute(select(func.count()).select_from(resident_answers)).scalar_one()


def test_a_resident_answers_with_the_keyboard_and_is_held_back_after_too_many(page, app):
    url, env = app
    frame = _live(page, url)
    frame.locator("#dke-group").select_option("planned")
    item = frame.locator(".dke-item", has=frame.locator(".dke-answer")).first
    where = item.locator(".dke-where").inner_text()
    item.locator(".dke-answer").focus()
    page.keyboard.press("Enter")  # "Er det stadig et problem?" -> the form, with this finding chosen
    form = page.locator(".st-key-public_answer")
    expect(form.get_by_role("combobox")).to_be_focused(timeout=WAIT)
    expect(form.get_by_role("combobox")).to_have_value(re.compile(re.escape(where.split(" · ")[0])))
    before = _answer_count(env)
    for n in range(answers.ANSWER_LIMIT + 1):
        form.get_by_role("radio", name="Ja, det er stadig et problem").focus()
        page.keyboard.press("Space")
        text = form.get_by_label("Vil du fortælle mere? (valgfrit, højst 500 tegn)")
        text.focus()
        page.keyboard.type(f"Stadig mørkt ved stien ({n})")
        page.keyboard.press("Tab")
        expect(form.get_by_role("button", name="Send svar")).to_be_focused()
        page.keyboard.press("Enter")
        wait_for_app_run(page)
        if n < answers.ANSWER_LIMIT:
            expect(page.get_by_text("Tak for dit svar.")).to_be_visible(timeout=WAIT)
            expect(text).to_have_value("")
    expect(page.get_by_text("Du har sendt mange svar på kort tid.")).to_be_visible(timeout=WAIT)
    expect(text).to_have_value(f"Stadig mørkt ved stien ({answers.ANSWER_LIMIT})")  # the text is kept
    assert _answer_count(env) == before + answers.ANSWER_LIMIT
    expect(frame.locator("body")).not_to_contain_text("Stadig mørkt ved stien")  # never shown publicly
