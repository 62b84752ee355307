"""Nothing internal reaches the public: a database with a marker string in every internal field (and in
every text column a later schema adds), unpublished and deleted findings, unapproved and deleted photos,
fixes, histories and accounts. The public view, its map, the public page (AppTest), the static site and
the public exports contain no marker, while the one published finding and its one approved photo are there.
The browser half is tests/e2e/test_public.py."""
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dke_geo import maps
from dke_geo.interop import export
from dke_geo.maps.public import public_map
from dke_geo.public_view import public_view
from dke_geo.roles import PUBLIC
from dke_geo.services import areas as area_service
from dke_geo.static_site import write_site
from dke_geo.store.db import make_engine, migrate
from tests.public_data import MARK, PUBLIC_TEXT, colour_of, fill_leak_database, is_good_colour

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")


@pytest.fixture
def leaky(engine, tmp_path, monkeypatch):
    monkeypatch.setenv("DKE_GEO_DATA_DIR", str(tmp_path))
    fill_leak_database(engine, tmp_path)
    return engine


def _clean(blob: bytes | str, where: str) -> None:
    data = blob.encode() if isinstance(blob, str) else blob
    assert MARK.encode() not in data and MARK.lower().encode() not in data.lower(), f"internal data in {where}"


def test_public_view_holds_only_the_published_finding_and_its_approved_photo(leaky):
    view = public_view(leaky)
    _clean(repr(view), "public_view")
    [finding] = view.findings
    assert finding.text == PUBLIC_TEXT and finding.area == "Blokland" and finding.month == "april 2017"
    assert finding.status == "Planlagt"
    [photo] = finding.photos
    assert is_good_colour(colour_of(photo.data)) and is_good_colour(colour_of(photo.thumb))
    for data in (photo.data, photo.thumb):
        _clean(data, "a public photo")
        assert b"Exif" not in data and b"GPS" not in data
    assert {d.name: d.findings for d in view.density}["Blokland"] == 1


def test_public_map_html(leaky):
    html = maps.render(public_map(public_view(leaky), area_service.current(leaky), lambda p: f"photos/{p.name}"))
    _clean(html, "the public map")
    assert PUBLIC_TEXT in html


def test_static_site(leaky, tmp_path):
    out = tmp_path / "site"
    assert write_site(leaky, out) == {"findings": 1, "photos": 1}
    files = [p for p in out.rglob("*") if p.is_file()]
    for path in files:
        _clean(path.read_bytes(), str(path.relative_to(out)))
    assert PUBLIC_TEXT in (out / "index.html").read_text() and PUBLIC_TEXT in (out / "map.html").read_text()
    [photo] = (out / "photos").iterdir()
    assert is_good_colour(colour_of(photo.read_bytes()))


@pytest.mark.parametrize("fmt", export.FORMATS)
def test_public_exports(leaky, fmt):
    data = export.export_bytes(leaky, PUBLIC, fmt, public=True)
    _clean(data, f"the public {fmt} export")


# ---------------------------------------------------------------- the public page through AppTest
@pytest.fixture
def leaky_app(tmp_path, monkeypatch):
    """The app on its own SQLite file holding the leak database; nobody logged in."""
    from dke_geo.services import areas as areas_service
    from dke_geo.store.db import default_engine
    monkeypatch.setenv("DKE_GEO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DKE_GEO_DATABASE_URL", "")
    monkeypatch.setenv("DKE_GEO_TILE_URL", "")
    engine = make_engine(f"sqlite:///{tmp_path / 'dke_geo.sqlite'}")
    migrate(engine)
    areas_service.seed_if_empty(engine)
    fill_leak_database(engine, tmp_path)
    engine.dispose()
    default_engine.cache_clear()
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    default_engine.cache_clear()
    st.cache_resource.clear()
    st.cache_data.clear()


def _everything(at) -> str:
    """Every element the page sent (protos, with the map's HTML and the tables' data), as text."""
    def walk(node):
        yield node
        for child in getattr(node, "children", {}).values():
            yield from walk(child)
    parts = [str(getattr(node, "proto", "")) for node in walk(at._tree)]
    parts += [frame.value.to_string() for frame in at.dataframe]
    return "\n".join(parts)


@pytest.mark.parametrize("lang", ["da", "en"])
def test_public_page_in_apptest(leaky_app, lang):
    at = AppTest.from_file(APP, default_timeout=60).run()
    if lang == "en":
        at.button_group(key="lang").set_value("en").run()
    assert not at.exception
    page = _everything(at)
    _clean(page, f"the public page ({lang})")
    assert PUBLIC_TEXT in page
    findings = at.dataframe[1].value
    assert findings.shape[0] == 1 and PUBLIC_TEXT in findings.iloc[0].tolist()
    assert len(at.get("image")) == 1  # the approved photo, and no other
