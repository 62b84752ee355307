"""The planners' view: findings and reports read once per data version, filtered once, and turned into
the map, the charts and the area table, all from the same rows. Internal notes are shown, so only
roles that may see internal data get it.

Two caches, both keyed by the database's data version (which every committed write bumps), so a
new finding, fix or import shows at the next rerun and nothing stale is ever served: the frames read
from the database, and the finished views per filter.
"""
from __future__ import annotations

import base64
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date

import altair as alt
import folium
import geopandas as gpd
import pandas as pd
from sqlalchemy import Engine, select

from dke_geo import charts, geo, lifecycle, photos
from dke_geo.density import Grid
from dke_geo.filters import Filter
from dke_geo.maps import STREAMLIT_ASSETS
from dke_geo.maps.planner import PIN_LIMIT, planner_map
from dke_geo.model import TZ
from dke_geo.roles import Actor, Permission, require
from dke_geo.services import areas as area_service
from dke_geo.store import fixes as fix_store
from dke_geo.store import incidents as incident_store
from dke_geo.store import observations as obs_store
from dke_geo.store.db import data_version, reading
from dke_geo.store.tables import fix_observations, observations, walks
from dke_geo.store.tables import photos as photo_table

THUMB_BUDGET = 1_500_000
"""Bytes of thumbnails embedded in one map's popups (data: URIs); past it the popups show no picture."""
FINDING_COLUMNS = ("id", "walk_id", "lon", "lat", "area_id", "category", "severity", "observed_at", "light_condition",
                   "is_demo")
REPORT_COLUMNS = ("lon", "lat", "area_id", "reported_at", "is_demo")


@dataclass(frozen=True)
class PlannerData:
    """Everything the planner view is made from, as read at one data version."""
    version: int
    findings: pd.DataFrame  # FINDING_COLUMNS + status, resolved_at
    reports: pd.DataFrame
    walks: pd.DataFrame  # id, title, started_at, is_demo
    areas: gpd.GeoDataFrame


@dataclass(frozen=True)
class Choices:
    """What the sidebar filters offer."""
    areas: dict[str, str]  # id -> name
    walks: dict[str, str]  # id -> title (date)
    first: date | None
    last: date | None


@dataclass(frozen=True)
class PlannerView:
    """The map, charts and table for one filter, all from the same filtered rows."""
    map: folium.Map
    findings: int
    reports: int
    by_category_area: alt.Chart
    open_resolved: alt.Chart
    days_to_resolution: alt.Chart | None
    areas: pd.DataFrame


_data: dict[str, PlannerData] = {}
_views: OrderedDict[tuple, PlannerView] = OrderedDict()
_MAX_VIEWS = 16
_lock = threading.Lock()  # Streamlit serves each session from its own thread


def load(engine: Engine) -> PlannerData:
    """The findings (with their status from the fix workflow), reports, walks and areas, read once
    per data version. Statuses are derived only for findings that have a fix: the rest are open.
    The version is read first, so what is cached under it is never older than it (the frames come
    through their own connection, store.columnar)."""
    url = str(engine.url)
    with reading(engine) as conn:
        version = data_version(conn)
    cached = _data.get(url)
    if cached is not None and cached.version == version:
        return cached
    findings = obs_store.frame(engine, FINDING_COLUMNS)
    reports = incident_store.frame(engine, REPORT_COLUMNS)
    with reading(engine) as conn:
        linked = conn.execute(select(fix_observations.c.observation_id).distinct()).scalars().all()
        status = fix_store.finding_statuses(conn, linked).set_index("observation_id")
        walk_rows = conn.execute(select(walks.c.id, walks.c.title, walks.c.started_at, walks.c.is_demo)
                                 .order_by(walks.c.started_at.desc()))
        walk_frame = pd.DataFrame(walk_rows.fetchall(), columns=["id", "title", "started_at", "is_demo"])
    findings["status"] = lifecycle.finding_status([]).value  # no fix: open, and never resolved
    findings["resolved_at"] = pd.Series(pd.NaT, index=findings.index, dtype=f"datetime64[us, {TZ.key}]")
    with_fix = findings["id"].isin(status.index).to_numpy()
    if with_fix.any():
        ids = findings.loc[with_fix, "id"]
        findings.loc[with_fix, "status"] = status["status"].reindex(ids).to_numpy()
        resolved_at = pd.to_datetime(status["resolved_at"].reindex(ids), utc=True).dt.tz_convert(TZ)
        findings.loc[with_fix, "resolved_at"] = resolved_at.to_numpy()
    for frame in (findings, reports):  # metres once, for every grid and heatmap of every filter
        frame["x"], frame["y"] = geo.to_metric(frame["lon"], frame["lat"])
    data = PlannerData(version, findings, reports, walk_frame, area_service.current(engine))
    _data[url] = data
    return data


def choices(engine: Engine, actor: Actor) -> Choices:
    """The areas, walks and date span the filters offer."""
    require(actor, Permission.VIEW_INTERNAL)
    data = load(engine)
    when = data.findings["observed_at"]
    walk_names = {w.id: f"{w.title} ({w.started_at:%d.%m.%Y})" for w in data.walks.itertuples()}
    return Choices(dict(zip(data.areas["id"], data.areas["name"], strict=True)), walk_names,
                   when.min().date() if len(when) else None, when.max().date() if len(when) else None)


def planner_view(engine: Engine, actor: Actor, filt: Filter, lang: str = "da", grid: Grid = Grid(), *,
                 pin_limit: int = PIN_LIMIT, asset_base: str = STREAMLIT_ASSETS, tiles: bool = True) -> PlannerView:
    """The planner's map, charts and area table for `filt`, cached by data version and filter."""
    require(actor, Permission.VIEW_INTERNAL)
    data = load(engine)
    key = (str(engine.url), data.version, filt.key(), lang, grid, pin_limit, asset_base, tiles)
    with _lock:
        if key in _views:
            _views.move_to_end(key)
            return _views[key]
    findings = filt.apply(data.findings)
    reports = filt.apply_reports(data.reports)
    if len(findings) <= pin_limit:
        findings = _with_pin_details(engine, findings, data.walks)
    names = dict(zip(data.areas["id"], data.areas["name"], strict=True))
    view = PlannerView(
        map=planner_map(findings, reports, data.areas, grid=grid, selected_areas=filt.areas, lang=lang,
                        pin_limit=pin_limit, asset_base=asset_base, tiles=tiles),
        findings=len(findings), reports=len(reports),
        by_category_area=charts.by_category_area(findings, names, lang),
        open_resolved=charts.open_resolved(findings, lang),
        days_to_resolution=charts.days_to_resolution(findings, lang),
        areas=charts.area_table(findings, reports, names, lang))
    with _lock:
        _views[key] = view
        while len(_views) > _MAX_VIEWS:
            _views.popitem(last=False)
    return view


def _with_pin_details(engine: Engine, findings: pd.DataFrame, walk_frame: pd.DataFrame) -> pd.DataFrame:
    """The popup's extra columns for the few findings shown as pins: internal note, walk title and a
    thumbnail (data: URI) of the first photo, within THUMB_BUDGET."""
    ids = findings["id"].tolist()
    notes, thumbs = {}, {}
    with reading(engine) as conn:
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            notes.update(conn.execute(select(observations.c.id, observations.c.internal_note)
                                      .where(observations.c.id.in_(chunk))).all())
            for obs_id, thumb in conn.execute(
                    select(photo_table.c.observation_id, photo_table.c.thumb_path)
                    .where(photo_table.c.observation_id.in_(chunk), photo_table.c.deleted.is_(False))
                    .order_by(photo_table.c.created_at)).all():
                thumbs.setdefault(obs_id, thumb)
    budget = THUMB_BUDGET
    uris = {}
    for obs_id, path in thumbs.items():
        file = photos.file(path)
        size = file.stat().st_size if file.is_file() else budget + 1
        if size <= budget:
            uris[obs_id] = "data:image/jpeg;base64," + base64.b64encode(file.read_bytes()).decode()
            budget -= size
    titles = dict(zip(walk_frame["id"], walk_frame["title"], strict=True))
    return findings.assign(note=[notes.get(i) or "" for i in findings["id"]],
                           walk_title=[titles.get(w) or "" for w in findings["walk_id"]],
                           thumb=[uris.get(i, "") for i in findings["id"]])
