"""The fix state table without a database: every allowed and every refused move, groups, finding status."""
import itertools

import pytest

from dke_geo import lifecycle
from dke_geo.errors import DkeError
from dke_geo.lifecycle import Group, State, TransitionRefused, apply_edit, apply_transition, finding_status
from dke_geo.model import Fix

ALLOWED = {
    ("proposed", "approved"), ("proposed", "rejected"),
    ("approved", "in_progress"), ("approved", "rejected"),
    ("in_progress", "done"),
    ("done", "verified"), ("done", "in_progress"),
}
ALL_PAIRS = list(itertools.product([s.value for s in State], repeat=2))


def test_the_table_is_exactly_the_workflow_of_the_issue():
    assert {(m.source.value, m.target.value) for m in lifecycle.MOVES} == ALLOWED
    assert {(m.source.value, m.target.value) for m in lifecycle.MOVES if m.follow_up} == {
        ("done", "verified"), ("done", "in_progress")}


@pytest.mark.parametrize(("source", "target"), sorted(ALLOWED))
def test_every_allowed_move(source, target):
    fix = Fix(title="Ny lampe ved stien", state=source, version=3)
    moved, event = apply_transition(fix, target, by="pia", comment="aftalt med Bo-Vest")
    assert (moved.state, moved.version, moved.updated_by) == (target, 4, "pia")
    assert (event.from_state, event.to_state, event.by, event.comment) == (source, target, "pia", "aftalt med Bo-Vest")
    assert event.fix_id == fix.id
    assert fix.state == source and fix.version == 3  # the input is not changed
    if target == "rejected":
        assert moved.reject_reason == "aftalt med Bo-Vest"


@pytest.mark.parametrize(("source", "target"), sorted(set(ALL_PAIRS) - ALLOWED))
def test_every_refused_move(source, target):
    fix = Fix(title="Ny lampe ved stien", state=source)
    with pytest.raises(TransitionRefused) as err:
        apply_transition(fix, target, by="pia")
    da, en = err.value.message("da"), err.value.message("en")
    assert lifecycle.t(f"fixes.state.{source}", "da") in da and "Intet er ændret" in da
    assert lifecycle.t(f"fixes.state.{target}", "en") in en and "Nothing was changed" in en
    assert fix.state == source and fix.version == 1


def test_unknown_state_is_refused():
    with pytest.raises(ValueError):
        apply_transition(Fix(title="x"), "teleported", by="pia")


@pytest.mark.parametrize("source", ["proposed", "approved"])
def test_rejection_needs_a_reason(source):
    with pytest.raises(TransitionRefused, match="reason"):
        apply_transition(Fix(title="x", state=source), "rejected", by="pia", comment="   ")


def test_final_states_have_no_way_out():
    assert not lifecycle.moves_from("verified") and not lifecycle.moves_from("rejected")
    assert [m.target for m in lifecycle.moves_from("done")] == [State.VERIFIED, State.IN_PROGRESS]


def test_groups_like_fixmystreet():
    assert {s: lifecycle.group(s) for s in State} == {
        State.PROPOSED: Group.OPEN, State.APPROVED: Group.PLANNED, State.IN_PROGRESS: Group.PLANNED,
        State.DONE: Group.RESOLVED, State.VERIFIED: Group.RESOLVED, State.REJECTED: Group.CLOSED}


@pytest.mark.parametrize(("states", "expected"), [
    ([], "open"),
    (["proposed"], "open"),
    (["rejected"], "open"),
    (["proposed", "rejected"], "open"),
    (["approved"], "planned"),
    (["in_progress"], "planned"),
    (["done"], "resolved"),
    (["verified"], "resolved"),
    (["done", "verified", "rejected"], "resolved"),
    (["proposed", "done"], "resolved"),
    (["verified", "in_progress"], "planned"),
    (["done", "approved", "rejected"], "planned"),
])
def test_finding_status_from_its_fixes(states, expected):
    assert finding_status(states) == expected


def test_edit_records_the_changed_fields_and_bumps_the_version():
    fix = Fix(title="Lampe", organisation="DKE", version=2)
    edited, event = apply_edit(fix, {"title": "Ny lampe", "cost_dkk": 12000, "organisation": "DKE"}, by="pia")
    assert (edited.title, edited.cost_dkk, edited.version) == ("Ny lampe", 12000, 3)
    assert (event.from_state, event.to_state, event.comment) == ("proposed", "proposed", "title, cost_dkk")
    same, none = apply_edit(fix, {"title": "Lampe"}, by="pia")
    assert same is fix and none is None


def test_edit_refuses_final_states_bad_values_and_the_state_field():
    with pytest.raises(DkeError, match="closed"):
        apply_edit(Fix(title="x", state="verified"), {"title": "y"}, by="pia")
    with pytest.raises(DkeError, match="state"):
        apply_edit(Fix(title="x"), {"state": "done"}, by="pia")
    with pytest.raises(DkeError, match="Estimated cost"):
        apply_edit(Fix(title="x"), {"cost_dkk": -5}, by="pia")
