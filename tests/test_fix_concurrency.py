"""No lost updates, on SQLite and PostGIS: two sessions that loaded the same version of a fix both change it;
exactly one wins, the other is told who changed it and when, and the history holds exactly one event for it."""
import contextlib
import threading

import pytest
from sqlalchemy import func, insert, select

from dke_geo import lifecycle
from dke_geo.errors import Conflict
from dke_geo.roles import Actor, Role
from dke_geo.services import fixes as svc
from dke_geo.services.recording import record_observation, start_walk
from dke_geo.store import fixes as fix_store
from dke_geo.store.db import ConstraintViolation, reading, transaction
from dke_geo.store.tables import fix_events

PIA = Actor("pia-planlaegger", Role.PLANNER)
OLE = Actor("ole-planlaegger", Role.PLANNER)
STAFF = Actor("sami", Role.STAFF)


@pytest.fixture
def fix(ctx):
    walk = start_walk(ctx, STAFF, {"title": "Blokland", "area_ids": ["blokland"]})
    obs, _ = record_observation(ctx, STAFF, {"lon": 12.35732, "lat": 55.66024, "category": "lighting",
                                               "walk_id": walk.id})
    return svc.create_fix(ctx, PIA, {"title": "Ny lampe", "observation_ids": [obs.id], "organisation": "dke"})


def _events(ctx, fix_id) -> list[tuple[int, str, str]]:
    with reading(ctx.engine) as conn:
        return [tuple(r) for r in conn.execute(select(fix_events.c.version, fix_events.c.by, fix_events.c.to_state)
                                               .where(fix_events.c.fix_id == str(fix_id))
                                               .order_by(fix_events.c.version))]


@pytest.mark.parametrize("round_", range(3))
def test_two_planners_at_once_exactly_one_wins(ctx, fix, round_):
    # Both sessions load the fix (the page each planner sees), then both press their button at the same moment.
    loaded = {name: svc.get_fix(ctx, actor, fix.id).fix.version for name, actor in (("pia", PIA), ("ole", OLE))}
    start = threading.Barrier(2)
    results: dict[str, object] = {}

    def press(name, actor, target, comment):
        start.wait()
        try:
            results[name] = svc.transition_fix(ctx, actor, fix.id, loaded[name], target, comment=comment)
        except Conflict as exc:
            results[name] = exc

    threads = [threading.Thread(target=press, args=("pia", PIA, "approved", "")),
               threading.Thread(target=press, args=("ole", OLE, "rejected", "For dyrt"))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    winners = [n for n, r in results.items() if not isinstance(r, Exception)]
    losers = [n for n, r in results.items() if isinstance(r, Conflict)]
    assert len(winners) == 1 and len(losers) == 1, results
    winner_name = {"pia": "pia-planlaegger", "ole": "ole-planlaegger"}[winners[0]]
    message = results[losers[0]].message("da")
    assert winner_name in message and "Genindlæs" in message
    assert results[losers[0]].message("en").startswith(f"The proposal was changed by {winner_name} at ")
    stored = svc.get_fix(ctx, PIA, fix.id).fix
    assert stored.version == 2 and stored.state == results[winners[0]].state and stored.updated_by == winner_name
    assert _events(ctx, fix.id) == [(1, "pia-planlaegger", "proposed"), (2, winner_name, stored.state)]


def test_conditional_update_holds_while_both_write_transactions_overlap(ctx, fix):
    """The narrowest race: the loser's write starts while the winner's transaction is still open (PostgreSQL:
    its UPDATE waits on the row lock; SQLite: its BEGIN IMMEDIATE waits), then matches no row."""
    approved, approve_event = lifecycle.apply_transition(fix, "approved", PIA.name)
    rejected, reject_event = lifecycle.apply_transition(fix, "rejected", OLE.name, "For dyrt")
    outcome: dict[str, bool] = {}

    def loser():
        with transaction(ctx.engine) as conn:
            outcome["ole"] = fix_store.save_change(conn, rejected, reject_event, expected_version=1)

    with contextlib.ExitStack() as stack:
        conn = stack.enter_context(transaction(ctx.engine))
        assert fix_store.save_change(conn, approved, approve_event, expected_version=1)
        thread = threading.Thread(target=loser)
        thread.start()
        thread.join(1.0)
        assert thread.is_alive(), "the second writer must wait for the first transaction"
    thread.join(60)
    assert outcome == {"ole": False}
    assert svc.get_fix(ctx, PIA, fix.id).fix.state == "approved"
    assert _events(ctx, fix.id) == [(1, "pia-planlaegger", "proposed"), (2, "pia-planlaegger", "approved")]


def test_history_allows_one_event_per_version(ctx, fix):
    with pytest.raises(ConstraintViolation), transaction(ctx.engine) as conn:
        conn.execute(insert(fix_events).values(fix_id=str(fix.id), at=fix.created_at, by="x", to_state="approved",
                                               comment="", version=1))
    with reading(ctx.engine) as conn:
        assert conn.execute(select(func.count()).select_from(fix_events)).scalar_one() == 1
