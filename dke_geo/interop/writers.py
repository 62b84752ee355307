"""Writers of our export formats for QGIS, Excel and Google Earth: GeoPackage, GeoJSON, CSV, KML and Excel.
Format code only: the tables come in as GeoDataFrames (services/exports.py gathers them, with the role check).

- GeoPackage is written as version 1.3 (GDAL 3.6, as on Debian/Ubuntu LTS with QGIS, reads it fully;
  GDAL's validate_gpkg.py passes). Times keep millisecond precision there (the format's DATETIME).
- GeoJSON follows RFC 7946: WGS84 lon/lat, no `crs` member, polygons counter-clockwise outside.
- CSV is UTF-8 with a BOM (Excel then shows æøå), with lon/lat columns (WKT for non-point tables).
- CSV and Excel cells that a spreadsheet would run as a formula (starting with = + - @, tab, CR) get a
  leading apostrophe; our import mapping removes it again from CSV and Excel (and only there: GeoJSON and
  GeoPackage carry text as it is), so export -> import stays lossless.
- KML descriptions are escaped: Google Earth renders them as HTML.
- A file is written under a temporary name beside it, made 0600 (it holds internal data) and renamed into place
  when complete, so a failed export never leaves a partial file (nor removes the previous one).

Every column is prepared whole (no Python call per cell): a hundred thousand findings are written in about the
time the plain pandas, pyogrio or openpyxl call takes (bench/bench_import.py).

`csv_bytes` is the project's one CSV writer: the exports, the fixes board (page and `fixes list --format csv`)
and the Hotspots page's area table all go through it, so no CSV leaves the app without the guard and the BOM.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyogrio
from openpyxl import Workbook

from dke_geo import private_files
from dke_geo.errors import DkeError
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
        raise DkeError("export.error.format", value=fmt, formats=", ".join(FORMATS))
    if fmt not in MULTI_TABLE and table not in data:
        raise DkeError("export.error.table", value=table, tables=", ".join(data))
    out = Path(out)
    with private_files.replacing(out) as temp:
        _write(data, fmt, temp, table)
    return out


def _write(data: dict[str, gpd.GeoDataFrame], fmt: str, out: Path, table: str) -> None:
    if fmt == "gpkg":
        for name, frame in data.items():
            pyogrio.write_dataframe(_gdal_ready(frame, keep_times=True), out, layer=name, driver="GPKG",
                                    geometry_type=_GEOMETRY_TYPES[name], promote_to_multi=name in ("walks", "areas"),
                                    dataset_options={"VERSION": "1.3"} if not out.exists() else None, use_arrow=True)
    elif fmt == "geojson":
        pyogrio.write_dataframe(_gdal_ready(data[table]), out, layer=table, driver="GeoJSON", use_arrow=True,
                                layer_options={"RFC7946": "YES", "WRITE_NAME": "NO"})
    elif fmt == "kml":
        _kml(data, out)
    elif fmt == "csv":
        out.write_bytes(csv_bytes(_plain(data[table])))
    else:
        _excel(data, out)


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
            out[column] = values.dt.tz_convert("UTC") if keep_times else iso_times(values)
        elif values.dtype == object:
            out[column] = _text_column(values)
    return out


def iso_times(values: pd.Series) -> pd.Series:
    """Aware times as ISO 8601 text in Europe/Copenhagen with their offset, as `datetime.isoformat` writes them
    (fractions of a second only when there are any); missing ones as None. Vectorised.

    >>> iso_times(pd.Series(pd.to_datetime(["2017-04-20T19:10:00Z", "2017-04-20T19:10:00.5Z", None], utc=True,
    ...                                    format="ISO8601")))
    ... # doctest: +NORMALIZE_WHITESPACE
    0    2017-04-20T21:10:00+02:00
    1    2017-04-20T21:10:00.500000+02:00
    2    None
    dtype: object
    """
    local = values.dt.tz_convert(TZ).dt.as_unit("us")
    # Arrow formats in the zone's wall time and writes seconds with six decimals: "2017-04-20T21:10:00.000000+0200"
    full = pd.Series(pc.strftime(pa.array(local), format="%Y-%m-%dT%H:%M:%S%z"), index=values.index,
                     dtype="str")
    fraction = full.str.slice(19, 26).where(local.dt.microsecond.fillna(0).to_numpy() > 0, "")
    text = full.str.slice(0, 19) + fraction + full.str.slice(26, 29) + ":" + full.str.slice(29, 31)
    return text.astype(object).where(values.notna(), None)


def _text_column(values: pd.Series) -> pd.Series:
    """A text column as it is; a column of lists, dicts, dates or numbers as text (JSON for lists and dicts)."""
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        return values.astype(object).where(values.notna(), None)
    return values.map(_text_cell)


def _text_cell(value):
    if value is None or (not isinstance(value, (str, list, dict)) and pd.isna(value)):
        return None
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value if isinstance(value, (str, bool, int, float)) else str(value)


_KML_HEAD = b'<Document id="root_doc">\n'
_KML_TAIL = b"</Document></kml>\n"


def _kml(data: dict[str, gpd.GeoDataFrame], out: Path) -> None:
    """One KML document with a folder per table. GDAL's KML driver adds a layer to an existing file by reading and
    rewriting all of it (the findings were written four times), so each table is written to a file of its own and
    the documents' contents are joined under one root: the schemas first, then the folders, as KML 2.2 orders
    them."""
    parts = []
    for name, frame in data.items():
        part = out.with_name(f"{out.name}.{name}")
        pyogrio.write_dataframe(_kml_ready(name, frame), part, layer=name, driver="KML", use_arrow=True,
                                dataset_options={"NameField": "name", "DescriptionField": "description"})
        parts.append(part)
    try:
        sections = [_kml_sections(part) for part in parts]
        with open(out, "wb") as target:
            target.write(sections[0][0])
            for _, schema, _, _ in sections:
                target.write(schema)
            for part, (_, _, start, end) in zip(parts, sections):
                with open(part, "rb") as source:
                    source.seek(start)
                    _copy(source, target, end - start)
            target.write(_KML_TAIL)
    finally:
        for part in parts:
            part.unlink(missing_ok=True)


def _kml_sections(part: Path) -> tuple[bytes, bytes, int, int]:
    """The parts of a KML file written by GDAL: its head up to the document's start, the schema, and the byte
    range of its folder."""
    size = part.stat().st_size
    with open(part, "rb") as source:
        start = source.read(1 << 16)
        source.seek(size - len(_KML_TAIL))
        tail = source.read()
    head_end, folder = start.find(_KML_HEAD) + len(_KML_HEAD), start.find(b"<Folder>")
    if head_end < len(_KML_HEAD) or folder < head_end or tail != _KML_TAIL:
        raise ValueError(f"GDAL wrote KML of an unexpected shape: {part.name}")
    return start[:head_end], start[head_end:folder], folder, size - len(_KML_TAIL)


def _copy(source, target, length: int, chunk: int = 1 << 20) -> None:
    while length > 0:
        block = source.read(min(chunk, length))
        if not block:
            raise ValueError("KML part ended early")
        target.write(block)
        length -= len(block)


def _kml_ready(name: str, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """KML placemarks need a name and a description: the category and note, the fix's or walk's title. Google Earth
    renders a description, and the balloon's table of attributes, as HTML: every text is escaped."""
    out = _gdal_ready(frame)
    for column in out.columns:
        if column != out.geometry.name and (out[column].dtype == object
                                            or pd.api.types.is_string_dtype(out[column].dtype)):
            out[column] = _escaped(out[column])
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


def _escaped(values: pd.Series) -> pd.Series:
    """`html.escape` over a whole column of text (other values kept).

    >>> _escaped(pd.Series(["<b>'&</b>", None])).tolist()
    ['&lt;b&gt;&#x27;&amp;&lt;/b&gt;', None]
    """
    text = values.where(values.map(lambda v: isinstance(v, str))) if values.dtype == object else values
    text = text.astype("str")
    for raw, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#x27;")):
        text = text.str.replace(raw, entity, regex=False)
    return text.astype(object).where(text.notna(), values.astype(object)).where(values.notna(), None)


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
            out[column] = values.dt.tz_convert(TZ).dt.tz_localize(None) if excel else iso_times(values)
        elif values.dtype == object or pd.api.types.is_string_dtype(values):
            out[column] = _text_column(values)
    return out


def _guarded(table: pd.DataFrame) -> pd.DataFrame:
    """`table` with every text cell that a spreadsheet would run as a formula neutralised (only text columns are
    looked at: a number is never run, and a million-row export must not pay for its numbers)."""
    out = table.copy(deep=False)  # the columns are replaced, never changed in place
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = neutralise_column(out[column])
    return out


def neutralise(value):
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe (and so does one that
    already starts with one, so the import can undo exactly this).

    >>> neutralise("=HYPERLINK(\\"http://x\\")"), neutralise("-1"), neutralise("Lampe ud")
    ('\\'=HYPERLINK("http://x")', "'-1", 'Lampe ud')
    """
    return "'" + value if isinstance(value, str) and _FORMULA.match(value) else value


def neutralise_column(values: pd.Series) -> pd.Series:
    """`neutralise` over a whole column of text (None and other values kept)."""
    text = values.where(values.map(lambda v: isinstance(v, str))) if values.dtype == object else values
    guarded = text.astype("str").str.match(_FORMULA.pattern).fillna(False).to_numpy(dtype=bool)
    if not guarded.any():
        return values
    out = values.astype(object).copy()
    out[guarded] = "'" + values[guarded].astype(str)
    return out


def _excel(data: dict[str, gpd.GeoDataFrame], out: Path) -> None:
    """One sheet per table, written row by row in openpyxl's write-only mode (constant memory)."""
    book = Workbook(write_only=True)
    for name, frame in data.items():
        sheet = book.create_sheet(name)
        table = _guarded(_plain(frame, wkt=False, excel=True))
        sheet.append([str(c) for c in table.columns])
        columns = [_excel_cells(table[c]) for c in table.columns]
        for row in zip(*columns, strict=True):
            sheet.append(row)
    book.save(out)


def _excel_cells(values: pd.Series) -> list:
    """A column as Excel cells: missing values empty, numpy numbers as Python numbers, times as naive datetimes."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return [None if pd.isna(v) else v.to_pydatetime() for v in values]
    cells = values.astype(object).where(values.notna(), None).tolist()
    return [c.item() if isinstance(c, np.generic) else c for c in cells]


def csv_bytes(table: pd.DataFrame) -> bytes:
    """A plain table (no geometry) as CSV for a spreadsheet: UTF-8 with a byte-order mark (Excel reads æøå
    right), CRLF line ends as RFC 4180 says (so a cell holding a lone CR is quoted instead of splitting its row),
    and every text that a spreadsheet would run as a formula neutralised. The one CSV writer of the project.

    >>> csv_bytes(pd.DataFrame({"title": ["=HYPERLINK(\\"http://x\\")", "Lampe"], "cost": [-5, 10]}))
    b'\\xef\\xbb\\xbftitle,cost\\r\\n"\\'=HYPERLINK(""http://x"")",-5\\r\\nLampe,10\\r\\n'
    """
    return _guarded(table).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")
