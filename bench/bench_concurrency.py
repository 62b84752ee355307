"""Writes per second held by 20 tablets on a walk day (the load of tests/test_concurrency.py: 16 staff saving
findings, half with a photo, some double-tapped; 4 planners moving fixes through their workflow), for
LOAD_SECONDS on SQLite and PostGIS, beside one tablet alone saving findings in the same run. After each run the
test's checks are applied (nothing lost, nothing duplicated, every fix's history consistent), and errors that
reached a tablet are counted.
"""
from __future__ import annotations

import os
import time

from bench import common
from dke_geo import fixtures
from dke_geo.roles import Actor, Role
from dke_geo.services import recording
from tests import test_concurrency as load

SOLO_SECONDS = 10


def _run(db: str, name: str, tablets: list[int], seconds: float) -> dict:
    os.environ["DKE_GEO_DATA_DIR"] = str(common.folder() / name)
    ctx = common.empty(db, name)
    points = [(o.lon, o.lat) for o in fixtures.demo_walks_and_observations()[1] if o.area_id == "blokland"]
    walk = recording.start_walk(ctx, Actor("leader", Role.STAFF), {"title": "Belastning", "area_ids": ["blokland"]})
    ledger = load.Ledger()
    pool = [load._jpeg(seed) for seed in range(12)]
    started = time.monotonic()
    threads = [load.Tablet(n, ctx, str(walk.id), points, pool, ledger, started + seconds) for n in tablets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 120)
    elapsed = time.monotonic() - started
    load._check_findings(ctx, common.folder() / name, ledger)
    load._check_fix_histories(ctx, ledger)
    ctx.close()
    return {"tablets": len(tablets), "writes_s": ledger.writes / elapsed, "findings": len(ledger.saved),
            "fix_changes": len(ledger.fix_changes), "conflicts": ledger.conflicts, "errors": len(ledger.errors)}


def main() -> str:
    rows = []
    for db in common.DATABASES:
        solo = _run(db, f"solo_{db}", [load.PLANNERS], SOLO_SECONDS)        # one staff tablet
        crowd = _run(db, f"crowd_{db}", list(range(load.TABLETS)), load.LOAD_SECONDS)
        for label, r in (("1 tablet alone: baseline", solo), (f"{load.TABLETS} tablets", crowd)):
            rows.append((db, label, r))
            print(f"   {common.LABELS[db]}, {label}: {r['writes_s']:.1f} writes/s, {r['errors']} errors", flush=True)
    lines = ["## Concurrent tablets (bench/bench_concurrency.py)", "",
             f"{load.TABLETS} threads as tablets for {load.LOAD_SECONDS:.0f} s through the core services "
             f"({load.TABLETS - load.PLANNERS} staff saving findings, half with a small photo, one in ten sent twice; "
             f"{load.PLANNERS} planners creating, editing and moving fixes), checked afterwards as in "
             f"tests/test_concurrency.py; the baseline is one staff tablet alone for {SOLO_SECONDS} s. A write is one "
             "acknowledged save or fix change; conflicts are changes refused because another planner changed the fix "
             "first (shown to the user as 'reload'), errors anything else that reached a tablet.", "",
             "| database | tablets | writes/s held | findings saved | fix changes | conflicts | errors |",
             "|---|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {common.LABELS[db]} | {label} | {r['writes_s']:.1f} | {r['findings']:,} | {r['fix_changes']:,} "
              f"| {r['conflicts']} | {r['errors']} |" for db, label, r in rows]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(main())
