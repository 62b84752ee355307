"""Fixes through the service on SQLite and PostGIS: the transition table, roles, the derived finding
status, the history, follow-up from a later walk, the board's filters, figures and CSV."""
import csv
import io
from datetime import date, timedelta

import pandas as pd
import pytest
from sqlalchemy import func, select, update

from dke_geo import lifecycle
from dke_geo.errors import DkeError, InvalidInput, NotFound, PermissionDenied
from dke_geo.lifecycle import State, TransitionRefused
from dke_geo.roles import Actor, Role
from dke_geo.services import fixes as svc
from dke_geo.services.recording import record_observation, start_walk
from dke_geo.store import fixes as fix_store
from dke_geo.store.db import reading, transaction
from dke_geo.store.tables import fix_events, observations

PLANNER = Actor("pia-planlaegger", Role.PLANNER)
STAFF = Actor("sami-medarbejder", Role.STAFF)
BLOKLAND = (12.35732, 55.66024)
GALGEBAKKEN = (12.34734, 55.67768)
PATHS = {
    "proposed": [], "approved": ["approved"], "in_progress": ["approved", "in_progress"],
    "done": ["approved", "in_progress", "done"], "verified": ["approved", "in_progress", "done", "verified"],
    "rejected": ["rejected"],
}
ALLOWED = {(m.source.value, m.target.value) for m in lifecycle.MOVES}


def _walk(ctx, area="blokland", title="Opfølgning i Blokland"):
    return start_walk(ctx, STAFF, {"title": title, "area_ids": [area]})


def _findings(ctx, n=2, at=BLOKLAND, area="blokland", category="lighting"):
    walk = _walk(ctx, area, f"Vandring i {area}")
    return [record_observation(ctx, STAFF, {"lon": at[0], "lat": at[1], "category": category,
                                            "walk_id": walk.id})[0].id for _ in range(n)]


def _fix(ctx, obs_ids, state="proposed", **extra):
    fix = svc.create_fix(ctx, PLANNER, {"title": "Ny belysning på stien", "observation_ids": obs_ids,
                                        "organisation": "bo-vest", **extra})
    for target in PATHS[state]:
        fix = svc.transition_fix(ctx, PLANNER, fix.id, fix.version, target,
                                 comment="Ikke nødvendigt" if target == "rejected" else "")
    return fix


def _event_count(ctx, fix_id):
    with reading(ctx.engine) as conn:
        return conn.execute(select(func.count()).select_from(fix_events)
                            .where(fix_events.c.fix_id == str(fix_id))).scalar_one()


def _status(ctx):
    with reading(ctx.engine) as conn:
        return fix_store.finding_statuses(conn).set_index("observation_id")


def test_create_from_two_findings_records_the_first_event(ctx):
    a, b = _findings(ctx)
    fix = svc.create_fix(ctx, PLANNER, {"title": "Ny belysning", "observation_ids": [a, b, a],
                                        "organisation": "miljo-teknik", "contact_role": "driftschef",
                                        "due_date": date(2030, 1, 31), "cost_dkk": 45000, "priority": "high"})
    detail = svc.get_fix(ctx, STAFF, fix.id)
    assert sorted(map(str, detail.fix.observation_ids)) == sorted([str(a), str(b)])
    assert (detail.fix.state, detail.fix.version, detail.fix.cost_dkk, detail.fix.priority) == ("proposed", 1, 45000,
                                                                                                "high")
    assert [(e.from_state, e.to_state, e.by) for e in detail.events] == [(None, "proposed", "pia-planlaegger")]
    assert {o.id for o in detail.findings} == {a, b}
    assert detail.statuses == {str(a): "open", str(b): "open"}


def test_create_is_refused_cleanly(ctx):
    a, = _findings(ctx, 1)
    with pytest.raises(PermissionDenied):
        svc.create_fix(ctx, STAFF, {"title": "x", "observation_ids": [a], "organisation": "dke"})
    with pytest.raises(DkeError, match="Unknown organisation 'nasa'"):
        svc.create_fix(ctx, PLANNER, {"title": "x", "observation_ids": [a], "organisation": "nasa"})
    with pytest.raises(DkeError, match="'beboere' cannot be responsible") as err:  # responsible = false in the file
        svc.create_fix(ctx, PLANNER, {"title": "x", "observation_ids": [a], "organisation": "beboere"})
    assert "beboere" not in err.value.message("en").split("Choose one of:")[1]
    with pytest.raises(InvalidInput, match="Responsible organisation"):
        svc.create_fix(ctx, PLANNER, {"title": "x", "observation_ids": [a]})
    with pytest.raises(DkeError, match="at least one finding"):
        svc.create_fix(ctx, PLANNER, {"title": "x", "observation_ids": [], "organisation": "dke"})
    with pytest.raises(InvalidInput, match="Title"):
        svc.create_fix(ctx, PLANNER, {"title": " ", "observation_ids": [a], "organisation": "dke"})
    with pytest.raises(DkeError, match="state"):
        svc.create_fix(ctx, PLANNER, {"title": "x", "observation_ids": [a], "organisation": "dke",
                                      "state": "verified"})
    missing = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(NotFound, match=missing):
        svc.create_fix(ctx, PLANNER, {"title": "x", "observation_ids": [a, missing], "organisation": "dke"})
    assert svc.fixes_frame(ctx, PLANNER).empty


@pytest.mark.parametrize("source", list(PATHS))
def test_transition_table_through_the_service(ctx, source):
    obs = _findings(ctx, 1)
    for target in [s.value for s in State]:
        fix = _fix(ctx, obs, source)
        events_before = _event_count(ctx, fix.id)
        if (source, target) in ALLOWED:
            moved = svc.transition_fix(ctx, PLANNER, fix.id, fix.version, target, comment="aftalt på mødet")
            stored = svc.get_fix(ctx, PLANNER, fix.id)
            assert (stored.fix.state, stored.fix.version) == (target, fix.version + 1) == (moved.state, moved.version)
            last = stored.events[-1]
            assert (last.from_state, last.to_state, last.comment, last.by) == (source, target, "aftalt på mødet",
                                                                              "pia-planlaegger")
            assert _event_count(ctx, fix.id) == events_before + 1
        else:
            with pytest.raises(TransitionRefused) as err:
                svc.transition_fix(ctx, PLANNER, fix.id, fix.version, target, comment="x")
            assert "Intet er ændret" in err.value.message("da")
            stored = svc.get_fix(ctx, PLANNER, fix.id).fix
            assert (stored.state, stored.version) == (source, fix.version)
            assert _event_count(ctx, fix.id) == events_before


def test_rejection_keeps_its_reason_and_staff_cannot_move(ctx):
    obs = _findings(ctx, 1)
    fix = _fix(ctx, obs)
    with pytest.raises(TransitionRefused, match="reason"):
        svc.transition_fix(ctx, PLANNER, fix.id, 1, "rejected", comment="")
    with pytest.raises(PermissionDenied):
        svc.transition_fix(ctx, STAFF, fix.id, 1, "approved")
    rejected = svc.transition_fix(ctx, PLANNER, fix.id, 1, "rejected", comment="Boligselskabet har ikke budget")
    assert rejected.reject_reason == "Boligselskabet har ikke budget"
    assert svc.get_fix(ctx, STAFF, fix.id).fix.reject_reason == "Boligselskabet har ikke budget"


def test_stale_version_is_a_conflict_naming_who_and_when(ctx):
    obs = _findings(ctx, 1)
    fix = _fix(ctx, obs)
    svc.transition_fix(ctx, PLANNER, fix.id, 1, "approved")
    other = Actor("ole-planlaegger", Role.PLANNER)
    with pytest.raises(DkeError) as err:
        svc.edit_fix(ctx, other, fix.id, 1, {"title": "Overskrevet"})
    assert "pia-planlaegger" in err.value.message("da") and "Genindlæs" in err.value.message("da")
    assert svc.get_fix(ctx, PLANNER, fix.id).fix.title == "Ny belysning på stien"
    assert _event_count(ctx, fix.id) == 2


def test_history_of_edits_and_moves(ctx):
    obs = _findings(ctx, 1)
    fix = _fix(ctx, obs)
    fix = svc.edit_fix(ctx, PLANNER, fix.id, 1, {"due_date": date(2030, 6, 1), "organisation": "dke"})
    same = svc.edit_fix(ctx, PLANNER, fix.id, 2, {"organisation": "dke"})
    assert same.version == 2
    fix = svc.transition_fix(ctx, PLANNER, fix.id, 2, "approved", comment="Godkendt i styregruppen")
    history = svc.get_fix(ctx, PLANNER, fix.id).events
    assert [(e.from_state, e.to_state, e.comment) for e in history] == [
        (None, "proposed", ""), ("proposed", "proposed", "organisation, due_date"),
        ("proposed", "approved", "Godkendt i styregruppen")]
    assert all(e.by == "pia-planlaegger" for e in history)
    assert [e.at for e in history] == sorted(e.at for e in history)
    with pytest.raises(DkeError, match="Unknown organisation"):
        svc.edit_fix(ctx, PLANNER, fix.id, 3, {"organisation": "nasa"})


def test_derived_finding_status_for_the_combinations(ctx):
    planned_and_done, only_done, only_rejected, only_proposed, verified, nothing, deleted = _findings(ctx, 7)
    _fix(ctx, [planned_and_done, only_done], "done")
    _fix(ctx, [planned_and_done], "in_progress")
    _fix(ctx, [only_rejected], "rejected")
    _fix(ctx, [only_proposed], "proposed")
    _fix(ctx, [verified], "verified")
    _fix(ctx, [verified], "rejected")
    with transaction(ctx.engine) as conn:
        conn.execute(update(observations).where(observations.c.id == str(deleted)).values(deleted=True))
    status = _status(ctx)
    assert status.loc[[str(i) for i in (planned_and_done, only_done, only_rejected, only_proposed, verified, nothing)],
                      "status"].tolist() == ["planned", "resolved", "open", "open", "resolved", "open"]
    assert str(deleted) not in status.index
    assert status["resolved_at"].notna().tolist() == (status["status"] == "resolved").tolist()
    with reading(ctx.engine) as conn:
        table = fix_store.frame(conn)
    assert status.loc[str(only_done), "resolved_at"] == table.loc[table["state"] == "done", "done_at"].iloc[0]


def test_still_a_problem_takes_a_resolved_finding_back_to_planned(ctx):
    walk = _walk(ctx)
    a, = _findings(ctx, 1)
    fix = _fix(ctx, [a], "done")
    assert _status(ctx).loc[str(a), "status"] == "resolved"
    with pytest.raises(PermissionDenied):
        svc.transition_fix(ctx, STAFF, fix.id, fix.version, "in_progress")
    back = svc.follow_up(ctx, STAFF, walk.id, fix.id, fix.version, "still_a_problem", comment="Lampen er ud igen")
    assert back.state == "in_progress"
    assert _status(ctx).loc[str(a), "status"] == "planned"
    last = svc.get_fix(ctx, PLANNER, fix.id).events[-1]
    assert (last.from_state, last.to_state, last.by) == ("done", "in_progress", "sami-medarbejder")
    assert last.comment == "Opfølgning i Blokland: Lampen er ud igen"


def test_staff_verify_only_done_fixes_from_a_walk_in_their_area(ctx):
    blokland_walk, other_walk = _walk(ctx), _walk(ctx, "galgebakken", "Galgebakken")
    a, = _findings(ctx, 1)
    running = _fix(ctx, [a], "in_progress")
    with pytest.raises(TransitionRefused):
        svc.follow_up(ctx, STAFF, blokland_walk.id, running.id, running.version, "fixed")
    done = svc.transition_fix(ctx, PLANNER, running.id, running.version, "done")
    with pytest.raises(DkeError, match="does not cover"):
        svc.follow_up(ctx, STAFF, other_walk.id, done.id, done.version, "fixed")
    with pytest.raises(PermissionDenied):
        svc.follow_up(ctx, Actor("", Role.PUBLIC), blokland_walk.id, done.id, done.version, "fixed")
    verified = svc.follow_up(ctx, STAFF, blokland_walk.id, done.id, done.version, "fixed")
    assert verified.state == "verified" and _status(ctx).loc[str(a), "status"] == "resolved"
    assert svc.get_fix(ctx, STAFF, done.id).statuses == {str(a): "resolved"}
    assert _event_count(ctx, done.id) == 5


def test_follow_up_on_open_findings(ctx):
    walk = _walk(ctx)
    seen_fixed, still_there, planned = _findings(ctx, 3)
    _fix(ctx, [planned], "approved")
    record = svc.follow_up_finding(ctx, STAFF, walk.id, seen_fixed, "fixed", comment="Busken er klippet")
    assert record.state == "verified" and record.title == "Belysning: fundet udbedret ved opfølgning"
    history = svc.get_fix(ctx, PLANNER, record.id).events
    assert [(e.from_state, e.to_state, e.comment) for e in history] == [
        (None, "verified", "Opfølgning i Blokland: Busken er klippet")]
    proposal = svc.follow_up_finding(ctx, STAFF, walk.id, still_there, "still_a_problem")
    assert (proposal.state, proposal.organisation) == ("proposed", "")
    with pytest.raises(DkeError, match="already waiting"):
        svc.follow_up_finding(ctx, STAFF, walk.id, still_there, "still_a_problem")
    with pytest.raises(DkeError, match="agreed or finished"):
        svc.follow_up_finding(ctx, STAFF, walk.id, planned, "fixed")
    status = _status(ctx)["status"]
    assert (status[str(seen_fixed)], status[str(still_there)], status[str(planned)]) == ("resolved", "open", "planned")
    with pytest.raises(DkeError, match="responsible organisation"):
        svc.transition_fix(ctx, PLANNER, proposal.id, 1, "approved")
    proposal = svc.edit_fix(ctx, PLANNER, proposal.id, 1, {"organisation": "bo-vest"})
    assert svc.transition_fix(ctx, PLANNER, proposal.id, proposal.version, "approved").state == "approved"


def test_follow_up_items_of_a_later_walk(ctx):
    earlier = _findings(ctx, 4)
    galgebakken = _findings(ctx, 1, GALGEBAKKEN, "galgebakken")
    done = _fix(ctx, earlier[:2], "done")
    _fix(ctx, [earlier[2]], "in_progress")
    _fix(ctx, galgebakken, "done")
    walk = _walk(ctx)
    own, _ = record_observation(ctx, STAFF, {"lon": BLOKLAND[0], "lat": BLOKLAND[1], "category": "litter",
                                               "walk_id": walk.id})
    items = svc.follow_up_items(ctx, STAFF, walk.id)
    assert items.fixes["id"].tolist() == [str(done.id)]
    assert items.fixes.loc[0, "lon"] == pytest.approx(BLOKLAND[0]) and items.fixes.loc[0, "version"] == 4
    assert items.findings["id"].tolist() == [str(earlier[3])]  # not the planned one, not this walk's own
    assert str(own.id) not in items.findings["id"].tolist() and items.open_total == 1
    assert items.findings["proposed"].tolist() == [False]
    _fix(ctx, [earlier[3]], "proposed")
    more = _findings(ctx, 3)
    items = svc.follow_up_items(ctx, STAFF, walk.id, limit=2)
    assert items.open_total == 4 and len(items.findings) == 2
    assert set(items.findings["id"]) <= {str(i) for i in (*more, earlier[3])}
    assert svc.follow_up_items(ctx, STAFF, walk.id).findings.set_index("id")["proposed"].to_dict() == {
        str(earlier[3]): True, **{str(i): False for i in more}}


def test_follow_up_map_layer_escapes_titles(ctx):
    from dke_geo.maps.base import base_map
    from dke_geo.maps.followup import follow_up_layer
    a, b = _findings(ctx, 2)
    _fix(ctx, [a], "done", title="<img src=x onerror=alert(1)> Lamper")
    items = svc.follow_up_items(ctx, STAFF, _walk(ctx).id)
    html_ = base_map(tiles=False).add_child(follow_up_layer(items.fixes, items.findings)).get_root().render()
    assert "&lt;img src=x onerror=alert(1)&gt; Lamper" in html_ and "<img src=x" not in html_
    assert html_.count("dke-followup-finding") == 1 and html_.count("dke-followup-fix") == 1


def test_board_filters_overdue_figures_and_csv(ctx):
    blok = _findings(ctx, 2)
    galge = _findings(ctx, 1, GALGEBAKKEN, "galgebakken", category="overgrowth")
    past = date.today() - timedelta(days=3)
    late = _fix(ctx, blok, "approved", due_date=past)
    _fix(ctx, galge, "done", due_date=past, organisation="miljo-teknik")  # done: not overdue
    _fix(ctx, [blok[0]], "proposed", due_date=date.today() + timedelta(days=30))
    board = svc.fixes_frame(ctx, PLANNER)
    assert board.loc[0, "id"] == str(late.id) and board["overdue"].tolist() == [True, False, False]
    assert svc.fixes_frame(ctx, PLANNER, overdue_only=True)["id"].tolist() == [str(late.id)]
    assert len(svc.fixes_frame(ctx, PLANNER, area="galgebakken")) == 1
    assert len(svc.fixes_frame(ctx, PLANNER, organisation="bo-vest")) == 2
    with reading(ctx.engine) as conn:
        galge_walk = conn.execute(select(observations.c.walk_id).where(observations.c.id == str(galge[0]))).scalar()
    assert svc.fixes_frame(ctx, PLANNER, walk_id=galge_walk)["organisation"].tolist() == ["miljo-teknik"]

    by_org = svc.fix_figures(ctx, PLANNER, "organisation").set_index("organisation")
    assert by_org.loc["bo-vest", ["fixes", "open", "overdue"]].tolist() == [2, 2, 1]
    assert by_org.loc["miljo-teknik", ["fixes", "open", "overdue"]].tolist() == [1, 0, 0]
    assert 0 <= by_org.loc["miljo-teknik", "median_days_to_done"] < 0.01
    assert pd.isna(by_org.loc["bo-vest", "median_days_to_done"])
    by_cat = svc.fix_figures(ctx, PLANNER, "category").set_index("category")
    assert by_cat.loc["lighting", "fixes"] == 2 and by_cat.loc["overgrowth", "open"] == 0

    rows = list(csv.DictReader(io.StringIO(svc.to_csv(board, "da").decode("utf-8-sig"))))
    assert [r["state"] for r in rows] == ["Godkendt", "Udført", "Foreslået"]
    assert rows[0]["overdue"] == "True" and rows[0]["due_date"] == past.isoformat()
    assert rows[1]["organisation"] == "Miljø & Teknik" and rows[1]["done_at"].startswith(str(date.today().year))
    assert "internal_note" not in rows[0] and "description" not in rows[0]
    with pytest.raises(PermissionDenied):
        svc.fixes_frame(ctx, Actor("", Role.PUBLIC))


def test_figures_medians_from_known_times():
    created = pd.Timestamp("2017-05-01T10:00", tz="UTC")
    table = pd.DataFrame({
        "id": ["a", "b", "c", "d"], "organisation": ["dke", "dke", "dke", "politiet"],
        "categories": [["lighting"], ["lighting", "signage"], ["signage"], ["lighting"]],
        "group": ["resolved", "resolved", "planned", "closed"], "overdue": [False, False, True, False],
        "created_at": [created] * 4,
        "done_at": [created + pd.Timedelta(days=10), created + pd.Timedelta(days=20), pd.NaT, pd.NaT],
        "verified_at": [created + pd.Timedelta(days=40), pd.NaT, pd.NaT, pd.NaT],
    })
    org = svc.figures(table, "organisation").set_index("organisation")
    assert org.loc["dke"].tolist() == [3, 1, 1, 15.0, 40.0]
    assert org.loc["politiet", ["fixes", "open"]].tolist() == [1, 0]
    cat = svc.figures(table, "category").set_index("category")
    assert cat.loc["lighting", ["fixes", "median_days_to_done"]].tolist() == [3, 15.0]
    assert cat.loc["signage", ["fixes", "open", "overdue", "median_days_to_done"]].tolist() == [2, 1, 1, 20.0]


def _png() -> bytes:
    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (40, 120, 40)).save(out, "PNG")
    return out.getvalue()


def test_after_photo_beside_the_before_photo(ctx, tmp_path, monkeypatch):
    from dke_geo import photos
    monkeypatch.setenv("DKE_GEO_DATA_DIR", str(tmp_path / "data"))
    walk = _walk(ctx)
    a, = _findings(ctx, 1)
    fix = _fix(ctx, [a], "done")
    verified = svc.follow_up(ctx, STAFF, walk.id, fix.id, fix.version, "fixed",
                             photo=photos.Upload("efter.png", _png()))
    detail = svc.get_fix(ctx, PLANNER, fix.id)
    assert detail.before == [] and len(detail.after) == 1
    after = detail.after[0]
    assert detail.events[-1].photo_id == after.id and after.fix_id == verified.id and after.observation_id == a
    assert photos.file(after.full_path).is_file() and photos.file(after.thumb_path).is_file()


def test_a_refused_change_keeps_neither_photo_row_nor_file(ctx, tmp_path, monkeypatch):
    from dke_geo import photos
    from dke_geo.store.tables import photos as photo_table
    monkeypatch.setenv("DKE_GEO_DATA_DIR", str(tmp_path / "data"))
    walk = _walk(ctx)
    a, = _findings(ctx, 1)
    fix = _fix(ctx, [a], "done")
    with pytest.raises(DkeError, match="Reload"):
        svc.follow_up(ctx, STAFF, walk.id, fix.id, fix.version - 1, "fixed", photo=photos.Upload("e.png", _png()))
    with pytest.raises(TransitionRefused):
        svc.transition_fix(ctx, PLANNER, fix.id, fix.version, "approved", photo=photos.Upload("e.png", _png()))
    with reading(ctx.engine) as conn:
        assert conn.execute(select(func.count()).select_from(photo_table)).scalar_one() == 0
    assert not [p for p in (tmp_path / "data").rglob("*") if p.is_file()]
    with pytest.raises(DkeError, match="is not an image"):
        svc.follow_up(ctx, STAFF, walk.id, fix.id, fix.version, "fixed", photo=photos.Upload("x.png", b"nope"))
    assert svc.get_fix(ctx, PLANNER, fix.id).fix.state == "done"


def test_candidate_findings_put_those_without_an_agreed_fix_first(ctx):
    planned, resolved, open_ = _findings(ctx, 3)
    _fix(ctx, [planned], "approved")
    _fix(ctx, [resolved], "done")
    found = svc.candidate_findings(ctx, PLANNER, area="blokland")
    assert found["status"].tolist() == ["open", "planned", "resolved"]
    assert found["id"].tolist() == [str(open_), str(planned), str(resolved)]
    assert svc.candidate_findings(ctx, PLANNER, area="galgebakken").empty


def test_follow_up_items_with_nothing_done_in_the_walks_areas(ctx):
    first_walk = _walk(ctx)
    assert svc.follow_up_items(ctx, STAFF, first_walk.id).fixes.empty  # no fix at all yet
    a, = _findings(ctx, 1)
    _fix(ctx, [a], "approved")
    galgebakken, = _findings(ctx, 1, GALGEBAKKEN, "galgebakken")
    items = svc.follow_up_items(ctx, STAFF, _walk(ctx, "galgebakken", "Opfølgning i Galgebakken").id)
    assert items.fixes.empty and items.findings["id"].tolist() == [str(galgebakken)]
    empty_walk = _walk(ctx, "morbaerhaven", "Morbærhaven")
    assert svc.follow_up_items(ctx, STAFF, empty_walk.id).open_total == 0
