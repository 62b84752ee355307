"""The shipped geodata and the area import."""
import json

import geopandas as gpd
import pytest
import shapely
import shapely.affinity
from shapely.geometry import Polygon

from dke_geo import geo
from dke_geo.errors import DkeError, PermissionDenied
from dke_geo.roles import SYSTEM, Actor, Role
from dke_geo.services import areas as area_service
from dke_geo.services.recording import record_observation

NAMED = {  # a point well inside each area, and its id
    "blokland": (12.3573, 55.6602),
    "galgebakken": (12.3473, 55.6776),
    "hyldespjaeldet": (12.3451, 55.6742),
    "morbaerhaven": (12.3393, 55.6591),
    "banehegnet": (12.3507, 55.6584),
    "hedemarksvaenge": (12.3481, 55.6593),
    "albertslund-syd": (12.3440, 55.6538),
}


@pytest.mark.parametrize("name", ["boundary", "areas", "paths", "roads", "cycle_routes"])
def test_layers_are_valid_wgs84(name):
    layer = geo.layer(name)
    assert layer.crs.to_epsg() == 4326
    assert layer.geometry.is_valid.all()
    assert not layer.geometry.is_empty.any()


def test_areas_lie_inside_the_municipality_and_do_not_overlap():
    areas = geo.layer("areas").to_crs(geo.METRIC)
    boundary = geo.layer("boundary").to_crs(geo.METRIC).geometry.iloc[0]
    assert areas.geometry.within(boundary.buffer(1)).all()
    for i, a in enumerate(areas.geometry):
        for b in areas.geometry.iloc[i + 1:]:
            assert a.intersection(b).area < 1  # m²
    assert {"Blokland", "Galgebakken", "Hyldespjældet", "Morbærhaven", "Banehegnet",
            "Hedemarksvænge"} <= set(areas["name"])
    assert set(areas["confidence"]) <= {"high", "medium", "medium-low", "low", "unverified"}
    assert areas["source"].str.len().gt(10).all()


@pytest.mark.parametrize(("area_id", "point"), NAMED.items())
def test_known_point_is_assigned_to_its_area(area_id, point):
    assert geo.assign_areas([point[0]], [point[1]], geo.layer("areas"))[0] == area_id


def test_point_outside_every_area_gets_none():
    assert geo.assign_areas([12.3300], [55.6950], geo.layer("areas"))[0] is None  # Vestskoven


def test_metric_projection_is_utm32():
    x, y = geo.to_metric([12.3573], [55.6602])
    assert 705_000 < x[0] < 715_000 and 6_165_000 < y[0] < 6_175_000
    lon, lat = geo.to_wgs84(x, y)
    assert lon[0] == pytest.approx(12.3573) and lat[0] == pytest.approx(55.6602)


def _write(gdf: gpd.GeoDataFrame, path, driver="GPKG"):
    gdf.to_file(path, driver=driver)
    return path


def test_import_areas_in_another_crs_reassigns_findings(ctx, tmp_path):
    staff = Actor("anna", Role.STAFF)
    obs, _ = record_observation(ctx, staff, {"lon": 12.3573, "lat": 55.6602, "category": "lighting"})
    assert obs.area_id == "blokland"
    # The municipality's own outline of "Blokland Øst", in EPSG:25832 in a GeoPackage.
    centre = gpd.GeoSeries(gpd.points_from_xy([12.3573], [55.6602]), crs=4326).to_crs(25832).iloc[0]
    theirs = gpd.GeoDataFrame({"navn": ["Blokland Øst", "Galgebakken"]},
                              geometry=[centre.buffer(150), shapely.affinity.translate(centre.buffer(50), 0, 2000)],
                              crs=25832)
    result = area_service.replace_from_file(ctx, SYSTEM, _write(theirs, tmp_path / "areas.gpkg"), "navn")
    assert result == {"areas": 2, "observations": 1, "reassigned": 1}
    current = ctx.areas()
    assert current.crs.to_epsg() == 4326
    assert set(current["id"]) == {"blokland-oest", "galgebakken"}
    summary = area_service.summary(ctx, SYSTEM).set_index("id")
    assert summary.loc["blokland-oest", "observations"] == 1


def test_import_refuses_an_invalid_polygon_by_name(ctx, tmp_path):
    bowtie = Polygon([(12.35, 55.66), (12.36, 55.67), (12.36, 55.66), (12.35, 55.67), (12.35, 55.66)])
    ok = shapely.box(12.34, 55.65, 12.345, 55.655)
    bad = gpd.GeoDataFrame({"name": ["Gode område", "Sløjfen"]}, geometry=[ok, bowtie], crs=4326)
    before = ctx.areas()
    with pytest.raises(DkeError) as err:
        area_service.replace_from_file(ctx, SYSTEM, _write(bad, tmp_path / "bad.geojson", "GeoJSON"), "name")
    assert "Sløjfen" in err.value.message("da") and "ugyldig" in err.value.message("da")
    assert list(ctx.areas()["id"]) == list(before["id"])  # nothing replaced


def test_import_refuses_empty_geometry_missing_field_and_missing_crs(ctx, tmp_path):
    path = tmp_path / "empty.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Tom"}, "geometry": None}]}))
    with pytest.raises(DkeError, match="Tom"):
        area_service.replace_from_file(ctx, SYSTEM, path, "name")
    with pytest.raises(DkeError, match="navn"):
        area_service.replace_from_file(ctx, SYSTEM, path, "navn")
    shp = tmp_path / "nocrs.shp"
    gpd.GeoDataFrame({"name": ["A"]}, geometry=[shapely.box(700000, 6170000, 700100, 6170100)]).to_file(shp)
    with pytest.raises(DkeError, match="coordinate reference system"):
        area_service.replace_from_file(ctx, SYSTEM, shp, "name")


def test_import_refuses_areas_far_away_and_needs_the_role(ctx, tmp_path):
    far = gpd.GeoDataFrame({"name": ["Aarhus"]}, geometry=[shapely.box(10.2, 56.15, 10.21, 56.16)], crs=4326)
    path = _write(far, tmp_path / "far.gpkg")
    with pytest.raises(DkeError, match="outside"):
        area_service.replace_from_file(ctx, SYSTEM, path, "name")
    with pytest.raises(PermissionDenied):
        area_service.replace_from_file(ctx, Actor("s", Role.STAFF), path, "name")
