"""Backups: a round trip restores every row and every photo file exactly, on SQLite and on PostGIS; a backup
taken while tablets keep saving is consistent; restore refuses what it must refuse and changes nothing then."""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import threading
import uuid
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sqlalchemy import select

from dke_geo import config
from dke_geo.context import AppContext
from dke_geo.photos import Upload
from dke_geo.roles import Actor, Role
from dke_geo.services import fixes as fix_service
from dke_geo.services import maintenance, public, recording
from dke_geo.store import backup as backup_store
from dke_geo.store.db import migrate, reading
from dke_geo.store.tables import metadata, observations, photos
from tests.conftest import ROOT

STAFF = Actor("staff", Role.STAFF)
PLANNER = Actor("planner", Role.PLANNER)
COMPARED = (*backup_store.DATA_TABLES, "fix_observations", "areas", "meta")


def _jpeg(seed: int) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, (120, 160, 3), dtype=np.uint8)).save(out, "JPEG")
    return out.getvalue()


def _save(ctx, walk_id, seed: int, with_photo: bool = True):
    data = {"id": str(uuid.uuid4()), "walk_id": walk_id, "lon": 12.35732 + seed * 1e-6, "lat": 55.66024,
            "category": "lighting", "internal_note": f"Lampe {seed} – æøå"}
    return recording.record_observation(ctx, STAFF, data, photos=[Upload(f"{seed}.jpg", _jpeg(seed))]
                                        if with_photo else [])[0]


def _tables(ctx) -> dict[str, pd.DataFrame]:
    out = {}
    with reading(ctx.engine) as conn:
        for name in COMPARED:
            table = metadata.tables[name]
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            out[name] = pd.DataFrame([tuple(r) for r in rows], columns=[c.name for c in table.columns])
    return out


def _files(data_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(data_dir)): p.read_bytes() for p in (data_dir / "photos").rglob("*") if p.is_file()}


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("DKE_GEO_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture
def fresh(request, tmp_path):
    """A factory of app contexts on new, empty databases (not migrated: a restore needs no schema)."""
    made = []

    def make(kind: str):
        if kind == "sqlite":
            url = f"sqlite:///{tmp_path / f'restored-{len(made)}.sqlite'}"
        else:
            server = request.getfixturevalue("pg_server")
            name = f"r_{uuid.uuid4().hex[:12]}"
            server.admin(f"CREATE DATABASE {name}")
            url = server.url(name)
        made.append(AppContext.open(config.load({"DKE_GEO_DATABASE_URL": url})))
        return made[-1]

    yield make
    for context in made:
        context.close()


def test_round_trip_restores_every_row_and_photo(ctx, data_dir, fresh, tmp_path, monkeypatch):
    maintenance.load_demo(ctx)
    walk = recording.start_walk(ctx, STAFF, {"title": "Aftenvandring", "area_ids": ["blokland"]})
    saved = [_save(ctx, walk.id, seed) for seed in range(5)]
    fix = fix_service.create_fix(ctx, PLANNER, {"title": "Ny lampe", "observation_ids": [saved[0].id],
                                                "organisation": "dke"})
    fix_service.transition_fix(ctx, PLANNER, fix.id, fix.version, "approved",
                               photo=Upload("efter.jpg", _jpeg(99)))
    before, files = _tables(ctx), _files(data_dir)
    assert len(files) == 6 * 3 and len(before["observations"]) > 100 and len(before["fixes"]) > 1

    result = maintenance.backup(ctx, tmp_path / "backup.zip")
    assert result.counts["photos"] == 6 and result.photo_files == 18 and result.database == ctx.engine.dialect.name

    # Restore on another machine: an empty database, an empty data folder.
    monkeypatch.setenv("DKE_GEO_DATA_DIR", str(tmp_path / "elsewhere"))
    target = fresh(ctx.engine.dialect.name)
    restored = maintenance.restore(target, tmp_path / "backup.zip")
    assert restored.counts == result.counts
    after = _tables(target)
    versions = {"data_version", "areas_version"}  # cache keys, moved on by a restore (next test); the rest exact
    counters = [after["meta"].set_index("key")["value"], before["meta"].set_index("key")["value"]]
    assert set(counters[0].index) == set(counters[1].index) >= versions
    assert all(counters[0][k] > counters[1][k] for k in versions)
    after["meta"], before["meta"] = (t[~t["key"].isin(versions)].reset_index(drop=True)
                                     for t in (after["meta"], before["meta"]))
    for name in COMPARED:
        pd.testing.assert_frame_equal(after[name], before[name], check_dtype=False, obj=name)
    assert _files(tmp_path / "elsewhere") == files
    # the restored database is a working one: a new finding saves into it
    assert _save(target, walk.id, 7, with_photo=False).walk_id == walk.id


def test_restore_refuses_a_database_with_data_unless_forced(ctx, data_dir, tmp_path):
    walk = recording.start_walk(ctx, STAFF, {"title": "Aftenvandring", "area_ids": ["blokland"]})
    first = _save(ctx, walk.id, 1)
    maintenance.backup(ctx, tmp_path / "backup.zip")
    later = _save(ctx, walk.id, 2)                   # made after the backup

    with pytest.raises(backup_store.BackupError) as refused:
        maintenance.restore(ctx, tmp_path / "backup.zip")
    assert refused.value.key == "reliability.restore_not_empty"
    assert "observations 2" in refused.value.message("en") and "--force" in refused.value.message("en")
    assert {o.id for o in recording.walk_observations(ctx, STAFF, walk.id)} == {first.id, later.id}  # untouched

    maintenance.restore(ctx, tmp_path / "backup.zip", force=True)
    assert [o.id for o in recording.walk_observations(ctx, STAFF, walk.id)] == [first.id]


def test_a_restore_moves_the_data_version_on(ctx, data_dir, tmp_path):
    """Caches key on the data version (dke_geo/context.py): a restore must never take it back, or a running app
    that cached newer data (a finding published after the backup) would serve it again once the restored database
    counted up to the same version."""
    walk = recording.start_walk(ctx, STAFF, {"title": "Aftenvandring", "area_ids": ["blokland"]})
    first = _save(ctx, walk.id, 1, with_photo=False)
    maintenance.backup(ctx, tmp_path / "backup.zip")
    public.publish(ctx, PLANNER, first.id, "Lampen er skiftet.")      # after the backup
    assert [f.text for f in public.view(ctx).findings] == ["Lampen er skiftet."]   # cached at this version
    before = ctx.data_version()

    maintenance.restore(ctx, tmp_path / "backup.zip", force=True)
    assert ctx.data_version() > before
    while ctx.data_version() < before:   # (without the above: writes until the cached version comes round again)
        recording.start_walk(ctx, STAFF, {"title": "Næste vandring", "area_ids": ["blokland"]})
    assert public.view(ctx).findings == ()   # what the restored database holds: nothing published


def test_backup_while_tablets_keep_saving_is_consistent(ctx, data_dir, fresh, tmp_path, monkeypatch):
    walk = recording.start_walk(ctx, STAFF, {"title": "Travl aften", "area_ids": ["blokland"]})
    stop, errors, seeds = threading.Event(), [], iter(range(10**6))
    lock = threading.Lock()

    def tablet():
        while not stop.is_set():
            with lock:
                seed = next(seeds)
            try:
                _save(ctx, walk.id, seed, with_photo=seed % 2 == 0)
            except Exception as exc:  # noqa: BLE001 - the assertion below reports it
                errors.append(repr(exc))

    tablets = [threading.Thread(target=tablet) for _ in range(4)]
    for th in tablets:
        th.start()
    archives = []
    try:
        for i in range(3):
            archives.append(maintenance.backup(ctx, tmp_path / f"during-{i}.zip"))
    finally:
        stop.set()
        for th in tablets:
            th.join(60)
    assert not errors
    with reading(ctx.engine) as conn:
        final = {r.id: r for r in conn.execute(select(observations))}
    counts = [a.counts["observations"] for a in archives]
    assert counts == sorted(counts) and counts[-1] < len(final)   # taken while the saving went on

    monkeypatch.setenv("DKE_GEO_DATA_DIR", str(tmp_path / "elsewhere"))
    for made in archives:
        target = fresh(ctx.engine.dialect.name)
        restored = maintenance.restore(target, made.archive)
        with reading(target.engine) as conn:
            rows = {r.id: r for r in conn.execute(select(observations))}
            photo_rows = conn.execute(select(photos)).all()
        assert len(rows) == made.counts["observations"] == restored.counts["observations"]
        assert all(rows[k] == final[k] for k in rows)              # each restored finding exactly as saved
        for p in photo_rows:                                      # and each of its photos with its files
            assert p.observation_id in rows
            assert all((tmp_path / "elsewhere" / path).is_file() for path in (p.full_path, p.thumb_path,
                                                                              p.original_path))
        with zipfile.ZipFile(made.archive) as archive:            # only the files its rows refer to
            assert len([n for n in archive.namelist() if n.startswith("photos/")]) == 3 * len(photo_rows)


def test_restore_refuses_a_foreign_hostile_or_damaged_archive(ctx, data_dir, fresh, tmp_path):
    walk = recording.start_walk(ctx, STAFF, {"title": "Aftenvandring", "area_ids": ["blokland"]})
    _save(ctx, walk.id, 1)
    good = maintenance.backup(ctx, tmp_path / "backup.zip").archive
    kind = ctx.engine.dialect.name
    empty = fresh(kind)
    migrate(empty.engine)

    not_zip = tmp_path / "notes.zip"
    not_zip.write_text("hello")
    with pytest.raises(backup_store.BackupError, match="notes.zip is not a dke-geo backup"):
        maintenance.restore(empty, not_zip)

    other = "postgresql" if kind == "sqlite" else "sqlite"
    with pytest.raises(backup_store.BackupError,
                       match=f"The backup is of a {kind} database, but the configured database is {other}; nothing "
                             "was changed"):
        maintenance.restore(fresh(other), good)

    evil = tmp_path / "evil.zip"   # a member that would land outside the data folder
    _rewrite(good, evil, extra={"photos/../../escaped.txt": b"x"})
    with pytest.raises(backup_store.BackupError, match="Invalid photo file path: photos/../../escaped.txt"):
        maintenance.restore(empty, evil)
    assert not (tmp_path / "escaped.txt").exists()

    damaged = tmp_path / "damaged.zip"
    dump = "database.sqlite" if kind == "sqlite" else "database.pgdump"
    _rewrite(good, damaged, change={dump: lambda data: data[:2048] + b"\0" * (len(data) - 2048)})
    with pytest.raises(backup_store.BackupError, match="is damaged" if kind == "sqlite" else "pg_restore failed"):
        maintenance.restore(empty, damaged)
    with reading(empty.engine) as conn:                                  # nothing changed by any of these
        assert conn.execute(select(observations)).all() == []
    assert not list(data_dir.parent.glob("**/escaped.txt"))


def _rewrite(source: Path, target: Path, extra: dict | None = None, change: dict | None = None) -> None:
    """A copy of the archive `source` with members changed or added."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            dst.writestr(item, (change or {}).get(item.filename, lambda d: d)(data))
        for name, data in (extra or {}).items():
            dst.writestr(name, data)


def test_postgis_backup_without_pg_dump_says_what_to_run(pg_url, data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))   # no pg_dump on this PATH
    ctx = AppContext.open(config.load({"DKE_GEO_DATABASE_URL": pg_url}))
    with pytest.raises(backup_store.BackupError) as caught:
        maintenance.backup(ctx, tmp_path / "backup.zip")
    text = caught.value.message("en")
    assert "pg_dump is not installed" in text and "pg_dump --format=custom" in text and "pg_restore" in text
    assert ctx.engine.url.database in text and not (tmp_path / "backup.zip").exists()
    ctx.close()


def test_command_line_round_trip(tmp_path):
    def run(data: Path, *args):
        env = {**os.environ, "DKE_GEO_DATA_DIR": str(data), "DKE_GEO_DATABASE_URL": ""}
        return subprocess.run([sys.executable, "-m", "dke_geo", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True)

    source, target, archive = tmp_path / "source", tmp_path / "target", tmp_path / "dke.zip"
    demo = run(source, "demo")
    findings = re.search(r"(\d+) findings", demo.stdout).group(0)
    made = run(source, "backup", "--out", str(archive))
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith(f"backup written to {archive}: sqlite, {findings}")

    restored = run(target, "restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    assert findings in restored.stdout
    again = run(target, "restore", str(archive))
    assert again.returncode == 1 and "allerede data" in again.stderr and "--force" in again.stderr
    assert run(target, "restore", str(archive), "--force").returncode == 0
