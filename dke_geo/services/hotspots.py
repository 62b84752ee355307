"""The Hotspots page's use cases (the planners' view): the findings and incident reports read once per data
version, and the rows of one filter, from which the page draws its map, charts and area table (maps/hotspots.py,
charts.py), so all of them show the same rows. Internal notes are part of it, so only roles that may see
internal data get it.

Both are cached in the app context by the database's data version (which every committed write bumps), so a
new finding, fix or import shows at the next rerun and nothing stale is ever served: the frames read from the
database, and the rows of each filter.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date

import geopandas as gpd
import pandas as pd

from dke_geo import geo, lifecycle, photos
from dke_geo.context import AppContext
from dke_geo.filters import Filter
from dke_geo.model import TZ
from dke_geo.roles import Actor, Permission, require
from dke_geo.store import fixes as fix_store
from dke_geo.store import incidents as incident_store
from dke_geo.store import observations as obs_store
from dke_geo.store import photos as photo_store
from dke_geo.store import walks as walk_store
from dke_geo.store.db import data_version, reading

THUMB_BUDGET = 1_500_000
"""Bytes of thumbnails embedded in one map's popups (data: URIs); past it the popups show no picture."""
FINDING_COLUMNS = ("id", "walk_id", "lon", "lat", "area_id", "category", "severity", "observed_at", "light_condition",
                   "is_demo")
REPORT_COLUMNS = ("lon", "lat", "area_id", "reported_at", "is_demo")


@dataclass(frozen=True)
class HotspotsData:
    """Everything the page is made from, as read at one data version."""
    version: int
    findings: pd.DataFrame  # FINDING_COLUMNS + status, resolved_at, x, y (EPSG:25832)
    reports: pd.DataFrame   # REPORT_COLUMNS + x, y
    walks: pd.DataFrame     # id, title, started_at, is_demo
    areas: gpd.GeoDataFrame


@dataclass(frozen=True)
class Choices:
    """What the sidebar filters offer."""
    areas: dict[str, str]  # id -> name
    walks: dict[str, str]  # id -> title (date)
    first: date | None
    last: date | None


@dataclass(frozen=True)
class Selection:
    """The rows of one filter at one data version: what the map, the charts and the area table are drawn from.
    With at most `pin_limit` findings, they carry the popup's note, walk title and thumbnail too."""
    version: int
    filter: Filter
    findings: pd.DataFrame
    reports: pd.DataFrame
    areas: gpd.GeoDataFrame
    area_names: dict[str, str]
    pin_limit: int

    @property
    def key(self) -> tuple:
        """What the selection was made from: the key for caching what is drawn from it."""
        return (self.version, self.filter.key(), self.pin_limit)


def load(ctx: AppContext, actor: Actor) -> HotspotsData:
    """Everything the page is made from (see `_load`), for those who may see internal data."""
    require(actor, Permission.VIEW_INTERNAL)
    return _load(ctx)


def prefetch(ctx: AppContext) -> None:
    """Read what the page is made from into the context's cache, for no one in particular: the app's warm-up at
    start (nothing is returned, so no role is needed)."""
    _load(ctx)


def _load(ctx: AppContext) -> HotspotsData:
    """The findings (with their status from the fix workflow), reports, walks and areas, read once per data
    version. Statuses are derived only for findings that have a fix: the rest are open. The version is read
    first, so what is cached under it is never older than it (the frames come through their own connection,
    store.columnar)."""
    with reading(ctx.engine) as conn:
        version = data_version(conn)
    return ctx.cached("hotspots.data", version, None, lambda: _read(ctx, version))


def _read(ctx: AppContext, version: int) -> HotspotsData:
    findings = obs_store.frame(ctx.columns, FINDING_COLUMNS)
    reports = incident_store.frame(ctx.columns, REPORT_COLUMNS)
    with reading(ctx.engine) as conn:
        status = fix_store.finding_statuses(conn, fix_store.linked_observation_ids(conn)).set_index("observation_id")
        walk_frame = walk_store.frame(conn)
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
    return HotspotsData(version, findings, reports, walk_frame, ctx.areas())


def choices(ctx: AppContext, actor: Actor) -> Choices:
    """The areas, walks and date span the filters offer."""
    require(actor, Permission.VIEW_INTERNAL)
    data = _load(ctx)
    when = data.findings["observed_at"]
    walk_names = {w.id: f"{w.title} ({w.started_at:%d.%m.%Y})" for w in data.walks.itertuples()}
    return Choices(ctx.area_names(), walk_names,
                   when.min().date() if len(when) else None, when.max().date() if len(when) else None)


def select(ctx: AppContext, actor: Actor, filt: Filter, pin_limit: int) -> Selection:
    """The findings and reports passing `filt`, cached by data version and filter."""
    require(actor, Permission.VIEW_INTERNAL)
    data = _load(ctx)
    return ctx.cached("hotspots.selection", data.version, (filt.key(), pin_limit),
                      lambda: _select(ctx, data, filt, pin_limit))


def _select(ctx: AppContext, data: HotspotsData, filt: Filter, pin_limit: int) -> Selection:
    findings = filt.apply(data.findings)
    if len(findings) <= pin_limit:
        findings = _with_pin_details(ctx, findings, data.walks)
    return Selection(data.version, filt, findings, filt.apply_reports(data.reports), data.areas,
                     dict(zip(data.areas["id"], data.areas["name"], strict=True)), pin_limit)


def _with_pin_details(ctx: AppContext, findings: pd.DataFrame, walk_frame: pd.DataFrame) -> pd.DataFrame:
    """The popup's extra columns for the few findings shown as pins: internal note, walk title and a
    thumbnail (data: URI) of the first photo, within THUMB_BUDGET."""
    ids = findings["id"].tolist()
    with reading(ctx.engine) as conn:
        notes = obs_store.notes(conn, ids)
        thumbs = photo_store.first_thumbs(conn, ids)
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
