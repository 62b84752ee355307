"""Faults during use: the database server stopped and started again, a writer holding the data too long, a
process killed in the middle of a save or an import, the disk holding the photos full.

Each must end in a clear message (a DkeError the page shows in the user's language), nothing half-written, and
the same action working again once the fault is gone.
"""
from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, select, text, update

from dke_geo.context import AppContext
from dke_geo.roles import Actor, Role
from dke_geo.services import recording
from dke_geo.store import observations as obs_store
from dke_geo.store.db import DatabaseBusy, DatabaseUnavailable, make_engine, reading, transaction
from dke_geo.store.tables import meta, observations, photos, walks
from tests.conftest import ROOT, open_database
from tests.pgserver import PgServer

STAFF = Actor("staff", Role.STAFF)
BLOKLAND = (12.35732, 55.66024)


def _finding(walk_id, **extra) -> dict:
    return {"id": str(uuid.uuid4()), "walk_id": walk_id, "lon": BLOKLAND[0], "lat": BLOKLAND[1],
            "category": "lighting", "internal_note": "Lampe ud", **extra}


def _count(ctx, table) -> int:
    with reading(ctx.engine) as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _jpeg(size=(640, 480), seed=1) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, (*size[::-1], 3), dtype=np.uint8)).save(out, "JPEG")
    return out.getvalue()


# ---------------------------------------------------------------- the PostGIS server goes away and comes back
@pytest.fixture
def own_pg():
    """A PostGIS server of this test's own, so stopping it disturbs no other test."""
    server = PgServer().start()
    try:
        server.admin("CREATE DATABASE dke")
        ctx = open_database(server.url("dke"))
        yield server, ctx
        ctx.close()
    finally:
        server.remove()


def test_postgis_stopped_and_started_again(own_pg, tmp_path, monkeypatch):
    monkeypatch.setenv("DKE_GEO_DATA_DIR", str(tmp_path))
    server, ctx = own_pg
    walk = recording.start_walk(ctx, STAFF, {"title": "Aftenvandring", "area_ids": ["blokland"]})
    recording.record_observation(ctx, STAFF, _finding(walk.id))   # the pool now holds live connections

    server.stop()
    pending = _finding(walk.id)
    with pytest.raises(DatabaseUnavailable) as caught:
        recording.record_observation(ctx, STAFF, pending, photos=[_upload()])
    assert caught.value.message("da") == "Databasen kan ikke nås lige nu. Intet er gemt; prøv igen om lidt."
    assert caught.value.message("en").startswith("The database cannot be reached right now. Nothing was saved")
    with pytest.raises(DatabaseUnavailable):
        recording.walk_detail(ctx, STAFF, walk.id)       # reading says the same, no stack trace
    with pytest.raises(DatabaseUnavailable):
        obs_store.frame(ctx.columns)                         # and so do the whole-column reads (store.columnar)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]   # the photo's staged files were removed

    server.start()
    obs, created = recording.record_observation(ctx, STAFF, pending, photos=[_upload()])  # the same form again
    assert created and len(obs.photos) == 1
    again, created_again = recording.record_observation(ctx, STAFF, pending)
    assert not created_again and again.id == obs.id
    assert [str(o.id) for o in recording.walk_detail(ctx, STAFF, walk.id).findings].count(pending["id"]) == 1
    assert _count(ctx, observations) == 2


def _upload():
    from dke_geo.photos import Upload
    return Upload("lampe.jpg", _jpeg())


# ---------------------------------------------------------------- a writer holds the data longer than we wait
def test_a_writer_holding_the_data_too_long_gives_a_clear_busy_message(ctx, tmp_path, monkeypatch):
    """Another transaction (a very large import, say) holds the write lock past the wait limit: the save is
    refused with DatabaseBusy and writes nothing; once the lock is free, the same form saves once."""
    monkeypatch.setenv("DKE_GEO_DATA_DIR", str(tmp_path))
    walk = recording.start_walk(ctx, STAFF, {"title": "Aftenvandring", "area_ids": ["blokland"]})
    impatient = AppContext(ctx.settings, make_engine(ctx.settings.database_url, lock_wait_s=1))
    holding, release = threading.Event(), threading.Event()

    def long_writer():
        with transaction(ctx.engine) as conn:   # touch() at its end takes the data_version row on PostgreSQL too
            conn.execute(update(meta).where(meta.c.key == "data_version").values(value=meta.c.value))
            holding.set()
            release.wait(30)

    writer = threading.Thread(target=long_writer)
    writer.start()
    try:
        assert holding.wait(30)
        pending = _finding(walk.id)
        with pytest.raises(DatabaseBusy) as caught:
            recording.record_observation(impatient, STAFF, pending)
        assert "Intet er gemt" in caught.value.message("da") and "Nothing was saved" in caught.value.message("en")
    finally:
        release.set()
        writer.join(30)
    assert _count(ctx, observations) == 0
    obs, created = recording.record_observation(impatient, STAFF, pending)
    assert created and _count(ctx, observations) == 1
    impatient.close()


# ---------------------------------------------------------------- killed in the middle of a write
_KILLED_SAVE = """
import sys, time, uuid
from dke_geo import photos
from dke_geo.roles import Actor, Role
from dke_geo.services import recording
from dke_geo.store import observations as obs_store
from dke_geo import config
from dke_geo.context import AppContext
from dke_geo.store.db import make_engine

ctx = AppContext(config.load(), make_engine(sys.argv[1]))
publish = photos.PhotoFiles.publish
def publish_then_stall(self):  # the rows are inserted and the files renamed into place: the commit is next
    publish(self)
    print("IN_TRANSACTION", flush=True)
    time.sleep(120)
photos.PhotoFiles.publish = publish_then_stall
data = {"id": sys.argv[3], "walk_id": sys.argv[2], "lon": 12.35732, "lat": 55.66024, "category": "lighting"}
upload = photos.Upload("lampe.jpg", open(sys.argv[4], "rb").read())
recording.record_observation(ctx, Actor("staff", Role.STAFF), data, photos=[upload])
"""

_KILLED_IMPORT = """
import dataclasses, sys, time
from pathlib import Path
from dke_geo import config
from dke_geo.context import AppContext
from dke_geo.roles import SYSTEM
from dke_geo.services import imports
from dke_geo.store import observations
from dke_geo.store.db import make_engine

chunks = 0
add_frame = observations.add_frame
def add_then_stall(conn, rows):  # 4,000 of the 5,000 rows are inserted: the import is most of the way
    global chunks
    chunks += 1
    n = add_frame(conn, rows)
    if chunks == 4:
        print("IN_TRANSACTION", flush=True)
        time.sleep(120)
    return n
imports.CHUNK = 1000
imports._FINDINGS = dataclasses.replace(imports._FINDINGS, add_frame=add_then_stall)
imports.import_findings(AppContext(config.load(), make_engine(sys.argv[1])), SYSTEM, Path(sys.argv[2]))
"""


def _kill_when_in_transaction(script: str, *args: str, env: dict) -> None:
    """Run `script` in a new Python process, SIGKILL it once it says it is inside its transaction."""
    proc = subprocess.Popen([sys.executable, "-c", script, *args], cwd=ROOT, env={**os.environ, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.strip() == "IN_TRANSACTION", proc.stderr.read()
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        proc.stderr.close()


def test_killed_in_the_middle_of_a_save_leaves_no_rows(ctx, tmp_path, monkeypatch):
    monkeypatch.setenv("DKE_GEO_DATA_DIR", str(tmp_path))
    walk = recording.start_walk(ctx, STAFF, {"title": "Aftenvandring", "area_ids": ["blokland"]})
    picture = tmp_path / "lampe.jpg"
    picture.write_bytes(_jpeg())
    pending = _finding(walk.id)
    url = ctx.settings.database_url
    _kill_when_in_transaction(_KILLED_SAVE, url, str(walk.id), pending["id"], str(picture),
                              env={"DKE_GEO_DATA_DIR": str(tmp_path)})

    assert _count(ctx, observations) == 0 and _count(ctx, photos) == 0   # rolled back with the process
    # The tablet saves the same form again: it is stored once, with its photo, and its files are the ones used.
    obs, created = recording.record_observation(ctx, STAFF, pending, photos=[_upload_of(picture)])
    assert created and len(obs.photos) == 1
    assert _count(ctx, observations) == 1 and _count(ctx, photos) == 1
    stored = {getattr(obs.photos[0], k) for k in ("full_path", "thumb_path", "original_path")}
    assert {str(p.relative_to(tmp_path)) for p in (tmp_path / "photos").rglob("*") if p.is_file()} == stored


def test_the_files_of_a_killed_save_are_swept_at_the_next_start(ctx, tmp_path, monkeypatch):
    """A save killed after its files were placed but before its rows were committed leaves files that no row
    refers to (they can show people, and no backup, export or deletion reaches them). `init-db`, which `make run`
    runs at every start, removes them once they are an hour old; saved photos and fresh files stay."""
    monkeypatch.setenv("DKE_GEO_DATA_DIR", str(tmp_path))
    walk = recording.start_walk(ctx, STAFF, {"title": "Aftenvandring", "area_ids": ["blokland"]})
    picture = tmp_path / "lampe.jpg"
    picture.write_bytes(_jpeg())
    url = ctx.settings.database_url
    env = {"DKE_GEO_DATA_DIR": str(tmp_path), "DKE_GEO_DATABASE_URL": url}
    _kill_when_in_transaction(_KILLED_SAVE, url, str(walk.id), _finding(walk.id)["id"], str(picture), env=env)
    strays = [p for p in (tmp_path / "photos").rglob("*") if p.is_file()]
    assert len(strays) == 3 and _count(ctx, photos) == 0
    for path in strays:
        os.utime(path, (time.time() - 2 * 3600,) * 2)
    fresh = tmp_path / "photos" / "in-progress" / "x.jpg"  # another save's file, just written
    fresh.parent.mkdir()
    fresh.write_bytes(b"x")
    saved, _ = recording.record_observation(ctx, STAFF, _finding(walk.id), photos=[_upload_of(picture)])
    for path in (tmp_path / "photos" / str(saved.id)).iterdir():
        os.utime(path, (time.time() - 2 * 3600,) * 2)  # old, but referenced

    done = subprocess.run([sys.executable, "-m", "dke_geo", "init-db"], cwd=ROOT, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "removed 3 stray photo file(s)" in done.stdout, done.stdout + done.stderr
    left = {p for p in (tmp_path / "photos").rglob("*") if p.is_file()}
    assert not set(strays) & left and fresh in left and not strays[0].parent.exists()
    stored = {getattr(saved.photos[0], k) for k in ("full_path", "thumb_path", "original_path")}
    assert {str(p.relative_to(tmp_path)) for p in left if p != fresh} == stored


def _upload_of(path: Path):
    from dke_geo.photos import Upload
    return Upload(path.name, path.read_bytes())


def test_killed_in_the_middle_of_an_import_leaves_no_rows(ctx, tmp_path):
    from dke_geo.roles import SYSTEM
    from dke_geo.services import imports

    source = tmp_path / "kobo.csv"
    n = 5000
    lines = ["id,lon,lat,category,severity,observed_at,internal_note"]
    lines += [f"{uuid.uuid4()},{BLOKLAND[0] + i * 1e-7:.7f},{BLOKLAND[1]:.5f},litter,2,"
              f"2017-04-20T21:{i % 60:02d}:00+02:00,række {i}" for i in range(n)]
    source.write_text("\n".join(lines), encoding="utf-8")
    url = ctx.settings.database_url
    _kill_when_in_transaction(_KILLED_IMPORT, url, str(source), env={})

    assert _count(ctx, observations) == 0          # the chunks written went with the killed transaction
    with reading(ctx.engine) as conn:              # and the database is not left locked
        conn.execute(text("SELECT 1"))
    report = imports.import_findings(ctx, SYSTEM, source)   # the same file again: all of it, once
    assert report.imported and report.new == n
    assert _count(ctx, observations) == n and _count(ctx, walks) == 0


# ---------------------------------------------------------------- the recording page while the database is away
def test_recording_page_keeps_the_form_while_postgis_is_away(own_pg, tmp_path, monkeypatch, app_test):
    """A tablet fills in a finding, the database goes away, save: the page says so (no stack trace) and keeps
    everything typed and chosen, through further reruns; once the database is back, the same save stores it."""
    from tests.test_record_page import TAP, FakeMap, _messages, _page, _save, _start_walk

    server, ctx = own_pg
    env = {"DKE_GEO_DATABASE_URL": server.url("dke"), "DKE_GEO_DATA_DIR": str(tmp_path), "DKE_GEO_TILE_URL": ""}
    FakeMap(monkeypatch, TAP)
    at = _start_walk(_page(app_test, env))
    assert not at.exception and not _messages(at, "error"), (at.exception, _messages(at, "error"))
    gen, pending = at.session_state["record_gen"], at.session_state["record_pending_id"]
    at.button_group(key="record_category").set_value("lighting").run()
    at.button_group(key=f"record_severity_{gen}").set_value(3)
    at.text_area(key=f"record_note_{gen}").input("Lampe ud ved stien – gem mig")

    server.stop()
    at = _save(at)
    away = "Databasen kan ikke nås lige nu. Intet er gemt; prøv igen om lidt."
    assert not at.exception, "\n".join(at.exception[0].stack_trace)
    assert away in _messages(at, "error")
    for _ in range(2):   # the tablet keeps being used while the server is away
        assert at.text_area(key=f"record_note_{gen}").value == "Lampe ud ved stien – gem mig"
        assert at.button_group(key=f"record_severity_{gen}").value == 3
        assert at.button_group(key="record_category").value == "lighting"
        assert at.session_state["record_pending_id"] == pending and at.session_state["record_location"]
        at = at.run()
        assert not at.exception and away in _messages(at, "error")

    server.start()
    at = _save(at)
    assert not at.exception and not _messages(at, "error")
    assert any(m.startswith("Gemt kl.") for m in _messages(at, "success"))
    with reading(ctx.engine) as conn:
        (row,) = conn.execute(select(observations)).all()
    assert (row.id, row.severity, row.internal_note) == (pending, 3, "Lampe ud ved stien – gem mig")


# ---------------------------------------------------------------- the disk holding the photos is full
def _noise_jpeg(width: int, height: int) -> bytes:
    return _jpeg((width, height), seed=width)


@pytest.fixture
def full_disk(tmp_path):
    """A 3 MiB filesystem of its own for the photos (tmpfs), filled up to the last 64 KiB."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(disk)], capture_output=True,
                             text=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}); "
                    "test_photo_file_too_large_for_the_process covers the same path without privileges")
    try:
        filler = disk / "filler"
        free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
        filler.write_bytes(b"\0" * (free - 64 * 1024))
        yield disk, filler
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_photo_disk_full_gives_a_clear_message_and_no_orphans(ctx, full_disk, monkeypatch):
    disk, filler = full_disk
    monkeypatch.setenv("DKE_GEO_DATA_DIR", str(disk))
    walk = recording.start_walk(ctx, STAFF, {"title": "Aftenvandring", "area_ids": ["blokland"]})
    pending = _finding(walk.id)
    from dke_geo.photos import PhotoError, Upload

    photo = Upload("lampe.jpg", _noise_jpeg(800, 600))   # about 350 KB: more than is left
    with pytest.raises(PhotoError) as caught:
        recording.record_observation(ctx, STAFF, pending, photos=[photo])
    assert caught.value.message("da").startswith("Fotoet kunne ikke gemmes på serveren (No space left on device). "
                                                 "Intet er gemt, og formularen er bevaret")
    assert _count(ctx, observations) == 0 and _count(ctx, photos) == 0       # no orphan rows
    assert sorted(p.name for p in disk.rglob("*") if p.is_file()) == ["filler"]   # no half-written files

    filler.unlink()                                                                # space again: the same form
    obs, created = recording.record_observation(ctx, STAFF, pending, photos=[photo])
    assert created and len(obs.photos) == 1 and _count(ctx, photos) == 1


_TOO_LARGE = """
import resource, signal, sys
from dke_geo import config, photos
from dke_geo.context import AppContext
from dke_geo.errors import DkeError
from dke_geo.roles import Actor, Role
from dke_geo.services import recording
from dke_geo.store import observations as obs_store
from dke_geo.store.db import make_engine

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # a write past the limit then fails with EFBIG instead
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[4]), int(sys.argv[4])))
data = {"id": sys.argv[3], "walk_id": sys.argv[2], "lon": 12.35732, "lat": 55.66024, "category": "lighting"}
try:
    recording.record_observation(AppContext(config.load(), make_engine(sys.argv[1])), Actor("staff", Role.STAFF), data,
                                 photos=[photos.Upload("lampe.jpg", open(sys.argv[5], "rb").read())])
except DkeError as exc:
    print(exc.message("da"))
"""


def test_photo_file_too_large_for_the_process(tmp_path):
    """The same refusal without privileges: the kernel refuses the photo file past RLIMIT_FSIZE (EFBIG), in a
    process of its own so the limit binds nothing else."""
    ctx = open_database(f"sqlite:///{tmp_path / 'dke.sqlite'}")
    walk = recording.start_walk(ctx, STAFF, {"title": "Aftenvandring", "area_ids": ["blokland"]})
    picture = tmp_path / "lampe.jpg"
    picture.write_bytes(_noise_jpeg(2400, 1800))
    database_size = sum(p.stat().st_size for p in tmp_path.glob("dke.sqlite*"))
    limit = max(database_size + 2**20, picture.stat().st_size // 2)
    assert picture.stat().st_size > limit, "the photo must be larger than the limit"
    pending = _finding(walk.id)
    done = subprocess.run([sys.executable, "-c", _TOO_LARGE, f"sqlite:///{tmp_path / 'dke.sqlite'}", str(walk.id),
                           pending["id"], str(limit), str(picture)], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "DKE_GEO_DATA_DIR": str(tmp_path / "data")}, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Fotoet kunne ikke gemmes på serveren (File too large). Intet er gemt")
    assert _count(ctx, observations) == 0 and _count(ctx, photos) == 0
    assert not [p for p in (tmp_path / "data").rglob("*") if p.is_file()]
    ctx.close()
