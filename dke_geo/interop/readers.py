"""Reading an import file into rows, as the file holds them: CSV (comma, semicolon or tab; UTF-8 with or
without BOM, else Windows-1252 as Danish Excel writes it), Excel (.xlsx), GeoJSON, GeoPackage (any CRS,
reprojected to EPSG:4326; a QField layer is a GeoPackage layer) and Open311 GeoReport v2 (JSON, XML).

Nothing here interprets a value: the column mapping (column_mapping.py) says what a column means, and the model
validates it. Every record keeps the number a user finds it by: its spreadsheet row (the header is
row 1) or its feature number.
"""
from __future__ import annotations

import csv
import io
import json
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import defusedxml.ElementTree as SafeET
import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from defusedxml import DefusedXmlException

from dke_geo import geo
from dke_geo.errors import DkeError

MAIN_TABLE = "observations"  # the layer or sheet our own export writes the findings to
EXTENSIONS = (".csv", ".txt", ".xlsx", ".geojson", ".json", ".gpkg", ".xml")


class UnreadableFile(DkeError):
    """The file as a whole cannot be read (wrong format, broken, no CRS): nothing is imported."""
    key = "import.error.unreadable"


@dataclass
class Source:
    """The records of one file. `geometry` (EPSG:4326, None per record without one) exists only for
    formats that carry geometry; `tables` holds the file's other tables by name (e.g. `walks`)."""
    rows: pd.DataFrame
    row_numbers: list[int]
    unit: str                       # "row" (spreadsheet row) or "feature"
    kind: str                       # csv, xlsx, geojson, gpkg, open311
    geometry: list | None = None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.rows.columns]


def read(path: Path, layer: str | None = None) -> Source:
    """The records of `path`, chosen by its extension (and, for .json, by its content)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in EXTENSIONS:
        raise UnreadableFile("import.error.format", name=path.name, formats=", ".join(EXTENSIONS))
    try:
        if suffix in (".csv", ".txt"):
            return _csv(path.read_bytes())
        if suffix == ".xlsx":
            return _xlsx(path, layer)
        if suffix == ".xml":
            return _open311_xml(path.read_bytes())
        if suffix == ".json":
            data = json.loads(path.read_bytes())
            if isinstance(data, list) or (isinstance(data, dict) and "service_requests" in data):
                return _open311_json(data)
        return _geo(path, layer)
    except (UnicodeDecodeError, ValueError, KeyError, OSError, pd.errors.ParserError, SafeET.ParseError,
            DefusedXmlException, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
            zipfile.BadZipFile, shapely.errors.GEOSException) as exc:
        raise UnreadableFile(name=path.name, reason=str(exc) or type(exc).__name__) from None


def _spreadsheet(frame: pd.DataFrame, kind: str, tables: dict | None = None) -> Source:
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c).strip() for c in frame.columns]
    return Source(frame, [i + 2 for i in range(len(frame))], "row", kind, tables=tables or {})


def _csv(data: bytes) -> Source:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252")
    header = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=header.count)
    frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False,
                        quoting=csv.QUOTE_MINIMAL, skip_blank_lines=True)
    return _spreadsheet(frame, "csv")


def _xlsx(path: Path, sheet: str | None) -> Source:
    sheets = pd.read_excel(path, sheet_name=None, dtype=str, keep_default_na=False)
    if not sheets:
        raise ValueError("the workbook has no sheets")
    main = sheet or (MAIN_TABLE if MAIN_TABLE in sheets else next(iter(sheets)))
    if main not in sheets:
        raise KeyError(f"no sheet {main!r}; the workbook has: {', '.join(sheets)}")
    return _spreadsheet(sheets[main], "xlsx", {n: f for n, f in sheets.items() if n != main})


def _open311_json(data) -> Source:
    records = data["service_requests"] if isinstance(data, dict) else data
    if not all(isinstance(r, dict) for r in records):
        raise ValueError("expected a list of service requests (Open311 GeoReport v2)")
    frame = pd.DataFrame.from_records(records).astype(object)
    return Source(frame.where(frame.notna(), None), list(range(1, len(frame) + 1)), "feature", "open311")


def _open311_xml(data: bytes) -> Source:
    root = SafeET.fromstring(data)
    records = [{child.tag: (child.text or "").strip() for child in request} for request in root]
    return Source(pd.DataFrame.from_records(records, columns=_union_keys(records)),
                  list(range(1, len(records) + 1)), "feature", "open311")


def _union_keys(records: list[dict]) -> list[str]:
    return list(dict.fromkeys(k for r in records for k in r))


def _geo(path: Path, layer: str | None) -> Source:
    layers = [name for name, _type in pyogrio.list_layers(path)]
    main = layer or (MAIN_TABLE if MAIN_TABLE in layers else _first_point_layer(path, layers))
    if main not in layers:
        raise KeyError(f"no layer {main!r}; the file has: {', '.join(layers)}")
    kind = "gpkg" if path.suffix.lower() == ".gpkg" else "geojson"
    # GeoJSON times are text: read them as written (GDAL would cut them to milliseconds)
    options = {"DATE_AS_STRING": "YES"} if kind == "geojson" else {}
    with warnings.catch_warnings():  # GDAL notes times not in UTC; they are read as written, with their offset
        warnings.filterwarnings("ignore", "Non-conformant content", RuntimeWarning)
        frame = pyogrio.read_dataframe(path, layer=main, datetime_as_string=True, **options)
    tables = ({"walks": pyogrio.read_dataframe(path, layer="walks", read_geometry=False, datetime_as_string=True)}
              if "walks" in layers and main != "walks" else {})
    if not isinstance(frame, gpd.GeoDataFrame):  # an attribute table: its location comes from columns
        return Source(frame, list(range(1, len(frame) + 1)), "feature", kind, tables=tables)
    if frame.crs is None:
        raise ValueError(f"layer {main!r} states no coordinate reference system")
    if frame.crs.to_epsg() != geo.WGS84:
        frame = frame.to_crs(geo.WGS84)
    geometry = [None if g is None or g.is_empty else g for g in frame.geometry]
    rows = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    return Source(rows, list(range(1, len(frame) + 1)), "feature", kind, geometry, tables)


def _first_point_layer(path: Path, layers: list[str]) -> str:
    """The first point layer (a QField project usually has one for its findings), else the first layer."""
    for name, geometry_type in pyogrio.list_layers(path):
        if geometry_type and "Point" in geometry_type:
            return name
    return layers[0]
