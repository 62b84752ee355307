"""Drafts kept on the server (dke_geo/drafts.py): the form and its photos, per user, nothing left after clear."""
from dke_geo import drafts
from dke_geo.photos import Upload
from tests import images


def test_a_draft_keeps_its_photos_and_only_those_still_attached(tmp_path, monkeypatch):
    monkeypatch.setenv("DKE_GEO_DATA_DIR", str(tmp_path))
    first, second = Upload("a.jpg", images.jpeg()), Upload("b.heic", images.heic())
    drafts.save("medarbejder", {"note": "Lampe slukket"}, [first, second])
    drafts.save("medarbejder", {"note": "Lampe slukket ved nr. 12"}, [second])  # the first photo was removed
    draft = drafts.load("medarbejder")
    assert draft["note"] == "Lampe slukket ved nr. 12"
    assert [(p.name, p.data) for p in drafts.photos("medarbejder", draft)] == [("b.heic", second.data)]
    assert len([p for p in (tmp_path / "drafts").rglob("*") if p.is_file()]) == 2  # the draft and one photo
    assert drafts.load("planlaegger") is None  # another user's draft is their own

    for photo in (tmp_path / "drafts").rglob("*"):
        if photo.is_file() and photo.suffix != ".json":
            photo.unlink()  # a photo lost from the disk is left out, the rest of the draft kept
    assert drafts.photos("medarbejder", drafts.load("medarbejder")) == []
    drafts.clear("medarbejder")
    assert drafts.load("medarbejder") is None and not [p for p in (tmp_path / "drafts").rglob("*")]



def test_a_draft_keeps_no_file_that_saving_would_refuse(tmp_path, monkeypatch):
    """An SVG named .png, a 30000x30000 PNG, a file over 25 MB and text named .jpg are named by the form and never
    kept: only the photo that passes the checks is (issue 13, point 9)."""
    monkeypatch.setenv("DKE_GEO_DATA_DIR", str(tmp_path))
    good = Upload("lampe.jpg", images.jpeg())
    refused = [Upload("tegning.png", images.SVG), Upload("kaempe.png", images.huge_png()),
               Upload("stor.jpg", images.jpeg() + bytes(25 * 2**20)), Upload("noter.jpg", b"tekst")]
    drafts.save("medarbejder", {"note": "Lampe slukket"}, [refused[0], good, *refused[1:]])
    draft = drafts.load("medarbejder")
    assert [(p.name, p.data) for p in drafts.photos("medarbejder", draft)] == [("lampe.jpg", good.data)]
    assert len([p for p in (tmp_path / "drafts").rglob("*") if p.is_file()]) == 2  # the draft and the one photo


def test_init_db_removes_drafts_nobody_came_back_to(tmp_path, monkeypatch):
    """A draft untouched for 30 days goes at the next start, photos and all; a recent one stays."""
    import os
    import subprocess
    import sys
    import time

    from tests.conftest import ROOT
    monkeypatch.setenv("DKE_GEO_DATA_DIR", str(tmp_path))
    drafts.save("gammel", {"note": "Lampe slukket"}, [Upload("a.jpg", images.jpeg())])
    drafts.save("ny", {"note": "Graffiti"})
    month_ago = time.time() - 31 * 86400
    os.utime(tmp_path / "drafts" / next(p.name for p in (tmp_path / "drafts").glob("*.json")
                                        if "Lampe" in p.read_text()), (month_ago, month_ago))
    env = {**os.environ, "DKE_GEO_DATA_DIR": str(tmp_path), "DKE_GEO_DATABASE_URL": ""}
    done = subprocess.run([sys.executable, "-m", "dke_geo", "init-db"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and "removed 1 unsaved draft(s)" in done.stdout, done.stdout + done.stderr
    assert drafts.load("gammel") is None and drafts.load("ny")["note"] == "Graffiti"
    assert [p.name for p in (tmp_path / "drafts").iterdir()] == [next((tmp_path / "drafts").glob("*.json")).name]
