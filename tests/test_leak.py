"""Nothing internal reaches the public: a database with a marker string in every internal field (and in
every text column a later schema adds), unpublished and deleted findings, unapproved and deleted photos,
fixes, histories, accounts and residents' answers. The public view, its map and the list beside it, the public
page (AppTest, also after a resident has answered), the static site and the public exports contain no marker,
while the one published finding (in Danish and English) and its one approved photo are there.
The browser half is tests/e2e/test_public.py."""
import pytest

from dke_geo import maps
from dke_geo.interop import writers
from dke_geo.maps.public import public_map
from dke_geo.roles import PUBLIC
from dke_geo.services import areas as area_service
from dke_geo.services import exports
from dke_geo.services import public as public_service
from dke_geo.store.db import make_engine, migrate
from tests.conftest import context_for
from tests.public_data import (
    MARK,
    PUBLIC_TEXT,
    PUBLIC_TEXT_EN,
    colour_of,
    fill_leak_database,
    is_good_colour,
    site_data,
)


@pytest.fixture
def leaky(ctx, tmp_path, monkeypatch):
    """The app context on the leak database (SQLite and PostGIS)."""
    monkeypatch.setenv("DKE_GEO_DATA_DIR", str(tmp_path))
    fill_leak_database(ctx.engine, tmp_path)
    return ctx


def _clean(blob: bytes | str, where: str) -> None:
    data = blob.encode() if isinstance(blob, str) else blob
    assert MARK.encode() not in data and MARK.lower().encode() not in data.lower(), f"internal data in {where}"


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


@pytest.mark.parametrize(("lang", "text"), [("da", PUBLIC_TEXT), ("en", PUBLIC_TEXT_EN)])
def test_public_map_and_list(leaky, lang, text):
    """The map's page holds the list's data too (maps/public.py): one finding, its public text, nothing else."""
    html = maps.render(public_map(public_service.view(leaky, lang), leaky.areas(), lambda p: f"photos/{p.name}",
                                  answers=True))
    _clean(html, f"the public map and list ({lang})")
    data = site_data(html)
    assert len(data["f"]) == 1 and data["texts"] == [text]
    assert data["statusTexts"] == [public_service.view(leaky, lang).findings[0].status]


def test_static_site(leaky, tmp_path):
    out = tmp_path / "site"
    assert public_service.write_site(leaky, out) == {"findings": 1, "photos": 1}
    files = [p for p in out.rglob("*") if p.is_file()]
    for path in files:
        _clean(path.read_bytes(), str(path.relative_to(out)))
    assert site_data((out / "map.html").read_text())["texts"] == [PUBLIC_TEXT]
    assert "tilgaengelighed.html" in (out / "index.html").read_text()
    [photo] = (out / "photos").iterdir()
    assert is_good_colour(colour_of(photo.read_bytes()))


@pytest.mark.parametrize("fmt", writers.FORMATS)
def test_public_exports(leaky, fmt):
    data = exports.export_bytes(leaky, PUBLIC, fmt, public=True)
    _clean(data, f"the public {fmt} export")


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


@pytest.mark.parametrize(("lang", "text"), [("da", PUBLIC_TEXT), ("en", PUBLIC_TEXT_EN)])
def test_public_page_in_apptest(leaky_app, lang, text):
    at = leaky_app.run()
    if lang == "en":
        at.button_group(key="lang").set_value("en").run()
    assert not at.exception
    page = _everything(at)
    _clean(page, f"the public page ({lang})")
    assert text in page  # in the map-and-list document the page sends
    assert at.table[0].value.iloc[:, 0].to_dict()["Blokland"] == 1  # density by area: the one published finding
    assert len(at.get("image")) == 1  # the approved photo, and no other
    [choice] = at.selectbox(key="public_answer_finding").options  # the one finding a resident may answer about
    at.radio(key="public_answer_still").set_value("Ja, det er stadig et problem" if lang == "da"
                                                  else "Yes, it is still a problem")
    at.text_area(key="public_answer_text").input("Det er stadig mørkt")
    at.button(key="FormSubmitter:public_answer_form-" + ("Send svar" if lang == "da" else "Send answer")).click()
    at.run()
    assert not at.exception and len(at.success) == 1
    _clean(_everything(at), f"the public page after an answer ({lang})")
    assert "Det er stadig mørkt" not in _everything(at)  # an answer is never shown publicly
