"""The data folder is private (issue 13, point 8): after real saves through the services (a finding with a photo
carrying GPS in its EXIF, a draft, the login secret, a backup and an export written into the folder, a restore) the
folder and every folder in it are 0700 and every file is 0600, under the usual umask 022; and `init-db` narrows a
data folder made before this rule (the modes checked with os.stat, the command run as a subprocess)."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from dke_geo import drafts, report_links
from dke_geo.photos import Upload
from dke_geo.roles import SYSTEM
from dke_geo.services import exports, maintenance, recording
from tests import images
from tests.conftest import ROOT, context_for

BLOKLAND = {"lon": 12.3573, "lat": 55.6602}


@pytest.fixture(autouse=True)
def usual_umask():
    """The umask most machines run with (022), under which files were created readable by everyone."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def _init_db(env: dict) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "dke_geo", "init-db"], cwd=ROOT, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _modes(root: Path) -> dict[str, str]:
    """Every folder and file under `root` (and `root` itself) with its permission bits, e.g. {'.': '0o700'}."""
    return {str(p.relative_to(root)): oct(stat.S_IMODE(os.stat(p).st_mode)) for p in [root, *root.rglob("*")]}


def _assert_private(root: Path) -> None:
    wide = {name: mode for name, mode in _modes(root).items()
            if mode != ("0o700" if (root / name).is_dir() else "0o600")}
    assert not wide, f"readable by others: {wide}"


def test_everything_saved_into_the_data_folder_is_private(tmp_path):
    data = tmp_path / "data"
    env = {"DKE_GEO_DATA_DIR": str(data), "DKE_GEO_DATABASE_URL": "", "DKE_GEO_TILE_URL": ""}
    _init_db(env)
    os.environ.update(env)  # drafts, photos and the login secret find the data folder through the environment
    try:
        with context_for(env) as ctx:
            walk = recording.start_walk(ctx, SYSTEM, {"title": "Aftenvandring", "area_ids": ["blokland"]})
            photo = images.jpeg(gps=images.BLOKLAND_DMS, accuracy_m=4.0)
            obs, _ = recording.record_observation(ctx, SYSTEM, {"walk_id": walk.id, **BLOKLAND, "category": "lighting",
                                                                "internal_note": "Lampe ud"},
                                                  photos=[Upload("lampe.jpg", photo)])
            drafts.save("demo-medarbejder", {"note": "Graffiti ved nr. 12"}, [Upload("graffiti.jpg", photo)])
            report_links.secret()
            maintenance.backup(ctx, data / "backup.zip")
            exports.export(ctx, SYSTEM, "gpkg", data / "export.gpkg")
            exports.export(ctx, SYSTEM, "csv", data / "export.csv")
            written = _modes(data)  # while the app holds the database open: its -wal and -shm files are there
            (stored,) = obs.photos
            for name in ("dke_geo.sqlite", "dke_geo.sqlite-wal", "dke_geo.sqlite-shm", stored.original_path,
                         stored.full_path, stored.thumb_path, "link.key", "backup.zip", "export.gpkg",
                         "export.csv"):
                assert name in written, name
            assert len(list((data / "drafts").rglob("*"))) == 3  # the draft, its folder and its photo
            _assert_private(data)

        restored = tmp_path / "restored"
        env2 = {**env, "DKE_GEO_DATA_DIR": str(restored)}
        os.environ.update(env2)
        with context_for(env2) as ctx:
            maintenance.restore(ctx, data / "backup.zip")
        assert stored.original_path in _modes(restored)
        _assert_private(restored)
    finally:
        for key in env:
            os.environ.pop(key, None)


def test_init_db_makes_an_existing_data_folder_private(tmp_path):
    """A data folder from before: the database, a photo folder with an original and a backup readable by everyone.
    init-db narrows all of it and says so; run again, it has nothing left to do."""
    data = tmp_path / "data"
    env = {"DKE_GEO_DATA_DIR": str(data), "DKE_GEO_DATABASE_URL": "", "DKE_GEO_TILE_URL": ""}
    _init_db(env)
    (data / "photos" / "abc").mkdir(parents=True)
    (data / "photos" / "abc" / "x_original.jpg").write_bytes(images.jpeg(gps=images.BLOKLAND_DMS))
    (data / "old-backup.zip").write_bytes(b"PK")
    for path in [data, *data.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    assert _modes(data)["photos/abc/x_original.jpg"] == "0o644"

    done = _init_db(env)
    assert "made 6 file(s) and folder(s) in the data folder readable by this user only" in done.stdout, done.stdout
    _assert_private(data)
    assert "readable by this user only" not in _init_db(env).stdout
