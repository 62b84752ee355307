"""The static public site (`python -m dke_geo publish --out DIR`): the same content as the public page,
self-contained, and a new export replaces the old one so nothing withdrawn lingers."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dke_geo import fixtures
from dke_geo.errors import DkeError
from dke_geo.roles import Actor, Role
from dke_geo.services import public as public_service
from tests.public_data import add_photo, jpeg_with_exif, site_data

ROOT = Path(__file__).resolve().parents[1]
PLANNER = Actor("pia", Role.PLANNER)


def test_same_content_as_the_public_view_and_self_contained(demo_ctx, tmp_path, monkeypatch):
    monkeypatch.setenv("DKE_GEO_DATA_DIR", str(tmp_path))
    _walks, obs = fixtures.demo_walks_and_observations()
    for o in obs[:5]:
        public_service.publish(demo_ctx, PLANNER, o.id)
    add_photo(demo_ctx.engine, obs[0].id, tmp_path / "p.jpg", jpeg_with_exif("Anna"), approved=True)
    view = public_service.view(demo_ctx)
    public_service.write_site(demo_ctx, tmp_path / "site")
    index = (tmp_path / "site" / "index.html").read_text()
    for area in view.density:
        assert area.name in index
    assert "områdevandring er en tur" in index  # what an area walk is
    assert 'src="map.html"' in index and 'href="tilgaengelighed.html"' in index
    expected = {p.name for f in view.findings for p in f.photos}
    assert len(expected) == 1 and {p.name for p in (tmp_path / "site" / "photos").iterdir()} == expected
    page = (tmp_path / "site" / "map.html").read_text()
    assert "/app/static" not in page and "cdn" not in page.lower()
    data = site_data(page)  # the map and the list are drawn from this
    assert [row[0] for row in data["f"]] == [f.key for f in view.findings]
    assert [data["texts"][row[7]] for row in data["f"]] == [f.text for f in view.findings]
    assert [data["statusTexts"][row[9]] for row in data["f"]] == [f.status for f in view.findings]
    assert [data["photos"][i][0] for row in data["f"] for i in row[10]] == [f"photos/{name}" for name in expected]
    statement = (tmp_path / "site" / "tilgaengelighed.html").read_text()
    assert "Tilgængelighedserklæring" in statement and "WCAG 2.1 AA" in statement
    assert (tmp_path / "site" / "assets" / "frame.js").is_file()


def test_a_new_export_replaces_the_old_one(demo_ctx, tmp_path, monkeypatch):
    monkeypatch.setenv("DKE_GEO_DATA_DIR", str(tmp_path))
    _walks, obs = fixtures.demo_walks_and_observations()
    public_service.publish(demo_ctx, PLANNER, obs[0].id)
    photo = add_photo(demo_ctx.engine, obs[0].id, tmp_path / "p.jpg", jpeg_with_exif("Anna"), approved=True)
    out = tmp_path / "site"
    published = len(public_service.view(demo_ctx).findings)
    assert public_service.write_site(demo_ctx, out)["photos"] == 1
    public_service.approve_photo(demo_ctx, PLANNER, photo, approved=False)
    for o in obs:
        public_service.unpublish(demo_ctx, PLANNER, o.id)
    assert published > 0 and public_service.write_site(demo_ctx, out) == {"findings": 0, "photos": 0}
    assert list((out / "photos").iterdir()) == []
    assert "Der er endnu ikke offentliggjort nogen fund." in (out / "index.html").read_text()


def test_refuses_a_folder_that_is_not_an_earlier_export(demo_ctx, tmp_path):
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "important.txt").write_text("keep me")
    with pytest.raises(DkeError) as err:
        public_service.write_site(demo_ctx, tmp_path / "www")
    assert "ikke tom" in err.value.message("da")
    assert (tmp_path / "www" / "important.txt").read_text() == "keep me"


def test_cli_publish(tmp_path):
    env = {**os.environ, "DKE_GEO_DATA_DIR": str(tmp_path), "DKE_GEO_DATABASE_URL": "", "DKE_GEO_TILE_URL": ""}
    for args in (["init-db"], ["publish", "--out", str(tmp_path / "site"), "--lang", "en"]):
        done = subprocess.run([sys.executable, "-m", "dke_geo", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    assert "0 findings, 0 photos" in done.stdout
    index = (tmp_path / "site" / "index.html").read_text()
    assert '<html lang="en">' in index and "No findings have been published yet." in index
    bad = subprocess.run([sys.executable, "-m", "dke_geo", "publish", "--out", str(tmp_path / "x"), "--lang", "fr"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "--lang" in bad.stderr
