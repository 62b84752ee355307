"""Export: round trip export -> import into an empty database (SQLite and PostGIS), GeoPackage checked by
GDAL's validator and ogrinfo, RFC 7946 GeoJSON, KML opened by GDAL, CSV with BOM and formula guard,
Excel sheets, filters, the public whitelist, and the command line."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely
from defusedxml import ElementTree
from sqlalchemy import select

from dke_geo import config, geo
from dke_geo.context import AppContext
from dke_geo.errors import DkeError
from dke_geo.filters import Filter
from dke_geo.interop import writers
from dke_geo.roles import PUBLIC, Actor, Role
from dke_geo.services import areas as area_service
from dke_geo.services import exports, imports
from dke_geo.services import fixes as fix_service
from dke_geo.services import public as public_service
from dke_geo.store import observations as obs_store
from dke_geo.store import walks as walk_store
from dke_geo.store.db import make_engine, migrate, reading, transaction
from dke_geo.store.tables import observations
from tests.conftest import prepare_app_data

ROOT = Path(__file__).resolve().parents[1]
VALIDATOR = "/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py"
PLANNER = Actor("planner-test", Role.PLANNER)
TRICKY = "=HYPERLINK(\"http://evil\") 'citat' æøå\n+45 22 33 44 55\t@x"
# Exact for the text formats; GeoPackage DATETIME and Excel keep milliseconds.
TIME_TOLERANCE = {"csv": pd.Timedelta(0), "geojson": pd.Timedelta(0), "gpkg": pd.Timedelta(milliseconds=1),
                  "xlsx": pd.Timedelta(milliseconds=1)}


@pytest.fixture
def source(demo_ctx):
    """The demo data with one finding carrying text a spreadsheet would run as a formula."""
    with transaction(demo_ctx.engine) as conn:
        obs = obs_store.get(conn, conn.execute(select(observations.c.id).limit(1)).scalar_one())
        obs.internal_note, obs.public_text, obs.external_id = TRICKY, "-1 lampe", "kobo:abc"
        obs_store.replace(conn, obs)
    return demo_ctx


@pytest.fixture
def empty_ctx(engine, request, tmp_path):
    """The app context of a second, empty database of the same kind as `engine` (migrated, areas seeded)."""
    if engine.dialect.name == "postgresql":
        server = request.getfixturevalue("pg_server")
        name = f"t_{uuid.uuid4().hex[:12]}"
        server.admin(f"CREATE DATABASE {name} TEMPLATE dke_template")
        url = server.url(name)
    else:
        url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    other = make_engine(url)
    migrate(other)
    context = AppContext(config.load({"DKE_GEO_DATABASE_URL": url}), other)
    area_service.seed_if_empty(context)
    yield context
    context.close()


def all_findings(ctx) -> dict:
    with reading(ctx.engine) as conn:
        return {str(o.id): o for o in (obs_store.to_model(r) for r in conn.execute(select(observations)))}


@pytest.mark.parametrize("fmt", ["gpkg", "xlsx", "geojson", "csv"])
def test_round_trip_into_an_empty_database(source, empty_ctx, tmp_path, fmt):
    path = tmp_path / f"export.{fmt}"
    counts = exports.export(source, PLANNER, fmt, path)
    assert counts["observations"] == 300
    if fmt in ("geojson", "csv"):  # one table: the walks come from the GeoPackage/Excel, or must exist
        with reading(source.engine) as conn, transaction(empty_ctx.engine) as target:
            for walk, _n in walk_store.recent(conn):
                walk_store.add(target, walk)
    report = imports.import_findings(empty_ctx, PLANNER, path)
    assert (report.mapping, report.new, report.rejected) == ("dke-geo export", 300, [])
    before, after = all_findings(source), all_findings(empty_ctx)
    assert before.keys() == after.keys()
    for key, a in before.items():
        b = after[key]
        (ax, bx), (ay, by) = geo.to_metric([a.lon, b.lon], [a.lat, b.lat])
        assert abs(ax - bx) < 0.01 and abs(ay - by) < 0.01, "points to 1 cm"
        same = ("walk_id", "category", "severity", "perceived_safety", "internal_note", "public_text",
                "location_source", "gps_accuracy_m", "area_id", "is_demo", "external_id")
        assert {f: getattr(b, f) for f in same} == {f: getattr(a, f) for f in same}
        # an import never publishes and never speaks for someone else: the file's author is kept as provenance
        assert (b.published, b.created_by, b.updated_by, b.source_created_by) == (
            False, PLANNER.name, PLANNER.name, a.created_by)
        for field in ("observed_at", "created_at", "updated_at"):
            assert abs(pd.Timestamp(getattr(b, field)) - pd.Timestamp(getattr(a, field))) <= TIME_TOLERANCE[fmt]
    assert after[next(k for k, o in before.items() if o.internal_note == TRICKY)].internal_note == TRICKY
    again = imports.import_findings(empty_ctx, PLANNER, path)
    assert (again.new, again.existing) == (0, 300)


def test_geopackage_is_valid_gpkg_1_3_with_four_layers(demo_ctx, tmp_path):
    path = tmp_path / "export.gpkg"
    counts = exports.export(demo_ctx, PLANNER, "gpkg", path)
    checked = subprocess.run(["python3", VALIDATOR, str(path)], capture_output=True, text=True)  # Debian's GDAL
    assert checked.returncode == 0, checked.stdout + checked.stderr
    listed = subprocess.run(["ogrinfo", "-ro", "-so", "-al", str(path)], capture_output=True, text=True, check=True)
    for layer, geometry in (("observations", "Point"), ("fixes", "Multi Point"), ("walks", "Multi Polygon"),
                            ("areas", "Multi Polygon")):
        assert f"Layer name: {layer}" in listed.stdout
        assert f"Feature Count: {counts[layer]}" in listed.stdout
        assert geometry in listed.stdout
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 10300
    fixes = pyogrio.read_dataframe(path, layer="fixes")
    assert counts["fixes"] > 0 and len(fixes) == counts["fixes"]
    first = fixes.iloc[0]
    assert len(first.geometry.geoms) == first["n_observations"] == len(first["observation_ids"].split(", "))


def test_geojson_follows_rfc_7946(demo_ctx, tmp_path):
    exports.export(demo_ctx, PLANNER, "geojson", tmp_path / "obs.geojson")
    exports.export(demo_ctx, PLANNER, "geojson", tmp_path / "areas.geojson", table="areas")
    obs = json.loads((tmp_path / "obs.geojson").read_text())
    areas = json.loads((tmp_path / "areas.geojson").read_text())
    for doc in (obs, areas):
        assert doc["type"] == "FeatureCollection" and "crs" not in doc
    for feature in obs["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        assert 12.2 < lon < 12.5 and 55.6 < lat < 55.75  # longitude first
    assert len(areas["features"]) == 7
    for feature in areas["features"]:
        geometry = shapely.geometry.shape(feature["geometry"])
        for polygon in getattr(geometry, "geoms", [geometry]):
            assert polygon.exterior.is_ccw  # right-hand rule: exterior counter-clockwise
            assert all(not ring.is_ccw for ring in polygon.interiors)


def test_kml_opens_in_gdal(demo_ctx, tmp_path):
    path = tmp_path / "export.kml"
    counts = exports.export(demo_ctx, PLANNER, "kml", path)
    layers = dict(pyogrio.list_layers(path))
    assert set(layers) == {"observations", "fixes", "walks", "areas"}
    listed = subprocess.run(["ogrinfo", "-ro", "-so", str(path), "observations"], capture_output=True, text=True,
                            check=True)
    assert f"Feature Count: {counts['observations']}" in listed.stdout
    placemarks = pyogrio.read_dataframe(path, layer="observations")
    assert placemarks["Name"].str.contains(r"\(Blokland\)").any()
    document = ElementTree.parse(path).getroot()[0]  # one document; KML 2.2 orders its schemas before its folders
    kinds = [child.tag.rsplit("}", 1)[1] for child in document]
    assert kinds == sorted(kinds, key=lambda kind: kind != "Schema") and kinds.count("Folder") == 4


def test_csv_has_bom_lon_lat_and_neutralised_formulas(source, tmp_path):
    path = tmp_path / "export.csv"
    exports.export(source, PLANNER, "csv", path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert {"lon", "lat"} <= set(frame.columns)
    assert "Områdevandring i Blokland efter mørkets frembrud" in set(frame["walk_title"])
    tricky = frame[frame["external_id"] == "kobo:abc"].iloc[0]
    assert tricky["internal_note"] == "'" + TRICKY and tricky["public_text"] == "'-1 lampe"
    for column in frame.columns:
        if column not in ("lon", "lat", "gps_accuracy_m"):
            assert not frame[column].str.match(r"^[=+\-@\t\r]").any(), column


def test_excel_has_one_sheet_per_table_and_no_formulas(source, tmp_path):
    path = tmp_path / "export.xlsx"
    exports.export(source, PLANNER, "xlsx", path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["observations", "fixes", "walks", "areas"]
    assert not [c.coordinate for sheet in book for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    header = [c.value for c in book["observations"][1]]
    assert {"lon", "lat", "observed_at"} <= set(header)


def test_filters_choose_the_rows_and_their_fixes(demo_ctx, tmp_path):
    selection = Filter(categories=("lighting",), areas=("blokland",))
    data = exports.tables(demo_ctx, PLANNER, selection)
    found = data["observations"]
    assert len(found) and set(found["category"]) == {"lighting"} and set(found["area_id"]) == {"blokland"}
    exported = set(found["id"])
    assert all(exported & set(ids.split(", ")) for ids in data["fixes"]["observation_ids"])
    assert list(data["areas"]["id"]) == ["blokland"]
    assert set(data["walks"]["id"]) == set(found["walk_id"])
    everything = exports.tables(demo_ctx, PLANNER)
    assert len(everything["observations"]) == 300 > len(found)


def test_walks_carry_organisation_ids_and_their_labels_in_the_chosen_language(demo_ctx):
    walks = exports.tables(demo_ctx, PLANNER, lang="en")["walks"].set_index("title")
    night = walks.loc["Køretur med nattens hjemmepleje"]
    assert json.loads(night["organisations"]) == [{"organisation": "dke", "count": 2},
                                                  {"organisation": "hjemmeplejen", "count": 3}]
    assert night["organisation_labels"] == "Crime Prevention Unit (DKE) (2); Home care (3)"
    assert night["participants"] == 5


def test_public_export_carries_only_the_public_map(demo_ctx, tmp_path):
    with reading(demo_ctx.engine) as conn:  # two unpublished findings: one to publish, one to stay internal
        ids = conn.execute(select(observations.c.id).where(~observations.c.published).order_by(observations.c.id)
                           .limit(2)).scalars().all()
        published = len(conn.execute(select(observations.c.id).where(observations.c.published)).all())
        secret = obs_store.get(conn, ids[0])
    secret.internal_note = "HEMMELIG-NOTE navngiven person"
    with transaction(demo_ctx.engine) as conn:
        obs_store.replace(conn, secret)
    public_service.publish(demo_ctx, PLANNER, ids[0], "Lampe ud ved stien")
    for fmt in writers.FORMATS:
        path = tmp_path / f"public.{fmt}"
        counts = exports.export(demo_ctx, PUBLIC, fmt, path, public=True)
        assert counts["observations"] == published + 1  # the demo's published findings and this one
        blob = path.read_bytes()
        for leak in (b"HEMMELIG", b"Demo:", b"planner-test", b"internal_note", b"created_by", ids[1].encode()):
            assert leak not in blob, (fmt, leak)
    frame = pd.read_csv(tmp_path / "public.csv", encoding="utf-8-sig")
    assert list(frame.columns) == list(exports.PUBLIC_COLUMNS)
    assert "Lampe ud ved stien" in frame["text"].tolist()
    with pytest.raises(DkeError, match="Filters do not apply to the public export"):
        exports.tables(demo_ctx, PUBLIC, Filter(categories=("lighting",)), public=True)


def test_internal_export_needs_the_right_to_see_internal_data(demo_ctx):
    from dke_geo.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        exports.tables(demo_ctx, PUBLIC)


def test_fix_links_are_exported(demo_ctx, tmp_path):
    with reading(demo_ctx.engine) as conn:
        ids = conn.execute(select(observations.c.id).order_by(observations.c.id).limit(2)).scalars().all()
    fix = fix_service.create_fix(demo_ctx, PLANNER, {"title": "Ny lampe ved stien", "observation_ids": ids,
                                                     "organisation": "bo-vest"})
    fixes = exports.tables(demo_ctx, PLANNER)["fixes"].set_index("id")
    row = fixes.loc[str(fix.id)]
    assert sorted(row["observation_ids"].split(", ")) == sorted(ids) and row.geometry.geom_type == "MultiPoint"


def test_command_line_export_import_dry_run_and_report(tmp_path):
    """`python -m dke_geo export | import --dry-run | report` on a SQLite file with the demo."""
    env = {**os.environ, "DKE_GEO_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}",
           "DKE_GEO_DATA_DIR": str(tmp_path)}

    def run(*args, check=True):
        return subprocess.run([sys.executable, "-m", "dke_geo", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, check=check)

    run("demo")
    out = run("export", "--format", "csv", "--out", str(tmp_path / "x.csv"), "--category", "lighting",
              "--area", "blokland").stdout
    assert "fund:" in out
    dry = run("import", str(tmp_path / "x.csv"), "--dry-run", "--lang", "en").stdout
    assert "0 can be imported" in dry and "already stored" in dry
    bad = run("export", "--format", "csv", "--out", str(tmp_path / "y.csv"), "--category", "nonsense", check=False)
    assert bad.returncode == 1 and "Ukendt kategori 'nonsense'" in bad.stderr
    refused = run("import-reports", str(ROOT / "tests/data/realworld/open311_georeport_v2_chicago_requests.json"),
                  "--lang", "en", check=False)
    assert refused.returncode == 1 and "2 features:" in refused.stdout and "features: 1-2" in refused.stdout
    assert "Nothing was imported" in refused.stderr
    assert "written to" in run("report", "--period", "2017H1", "--out", str(tmp_path / "h.html")).stdout
    assert (tmp_path / "h.html").read_text().startswith("<!DOCTYPE html>")


def test_data_page_exports_and_makes_reports(app_test, tmp_path):
    """The planners' data page (AppTest): an export of the chosen findings and a report, ready to download."""
    at = app_test(prepare_app_data(tmp_path), actor=Actor("demo-planlaegger", Role.PLANNER), timeout=120)
    at.run()
    at.switch_page("dke_geo/ui/pages/data.py").run()
    assert not at.exception
    assert [tab.label for tab in at.tabs] == ["Import", "Eksport", "Rapporter"]
    at.multiselect(key="data_categories").set_value(["lighting"]).run()
    at.button(key="data_prepare").click().run()
    name, fmt, data = at.session_state["data_export"]
    assert fmt == "gpkg" and name.endswith(".gpkg") and data.startswith(b"SQLite format 3")
    path = tmp_path / name
    path.write_bytes(data)
    assert set(pyogrio.read_dataframe(path, layer="observations")["category"]) == {"lighting"}
    at.button(key="data_make_period_html").click().run()
    assert not at.error
    name, fmt, data = at.session_state["data_made"]
    assert name == "2017H1-report.html" and b"data:image/png;base64," in data
