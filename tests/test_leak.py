"""Nothing internal reaches the public: a database with a marker string in every internal field (and in
every text column a later schema adds), unpublished and deleted findings, unapproved and deleted photos,
fixes, histories and accounts. The public view, its map, the public page (AppTest), the static site, the
public exports and the walk report for the Bydelsforum (HTML and PDF) contain no marker, while the one published
finding and its one approved photo are there. The browser half is tests/e2e/test_public.py."""
import base64
import io
import re

import pytest
from pypdf import PdfReader

from dke_geo import maps
from dke_geo.interop import writers
from dke_geo.maps.public import public_map
from dke_geo.roles import PUBLIC, SYSTEM
from dke_geo.services import areas as area_service
from dke_geo.services import exports
from dke_geo.services import public as public_service
from dke_geo.services import reports as report_service
from dke_geo.store.db import make_engine, migrate
from tests.conftest import context_for
from tests.public_data import MARK, PUBLIC_TEXT, colour_of, fill_leak_database, is_good_colour


@pytest.fixture
def leak_ids(ctx, tmp_path, monkeypatch) -> dict:
    """The leak database in `ctx` (SQLite and PostGIS); returns its ids."""
    monkeypatch.setenv("DKE_GEO_DATA_DIR", str(tmp_path))
    return fill_leak_database(ctx.engine, tmp_path)


@pytest.fixture
def leaky(ctx, leak_ids):
    """The app context on the leak database."""
    return ctx


def _clean(blob: bytes | str, where: str) -> None:
    data = blob.encode() if isinstance(blob, str) else blob
    assert MARK.encode() not in data and MARK.lower().encode() not in data.lower(), f"internal data in {where}"


def test_the_leak_database_marks_an_imported_findings_source_author(leaky):
    """The file's author kept by an import (observations.source_created_by) is internal: it carries a marker here,
    so every public output below is checked for it too."""
    from sqlalchemy import select

    from dke_geo.store.db import reading
    from dke_geo.store.tables import observations
    with reading(leaky.engine) as conn:
        authors = set(conn.execute(select(observations.c.source_created_by)).scalars())
    assert authors == {f"{MARK}-observations-source_created_by"}


def test_public_view_holds_only_the_published_finding_and_its_approved_photo(leaky):
    view = public_service.view(leaky)
    _clean(repr(view), "the public view")
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
    html = maps.render(public_map(public_service.view(leaky), leaky.areas(), lambda p: f"photos/{p.name}"))
    _clean(html, "the public map")
    assert PUBLIC_TEXT in html


def test_static_site(leaky, tmp_path):
    out = tmp_path / "site"
    assert public_service.write_site(leaky, out) == {"findings": 1, "photos": 1}
    files = [p for p in out.rglob("*") if p.is_file()]
    for path in files:
        _clean(path.read_bytes(), str(path.relative_to(out)))
    assert PUBLIC_TEXT in (out / "index.html").read_text() and PUBLIC_TEXT in (out / "map.html").read_text()
    [photo] = (out / "photos").iterdir()
    assert is_good_colour(colour_of(photo.read_bytes()))


@pytest.mark.parametrize("fmt", writers.FORMATS)
def test_public_exports(leaky, fmt):
    data = exports.export_bytes(leaky, PUBLIC, fmt, public=True)
    _clean(data, f"the public {fmt} export")


# ---------------------------------------------------------------- the walk report for the Bydelsforum
def test_forum_report_html(leaky, leak_ids):
    """The forum version of the walk's report (issue 13, point 5): the published finding with its public text, its
    status in plain words and its one approved photo without EXIF; no title, focus, organisation, note, fix,
    contact role, unpublished or deleted finding, or other photo."""
    html = report_service.walk_report(leaky, SYSTEM, leak_ids["walk"], "da", "html", forum=True).decode()
    _clean(html, "the forum report (HTML)")
    assert PUBLIC_TEXT in html and "Planlagt" in html and "Blokland" in html and "20. april 2017" in html
    photos = [base64.b64decode(p) for p in re.findall(r'src="data:image/jpeg;base64,([A-Za-z0-9+/=]+)"', html)]
    assert len(photos) == 1 and is_good_colour(colour_of(photos[0]))
    assert b"Exif" not in photos[0] and b"GPS" not in photos[0]


def test_forum_report_pdf(leaky, leak_ids):
    data = report_service.walk_report(leaky, SYSTEM, leak_ids["walk"], "en", "pdf", forum=True)
    _clean(data, "the forum report (PDF bytes)")
    reader = PdfReader(io.BytesIO(data))
    text = re.sub(r"\s+", " ", "\n".join(page.extract_text() for page in reader.pages))
    _clean(text, "the forum report (PDF text)")
    _clean(repr(reader.metadata), "the forum report (PDF metadata)")
    assert PUBLIC_TEXT in text and "Planned" in text and "20 April 2017" in text
    jpegs = [image.data for page in reader.pages for image in page.images if image.data[:3] == b"\xff\xd8\xff"]
    assert len(jpegs) == 1 and is_good_colour(colour_of(jpegs[0]))


# ---------------------------------------------------------------- the public page through AppTest
@pytest.fixture
def leaky_app(tmp_path, app_test):
    """The app on its own SQLite file holding the leak database (migrated and seeded as init-db does); nobody
    logged in. Returns the app, not yet run."""
    env = {"DKE_GEO_DATA_DIR": str(tmp_path), "DKE_GEO_DATABASE_URL": "", "DKE_GEO_TILE_URL": ""}
    engine = make_engine(f"sqlite:///{tmp_path / 'dke_geo.sqlite'}")
    migrate(engine)
    engine.dispose()
    with context_for(env) as ctx:
        area_service.seed_if_empty(ctx)
        fill_leak_database(ctx.engine, tmp_path)
    return app_test(env)


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
    at = leaky_app.run()
    if lang == "en":
        at.button_group(key="lang").set_value("en").run()
    assert not at.exception
    page = _everything(at)
    _clean(page, f"the public page ({lang})")
    assert PUBLIC_TEXT in page
    findings = at.dataframe[1].value
    assert findings.shape[0] == 1 and PUBLIC_TEXT in findings.iloc[0].tolist()
    assert len(at.get("image")) == 1  # the approved photo, and no other
