"""A solution proposal from proposal to verified resolution, in Debian chromium: a planner creates a fix from two
findings on the board, moves it to done, verifies it from the follow-up panel of a later walk, and sees the
findings counted as resolved on the planner's map. Runs on its own app and database (it changes the data)."""
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import prepare_app_data
from tests.e2e.helpers import WAIT, login, open_from_menu
from tests.test_cli_fixes import add_formula_fix, assert_formulas_guarded

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TITLE = "Nye lamper ved cykelskuret"


@pytest.fixture(scope="module")
def fixes_env(tmp_path_factory) -> dict:
    return prepare_app_data(tmp_path_factory.mktemp("fixes-e2e"))


@pytest.fixture(scope="module")
def fixes_url(fixes_env, streamlit_server):
    return streamlit_server(fixes_env).url


def _resolved_on_planner_map(page):
    """The planner map's summary line with only resolved findings chosen (a fresh visit has no status chosen)."""
    open_from_menu(page, "Hotspots")
    expect(page.get_by_role("heading", name="Hotspots: hvor skal vi handle først?")).to_be_visible(timeout=WAIT)
    page.locator(".st-key-hotspots_status").get_by_role("button", name="Løst").click()
    return page.get_by_text("indmeldte hændelser i filteret")


MOVE_COMMENT = "Kommentar (valgfri; ved afvisning: begrundelsen)"


def _move(page, state: str, comment: str = "") -> None:
    page.get_by_role("radiogroup").get_by_text(state, exact=True).click()
    if comment:
        page.get_by_label(MOVE_COMMENT).fill(comment)
    page.get_by_role("button", name="Gem", exact=True).click()
    expect(page.get_by_text(f"Status er nu »{state}«.")).to_be_visible(timeout=WAIT)
    comment = page.get_by_label(MOVE_COMMENT)
    expect(comment).to_have_count(1, timeout=WAIT)  # the form of the move just stored is gone
    expect(comment).to_have_value("", timeout=WAIT)  # the next move starts empty


def test_fix_from_two_findings_to_verified_on_a_follow_up_walk(page, fixes_url, external_requests):
    page.set_default_timeout(WAIT)
    page.goto(fixes_url)
    login(page, "demo-planlaegger")

    # Before: the demo has five resolved findings (the verified lamps and the done bushes).
    expect(_resolved_on_planner_map(page)).to_contain_text("5 fund og", timeout=WAIT)

    # The board: choose Blokland, then two findings without a fix, and propose the fix.
    open_from_menu(page, "Løsninger")
    expect(page.get_by_role("heading", name="Løsningsforslag: fra forslag til kontrolleret løsning")).to_be_visible(
        timeout=WAIT)
    expect(page.get_by_text("6 forslag, heraf 3 overskredne")).to_be_visible(timeout=WAIT)
    page.get_by_role("combobox", name="Område").click()
    page.get_by_role("option", name="Blokland", exact=True).click()
    expect(page.get_by_text("5 forslag, heraf 2 overskredne")).to_be_visible(timeout=WAIT)
    page.get_by_role("tab", name="Nyt forslag").click()
    grid = page.locator(".st-key-fixes_new_findings [data-testid='stDataFrameResizable']")
    expect(grid).to_be_visible(timeout=WAIT)
    for row in (0, 1):  # the row-marker column holds the selection checkboxes: 35 px header, 35 px rows
        grid.click(position={"x": 18, "y": 35 + 35 * row + 17})
    expect(page.get_by_text("2 fund valgt")).to_be_visible(timeout=WAIT)
    form = page.locator("[data-testid='stForm']")
    form.get_by_label("Titel").fill(TITLE)
    form.get_by_label("Beskrivelse").fill("To ekstra lamper, så stien til cykelskuret ikke er mørk.")
    form.get_by_role("combobox", name="Ansvarlig organisation").click()
    page.get_by_role("option", name="Bo-Vest / boligselskabet").click()
    page.get_by_role("button", name="Opret forslag").click()

    # The fix page: created as proposed; one action at a time to done.
    expect(page.get_by_role("heading", name=TITLE)).to_be_visible(timeout=WAIT)
    expect(page.get_by_text(f"Forslaget »{TITLE}« er oprettet.")).to_be_visible(timeout=WAIT)
    expect(page.get_by_text("Fundenes status nu: Åben: 2")).to_be_visible(timeout=WAIT)
    _move(page, "Godkendt", "Aftalt med Bo-Vest på mødet")
    for state in ("I gang", "Udført"):
        _move(page, state)
    expect(page.get_by_text("»I gang« → »Udført«")).to_be_visible(timeout=WAIT)
    expect(page.get_by_text("Aftalt med Bo-Vest på mødet", exact=True)).to_have_count(1)  # in the history once
    fix_url = page.url

    # A later walk in Blokland: the follow-up panel lists the done fix; staff mark it fixed.
    open_from_menu(page, "Registrér fund")
    page.locator(".st-key-record_new_title input").fill("Opfølgning i Blokland")
    page.locator(".st-key-record_new_areas").get_by_role("button", name="Blokland").click()
    page.get_by_role("button", name="Start vandringen").click()
    page.locator(".st-key-fixes_fu_list summary").click()  # the follow-up list, folded below the walk's findings
    card = page.locator("[class*='st-key-fixes_fu_fix_']", has_text=TITLE)
    expect(card).to_be_visible(timeout=WAIT)
    card.get_by_label("Kommentar (valgfri)").fill("Lamperne lyser")
    card.get_by_role("button", name="Udbedret").click()
    expect(page.get_by_text("Registreret som udbedret.")).to_be_visible(timeout=WAIT)
    expect(page.locator("[class*='st-key-fixes_fu_fix_']", has_text=TITLE)).to_have_count(0, timeout=WAIT)

    # The fix is verified, the follow-up is in its history, and its findings are resolved.
    page.goto(fix_url)
    expect(page.get_by_text("Logget ind som demo-planlaegger")).to_be_visible(timeout=WAIT)
    expect(page.get_by_role("heading", name=TITLE)).to_be_visible(timeout=WAIT)
    expect(page.get_by_text("»Udført« → »Kontrolleret«")).to_be_visible(timeout=WAIT)
    expect(page.get_by_text("Opfølgning i Blokland: Lamperne lyser")).to_be_visible(timeout=WAIT)
    expect(page.get_by_text("Fundenes status nu: Løst: 2")).to_be_visible(timeout=WAIT)
    expect(page.get_by_text("Forslaget er afsluttet; status kan ikke ændres mere.")).to_be_visible(timeout=WAIT)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "fixes-verified.png"), full_page=True)

    # The planner map now counts the two findings as resolved.
    expect(_resolved_on_planner_map(page)).to_contain_text("7 fund og", timeout=WAIT)
    maps = page.locator('iframe[title="Hotspots: hvor skal vi handle først?"]')
    expect(maps).to_have_count(1, timeout=WAIT)
    expect(page.locator("iframe")).to_have_count(1)  # the previous page's map is gone
    frame = page.frame_locator('iframe[title="Hotspots: hvor skal vi handle først?"]')
    expect(frame.locator(".leaflet-container")).to_be_visible(timeout=WAIT)
    page.screenshot(path=str(ARTIFACTS / "fixes-planner-map.png"), full_page=True)
    assert external_requests == []


def test_the_boards_csv_button_guards_formulas(page, fixes_env, fixes_url, external_requests):
    """The board's download button gives the same guarded CSV as `export` (issue 13, point 7): a title typed as
    =HYPERLINK(...) and a contact role typed as @SUM(...) arrive in the spreadsheet as text."""
    add_formula_fix(fixes_env)
    page.set_default_timeout(WAIT)
    page.goto(fixes_url)
    login(page, "demo-planlaegger")
    open_from_menu(page, "Løsninger")
    expect(page.get_by_role("button", name="Hent som CSV")).to_be_visible(timeout=WAIT)
    with page.expect_download(timeout=WAIT) as download:
        page.get_by_role("button", name="Hent som CSV").click()
    assert_formulas_guarded(Path(download.value.path()).read_bytes())
    assert external_requests == []
