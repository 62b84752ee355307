"""The base map without a browser: local assets only, areas drawn and labelled, text escaped."""
import re

import folium
import geopandas as gpd
import pytest
import shapely
from folium.plugins import HeatMap, MarkerCluster

from dke_geo import geo, maps

THIRD_PARTY = re.compile(r"cdn\.|unpkg|jsdelivr|cloudflare|googleapis|bootstrapcdn|code\.jquery")


def test_area_map_has_only_local_assets_and_all_areas(monkeypatch):
    monkeypatch.setenv("DKE_GEO_TILE_URL", "")
    page = maps.render(maps.area_map(geo.layer("areas"), "da", {"blokland": 7}))
    assert not THIRD_PARTY.search(page)
    assert not re.search(r"https?://", page.replace("http://www.w3.org", ""))  # no tiles configured: no host at all
    assert '/app/static/vendor/leaflet/leaflet.js' in page
    for name in ("Blokland", "Galgebakken", "Hyldespjældet", "Morbærhaven", "Banehegnet", "Hedemarksvænge"):
        assert name in page
    assert "dke-area-blokland" in page
    assert "Fund: 7" in page
    assert "GeoDanmark" in page and "DAGI" in page  # attribution on every map
    assert "omtrentligt" in page  # approximate outlines say so


def test_tiles_come_only_from_the_configured_server(monkeypatch):
    monkeypatch.setenv("DKE_GEO_TILE_URL", "https://tiles.example.dk/{z}/{x}/{y}.png")
    page = maps.render(maps.area_map(geo.layer("areas"), "en"))
    hosts = set(re.findall(r"https?://([^/\"' ]+)", page)) - {"www.w3.org"}
    assert hosts == {"tiles.example.dk"}


def test_plugins_are_served_locally_and_unknown_assets_refused():
    m = maps.base_map("da", tiles=False)
    MarkerCluster().add_to(m)
    HeatMap([[55.66, 12.35, 1.0]]).add_to(m)
    page = maps.render(maps.localise(m, "assets"))
    assert "assets/leaflet.markercluster/leaflet.markercluster.js" in page
    assert "assets/leaflet.heat/leaflet-heat.js" in page
    assert not THIRD_PARTY.search(page)
    bad = maps.base_map("da", tiles=False)
    folium.plugins.Fullscreen().add_to(bad)
    with pytest.raises(maps.UnknownAsset):
        maps.localise(bad)


def test_area_names_are_escaped():
    hostile = gpd.GeoDataFrame({"id": ["x"], "name": ["<img src=x onerror=alert(1)>"], "confidence": ["official"],
                                "source": [""]}, geometry=[shapely.box(12.35, 55.66, 12.36, 55.67)], crs=4326)
    page = maps.render(maps.area_map(hostile, "da"))
    assert "<img src=x onerror" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_js_string_cannot_close_the_script():
    assert "</script>" not in maps.js_string("</script><script>alert(1)</script>")
