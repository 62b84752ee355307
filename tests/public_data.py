"""Test data for publishing and the public side: photos with EXIF, fixes in a given state."""
from __future__ import annotations

import io
import uuid
from datetime import datetime
from pathlib import Path

from PIL import Image
from sqlalchemy import Engine, insert

from dke_geo.lifecycle import apply_transition
from dke_geo.model import TZ, Fix, FixEvent
from dke_geo.store import fixes as fix_store
from dke_geo.store.db import transaction
from dke_geo.store.tables import photos

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
