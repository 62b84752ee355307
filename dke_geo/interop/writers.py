"""Writers of our export formats for QGIS, Excel and Google Earth: GeoPackage, GeoJSON, CSV, KML and Excel.
Format code only: the tables come in as GeoDataFrames (services/exports.py gathers them, with the role check).

- GeoPackage is written as version 1.3 (GDAL 3.6, as on Debian/Ubuntu LTS with QGIS, reads it fully;
  GDAL's validate_gpkg.py passes). Times keep millisecond precision there (the format's DATETIME).
- GeoJSON follows RFC 7946: WGS84 lon/lat, no `crs` member, polygons counter-clockwise outside.
- CSV is UTF-8 with a BOM (Excel then shows æøå), with lon/lat columns (WKT for non-point tables).
- CSV and Excel cells that a spreadsheet would run as a formula (starting with = + - @, tab, CR) get a
  leading apostrophe; our import mapping removes it again, so export -> import stays lossless.

`csv_bytes` is the project's one CSV writer: the exports, the fixes board (page and `fixes list --format csv`)
and the Hotspots page's area table all go through it, so no CSV leaves the app without the guard and the BOM.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from dke_geo import private_files
from dke_geo.model import TZ

FORMATS = ("gpkg", "geojson", "csv", "kml", "xlsx")
TABLES = ("observations", "fixes", "walks", "areas")
MULTI_TABLE = ("gpkg", "kml", "xlsx")
MEDIA_TYPES = {"gpkg": "application/geopackage+sqlite3", "geojson": "application/geo+json",
               "csv": "text/csv", "kml": "application/vnd.google-earth.kml+xml",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}

_FORMULA = re.compile(r"^[=+\-@\t\r']")
_GEOMETRY_TYPES = {"observations": "Point", "fixes": "MultiPoint", "walks": "MultiPolygon", "areas": "MultiPolygon"}


def write(data: dict[str, gpd.GeoDataFrame], fmt: str, out: Path, table: str = "observations") -> Path:
    """Write the exported tables to `out` in `fmt`; `table` chooses the one table of GeoJSON and CSV. The file is
    made 0600 (it holds internal data) and replaces `out` only once it is complete (private_files.replacing)."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    if fmt not in MULTI_TABLE and table not in data:
        raise ValueError(f"table must be one of {', '.join(data)}")
    out = Path(out)
    with private_files.replacing(out) as temp:
        _write(data, fmt, temp, table)
    return out


def _write(data: dict[str, gpd.GeoDataFrame], fmt: str, out: Path, table: str) -> None:
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
        out.write_bytes(csv_bytes(_plain(data[table])))
    else:
        with pd.ExcelWriter(out, engine="openpyxl") as writer:
            for name, frame in data.items():
                _guarded(_plain(frame, wkt=False, excel=True)).to_excel(writer, sheet_name=name, index=False)


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
    time (Excel has no time zones); lists and other objects as text. (Formulas are guarded by the writer.)"""
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
            out[column] = values.map(_text_cell)
    return out


def _guarded(table: pd.DataFrame) -> pd.DataFrame:
    """`table` with every text cell that a spreadsheet would run as a formula neutralised (only text columns are
    looked at: a number is never run, and a million-row export must not pay for its numbers)."""
    out = table.copy(deep=False)  # the columns are replaced, never changed in place
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralise)
    return out


def neutralise(value):
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe (and so does one that
    already starts with one, so the import can undo exactly this).

    >>> neutralise("=HYPERLINK(\\"http://x\\")"), neutralise("-1"), neutralise("Lampe ud")
    ('\\'=HYPERLINK("http://x")', "'-1", 'Lampe ud')
    """
    return "'" + value if isinstance(value, str) and _FORMULA.match(value) else value


def csv_bytes(table: pd.DataFrame) -> bytes:
    """A plain table (no geometry) as CSV for a spreadsheet: UTF-8 with a byte-order mark (Excel reads æøå
    right), CRLF line ends as RFC 4180 says (so a cell holding a lone CR is quoted instead of splitting its row),
    and every text that a spreadsheet would run as a formula neutralised. The one CSV writer of the project.

    >>> csv_bytes(pd.DataFrame({"title": ["=HYPERLINK(\\"http://x\\")", "Lampe"], "cost": [-5, 10]}))
    b'\\xef\\xbb\\xbftitle,cost\\r\\n"\\'=HYPERLINK(""http://x"")",-5\\r\\nLampe,10\\r\\n'
    """
    return _guarded(table).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")
