"""The demo data: deterministic, flagged, on real paths of the named areas."""
import numpy as np

from dke_geo import fixtures, geo
from dke_geo.roles import SYSTEM
from dke_geo.services import areas as area_service
from dke_geo.services import maintenance
from dke_geo.store import walks as walk_store
from dke_geo.store.db import reading


def test_demo_is_deterministic_and_flagged():
    walks_a, obs_a = fixtures.demo_walks_and_observations()
    walks_b, obs_b = fixtures.demo_walks_and_observations()
    assert [o.model_dump() for o in obs_a] == [o.model_dump() for o in obs_b]
    assert 200 <= len(obs_a) <= 500
    assert all(o.is_demo for o in obs_a) and all(w.is_demo for w in walks_a)
    titles = [w.title for w in walks_a]
    assert any("Blokland" in t and "mørke" in t for t in titles)
    assert {w.started_at.date().isoformat() for w in walks_a} >= {"2017-04-20", "2017-05-16"}
    drive = next(w for w in walks_a if w.kind.value == "by_car")
    assert set(drive.area_ids) == {"galgebakken", "hyldespjaeldet", "morbaerhaven", "banehegnet", "hedemarksvaenge"}


def test_demo_findings_lie_on_paths_inside_their_walk_areas():
    walks, obs = fixtures.demo_walks_and_observations()
    areas = {w.id: set(w.area_ids) for w in walks}
    lon = np.array([o.lon for o in obs])
    lat = np.array([o.lat for o in obs])
    assigned = geo.assign_areas(lon, lat, geo.layer("areas"))
    assert all(a in areas[o.walk_id] for a, o in zip(assigned, obs))
    x, y = geo.to_metric(lon, lat)
    lines = geo.layer("paths").to_crs(geo.METRIC).geometry.tolist() + \
        geo.layer("roads").to_crs(geo.METRIC).geometry.tolist() + \
        geo.layer("cycle_routes").to_crs(geo.METRIC).geometry.tolist()
    import shapely
    tree = shapely.STRtree(lines)
    near = tree.query(shapely.points(x, y), predicate="dwithin", distance=10.0)
    assert len(set(near[0])) / len(obs) > 0.95  # on a mapped path or road (GPS jitter of a few metres)


def test_demo_light_matches_the_walks():
    """The walk "efter mørkets frembrud" and the night drive happen in the dark, findings and all; the other in
    daylight."""
    walks, obs = fixtures.demo_walks_and_observations()
    dark = next(w for w in walks if w.started_at.month == 4)
    drive = next(w for w in walks if w.kind.value == "by_car")
    day = next(w for w in walks if w.started_at.month == 5)
    assert dark.light_condition.value == "dark" and drive.light_condition.value == "dark"
    assert {o.light_condition.value for o in obs if o.walk_id in (dark.id, drive.id)} == {"dark"}
    assert day.light_condition.value == "daylight"


def test_demo_tells_the_first_half_of_2017():
    """The half-year report for January-June 2017 describes all three walks: the drive is within it too."""
    walks, obs = fixtures.demo_walks_and_observations()
    assert all(w.started_at.year == 2017 and w.started_at.month <= 6 for w in walks)
    assert all(o.observed_at.month <= 6 for o in obs)
    steps = [step for spec in fixtures.DEMO_FIXES for step in spec.steps]
    assert all(day >= "2017-03-14" for _state, day, _by, _comment in steps)  # no fix before the first walk


def test_load_demo_into_database(ctx):
    assert maintenance.is_empty(ctx) and not maintenance.has_demo_data(ctx)
    counts = maintenance.load_demo(ctx)
    assert counts["walks"] == 3 and counts["observations"] > 200
    assert counts["published"] == len(fixtures.demo_publications(fixtures.demo_walks_and_observations()[1])) > 50
    assert not maintenance.is_empty(ctx) and maintenance.has_demo_data(ctx)
    summary = area_service.summary(ctx, SYSTEM).set_index("id")
    assert summary.loc["blokland", "observations"] >= 150
    with reading(ctx.engine) as conn:
        assert all(w.is_demo for w, _ in walk_store.recent(conn))
