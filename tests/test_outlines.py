"""Correcting an area's outline drawn on the map (services/areas.py save_outline), on SQLite and PostGIS: the
outline is checked (valid, large enough, inside the municipality, a free name), an overlap needs a confirmation,
the findings follow the new outline in the same transaction, and an event records who changed what."""
import pytest
import shapely
from shapely.geometry import mapping

from dke_geo import geo
from dke_geo.errors import PermissionDenied
from dke_geo.geo import AreaFileError
from dke_geo.roles import Actor, Role
from dke_geo.services import areas as area_service
from dke_geo.store import observations as obs_store
from dke_geo.store.db import reading

PLANNER = Actor("demo-planlaegger", Role.PLANNER)


def _outline(ctx, area_id: str):
    areas = ctx.areas()
    return areas[areas["id"] == area_id].geometry.iloc[0]


def _in_area(ctx, area_id: str) -> int:
    with reading(ctx.engine) as conn:
        return int((obs_store.points(conn)["area_id"] == area_id).sum())


def _metres_box(x: float, y: float, w: float, h: float) -> dict:
    """A w x h metre rectangle at (x, y) in EPSG:25832, as lon/lat GeoJSON."""
    lon, lat = geo.to_wgs84([x, x + w, x + w, x], [y, y, y + h, y + h])
    return mapping(shapely.Polygon(zip(lon, lat, strict=True)))


def test_a_corrected_outline_moves_the_findings_and_is_recorded(demo_ctx):
    ctx = demo_ctx
    before = _in_area(ctx, "blokland")
    smaller = _outline(ctx, "blokland").buffer(-0.0006)  # a few tens of metres inside the old edge
    saved = area_service.save_outline(ctx, PLANNER, "blokland", "Blokland", mapping(smaller))
    assert (saved.area_id, saved.name, saved.created) == ("blokland", "Blokland", False)
    assert saved.reassigned > 0 and _in_area(ctx, "blokland") == before - saved.reassigned
    areas = ctx.areas()  # the cached outlines were replaced
    row = areas[areas["id"] == "blokland"].iloc[0]
    assert row.confidence == "corrected" and row.geometry.equals_exact(smaller, 1e-9)
    (event,) = area_service.outline_history(ctx, PLANNER)
    assert (event["area_id"], event["by"], event["action"], event["old_name"], event["new_name"],
            event["reassigned"], event["overlap_confirmed"]) == (
        "blokland", "demo-planlaegger", "changed", "Blokland", "Blokland", saved.reassigned, False)


def test_an_overlap_needs_a_confirmation(demo_ctx):
    ctx = demo_ctx
    grown = _outline(ctx, "blokland").buffer(0.004)  # reaches into the neighbours
    with pytest.raises(area_service.OutlineOverlaps) as refused:
        area_service.save_outline(ctx, PLANNER, "blokland", "Blokland", mapping(grown))
    assert "Banehegnet" in refused.value.message("da")
    assert area_service.outline_history(ctx, PLANNER) == []  # nothing written
    area_service.save_outline(ctx, PLANNER, "blokland", "Blokland", mapping(grown), allow_overlap=True)
    assert area_service.outline_history(ctx, PLANNER)[0]["overlap_confirmed"] is True


def test_a_new_area_gets_an_id_from_its_name(demo_ctx):
    x, y = geo.to_metric([12.3390], [55.6700])
    saved = area_service.save_outline(demo_ctx, PLANNER, None, "  Vridsløselille  Nord ",
                                      _metres_box(float(x[0]), float(y[0]), 80, 60))
    assert (saved.area_id, saved.name, saved.created) == ("vridsloeselille-nord", "Vridsløselille Nord", True)
    assert "vridsloeselille-nord" in set(demo_ctx.areas()["id"])
    assert area_service.outline_history(demo_ctx, PLANNER)[0]["action"] == "created"


@pytest.mark.parametrize(("geometry", "key"), [
    ({"type": "Polygon", "coordinates": [[[12.35, 55.66], [12.352, 55.662], [12.352, 55.66], [12.35, 55.662],
                                          [12.35, 55.66]]]}, "error.area_invalid"),      # a bow tie
    ({"type": "Point", "coordinates": [12.35, 55.66]}, "error.area_not_polygon"),
    ({"type": "Polygon", "coordinates": [[[12.35, 55.66], [12.35005, 55.66], [12.35005, 55.66005],
                                          [12.35, 55.66]]]}, "error.area_too_small"),
    ({"type": "Polygon", "coordinates": [[[12.50, 55.70], [12.51, 55.70], [12.51, 55.71], [12.50, 55.70]]]},
     "error.area_outside"),                                                               # in Copenhagen
    ({"type": "Polygon"}, "error.area_empty"),
])
def test_a_bad_outline_is_refused_with_its_reason(demo_ctx, geometry, key):
    with pytest.raises(AreaFileError) as refused:
        area_service.save_outline(demo_ctx, PLANNER, "blokland", "Blokland", geometry)
    assert refused.value.key == key and refused.value.message("da")
    assert area_service.outline_history(demo_ctx, PLANNER) == []


def test_a_name_another_area_has_is_refused(demo_ctx):
    with pytest.raises(AreaFileError) as refused:
        area_service.save_outline(demo_ctx, PLANNER, "blokland", "galgebakken",
                                  mapping(_outline(demo_ctx, "blokland")))
    assert refused.value.key == "error.area_duplicate_name"


def test_staff_may_not_correct_an_outline(demo_ctx):
    with pytest.raises(PermissionDenied):
        area_service.save_outline(demo_ctx, Actor("demo-medarbejder", Role.STAFF), "blokland", "Blokland",
                                  mapping(_outline(demo_ctx, "blokland")))
