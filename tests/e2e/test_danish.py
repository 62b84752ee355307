"""Every page read in Danish, as a new user meets it in Debian chromium at a tablet's 768 px: no English text of
Streamlit's own ("Choose options", "Select all", "Press Enter to submit form", "N more", "200MB per file", "Skip to
main content", English month names, ...), no `None` where a table has no value, and no area id (`blokland`) where
its name belongs (issue 14, point 6). The pages are read as they are first shown and while the user works in them:
typing in a field of a form (Streamlit's key hints), a walk started (the photo picker), a refused file, a list
opened.

What the user sees is read from the page itself: every text node drawn with a visible font (the texts that
widgets.builtin_texts replaces are still there, drawn at size 0, their Danish in a pseudo-element), the
pseudo-elements' texts, placeholders, and the cells of every table and data grid (a data grid draws on a canvas;
its cells are read from the grid's accessible table, which a screen reader reads)."""
import re

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import prepare_app_data
from tests.e2e.helpers import WAIT, login, wait_for_app_run

pytestmark = [pytest.mark.browser, pytest.mark.browser_context_args(viewport={"width": 768, "height": 1024})]

ENGLISH = re.compile(
    r"Choose an? options?|Select all|Select\.\.\.|Date range|Press (Ctrl\+)?Enter|\b\d+ more\b|per file|"
    r"files? (is|are) not allowed|Drag and drop|Browse files|Page not found|No results|Skip to main content|"
    r"\bNone\b|\bnan\b|\bNaT\b")
MONTHS = re.compile(r"\b(January|February|March|May|June|July|October|December)\b")  # in a chart's axis
AREA_IDS = re.compile(r"\b(blokland|galgebakken|hyldespjaeldet|morbaerhaven|banehegnet|hedemarksvaenge)\b")

# The texts a user sees on the page: visible text nodes, pseudo-element texts, placeholders, grid cells.
SEEN = """() => {
  const out = [];
  if (!document.body) return out;  // a frame still empty
  const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  for (const text of document.querySelectorAll("[data-testid=stVegaLiteChart] text")) {
    out.push("chart: " + text.textContent);  // an axis label
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!el || !node.textContent.trim() || el.closest("script, style, noscript")) continue;
    if (shown(el) && parseFloat(getComputedStyle(el).fontSize) > 0) out.push(node.textContent.trim());
  }
  for (const el of document.body.querySelectorAll("*")) {
    for (const pseudo of ["::before", "::after"]) {
      const content = getComputedStyle(el, pseudo).content;
      if (content && content !== "none" && content !== "normal" && shown(el)) out.push(content);
    }
  }
  for (const el of document.querySelectorAll("input[placeholder], textarea[placeholder]")) {
    if (shown(el) && !el.value) out.push(el.placeholder);
  }
  for (const cell of document.querySelectorAll("[data-testid=stDataFrame] td, [data-testid=stTable] td")) {
    out.push(cell.textContent.trim());
  }
  return out;
}"""
OURS_APPLIED = """() => { const link = document.querySelector('[data-testid=stSkipToContent]');
  return !link || getComputedStyle(link, '::after').content !== 'none'; }"""
PAGES = ("hotspots", "fixes", "publish", "data", "home", "outlines", "admin", "public", "tilgaengelighed")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, streamlit_server) -> str:
    """The demo on its own database (a walk is started here)."""
    return streamlit_server(prepare_app_data(tmp_path_factory.mktemp("danish"))).url


def _seen(page: Page) -> list[str]:
    wait_for_app_run(page)
    page.wait_for_function(OURS_APPLIED)  # widgets.builtin_texts has replaced Streamlit's texts
    texts = page.evaluate(SEEN)
    for frame in page.frames[1:]:  # the maps' and the public list's documents
        if not frame.is_detached():
            texts += frame.evaluate(SEEN)
    return texts


def _open(page: Page, url: str) -> list[str]:
    page.goto(url)
    return _seen(page)


def _english(texts: list[str]) -> list[str]:
    return sorted({t for t in texts if ENGLISH.search(t) or AREA_IDS.search(t)
                   or t.startswith("chart: ") and MONTHS.search(t)})


def test_every_page_reads_in_danish(page: Page, app_url, tmp_path):
    page.set_default_timeout(WAIT)
    seen = {"login": _open(page, f"{app_url}/login")}
    page.get_by_label("Brugernavn").press_sequentially("demo")  # a form's field being typed in: its key hint
    seen["login, typing"] = _seen(page)
    login(page, "demo-admin")
    for name in PAGES:
        seen[name] = _open(page, f"{app_url}/{name}")
    _open(page, f"{app_url}/hotspots")
    page.get_by_test_id("stExpandSidebarButton").click()  # the filters, in the sidebar a tablet keeps closed
    page.get_by_role("combobox", name="Områder (tom = alle)").click()  # an open list
    seen["a list opened"] = _seen(page)

    seen["record"] = _open(page, f"{app_url}/record")
    page.get_by_label("Titel").press_sequentially("Aftenvandring")
    seen["record, typing"] = _seen(page)
    page.get_by_role("button", name="Blokland", exact=True).click()
    page.get_by_role("button", name="Start vandringen").click()
    expect(page.locator('[data-testid="stFileUploaderDropzone"]').first).to_be_visible()
    seen["record, a walk started"] = _seen(page)
    refused = tmp_path / "referat.pdf"
    refused.write_bytes(b"%PDF-1.4\n%%EOF\n")
    page.locator('.st-key-record_page input[type="file"]').first.set_input_files(refused)
    expect(page.get_by_text("referat.pdf er ikke et billede", exact=False)).to_be_visible()
    seen["record, a refused file"] = _seen(page)

    english = {name: _english(texts) for name, texts in seen.items()}
    assert {name: texts for name, texts in english.items() if texts} == {}
    assert all(len(texts) >= 5 for texts in seen.values()), {n: len(t) for n, t in seen.items()}  # pages were read
