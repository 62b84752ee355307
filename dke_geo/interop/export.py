"""Export for QGIS, Excel and Google Earth: GeoPackage, GeoJSON, CSV, KML and Excel.

Multi-table formats (GeoPackage, KML, Excel) carry every table: observations, fixes (with the ids of
their findings, drawn at those findings), walks (drawn as their areas) and areas. Single-table formats
(GeoJSON, CSV) carry one, observations unless another is asked for. The internal export applies the
planner's Filter and needs the right to see internal data; the public export (`public=True`) carries
only what the public map shows, read through `public_view` (a whitelist), and needs no login.

- GeoPackage is written as version 1.3 (GDAL 3.6, as on Debian/Ubuntu LTS with QGIS, reads it fully;
  GDAL's validate_gpkg.py passes). Times keep millisecond precision there (the format's DATETIME).
- GeoJSON follows RFC 7946: WGS84 lon/lat, no `crs` member, polygons counter-clockwise outside.
- CSV is UTF-8 with a BOM (Excel then shows æøå), with lon/lat columns (WKT for non-point tables).
- CSV and Excel cells that a spreadsheet would run as a formula (starting with = + - @, tab, CR) get a
  leading apostrophe; our import mapping removes it again, so export -> import stays lossless.
"""
from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from sqlalchemy import Engine, select

from dke_geo import geo, organisations
from dke_geo.categories import categories
from dke_geo.filters import Filter
from dke_geo.i18n import t
from dke_geo.model import TZ
from dke_geo.public_view import public_view
from dke_geo.roles import Actor, Permission, require
from dke_geo.services import areas as area_service
from dke_geo.services import fixes as fix_service
from dke_geo.store import fixes as fix_store
from dke_geo.store import observations as obs_store
from dke_geo.store.db import reading
from dke_geo.store.tables import walks

FORMATS = ("gpkg", "geojson", "csv", "kml", "xlsx")
TABLES = ("observations", "fixes", "walks", "areas")
MULTI_TABLE = ("gpkg", "kml", "xlsx")
MEDIA_TYPES = {"gpkg": "application/geopackage+sqlite3", "geojson": "application/geo+json",
               "csv": "text/csv", "kml": "application/vnd.google-earth.kml+xml",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}

OBSERVATION_COLUMNS = ("id", "walk_id", "category", "severity", "perceived_safety", "area_id", "lon", "lat",
                       "location_source", "gps_accuracy_m", "observed_at", "light_condition", "internal_note",
                       "public_text", "published", "created_by", "created_at", "updated_by", "updated_at", "is_demo",
                       "external_id")
PUBLIC_COLUMNS = ("category", "category_label", "area", "month", "text", "status", "photos", "lon", "lat")
"""The public export's observation columns: the fields of public_view.PublicFinding, photos as a count."""
_FORMULA = re.compile(r"^[=+\-@\t\r']")
_GEOMETRY_TYPES = {"observations": "Point", "fixes": "MultiPoint", "walks": "MultiPolygon", "areas": "MultiPolygon"}


def tables(engine: Engine, actor: Actor, selection: Filter | None = None, *, public: bool = False,
           lang: str = "da") -> dict[str, gpd.GeoDataFrame]:
    """The tables to export, each a GeoDataFrame in EPSG:4326.

    Internal: the findings passing `selection`, the fixes linked to them, their walks, and the areas.
    Public: the published findings as the public map shows them, and the areas; `selection` must be empty.
    """
    if public:
        if selection not in (None, Filter()):
            raise ValueError("filters do not apply to the public export: it is the whole public map")
        return _public_tables(engine, lang)
    require(actor, Permission.VIEW_INTERNAL)
    selection = selection or Filter()
    found = obs_store.frame(engine, OBSERVATION_COLUMNS)
    with reading(engine) as conn:
        statuses = fix_store.finding_statuses(conn).set_index("observation_id")["status"]
        walk_rows = pd.DataFrame([dict(r._mapping) for r in conn.execute(select(walks))],
                                 columns=[c.name for c in walks.columns])
    found["status"] = found["id"].map(statuses).fillna("open").astype(str)
    found["perceived_safety"] = found["perceived_safety"].astype("Int64")
    found = selection.apply(found).sort_values(["observed_at", "id"]).reset_index(drop=True)
    areas = _areas(engine, selection)
    names = dict(zip(areas["id"], areas["name"], strict=True))
    cats = categories()
    walk_rows = walk_rows[walk_rows["id"].isin(set(found["walk_id"].dropna()) | set(selection.walks))]
    found.insert(3, "category_label", [cats[c].label(lang) for c in found["category"]])
    found.insert(6, "area_name", found["area_id"].map(names))
    found.insert(2, "walk_title", found["walk_id"].map(dict(zip(walk_rows["id"], walk_rows["title"], strict=True))))
    observations = gpd.GeoDataFrame(found, geometry=gpd.points_from_xy(found["lon"], found["lat"]), crs=geo.WGS84)
    return {"observations": observations, "fixes": _fixes(engine, actor, found),
            "walks": _walks(walk_rows, areas, lang), "areas": areas}


def _areas(engine: Engine, selection: Filter) -> gpd.GeoDataFrame:
    areas = area_service.current(engine)
    if selection.areas:
        areas = areas[areas["id"].isin(selection.areas)]
    areas = areas.reset_index(drop=True)
    return areas.assign(area_ha=(areas.to_crs(geo.METRIC).area / 1e4).round(2))


def _fixes(engine: Engine, actor: Actor, found: pd.DataFrame) -> gpd.GeoDataFrame:
    """The fixes linked to any exported finding, drawn as a multipoint at those findings."""
    table = fix_service.fixes_frame(engine, actor)
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


def _public_tables(engine: Engine, lang: str) -> dict[str, gpd.GeoDataFrame]:
    view = public_view(engine, lang)
    rows = pd.DataFrame([{c: (len(f.photos) if c == "photos" else getattr(f, c)) for c in PUBLIC_COLUMNS}
                         for f in view.findings], columns=list(PUBLIC_COLUMNS))
    findings = gpd.GeoDataFrame(rows, geometry=gpd.points_from_xy(rows["lon"], rows["lat"]), crs=geo.WGS84)
    areas = area_service.current(engine)
    density = {d.area_id: (d.findings, d.per_km2) for d in view.density}
    public_areas = gpd.GeoDataFrame({"id": areas["id"], "name": areas["name"],
                                     "findings": [density.get(a, (0, 0.0))[0] for a in areas["id"]],
                                     "per_km2": [density.get(a, (0, 0.0))[1] for a in areas["id"]]},
                                    geometry=areas.geometry.values, crs=geo.WGS84)
    return {"observations": findings, "areas": public_areas}


def write(data: dict[str, gpd.GeoDataFrame], fmt: str, out: Path, table: str = "observations") -> Path:
    """Write the exported tables to `out` in `fmt`; `table` chooses the one table of GeoJSON and CSV."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    if fmt not in MULTI_TABLE and table not in data:
        raise ValueError(f"table must be one of {', '.join(data)}")
    out = Path(out)
    out.unlink(missing_ok=True)
    if fmt == "gpkg":
        for name, frame in data.items():
            pyogrio.write_dataframe(_gdal_ready(frame, keep_times=True), out, layer=name, driver="GPKG",
                                    geometry_type=_GEOMETRY_TYPES[name], promote_to_multi=name in ("walks", "areas"),
                                    dataset_options={"VERSION": "1.3"} if not out.exists() else None)
    elif fmt == "geojson":
        pyogrio.write_dataframe(_gdal_ready(data[table]), out, layer=table, driver="GeoJSON",
                                layer_options={"RFC7946": "YES", "WRITE_NAME": "NO"})
    elif fmt == "kml":
        for name, frame in data.items():
            pyogrio.write_dataframe(_kml_ready(name, frame), out, layer=name, driver="KML",
                                    dataset_options={"NameField": "name", "DescriptionField": "description"},
                                    append=out.exists())
    elif fmt == "csv":
        # CRLF as RFC 4180 says: then a cell holding a lone CR is quoted too, instead of splitting its row
        _plain(data[table]).to_csv(out, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    else:
        with pd.ExcelWriter(out, engine="openpyxl") as writer:
            for name, frame in data.items():
                _plain(frame, wkt=False, excel=True).to_excel(writer, sheet_name=name, index=False)
    return out


def export(engine: Engine, actor: Actor, fmt: str, out: Path, selection: Filter | None = None, *,
           public: bool = False, table: str = "observations", lang: str = "da") -> dict[str, int]:
    """Export to the file `out`; returns the number of rows per table written.

    >>> export(engine, SYSTEM, "gpkg", Path("walks.gpkg"), Filter(areas=("blokland",)))  # doctest: +SKIP
    {'observations': 200, 'fixes': 3, 'walks': 2, 'areas': 1}
    """
    data = tables(engine, actor, selection, public=public, lang=lang)
    write(data, fmt, out, table)
    return {name: len(frame) for name, frame in data.items() if fmt in MULTI_TABLE or name == table}


def export_bytes(engine: Engine, actor: Actor, fmt: str, selection: Filter | None = None, *, public: bool = False,
                 table: str = "observations", lang: str = "da") -> bytes:
    """The export as bytes, for a download button."""
    with tempfile.TemporaryDirectory(prefix="dke-export-") as tmp:
        path = Path(tmp) / f"export.{fmt}"
        export(engine, actor, fmt, path, selection, public=public, table=table, lang=lang)
        return path.read_bytes()


def file_name(fmt: str, public: bool = False, table: str = "observations") -> str:
    """A download name like dke-geo-observations-2017-04-20.csv."""
    stamp = pd.Timestamp.now(tz=TZ).strftime("%Y-%m-%d")
    what = "public" if public else ("all" if fmt in MULTI_TABLE else table)
    return f"dke-geo-{what}-{stamp}.{fmt}"


def _gdal_ready(frame: gpd.GeoDataFrame, keep_times: bool = False) -> gpd.GeoDataFrame:
    """Columns GDAL can write: times as ISO 8601 text with offset (or as UTC DATETIME for GeoPackage),
    dates as text, lists and other objects as text."""
    out = frame.copy()
    for column in out.columns:
        if column == out.geometry.name:
            continue
        values = out[column]
        if isinstance(values.dtype, pd.DatetimeTZDtype):  # GeoPackage DATETIME is UTC by its spec
            out[column] = values.dt.tz_convert("UTC") if keep_times else _iso(values)
        elif values.dtype == object:
            out[column] = values.map(_text_cell)
    return out


def _iso(values: pd.Series) -> pd.Series:
    return pd.Series([None if pd.isna(v) else v.tz_convert(TZ).isoformat() for v in values], index=values.index,
                     dtype=object)


def _text_cell(value):
    if value is None or (not isinstance(value, (str, list, dict)) and pd.isna(value)):
        return None
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value if isinstance(value, (str, bool, int, float)) else str(value)


def _kml_ready(name: str, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """KML placemarks need a name and a description: the category and note, the fix's or walk's title."""
    out = _gdal_ready(frame)
    if name == "observations":
        label = out["category_label"] + " (" + out.get("area_name", out.get("area")).fillna("").astype(str) + ")"
        text = out["internal_note"] if "internal_note" in out else out["text"]
    elif name == "fixes":
        label, text = out["title"], out["description"]
    elif name == "walks":
        label, text = out["title"], out["focus"]
    else:
        label, text = out["name"], out.get("confidence", out.get("findings", "")).astype(str)
    if "description" in out:
        out = out.rename(columns={"description": "fix_description"})
    return out.assign(name=label.fillna("").astype(str), description=text.fillna("").astype(str))


def _plain(frame: gpd.GeoDataFrame, wkt: bool = True, excel: bool = False) -> pd.DataFrame:
    """A table for CSV or Excel: points as lon/lat columns (already there), other geometries as WKT
    (left out of Excel, whose cells hold at most 32,767 characters); times as ISO text (CSV) or local
    time (Excel has no time zones); text that a spreadsheet would run as a formula neutralised."""
    geometry = frame.geometry
    out = pd.DataFrame(frame.drop(columns=geometry.name))
    points = geometry.dropna()
    if wkt and not (len(points) and (points.geom_type == "Point").all()):
        out["wkt"] = [None if g is None else g.wkt for g in geometry]
    for column in out.columns:
        values = out[column]
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            out[column] = values.dt.tz_convert(TZ).dt.tz_localize(None) if excel else _iso(values)
        elif values.dtype == object or pd.api.types.is_string_dtype(values):
            out[column] = values.map(_text_cell).map(neutralise)
    return out


def neutralise(value):
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe (and so does one that
    already starts with one, so the import can undo exactly this).

    >>> neutralise("=HYPERLINK(\\"http://x\\")"), neutralise("-1"), neutralise("Lampe ud")
    ('\\'=HYPERLINK("http://x")', "'-1", 'Lampe ud')
    """
    return "'" + value if isinstance(value, str) and _FORMULA.match(value) else value


def describe(counts: dict[str, int], lang: str = "da") -> str:
    """A line for the user: how many rows of each table were written."""
    return ", ".join(t("export.count", lang, table=t(f"export.table.{n}", lang), n=c) for n, c in counts.items())

