"""A walk day under load: 20 tablets for LOAD_SECONDS against one database (a real SQLite file, a real PostGIS
server), saving findings with photos and moving fixes through their workflow, all through the core services.

What must hold afterwards:
- no error reached a user that a retry would have hidden: the only refusal a tablet may see is errors.Conflict
  (someone else changed the fix first: reload), never "database is locked", a deadlock or a pool timeout;
- every finding a tablet was told is saved is stored once, with its photos and their files; nothing a tablet
  was not told is saved exists (no rows, no photo files, no temporary files); a double-tapped save stores one;
- every fix's history is consistent with its state: versions 1..n without gaps, each event a move of the state
  table starting where the previous ended, the last ending in the fix's state, and exactly the changes the
  tablets were told succeeded.
The writes per second held are printed and written to test-artifacts/concurrency-<db>.json.
"""
from __future__ import annotations

import io
import json
import random
import threading
import time
import traceback
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, select

from dke_geo import config, fixtures, lifecycle, photos
from dke_geo.errors import Conflict, DkeError
from dke_geo.roles import Actor, Role
from dke_geo.services import fixes as fix_service
from dke_geo.services import recording
from dke_geo.store.db import reading
from dke_geo.store.tables import fix_events, fixes, observations
from dke_geo.store.tables import photos as photo_rows

LOAD_SECONDS = float(config.load()["DKE_GEO_LOAD_SECONDS"])  # the issue asks for 30 s (the default)
TABLETS = 20
PLANNERS = 4            # of the 20: the others are staff saving findings
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def _jpeg(seed: int) -> bytes:
    """A small camera-like JPEG with distinct pixels per seed."""
    pixels = np.random.default_rng(seed).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=70)
    return out.getvalue()


@dataclass
class Ledger:
    """What the tablets were told: the ground truth the database is checked against."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    saved: dict[str, int] = field(default_factory=dict)            # finding id -> photos attached
    double_taps: int = 0
    fix_changes: list[tuple[str, int, str, str]] = field(default_factory=list)  # (fix, version, to_state, by)
    fix_ids: list[str] = field(default_factory=list)
    conflicts: int = 0
    errors: list[str] = field(default_factory=list)
    writes: int = 0


class Tablet(threading.Thread):
    """One tablet: a staff member recording findings, or a planner working the fix board."""

    def __init__(self, n: int, ctx, walk_id, points, photo_pool, ledger: Ledger, deadline: float):
        """`ctx` is shared by all tablets, as the app's sessions share its one context."""
        super().__init__(name=f"tablet-{n}", daemon=True)
        self.n, self.ctx, self.walk_id, self.points = n, ctx, walk_id, points
        self.photo_pool, self.ledger, self.deadline = photo_pool, ledger, deadline
        self.rng = random.Random(n)
        self.actor = Actor(f"planner-{n}", Role.PLANNER) if n < PLANNERS else Actor(f"staff-{n}", Role.STAFF)

    def run(self):
        while time.monotonic() < self.deadline:
            try:
                if self.actor.role == Role.PLANNER:
                    self.work_a_fix()
                else:
                    self.save_a_finding()
            except Conflict:
                with self.ledger.lock:
                    self.ledger.conflicts += 1   # the user is told to reload: the next round loads again
            except Exception:  # anything else reached a user: recorded, the test fails on it
                with self.ledger.lock:
                    self.ledger.errors.append(f"{self.name}: {traceback.format_exc()}")

    def save_a_finding(self):
        lon, lat = self.points[self.rng.randrange(len(self.points))]
        data = {"id": str(uuid.uuid4()), "walk_id": self.walk_id, "lon": lon, "lat": lat,
                "category": self.rng.choice(["lighting", "litter", "graffiti", "overgrowth"]),
                "severity": self.rng.randint(1, 3), "internal_note": f"{self.name} finding"}
        attached = [photos.Upload(f"{self.name}.jpg", self.rng.choice(self.photo_pool))] if self.rng.random() < .5 \
            else []
        obs, created = recording.record_observation(self.ctx, self.actor, data, photos=attached)
        assert created and str(obs.id) == data["id"] and len(obs.photos) == len(attached)
        double_tap = self.rng.random() < 0.1
        if double_tap:  # the same form sent again (a second tap, a retry after a dropped answer)
            again, created_again = recording.record_observation(self.ctx, self.actor, data, photos=attached)
            assert not created_again and again.id == obs.id and len(again.photos) == len(attached)
        with self.ledger.lock:
            self.ledger.saved[data["id"]] = len(attached)
            self.ledger.double_taps += double_tap
            self.ledger.writes += 1

    def work_a_fix(self):
        with self.ledger.lock:
            known, candidates = list(self.ledger.fix_ids), list(self.ledger.saved)
        if (not known or self.rng.random() < 0.15) and candidates:
            chosen = self.rng.sample(candidates, k=min(len(candidates), self.rng.randint(1, 3)))
            fix = fix_service.create_fix(self.ctx, self.actor, {"title": f"Forslag fra {self.name}",
                                                                "observation_ids": chosen, "organisation": "dke"})
            self._acknowledge(str(fix.id), fix.version, fix.state, new=True)
            return
        if not known:
            time.sleep(0.01)  # nothing to work on yet: the staff have not saved a finding
            return
        fix_id = self.rng.choice(known)
        current = fix_service.get_fix(self.ctx, self.actor, fix_id).fix   # what the board shows
        moves = lifecycle.moves_from(current.state)
        if moves and self.rng.random() < 0.8:
            move = self.rng.choice(moves)
            changed = fix_service.transition_fix(self.ctx, self.actor, fix_id, current.version, move.target,
                                                 comment="For dyrt" if move.needs_comment else "")
        elif current.state not in lifecycle.FINAL:
            changed = fix_service.edit_fix(self.ctx, self.actor, fix_id, current.version,
                                           {"title": f"Forslag {self.rng.randrange(10**6)}"})
        else:
            return
        self._acknowledge(fix_id, changed.version, changed.state)

    def _acknowledge(self, fix_id: str, version: int, state: str, new: bool = False):
        with self.ledger.lock:
            if new:
                self.ledger.fix_ids.append(fix_id)
            self.ledger.fix_changes.append((fix_id, version, state, self.actor.name))
            self.ledger.writes += 1


@pytest.fixture
def photo_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("DKE_GEO_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_twenty_tablets_for_a_walk_day(ctx, photo_dir, request):
    points = [(o.lon, o.lat) for o in fixtures.demo_walks_and_observations()[1] if o.area_id == "blokland"]
    walk = recording.start_walk(ctx, Actor("leader", Role.STAFF), {"title": "Belastning", "area_ids": ["blokland"]})
    photo_pool = [_jpeg(seed) for seed in range(12)]
    ledger = Ledger()
    started = time.monotonic()
    tablets = [Tablet(n, ctx, str(walk.id), points, photo_pool, ledger, started + LOAD_SECONDS)
               for n in range(TABLETS)]
    for tablet in tablets:
        tablet.start()
    for tablet in tablets:
        tablet.join(LOAD_SECONDS + 120)
    elapsed = time.monotonic() - started
    assert not any(t.is_alive() for t in tablets), "a tablet hung"

    rate = ledger.writes / elapsed
    db = ctx.engine.dialect.name
    summary = {"database": db, "tablets": TABLETS, "seconds": round(elapsed, 1), "writes": ledger.writes,
               "writes_per_second": round(rate, 1), "findings": len(ledger.saved), "double_taps": ledger.double_taps,
               "fix_changes": len(ledger.fix_changes), "conflicts": ledger.conflicts, "errors": len(ledger.errors)}
    print(f"\n{db}: {json.dumps(summary)}")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"concurrency-{db}.json").write_text(json.dumps(summary, indent=1))
    request.node.user_properties.append(("writes_per_second", summary["writes_per_second"]))

    assert not ledger.errors, f"{len(ledger.errors)} errors reached users; first:\n{ledger.errors[0]}"
    assert len(ledger.saved) > 10 * TABLETS and len(ledger.fix_changes) > 20, summary  # real load, not idling
    _check_findings(ctx, photo_dir, ledger)
    _check_fix_histories(ctx, ledger)


def _check_findings(ctx, photo_dir: Path, ledger: Ledger):
    with reading(ctx.engine) as conn:
        stored = Counter(conn.execute(select(observations.c.id)).scalars())
        per_finding = dict(conn.execute(select(photo_rows.c.observation_id, func.count())
                                        .where(photo_rows.c.fix_id.is_(None))
                                        .group_by(photo_rows.c.observation_id)).all())
        files = {p for row in conn.execute(select(photo_rows.c.full_path, photo_rows.c.thumb_path,
                                                  photo_rows.c.original_path))
                 for p in row}
    assert max(stored.values()) == 1                                   # none duplicated
    assert set(stored) == set(ledger.saved)                             # none lost, none unacknowledged
    assert {k: v for k, v in ledger.saved.items() if v} == per_finding  # each with its photo, once
    on_disk = {str(p.relative_to(photo_dir)) for p in (photo_dir / "photos").rglob("*") if p.is_file()}
    assert on_disk == files   # every file has its row, every row its file; no temporary files left


def _check_fix_histories(ctx, ledger: Ledger):
    told = {(f, v): (s, by) for f, v, s, by in ledger.fix_changes}
    assert len(told) == len(ledger.fix_changes)  # no version handed out twice
    with reading(ctx.engine) as conn:
        state = {r.id: (r.state, r.version) for r in conn.execute(select(fixes.c.id, fixes.c.state, fixes.c.version))}
        history: dict[str, list] = {}
        for event in conn.execute(select(fix_events).order_by(fix_events.c.fix_id, fix_events.c.version)):
            history.setdefault(event.fix_id, []).append(event)
    assert set(state) == set(ledger.fix_ids)
    recorded = {}
    for fix_id, events in history.items():
        versions = [e.version for e in events]
        assert versions == list(range(1, len(events) + 1)), (fix_id, versions)
        assert events[0].from_state is None and events[0].to_state == lifecycle.INITIAL
        for before, after in zip(events, events[1:], strict=False):
            assert after.from_state == before.to_state, (fix_id, before, after)
            if after.from_state != after.to_state:        # an edit keeps the state; every other event is a move
                lifecycle.move(after.from_state, after.to_state)
        assert (events[-1].to_state, events[-1].version) == state[fix_id]
        recorded.update({(fix_id, e.version): (e.to_state, e.by) for e in events})
    assert recorded == told   # exactly the changes the users were told succeeded


def test_follow_up_still_a_problem_from_many_tablets_makes_one_proposal(ctx, photo_dir):
    """Eight staff on a follow-up walk mark the same open finding "still a problem" at the same moment: one new
    proposal for the planners, the others are told one is already waiting."""
    staff = Actor("staff", Role.STAFF)
    first = recording.start_walk(ctx, staff, {"title": "Første", "area_ids": ["blokland"]})
    obs, _ = recording.record_observation(ctx, staff, {"lon": 12.35732, "lat": 55.66024, "category": "lighting",
                                                       "walk_id": first.id})
    later = recording.start_walk(ctx, staff, {"title": "Opfølgning", "area_ids": ["blokland"]})
    start = threading.Barrier(8)
    outcomes: list[object] = []

    def mark(n):
        start.wait()
        try:
            outcomes.append(fix_service.follow_up_finding(ctx, Actor(f"staff-{n}", Role.STAFF), later.id, obs.id,
                                                          "still_a_problem"))
        except DkeError as exc:
            outcomes.append(exc.key)
        except Exception as exc:  # noqa: BLE001 - reported as the failure
            outcomes.append(repr(exc))

    threads = [threading.Thread(target=mark, args=(n,)) for n in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    made = [o for o in outcomes if not isinstance(o, str)]
    assert len(made) == 1, outcomes
    assert sorted(o for o in outcomes if isinstance(o, str)) == ["fixes.error.already_proposed"] * 7
    with reading(ctx.engine) as conn:
        assert conn.execute(select(func.count()).select_from(fixes)).scalar_one() == 1
