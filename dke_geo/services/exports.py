"""The export use case: which rows go into a file and who may have them. The tables are gathered here and
written by the format code in interop/writers.py.

Multi-table formats (GeoPackage, KML, Excel) carry every table: observations, fixes (with the ids of their
findings, drawn at those findings), walks (drawn as their areas) and areas. Single-table formats (GeoJSON,
CSV) carry one, observations unless another is asked for. The internal export applies the planner's Filter
and needs the right to see internal data; the public export (`public=True`) carries only what the public map
shows, read through the public view (services/public.py, a whitelist), and needs no login.
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from dke_geo import geo, organisations
from dke_geo.categories import categories
from dke_geo.context import AppContext
from dke_geo.errors import DkeError
from dke_geo.filters import Filter
from dke_geo.i18n import t
from dke_geo.interop import writers
from dke_geo.roles import Actor, Permission, require
from dke_geo.services import fixes as fix_service
from dke_geo.services import public as public_service
from dke_geo.store import fixes as fix_store
from dke_geo.store import observations as obs_store
from dke_geo.store import walks as walk_store
from dke_geo.store.db import reading

OBSERVATION_COLUMNS = ("id", "walk_id", "category", "severity", "perceived_safety", "area_id", "lon", "lat",
                       "location_source", "gps_accuracy_m", "observed_at", "light_condition", "internal_note",
                       "public_text", "published", "created_by", "created_at", "updated_by", "updated_at", "is_demo",
                       "external_id", "source_created_by")
PUBLIC_COLUMNS = ("category", "category_label", "area", "month", "text", "status", "photos", "lon", "lat")
"""The public export's observation columns: the fields of public.PublicFinding, photos as a count."""


def tables(ctx: AppContext, actor: Actor, selection: Filter | None = None, *, public: bool = False,
           lang: str = "da", only: str | None = None) -> dict[str, gpd.GeoDataFrame]:
    """The tables to export, each a GeoDataFrame in EPSG:4326 (with `only`, just that one: what a single-table
    format needs, without gathering the others).

    Internal: the findings passing `selection`, the fixes linked to them, their walks, and the areas.
    Public: the published findings as the public map shows them, and the areas; `selection` must be empty.
    """
    if public:
        if selection not in (None, Filter()):
            raise DkeError("export.error.public_filters")
        return _public_tables(ctx, lang)
    require(actor, Permission.VIEW_INTERNAL)
    if only is not None and only not in writers.TABLES:
        raise DkeError("export.error.table", value=only, tables=", ".join(writers.TABLES))
    selection = selection or Filter()
    found = obs_store.frame(ctx.columns, OBSERVATION_COLUMNS)
    with reading(ctx.engine) as conn:
        statuses = fix_store.finding_statuses(conn).set_index("observation_id")["status"]
        walk_rows = walk_store.rows(conn)
    found["status"] = found["id"].map(statuses).fillna("open").astype(str)
    found["perceived_safety"] = found["perceived_safety"].astype("Int64")
    found = selection.apply(found).sort_values(["observed_at", "id"]).reset_index(drop=True)
    areas = _areas(ctx, selection)
    names = dict(zip(areas["id"], areas["name"], strict=True))
    walk_rows = walk_rows[walk_rows["id"].isin(set(found["walk_id"].dropna()) | set(selection.walks))]
    labels = {c.id: c.label(lang) for c in categories().values()}
    found.insert(3, "category_label", found["category"].map(labels))
    found.insert(6, "area_name", found["area_id"].map(names))
    found.insert(2, "walk_title", found["walk_id"].map(dict(zip(walk_rows["id"], walk_rows["title"], strict=True))))
    builders = {"observations": lambda: gpd.GeoDataFrame(found, geometry=gpd.points_from_xy(found["lon"], found["lat"]),
                                                         crs=geo.WGS84),
                "fixes": lambda: _fixes(ctx, actor, found), "walks": lambda: _walks(walk_rows, areas, lang),
                "areas": lambda: areas}
    return {name: build() for name, build in builders.items() if only in (None, name)}


def _areas(ctx: AppContext, selection: Filter) -> gpd.GeoDataFrame:
    areas = ctx.areas()
    if selection.areas:
        areas = areas[areas["id"].isin(selection.areas)]
    areas = areas.reset_index(drop=True)
    return areas.assign(area_ha=(areas.to_crs(geo.METRIC).area / 1e4).round(2))


def _fixes(ctx: AppContext, actor: Actor, found: pd.DataFrame) -> gpd.GeoDataFrame:
    """The fixes linked to any exported finding, drawn as a multipoint at those findings."""
    table = fix_service.fixes_frame(ctx, actor)
    exported = set(found["id"])
    linked = table["observation_ids"].map(lambda ids: bool(exported.intersection(ids))).astype(bool)
    table = table.loc[linked].reset_index(drop=True)
    points = found.set_index("id")[["lon", "lat"]]
    geometry = [shapely.MultiPoint([points.loc[i].tolist() for i in ids if i in points.index])
                for ids in table["observation_ids"]]
    for column in ("observation_ids", "area_ids", "walk_ids", "categories"):
        table[column] = table[column].map(", ".join)
    table["n_observations"] = [len(ids.split(", ")) if ids else 0 for ids in table["observation_ids"]]
    return gpd.GeoDataFrame(table, geometry=geometry, crs=geo.WGS84)


def _walks(rows: pd.DataFrame, areas: gpd.GeoDataFrame, lang: str) -> gpd.GeoDataFrame:
    """The walks, drawn as the union of their areas; lists kept as JSON text (so an import can read them), and
    the participating organisations also by their labels in `lang` with head counts."""
    shapes = dict(zip(areas["id"], areas.geometry, strict=True))
    rows = rows.sort_values("started_at").reset_index(drop=True)
    geometry = [shapely.union_all([shapes[a] for a in ids if a in shapes]) if ids else None for ids in rows["area_ids"]]
    rows = rows.assign(area_ids=rows["area_ids"].map(json.dumps),
                       organisations=rows["organisations"].map(lambda v: json.dumps(v, ensure_ascii=False)),
                       organisation_labels=rows["organisations"].map(lambda v: _participants(v, lang)),
                       participants=rows["organisations"].map(lambda v: sum(o["count"] for o in v)))
    return gpd.GeoDataFrame(rows, geometry=[None if g is None or g.is_empty else g for g in geometry], crs=geo.WGS84)


def _participants(stored: list[dict], lang: str) -> str:
    """A walk's organisations as a reader sees them: "Politiet (1); Beboere (9)"."""
    return "; ".join(f"{organisations.participant_label(o['organisation'], lang, o.get('label'))} ({o['count']})"
                     for o in stored)


def _public_tables(ctx: AppContext, lang: str) -> dict[str, gpd.GeoDataFrame]:
    view = public_service.view(ctx, lang)
    rows = pd.DataFrame([{c: (len(f.photos) if c == "photos" else getattr(f, c)) for c in PUBLIC_COLUMNS}
                         for f in view.findings], columns=list(PUBLIC_COLUMNS))
    findings = gpd.GeoDataFrame(rows, geometry=gpd.points_from_xy(rows["lon"], rows["lat"]), crs=geo.WGS84)
    areas = ctx.areas()
    density = {d.area_id: (d.findings, d.per_km2) for d in view.density}
    public_areas = gpd.GeoDataFrame({"id": areas["id"], "name": areas["name"],
                                     "findings": [density.get(a, (0, 0.0))[0] for a in areas["id"]],
                                     "per_km2": [density.get(a, (0, 0.0))[1] for a in areas["id"]]},
                                    geometry=areas.geometry.values, crs=geo.WGS84)
    return {"observations": findings, "areas": public_areas}


def export(ctx: AppContext, actor: Actor, fmt: str, out: Path, selection: Filter | None = None, *,
           public: bool = False, table: str = "observations", lang: str = "da") -> dict[str, int]:
    """Export to the file `out` (complete, or not at all: written under a temporary name and renamed); returns
    the number of rows per table written.

    Example (with the demo database; tests/test_export.py runs it)::

        export(ctx, SYSTEM, "gpkg", Path("walks.gpkg"), Filter(areas=("blokland",)))
        # the rows written per table: {'observations': ..., 'fixes': ..., 'walks': ..., 'areas': ...}
    """
    if fmt not in writers.FORMATS:
        raise DkeError("export.error.format", value=fmt, formats=", ".join(writers.FORMATS))
    ctx.refuse_database_file(out)
    data = tables(ctx, actor, selection, public=public, lang=lang,
                  only=None if fmt in writers.MULTI_TABLE or public else table)
    writers.write(data, fmt, out, table)
    return {name: len(frame) for name, frame in data.items() if fmt in writers.MULTI_TABLE or name == table}


def export_bytes(ctx: AppContext, actor: Actor, fmt: str, selection: Filter | None = None, *, public: bool = False,
                 table: str = "observations", lang: str = "da") -> bytes:
    """The export as bytes, for a download button."""
    with tempfile.TemporaryDirectory(prefix="dke-export-") as tmp:
        path = Path(tmp) / f"export.{fmt}"
        export(ctx, actor, fmt, path, selection, public=public, table=table, lang=lang)
        return path.read_bytes()


def describe(counts: dict[str, int], lang: str = "da") -> str:
    """A line for the user: how many rows of each table were written."""
    return ", ".join(t("export.count", lang, table=t(f"export.table.{n}", lang), n=c) for n, c in counts.items())
