"""Saving a finding on the recording page: from tapping save to the form being ready again, with 10,000 /
100,000 / 1,000,000 findings in the store (issue 3: under 1 s with 100,000 on this machine), beside the same on a
store holding only the demo data (300 findings), measured in the same run; on SQLite and PostGIS.

Measured server-side through Streamlit's AppTest, which runs the real page script: the save callback
(recording.record_observation: validation, area, one transaction) and the page's whole rerun (the walk and its
findings read back, the walk map with its pins and the follow-up layer built and serialised for st_folium, the
form, the findings list). Left out: the network round trip and the browser drawing the changed elements (the
map itself is not reloaded; only its pin layers change). The walk being recorded holds 100 findings, as a
long real walk does. Also timed: the service call alone, and a save with one 12-megapixel JPEG photo.
"""
from __future__ import annotations

import io
import os
import secrets
import statistics
import time
import uuid
from pathlib import Path

import numpy as np
from PIL import Image
from streamlit.testing.v1 import AppTest

from bench import common
from dke_geo.context import AppContext
from dke_geo.photos import Upload
from dke_geo.roles import SYSTEM, Actor, Role
from dke_geo.services import maintenance, recording, sessions, users
from dke_geo.ui import auth, session

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "streamlit_app.py")
PAGE = "dke_geo/ui/pages/record.py"
STAFF = Actor("bench", Role.STAFF)
BLOKLAND = (12.35732, 55.66024)
WALK_SIZE = 100
REPEAT = 15
TARGET_S = 1.0
N = 100_000


def _points(n: int, seed: int) -> np.ndarray:
    """n points within about 25 m of a path in Blokland."""
    rng = np.random.default_rng(seed)
    return np.column_stack([BLOKLAND[0] + rng.uniform(-4e-4, 4e-4, n), BLOKLAND[1] + rng.uniform(-2e-4, 2e-4, n)])


def _photo() -> Upload:
    """A 12-megapixel camera JPEG (4032x3024) with some texture, so it compresses like a photo."""
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 255, (756, 1008, 3), dtype=np.uint8)
    img = Image.fromarray(pixels).resize((4032, 3024), Image.Resampling.BILINEAR)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return Upload("IMG_0001.jpg", out.getvalue())


def _walk(ctx: AppContext) -> str:
    """An open walk in Blokland with WALK_SIZE findings, recorded through the service."""
    walk = recording.start_walk(ctx, STAFF, {"title": f"Benchmark {uuid.uuid4().hex[:6]}", "area_ids": ["blokland"]})
    for i, (lon, lat) in enumerate(_points(WALK_SIZE, 1)):
        recording.record_observation(ctx, STAFF, {"walk_id": walk.id, "lon": lon, "lat": lat,
                                                  "category": "lighting" if i % 3 else "overgrowth"})
    return str(walk.id)


def _page(ctx: AppContext, walk_id: str) -> AppTest:
    """The recording page on the database of `ctx`, logged in as staff (an account with a session, which the app
    checks at every run), with the walk open (first run done: imports, caches). The app makes its own context
    for this database (one per configuration: ui/session.py), as a server started on it would."""
    os.environ["DKE_GEO_DATABASE_URL"] = ctx.settings.database_url
    if STAFF.name not in {u["name"] for u in users.list_users(ctx, SYSTEM)}:
        users.add_user(ctx, SYSTEM, STAFF.name, STAFF.role, secrets.token_urlsafe(16))
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state[auth.SESSION] = sessions.start(ctx, STAFF)
    at.run()
    at.switch_page(PAGE).run()
    at.session_state["record_walk"] = walk_id
    return at.run()


def _save(at: AppTest, lon: float, lat: float, photo: Upload | None = None) -> float:
    """Place a finding (as a tap does), then time the tap on save until the page's rerun has finished."""
    at.session_state["record_location"] = {"lon": float(lon), "lat": float(lat), "source": "map_tap", "accuracy": None}
    at.session_state["record_category"] = "hiding_places"
    at.session_state["record_camera_photos"] = [photo] if photo else []
    at.run()
    button = at.button(key=f"record_save_{at.session_state['record_gen']}")
    started = time.perf_counter()
    button.click().run()
    seconds = time.perf_counter() - started
    if at.exception or not any(s.value.startswith("Gemt kl.") for s in at.main.success):
        raise RuntimeError(f"the save did not succeed: {at.exception} {[e.value for e in at.main.error]}")
    return seconds


def _measure(ctx: AppContext) -> dict[str, float]:
    walk_id = _walk(ctx)
    at = _page(ctx, walk_id)
    points = _points(REPEAT * 2 + 2, 2)
    page = [_save(at, *points[i]) for i in range(REPEAT)]
    service = []
    for lon, lat in points[REPEAT:2 * REPEAT]:
        started = time.perf_counter()
        recording.record_observation(ctx, STAFF, {"walk_id": walk_id, "lon": lon, "lat": lat, "category": "litter"})
        service.append(time.perf_counter() - started)
    photo = _photo()
    with_photo = [_save(at, *points[-2], photo), _save(at, *points[-1], photo)]
    session.context().close()  # the app's context on this database: its connections and column worker go
    return {"median": statistics.median(page), "p90": float(np.percentile(page, 90)), "max": max(page),
            "service": statistics.median(service), "photo": statistics.median(with_photo)}


def main() -> str:
    os.environ["DKE_GEO_DATA_DIR"] = str(common.folder() / "save_data")  # the photos' files
    os.environ["DKE_GEO_TILE_URL"] = ""
    rows = []
    for db in common.DATABASES:
        baseline = common.empty(db, "save_demo")
        maintenance.load_demo(baseline)
        stores = [(f"{common.LABELS[db]}, {n:,} findings", common.store(db, n)) for n in common.SIZES]
        for label, ctx in [(f"{common.LABELS[db]}, demo data only (300 findings): baseline", baseline), *stores]:
            figures = _measure(ctx)
            print(f"   {label}: save -> form ready {figures['median'] * 1000:.0f} ms (median), "
                  f"service {figures['service'] * 1000:.0f} ms, with a photo {figures['photo'] * 1000:.0f} ms",
                  flush=True)
            rows.append((db, label, figures))
        baseline.close()
    lines = ["## Saving a finding (bench/bench_save.py)", "",
             f"Tap on save until the recording page is ready for the next finding, measured server-side through "
             f"AppTest running the real page (save callback + the page's whole rerun; network and browser drawing "
             f"not included); the open walk holds {WALK_SIZE} findings; {REPEAT} saves per store. *Service* is "
             f"`recording.record_observation` alone; *with a photo* adds one 12-megapixel JPEG.", "",
             "| store | save → form ready, median (ms) | p90 (ms) | max (ms) | service alone (ms) | "
             "with a 12 MP photo (ms) |", "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {label} | {f['median'] * 1000:.0f} | {f['p90'] * 1000:.0f} | {f['max'] * 1000:.0f} | "
              f"{f['service'] * 1000:.0f} | {f['photo'] * 1000:.0f} |" for _, label, f in rows]
    lines += ["", "| target (issue 3) | measured | verdict |", "|---|---:|---|"]
    for db, label, f in rows:
        if label.endswith(f"{N:,} findings"):
            verdict = "met" if f["p90"] < TARGET_S else "MISSED"
            lines.append(f"| {common.LABELS[db]}, {N:,} findings: save → form ready, p90 (s) | {f['p90']:.2f} | "
                         f"< {TARGET_S:.0f}: {verdict} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(main())
