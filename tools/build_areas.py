"""Rebuild data/geo/ from ../shared/geo/ (the provenance of every shipped layer).

Run once by a developer: `python tools/build_areas.py ../shared/geo`. The areas are matched to real
polygons from public texts (see data/geo/README.md); each carries `confidence` and `source`.
"""
import json
import sys
from pathlib import Path

import geopandas as gpd
from shapely.geometry import Point

SRC = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/geo")
OUT = Path(__file__).resolve().parents[1] / "data" / "geo"
METRIC = 25832


def _poly(path, column, value):
    g = gpd.read_file(SRC / path).to_crs(METRIC)
    return g.loc[g[column] == value].geometry.iloc[0]


def build_areas() -> gpd.GeoDataFrame:
    housing = gpd.read_file(SRC / "albertslund_housing_areas_inferred_polygons.geojson").to_crs(METRIC)
    by_name = {n.split(" (")[0]: g for n, g in zip(housing["name"], housing.geometry)}
    rows = [
        ("blokland", "Blokland", by_name["Blokland"], "medium-low",
         "RIDA land_anvendelse id 162 (Høj bebyggelse), name inferred from public texts"),
        ("galgebakken", "Galgebakken", by_name["Galgebakken"], "medium",
         "RIDA land_vaerdifuld id 74 (kulturmiljø), name inferred from public texts"),
        ("hyldespjaeldet", "Hyldespjældet", by_name["Hyldespjældet"], "medium",
         "RIDA land_vaerdifuld id 63 (kulturmiljø), name inferred from public texts"),
        ("albertslund-syd", "Albertslund Syd", by_name["Albertslund Syd"], "high",
         "RIDA land_vaerdifuld id 16 (kulturmiljø), name inferred from public texts"),
        ("hedemarksvaenge", "Hedemarksvænge", _poly("albertslund_builtup_areas.geojson", "landuse_id", 159),
         "unverified", "RIDA builtup id 159 (Høj bebyggelse) north of the railway near the station: best guess"),
        ("morbaerhaven", "Morbærhaven", _poly("albertslund_landuse.geojson", "landuse_id", 145),
         "unverified", "RIDA land_anvendelse id 145 (Høj bebyggelse): unverified candidate"),
        ("banehegnet", "Banehegnet",
         gpd.GeoSeries([Point(12.352126, 55.658402)], crs=4326).to_crs(METRIC).iloc[0].buffer(120),
         "low", "120 m around an address point on Banehegnet (street by the station)"),
    ]
    gdf = gpd.GeoDataFrame(
        [{"id": i, "name": n, "confidence": c, "source": s, "geometry": g} for i, n, g, c, s in rows], crs=METRIC)
    # Areas must not overlap, so that a point belongs to one area: a less certain outline gives way.
    order = ["high", "medium", "medium-low", "low", "unverified"]
    gdf = gdf.iloc[sorted(range(len(gdf)), key=lambda i: order.index(gdf.confidence.iloc[i]))].reset_index(drop=True)
    for i in range(1, len(gdf)):
        gdf.loc[i, "geometry"] = gdf.geometry.iloc[i].difference(gdf.geometry.iloc[:i].union_all())
    boundary = gpd.read_file(SRC / "albertslund_kommune_boundary.geojson").to_crs(METRIC).geometry.iloc[0]
    gdf["geometry"] = gdf.geometry.intersection(boundary).simplify(0.5)
    gdf["area_ha"] = (gdf.geometry.area / 1e4).round(2)
    return gdf.to_crs(4326)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    areas = build_areas()
    areas.to_file(OUT / "areas.geojson", driver="GeoJSON", COORDINATE_PRECISION=7)
    for name, src in [("boundary", "albertslund_kommune_boundary.geojson"),
                      ("paths", "albertslund_hiking_routes.geojson"),
                      ("roads", "albertslund_roads_by_authority.geojson"),
                      ("cycle_routes", "albertslund_cycle_routes.geojson")]:
        g = gpd.read_file(SRC / src)
        g.to_file(OUT / f"{name}.geojson", driver="GeoJSON", COORDINATE_PRECISION=6)
    print(json.dumps({r.id: [r.confidence, r.area_ha] for r in areas.itertuples()}, ensure_ascii=False))


if __name__ == "__main__":
    main()
