"""Demo data: the walks named in DEVELOPERS.md with made-up findings on real paths of their areas.

Deterministic (fixed seed), every row flagged `is_demo`. Built here as model objects and frames; written by
services/maintenance.py (`python -m dke_geo demo`, the tests and the benchmarks).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import shapely

from dke_geo import geo, lifecycle
from dke_geo.categories import categories
from dke_geo.light import light_condition
from dke_geo.model import TZ, Fix, FixEvent, LocationSource, Observation, Walk, WalkKind

SEED = 2017
# Demo accounts, created by `python -m dke_geo demo` and printed by `make run`. The passwords are public:
# remove these accounts (`python -m dke_geo user remove NAME`) before real use.
DEMO_USERS = (("demo-medarbejder", "staff", "demo-medarbejder-2017"),
              ("demo-planlaegger", "planner", "demo-planlaegger-2017"),
              ("demo-admin", "admin", "demo-admin-2017"))
_NS = uuid.UUID("6f1d6c1e-2b8a-4a51-9c1e-0d6b7e2a2017")  # demo ids are uuid5 under this namespace

NOTES = {
    "lighting": ["Lampe ud ved stien", "Mørk passage mellem blokkene", "Svag belysning ved cykelskuret",
                 "Lyset blændes af træernes kroner", "Ingen lys ved indgangen"],
    "signage": ["Mangler skilt til opgangen", "Husnumre kan ikke ses i mørke", "Vejviser væltet"],
    "overgrowth": ["Buske vokser ind over stien", "Hæk skærmer for udsynet", "Grene hænger lavt over stien"],
    "graffiti": ["Tags på gavlen", "Graffiti i tunnellen", "Tags på elskabet"],
    "vandalism": ["Knust glas i busskuret", "Ødelagt bænk", "Sparket dør til kælderen"],
    "litter": ["Affald ved containerpladsen", "Storskrald stillet på stien", "Overfyldt skraldespand"],
    "hiding_places": ["Nichen ved garagerne kan ikke overskues", "Tæt beplantning ved stiens sving",
                      "Blind vinkel bag cykelskuret"],
    "paths": ["Løse fliser", "Hul i asfalten", "Stien bliver glat og mørk"],
    "good_place": ["Godt oplyst torv med liv", "Legepladsen bruges meget af familierne", "Hyggeligt fællesareal"],
    "other": ["Hunde uden snor på stien", "Knallertkørsel på stien"],
}


@dataclass(frozen=True)
class _DemoWalk:
    key: str
    title: str
    areas: tuple[str, ...]
    start: datetime
    hours: float
    kind: WalkKind
    focus: str
    organisations: tuple[tuple[str, int], ...]  # (id from data/organisations.toml, head count)
    findings_per_area: int
    weights: dict[str, float]


WALKS = (
    _DemoWalk("blokland-dark", "Områdevandring i Blokland efter mørkets frembrud", ("blokland",),
              datetime(2017, 4, 20, 21, 30, tzinfo=TZ), 1.5, WalkKind.ON_FOOT, "Belysning efter mørkets frembrud",
              (("dke", 3), ("bo-vest", 2), ("miljo-teknik", 2), ("politiet", 1), ("beboere", 9)),
              120, {"lighting": 5, "hiding_places": 2, "overgrowth": 2, "signage": 1, "paths": 1, "graffiti": 1,
                    "vandalism": 1, "litter": 1, "good_place": 0.5, "other": 0.3}),
    _DemoWalk("blokland-day", "Områdevandring i Blokland i dagslys", ("blokland",),
              datetime(2017, 5, 16, 15, 0, tzinfo=TZ), 2.0, WalkKind.ON_FOOT,
              "Naboskab og brug af udearealer",
              (("dke", 2), ("bo-vest", 2), ("kultur", 1), ("beboere", 12)),
              80, {"litter": 3, "good_place": 3, "overgrowth": 2, "paths": 2, "vandalism": 1, "graffiti": 1,
                   "signage": 1, "other": 1}),
    _DemoWalk("night-homecare", "Køretur med nattens hjemmepleje",
              ("galgebakken", "hyldespjaeldet", "morbaerhaven", "banehegnet", "hedemarksvaenge"),
              datetime(2017, 3, 14, 22, 0, tzinfo=TZ), 2.0, WalkKind.BY_CAR,
              "Tryghed for natpersonalet: belysning og adgangsveje",
              (("dke", 2), ("hjemmeplejen", 3)),
              20, {"lighting": 4, "hiding_places": 3, "paths": 2, "signage": 2, "vandalism": 1, "other": 0.5}),
)


def _lines_in(area_geom_metric) -> np.ndarray:
    """The real paths, cycle routes and roads inside an area, as LineStrings in EPSG:25832."""
    parts = []
    for name in ("paths", "cycle_routes", "roads"):
        lines = geo.layer(name).to_crs(geo.METRIC).geometry
        clipped = lines[lines.intersects(area_geom_metric)].intersection(area_geom_metric)
        parts.extend(g for g in clipped.explode(index_parts=False) if g.geom_type == "LineString")
    return np.array(parts, dtype=object)


def _points_on_paths(area_geom_metric, n: int, rng: np.random.Generator) -> np.ndarray:
    """n points (EPSG:25832) on the area's paths, jittered by a GPS-like 1.5 m, kept inside the area;
    where the area has no mapped paths, uniformly inside it."""
    lines = _lines_in(area_geom_metric)
    lengths = shapely.length(lines) if len(lines) else np.zeros(0)
    inner = area_geom_metric.buffer(-1.0)  # 1 m clear of the edge, so rounding keeps it inside
    if lengths.sum() > 50:
        xy = np.full((n, 2), np.nan)
        todo = np.arange(n)
        while len(todo):  # a point jittered off the area (or on its edge) is drawn again
            pick = rng.choice(len(lines), size=len(todo), p=lengths / lengths.sum())
            along = rng.uniform(0, lengths[pick])
            on_path = shapely.get_coordinates(shapely.line_interpolate_point(lines[pick], along))
            xy[todo] = on_path + rng.normal(0, 1.5, (len(todo), 2))
            todo = todo[~shapely.contains_xy(inner, xy[todo, 0], xy[todo, 1])]
    else:
        minx, miny, maxx, maxy = area_geom_metric.bounds
        xy = np.empty((0, 2))
        while len(xy) < n:
            cand = np.column_stack([rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)])
            xy = np.vstack([xy, cand[shapely.contains_xy(area_geom_metric, cand[:, 0], cand[:, 1])]])
        xy = xy[:n]
    return xy


def demo_walks_and_observations() -> tuple[list[Walk], list[Observation]]:
    """The demo walks and their findings, built the same way every time."""
    rng = np.random.default_rng(SEED)
    areas = geo.layer("areas").set_index("id")
    metric = areas.to_crs(geo.METRIC).geometry
    out_walks, out_obs = [], []
    for spec in WALKS:
        walk = Walk(id=uuid.uuid5(_NS, spec.key), title=spec.title, area_ids=list(spec.areas),
                    started_at=spec.start, ended_at=spec.start + timedelta(hours=spec.hours), kind=spec.kind,
                    focus=spec.focus, organisations=[{"organisation": o, "count": c} for o, c in spec.organisations],
                    notes="Demo: opdigtet vandring til afprøvning.", is_demo=True, created_by="demo",
                    created_at=spec.start)
        out_walks.append(walk)
        cats = list(spec.weights)
        p = np.array([spec.weights[c] for c in cats], dtype=float)
        for area_id in spec.areas:
            xy = _points_on_paths(metric[area_id], spec.findings_per_area, rng)
            lons, lats = geo.to_wgs84(xy[:, 0], xy[:, 1])
            for i, (lon, lat) in enumerate(zip(lons, lats)):
                cat = str(rng.choice(cats, p=p / p.sum()))
                at = spec.start + timedelta(minutes=float(rng.uniform(0, spec.hours * 60)))
                source = LocationSource.GPS if spec.kind == WalkKind.BY_CAR else (
                    LocationSource.MAP_TAP if rng.random() < 0.6 else LocationSource.GPS)
                out_obs.append(Observation(
                    id=uuid.uuid5(_NS, f"{spec.key}/{area_id}/{i}"), walk_id=walk.id,
                    lon=round(float(lon), 7), lat=round(float(lat), 7), location_source=source,
                    gps_accuracy_m=round(float(rng.uniform(3, 25)), 1) if source == LocationSource.GPS else None,
                    area_id=area_id, category=cat, severity=int(rng.choice([1, 2, 3], p=[0.35, 0.45, 0.2])),
                    perceived_safety=int(rng.integers(1, 6)) if rng.random() < 0.5 else None,
                    internal_note="Demo: " + str(rng.choice(NOTES[cat])), observed_at=at,
                    created_by="demo", created_at=at, updated_by="demo", updated_at=at, is_demo=True))
    return out_walks, out_obs


@dataclass(frozen=True)
class _DemoFix:
    key: str
    walk: str          # the _DemoWalk key whose findings it addresses
    category: str      # ... the first `findings` of this category on that walk
    findings: int
    title: str
    description: str
    organisation: str
    contact_role: str
    due: date | None
    cost_dkk: int | None
    priority: str
    steps: tuple[tuple[str, str, str, str], ...]  # (state, "YYYY-MM-DD", by, comment); the first creates it


DEMO_PLANNER = _PLANNER = "demo-planlaegger"
_STAFF = "demo-medarbejder"
DEMO_FIXES = (
    _DemoFix("blokland-lamps", "blokland-dark", "lighting", 3, "Nye lamper langs stien mellem blokkene",
             "Demo: LED-armaturer på stien, hvor beboerne fandt det mørkest.", "forsyning", "driftsleder, vej og park",
             date(2017, 9, 1), 180_000, "high",
             (("proposed", "2017-04-27", _PLANNER, "Aftalt på opsamlingsmødet efter vandringen"),
              ("approved", "2017-05-10", _PLANNER, "Godkendt i styregruppen"),
              ("in_progress", "2017-06-12", _PLANNER, ""),
              ("done", "2017-08-28", _PLANNER, "Seks nye LED-armaturer sat op"),
              ("verified", "2017-10-05", _STAFF, "Kontrolleret efter mørkets frembrud: stien er godt oplyst"))),
    _DemoFix("blokland-bushes", "blokland-dark", "overgrowth", 2, "Beskæring af buske langs stien",
             "Demo: buskene skæres ned til 1 m, så stien kan overskues.", "bo-vest", "driftschef",
             date(2017, 9, 30), 25_000, "medium",
             (("proposed", "2017-04-27", _PLANNER, ""), ("approved", "2017-05-10", _PLANNER, ""),
              ("in_progress", "2017-08-15", _PLANNER, ""),
              ("done", "2017-09-20", _PLANNER, "Buskene er skåret ned"))),
    _DemoFix("blokland-signs", "blokland-dark", "signage", 2, "Skilte og synlige husnumre ved opgangene",
             "Demo: belyste husnumre og skilte til opgangene.", "bo-vest", "ejendomsmester", date(2017, 11, 1),
             12_000, "medium", (("proposed", "2017-04-27", _PLANNER, ""),)),
    _DemoFix("blokland-graffiti", "blokland-day", "graffiti", 2, "Fjern graffiti og tags på gavlene",
             "Demo: graffitiordningen fjerner tags inden for en uge.", "miljo-teknik", "graffitiordningen",
             date(2017, 7, 1), 8_000, "low",
             (("proposed", "2017-05-23", _PLANNER, ""), ("approved", "2017-06-01", _PLANNER, ""))),
    _DemoFix("blokland-bulky", "blokland-day", "litter", 2, "Ny plads til storskrald", "Demo: en afskærmet plads.",
             "bo-vest", "", None, 60_000, "low",
             (("proposed", "2017-05-23", _PLANNER, ""),
              ("rejected", "2017-06-15", _PLANNER, "Boligselskabet har ikke plads i år; tages op igen i budget 2018"))),
    _DemoFix("homecare-lights", "night-homecare", "lighting", 2, "Lys ved indgangene for nattens hjemmepleje",
             "Demo: bevægelsesstyret lys ved de indgange, hjemmeplejen bruger om natten.", "forsyning", "driftsleder",
             date(2017, 9, 1), 40_000, "high",
             (("proposed", "2017-03-21", _PLANNER, ""), ("approved", "2017-04-05", _PLANNER, ""),
              ("in_progress", "2017-05-02", _PLANNER, ""))),
)


def demo_fixes(demo_obs: list[Observation]) -> list[tuple[Fix, list[FixEvent]]]:
    """The demo solution proposals with their histories, built through the state table (lifecycle)."""
    out = []
    for spec in DEMO_FIXES:
        walk_id = uuid.uuid5(_NS, spec.walk)
        ids = [o.id for o in demo_obs if o.walk_id == walk_id and o.category == spec.category][:spec.findings]
        fix = Fix(id=uuid.uuid5(_NS, f"fix/{spec.key}"), title=spec.title, description=spec.description,
                  observation_ids=ids, organisation=spec.organisation, contact_role=spec.contact_role,
                  due_date=spec.due, cost_dkk=spec.cost_dkk, priority=spec.priority, is_demo=True)
        (_, day, by, comment), *moves = spec.steps
        fix, event = lifecycle.create(fix, by, comment, datetime.fromisoformat(day).replace(hour=10, tzinfo=TZ))
        history = [event]
        for state, day, by, comment in moves:
            fix, event = lifecycle.apply_transition(fix, state, by, comment,
                                                    datetime.fromisoformat(day).replace(hour=10, tzinfo=TZ))
            history.append(event)
        out.append((fix, history))
    return out


# What the planner published of the demo, so the public map, the static site and the residents' list show what
# residents would see: the findings each fix addresses with a public text of their own (Danish and English), and
# every PUBLISHED_EVERY-th other finding with the suggested text. Published the day after the walk's follow-up.
PUBLISHED_EVERY = 4
PUBLISHED_ON = {"blokland-dark": "2017-04-28", "blokland-day": "2017-05-24", "night-homecare": "2017-03-22"}
PUBLIC_TEXTS = {
    "blokland-lamps": ("Stien mellem blokkene er mørk om aftenen. Der sættes nye LED-lamper op langs stien.",
                       "The path between the blocks is dark in the evening. New LED lamps are being put up along it."),
    "blokland-bushes": ("Buskene langs stien gør den svær at overskue. De skæres ned til en meters højde.",
                        "The bushes along the path make it hard to see along it. "
                        "They are being cut down to one metre."),
    "blokland-signs": ("Husnumre og skilte ved opgangene kan ikke ses i mørke.",
                       "House numbers and signs at the entrances cannot be seen in the dark."),
    "blokland-graffiti": ("Tags på gavlene. Kommunens graffitiordning fjerner dem.",
                          "Tags on the gable walls. The municipality's graffiti service removes them."),
    "blokland-bulky": ("Storskrald stilles på stien. Der er ikke plads til en ny storskraldsplads i år.",
                       "Bulky waste is left on the path. There is no room for a new bulky-waste area this year."),
    "homecare-lights": ("Indgangene er mørke for nattens hjemmepleje. Der kommer lys med bevægelsessensor.",
                        "The entrances are dark for the night home-care staff. Motion-sensor lights are coming."),
}


@dataclass(frozen=True)
class DemoPublication:
    """A demo finding the planner published: its own texts (None: the suggested text) and when."""
    observation_id: uuid.UUID
    text: str | None
    text_en: str | None
    at: datetime


def demo_publications(demo_obs: list[Observation]) -> list[DemoPublication]:
    """Which demo findings are published, with which texts and when (written by services/maintenance.load_demo)."""
    own = {}
    for spec, (fix, _history) in zip(DEMO_FIXES, demo_fixes(demo_obs), strict=True):
        for obs_id in fix.observation_ids:
            own[obs_id] = PUBLIC_TEXTS[spec.key]
    keys = {uuid.uuid5(_NS, spec.key): spec.key for spec in WALKS}
    out = []
    for i, obs in enumerate(demo_obs):
        if obs.id not in own and i % PUBLISHED_EVERY:
            continue
        day = datetime.fromisoformat(PUBLISHED_ON[keys[obs.walk_id]]).replace(hour=10, tzinfo=TZ)
        text, text_en = own.get(obs.id, (None, None))
        out.append(DemoPublication(obs.id, text, text_en, day))
    return out


# ---------------------------------------------------------------- synthetic data for benchmarks
_SYNTHETIC_NS = uuid.UUID("0b6c4f57-2f0e-4d8e-a8a4-5e9a1d2c0001")


def _synthetic_points(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n metric points in the housing areas: 70 % spread evenly over them, 30 % around 60 made-up
    hot spots (sd 30 m); with the area id of each."""
    areas = geo.layer("areas")
    if n == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0, dtype=object)
    metric = areas.to_crs(geo.METRIC).geometry.to_numpy()
    region = shapely.union_all(metric)
    minx, miny, maxx, maxy = region.bounds
    xy = np.empty((0, 2))
    while len(xy) < n:  # rejection sampling, vectorised
        cand = np.column_stack([rng.uniform(minx, maxx, 2 * n), rng.uniform(miny, maxy, 2 * n)])
        xy = np.vstack([xy, cand[shapely.contains_xy(region, cand[:, 0], cand[:, 1])]])
    xy = xy[:n]
    clustered = rng.random(n) < 0.3
    centres = xy[rng.choice(n, 60, replace=False)]
    xy[clustered] = centres[rng.integers(0, 60, clustered.sum())] + rng.normal(0, 30, (clustered.sum(), 2))
    area_ids = geo.assign_areas(*geo.to_wgs84(xy[:, 0], xy[:, 1]), areas)
    return xy[:, 0], xy[:, 1], area_ids


def synthetic_walks(n_walks: int, seed: int = SEED) -> pd.DataFrame:
    """Made-up walks (rows of the walks table) between 2017 and 2025, two in three after dark."""
    rng = np.random.default_rng(seed)
    days = pd.Timestamp("2017-01-01", tz=TZ) + pd.to_timedelta(rng.integers(0, 9 * 365, n_walks), unit="D")
    start = days + pd.to_timedelta(np.where(rng.random(n_walks) < 2 / 3, 21, 15), unit="h")
    ids = [str(uuid.uuid5(_SYNTHETIC_NS, f"walk/{seed}/{k}")) for k in range(n_walks)]
    return pd.DataFrame({"id": ids, "title": [f"Syntetisk vandring {k + 1}" for k in range(n_walks)],
                         "area_ids": [[] for _ in range(n_walks)], "started_at": start,
                         "ended_at": start + pd.Timedelta(hours=2), "kind": WalkKind.ON_FOOT.value,
                         "focus": "", "organisations": [[] for _ in range(n_walks)], "notes": "Syntetisk: benchmark.",
                         "light_condition": [light_condition(s.to_pydatetime()).value for s in start],
                         "light_condition_override": None, "is_demo": True, "created_by": "synthetic",
                         "created_at": start})


def synthetic_observation_rows(n: int, seed: int = SEED, walk_frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """n made-up findings as rows of the observations table (a DataFrame: columnar, built with numpy in
    a second or two for a million), each on one of `walk_frame`'s walks, flagged demo."""
    rng = np.random.default_rng(seed)
    walk_frame = synthetic_walks(max(10, n // 500), seed) if walk_frame is None else walk_frame
    x, y, area_ids = _synthetic_points(n, rng)
    lon, lat = geo.to_wgs84(x, y)
    walk = rng.integers(0, len(walk_frame), n)
    minutes = rng.integers(0, 25, n) * 5
    at = pd.DatetimeIndex(walk_frame["started_at"])[walk] + pd.to_timedelta(minutes, unit="m")
    light = pd.Series(at).map({s: light_condition(s.to_pydatetime()).value for s in at.unique()})
    cats = list(categories())
    raw = rng.bytes(16 * n)
    return pd.DataFrame({
        "id": [str(uuid.UUID(bytes=raw[16 * k:16 * k + 16], version=4)) for k in range(n)],
        "walk_id": walk_frame["id"].to_numpy()[walk], "lon": np.round(lon, 7), "lat": np.round(lat, 7),
        "location_source": LocationSource.GPS.value, "gps_accuracy_m": None, "area_id": area_ids,
        "category": np.array(cats)[rng.integers(0, len(cats), n)],
        "severity": rng.choice([1, 2, 3], n, p=[0.35, 0.45, 0.2]), "perceived_safety": None,
        "internal_note": "Syntetisk fund", "public_text": "", "observed_at": at, "light_condition": light.to_numpy(),
        "created_by": "synthetic", "created_at": at, "updated_by": "synthetic", "updated_at": at, "deleted": False,
        "published": False, "is_demo": True})


def synthetic_incident_rows(n: int, seed: int = SEED) -> pd.DataFrame:
    """n made-up incident reports (rows of incident_reports) in the housing areas, flagged demo."""
    rng = np.random.default_rng(seed + 1)
    x, y, area_ids = _synthetic_points(n, rng)
    lon, lat = geo.to_wgs84(x, y)
    at = pd.Timestamp("2017-01-01", tz=TZ) + pd.to_timedelta(rng.integers(0, 9 * 365 * 24, n), unit="h")
    return pd.DataFrame({"id": [str(uuid.uuid5(_SYNTHETIC_NS, f"report/{seed}/{k}")) for k in range(n)],
                         "source": "syntetisk", "reported_at": at, "type": "hændelse", "lon": np.round(lon, 7),
                         "lat": np.round(lat, 7), "area_id": area_ids, "is_demo": True, "imported_at": at})
