"""Test data for publishing and the public side: photos with EXIF, fixes in a given state, the data block of a
public map page."""
from __future__ import annotations

import io
import json
import re
import uuid
from datetime import datetime
from pathlib import Path

from PIL import Image
from sqlalchemy import JSON, Boolean, Date, Engine, Float, Integer, String, Text, insert, update

from dke_geo.lifecycle import apply_transition
from dke_geo.model import TZ, Fix, FixEvent
from dke_geo.store import fixes as fix_store
from dke_geo.store.db import transaction
from dke_geo.store.tables import (
    areas,
    fix_events,
    fix_observations,
    fixes,
    incident_reports,
    login_attempts,
    observations,
    photos,
    publication_events,
    resident_answers,
    users,
    walks,
)
from dke_geo.store.types import UtcDateTime

GPS_IFD = 0x8825


def jpeg_with_exif(marker: str, colour=(200, 30, 30), size=(64, 48)) -> bytes:
    """A JPEG whose EXIF names `marker` (artist, description, camera serial) and holds a GPS position."""
    image = Image.new("RGB", size, colour)
    exif = Image.Exif()
    exif[0x013B] = marker             # Artist
    exif[0x010E] = marker             # ImageDescription
    exif[0xA431] = marker             # BodySerialNumber
    exif[0x0112] = 1                  # Orientation
    exif[GPS_IFD] = {1: "N", 2: (55.0, 40.0, 1.5), 3: "E", 4: (12.0, 21.0, 7.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), comment=marker.encode())
    return out.getvalue()


def add_photo(engine: Engine, obs_id, path: Path, data: bytes, approved: bool = False, **extra) -> str:
    """Write `data` to `path` and store a photo row for the finding (as the recording page would)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    photo_id = str(uuid.uuid4())
    row = {"id": photo_id, "observation_id": str(obs_id), "full_path": str(path), "thumb_path": str(path),
           "exif": {}, "public_approved": approved, "created_by": "test",
           "created_at": datetime(2017, 4, 20, 22, tzinfo=TZ), **extra}
    with transaction(engine) as conn:
        conn.execute(insert(photos).values(row))
    return photo_id


def add_fix(engine: Engine, obs_ids, states=(), at: datetime | None = None, **fields) -> str:
    """A fix on the findings, moved through `states` (each move at `at`)."""
    fix = Fix(title=fields.pop("title", "Ny lampe"), observation_ids=list(obs_ids), **fields)
    event = FixEvent(fix_id=fix.id, by=fix.created_by or "test", to_state=fix.state, at=at or fix.created_at)
    with transaction(engine) as conn:
        fix_store.add(conn, fix, event)
        for state in states:
            changed, event = apply_transition(fix, state, by="test", comment="ok", at=at)
            assert fix_store.save_change(conn, changed, event, fix.version)
            fix = changed
    return str(fix.id)


# ---------------------------------------------------------------- the leak database
MARK = "LEAKMARK"
T0 = datetime(2017, 4, 20, 21, 30, tzinfo=TZ)
PUBLIC_TEXT = "Lampen ved stien mod skolen lyser ikke."
PUBLIC_TEXT_EN = "The lamp on the path to the school is out."
GOOD_COLOUR, BAD_COLOUR = (220, 20, 20), (20, 220, 20)


def _filled(table, **given) -> dict:
    """A row of `table` with `given` values; every other text column holds a marker naming it, so that any
    column, including one added later, shows up if it leaks."""
    row = {}
    for col in table.columns:
        if col.name in given:
            row[col.name] = given[col.name]
        elif col.primary_key and isinstance(col.type, Integer):
            continue
        elif isinstance(col.type, (String, Text)):
            unique = f"-{uuid.uuid4().hex[:8]}" if col.unique else ""
            row[col.name] = f"{MARK}-{table.name}-{col.name}{unique}"[:getattr(col.type, "length", None) or None]
        elif isinstance(col.type, JSON):
            row[col.name] = {"note": f"{MARK}-{table.name}-{col.name}"}
        elif isinstance(col.type, Boolean):
            row[col.name] = False
        elif isinstance(col.type, (Integer, Float)):
            row[col.name] = 1
        elif isinstance(col.type, UtcDateTime):
            row[col.name] = T0
        elif isinstance(col.type, Date):
            row[col.name] = T0.date()
    return row


def fill_leak_database(engine: Engine, photo_dir: Path) -> dict:
    """One published finding with a clean public text and one approved photo; around it, markers in every
    internal field, an unpublished and a deleted finding, unapproved, deleted and unpublished photos, a fix,
    its history, publication history, accounts, login attempts and incident reports. Returns the ids."""
    ids = {k: str(uuid.uuid4()) for k in ("walk", "pub", "unpub", "deleted", "fix")}
    spot = {"lon": 12.3573, "lat": 55.6602, "area_id": "blokland", "category": "lighting",
            "location_source": "map_tap", "light_condition": "dark", "walk_id": ids["walk"], "severity": 2,
            "perceived_safety": 2, "gps_accuracy_m": 5.0, "observed_at": T0, "deleted_at": None}
    photo_dir = photo_dir / f"{MARK}-photo-folder"
    with transaction(engine) as conn:
        conn.execute(insert(walks).values(_filled(
            walks, id=ids["walk"], area_ids=["blokland"], kind="on_foot", light_condition="dark",
            light_condition_override=None, ended_at=None,
            organisations=[{"organisation": "andre", "label": f"{MARK}-walk-organisation", "count": 3}])))
        conn.execute(insert(observations).values([
            _filled(observations, id=ids["pub"], published=True, public_text=PUBLIC_TEXT, public_text_en=PUBLIC_TEXT_EN,
                    **spot),
            _filled(observations, id=ids["unpub"], published=False, **spot),
            _filled(observations, id=ids["deleted"], published=True, deleted=True, **spot)]))
        conn.execute(insert(fixes).values(_filled(fixes, id=ids["fix"], priority="medium", state="approved")))
        conn.execute(insert(fix_observations).values(fix_id=ids["fix"], observation_id=ids["pub"]))
        conn.execute(insert(fix_events).values([
            _filled(fix_events, fix_id=ids["fix"], from_state=None, to_state="proposed", photo_id=None, version=1),
            _filled(fix_events, fix_id=ids["fix"], from_state="proposed", to_state="approved", photo_id=None,
                    version=2)]))
        conn.execute(insert(publication_events).values(_filled(publication_events, observation_id=ids["pub"],
                                                               photo_id=None, action="published")))
        conn.execute(insert(users).values(_filled(users, role="staff", active=True)))
        conn.execute(insert(login_attempts).values(_filled(login_attempts)))
        conn.execute(insert(incident_reports).values(_filled(incident_reports, id=str(uuid.uuid4()), lon=12.3573,
                                                             lat=55.6602, area_id="blokland")))
        conn.execute(update(areas).where(areas.c.id == "blokland").values(source=f"{MARK}-areas-source"))
        conn.execute(insert(resident_answers).values([_filled(resident_answers, observation_id=ids[k],
                                                              still_a_problem=True) for k in ("pub", "unpub")]))
    good = jpeg_with_exif(f"{MARK}-exif-approved", GOOD_COLOUR)
    bad = jpeg_with_exif(f"{MARK}-exif-unapproved", BAD_COLOUR)
    extra = {"exif": {"Artist": f"{MARK}-photos-exif"}, "created_by": f"{MARK}-photos-created_by",
             "original_path": f"{MARK}-photos-original_path", "sha256": f"{MARK}-photos-sha256"}
    add_photo(engine, ids["pub"], photo_dir / "approved.jpg", good, approved=True, **extra)
    add_photo(engine, ids["pub"], photo_dir / "unapproved.jpg", bad, **extra)
    add_photo(engine, ids["pub"], photo_dir / "deleted.jpg", bad, approved=True, deleted=True, **extra)
    add_photo(engine, ids["unpub"], photo_dir / "of-unpublished.jpg", bad, approved=True, **extra)
    return ids


def colour_of(jpeg: bytes) -> tuple[int, int, int]:
    """The colour at the middle of a JPEG (to tell the approved photo from the others)."""
    image = Image.open(io.BytesIO(jpeg)).convert("RGB")
    return image.getpixel((image.width // 2, image.height // 2))


def is_good_colour(rgb) -> bool:
    return rgb[0] > 150 and rgb[1] < 100


def site_data(page: str) -> dict:
    """The findings' data block of a public map page (maps/public.py), as the browser reads it."""
    block = re.search(r'<script type="application/json" id="dke-data">(.*?)</script>', page, re.S)
    return json.loads(block.group(1))
