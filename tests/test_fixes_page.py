"""The fix board, the fix page and the follow-up panel through Streamlit's AppTest (no browser), on the demo
data: what each role sees, one action to change state, a stale page refused, a verdict from a later walk."""
import pytest
from streamlit.testing.v1 import AppTest

from dke_geo.roles import SYSTEM, Actor, Role
from dke_geo.services import fixes as svc
from dke_geo.services import recording
from tests.conftest import ROOT, context_for, prepare_app_data

BOARD = ROOT / "dke_geo/ui/pages/fixes.py"
PLANNER = Actor("demo-planlaegger", Role.PLANNER)
STAFF = Actor("demo-medarbejder", Role.STAFF)


@pytest.fixture(scope="module")
def data_env(tmp_path_factory) -> dict:
    return prepare_app_data(tmp_path_factory.mktemp("fixes-page"))


@pytest.fixture
def ctx(data_env):
    """A fresh context on the module's app database, for what the test prepares and checks itself."""
    with context_for(data_env) as context:
        yield context


@pytest.fixture
def board(app_test, data_env):
    """board(actor, fix_id=None) -> the fix board (or one fix's page) as `actor`, run."""
    def run(actor, fix_id: str | None = None) -> AppTest:
        at = app_test(data_env, BOARD, actor=actor)
        if fix_id:
            at.query_params["fix"] = fix_id
        return at.run()
    return run


def _fix_id(ctx, title: str) -> str:
    table = svc.fixes_frame(ctx, SYSTEM)
    return table.loc[table["title"] == title, "id"].iloc[0]


def test_board_lists_the_demo_fixes_with_overdue_first(board):
    at = board(PLANNER)
    assert not at.exception
    assert at.title[0].value.startswith("Løsningsforslag")
    assert "6 forslag, heraf 3 overskredne" in [m.value for m in at.markdown]
    table = at.dataframe[0].value
    assert table["Overskredet"].tolist()[:3] == ["⚠ Overskredet"] * 3 and table["Overskredet"].tolist()[3:] == [""] * 3
    assert "Forsyningen (vej og belysning)" in set(table["Ansvarlig"])
    assert [tab.label for tab in at.tabs] == ["Tabel", "Efter status", "Nøgletal", "Nyt forslag"]
    figures = at.dataframe[1].value.set_index("Ansvarlig")
    assert figures.loc["Bo-Vest / boligselskabet", "Forslag i alt"] == 3


def test_board_filters_by_overdue_and_organisation(board):
    at = board(PLANNER)
    at.toggle(key="fixes_overdue").set_value(True).run()
    assert "3 forslag, heraf 3 overskredne" in [m.value for m in at.markdown]
    offered = at.selectbox(key="fixes_org").options  # only organisations that may be responsible for a fix
    assert "Bo-Vest / boligselskabet" in offered and "Beboere" not in offered and "Andre" not in offered
    at.selectbox(key="fixes_org").set_value("miljo-teknik").run()
    assert at.dataframe[0].value["Forslag"].tolist() == ["Fjern graffiti og tags på gavlene"]


def test_staff_see_the_board_but_no_actions(board, ctx):
    at = board(STAFF)
    assert not at.exception and "Nyt forslag" not in [tab.label for tab in at.tabs]
    page = board(STAFF, _fix_id(ctx, "Beskæring af buske langs stien"))
    assert not page.exception and not page.radio and "Historik" in [s.value for s in page.subheader]


def test_fix_page_moves_state_and_refuses_a_stale_page(board, ctx):
    fix_id = _fix_id(ctx, "Skilte og synlige husnumre ved opgangene")
    at = board(PLANNER, fix_id)
    assert not at.exception
    assert at.header[0].value == "Skilte og synlige husnumre ved opgangene"
    assert at.radio[0].options == ["Godkendt", "Afvist"]
    other = board(Actor("ole-planlaegger", Role.PLANNER), fix_id)  # a second planner with the same page open
    at.text_area[0].input("Aftalt med Bo-Vest")
    at.button[1].click().run()  # the form's save button (the first is "back")
    assert not at.exception and not at.error
    assert "Status er nu »Godkendt«." in [s.value for s in at.success]
    assert at.text_area[0].value == ""  # the next move starts with an empty comment
    other.radio[0].set_value("rejected")
    other.text_area[0].input("For dyrt")
    other.button[1].click().run()
    assert [e.value for e in other.error][0].startswith("Forslaget er ændret af demo-planlaegger kl. ")
    timeline = [m.value for m in at.markdown if "»Foreslået« → »Godkendt«" in m.value]
    assert len(timeline) == 1 and "demo\\-planlaegger" in timeline[0]


def test_follow_up_panel_verifies_a_done_fix(app_test, data_env, ctx):
    walk = recording.start_walk(ctx, STAFF, {"title": "Opfølgning i Blokland", "area_ids": ["blokland"]})
    fix_id = _fix_id(ctx, "Beskæring af buske langs stien")

    def page(walk_id: str):
        from dke_geo.services import recording
        from dke_geo.ui import followup, session
        followup.panel(recording.get_walk(session.context(), session.actor(), walk_id))

    at = app_test(data_env, page, actor=STAFF, args=(str(walk.id),)).run()
    assert not at.exception
    assert at.subheader[0].value.startswith("Opfølgning i området: 1 udførte forslag og ")
    card_buttons = [b for b in at.button if b.label == "Udbedret"]
    card_buttons[0].click().run()
    assert not at.exception and "Registreret som udbedret." in [s.value for s in at.success]
    assert at.subheader[0].value.startswith("Opfølgning i området: 0 udførte forslag")
    assert svc.get_fix(ctx, PLANNER, fix_id).fix.state == "verified"


def test_user_text_is_inert_in_markdown():
    from dke_geo.ui.fix_view import plain
    hostile = "[klik](http://evil.example) ![x](http://evil.example/x.png) <img src=x> :red[alarm] **fed** `kode`"
    escaped = plain(hostile)
    for token in ("[", "]", "(", ")", "!", "<", ">", ":", "*", "`"):
        assert all(escaped[i - 1] == "\\" for i, ch in enumerate(escaped) if ch == token), token
    assert escaped.replace("\\", "") == hostile


def test_user_text_shows_as_written_on_the_fix_page(board, ctx):
    obs = svc.candidate_findings(ctx, PLANNER, area="blokland")["id"].iloc[0]
    fix = svc.create_fix(ctx, PLANNER, {"title": "Lys [her](http://evil.example) <b>nu</b>",
                                        "observation_ids": [obs], "organisation": "dke"})
    at = board(PLANNER, str(fix.id))
    assert not at.exception
    header = at.header[0].value
    assert "\\[her\\]\\(http" in header and "\\<b\\>" in header
