"""Reading an import file into rows, as the file holds them: CSV (comma, semicolon or tab; UTF-8, UTF-16 or
Windows-1252 as Danish Excel writes it), Excel (.xlsx), GeoJSON (also KoBoToolbox's GeoJSON export), GeoPackage
(any CRS, reprojected to EPSG:4326; a QField project is a GeoPackage with several layers), ODK Central's OData
JSON and its "all data and attachments" zip, and Open311 GeoReport v2 (JSON, XML).

Nothing here interprets a value: the column mapping (column_mapping.py) says what a column means, and the model
validates it. Every record keeps the number a user finds it by: its spreadsheet row (the header is row 1) or its
feature number. A file that cannot be read at all is refused with what it looks like, what was expected and what
to do, never with a library's own message; what the user should know about a file that was read (which layer of
several, values GDAL had to drop) is kept in `Source.notes`.
"""
from __future__ import annotations

import csv
import io
import json
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import defusedxml.ElementTree as SafeET
import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from defusedxml import DefusedXmlException

from dke_geo import geo
from dke_geo.errors import DkeError
from dke_geo.i18n import t

MAIN_TABLE = "observations"  # the layer or sheet our own export writes the findings to
EXTENSIONS = (".csv", ".txt", ".xlsx", ".geojson", ".json", ".gpkg", ".xml", ".zip")
FORMATS = {".csv": "CSV", ".txt": "CSV", ".xlsx": "Excel (.xlsx)", ".geojson": "GeoJSON",
           ".json": "JSON (GeoJSON, ODK Central OData, Open311)", ".gpkg": "GeoPackage", ".xml": "Open311 XML",
           ".zip": "ODK Central zip (CSV with attachments)"}
MEDIA_FOLDER = "media"  # where ODK Central's zip export keeps the submissions' attachments


class UnreadableFile(DkeError):
    """The file as a whole cannot be read (wrong format, broken, no CRS): nothing is imported."""
    key = "import.error.unreadable"


class LayerMessage(DkeError):
    """A message naming a file's layers with their geometry types (a table's "no geometry" in the reader's
    language): which layer was read and why, or that the one asked for is not there."""

    def __init__(self, key: str, layers: list[tuple[str, str]], **values):
        self.layers = layers
        super().__init__(key, **values)

    def message(self, lang: str = "da") -> str:
        listed = ", ".join(f"{n} ({k or t('import.layer.table', lang)})" for n, k in self.layers)
        return t(self.key, lang, layers=listed, **self.values)


class MissingLayer(LayerMessage, UnreadableFile):
    """The layer or sheet asked for is not in the file."""


@dataclass
class Attachments:
    """The attachments an export carries (ODK Central's zip: media/<file name>), read when asked for."""
    archive: Path
    members: dict[str, str]   # file name as a submission names it -> member of the zip

    def get(self, name: str) -> bytes | None:
        member = self.members.get(PurePosixPath(str(name)).name)
        if member is None:
            return None
        with zipfile.ZipFile(self.archive) as archive:
            return archive.read(member)


@dataclass
class Source:
    """The records of one file. `geometry` (EPSG:4326 shapely geometries, None per record without one) exists only
    for formats that carry geometry; `tables` holds the file's other tables by name (e.g. `walks`); `layer` names
    the layer or sheet read, `notes` what the user should know about the reading (each a DkeError, translated when
    shown)."""
    rows: pd.DataFrame
    row_numbers: np.ndarray
    unit: str                       # "row" (spreadsheet row) or "feature"
    kind: str                       # csv, xlsx, geojson, gpkg, odata, open311
    geometry: np.ndarray | None = None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    layer: str | None = None
    notes: list[DkeError] = field(default_factory=list)
    attachments: Attachments | None = None
    encoding: str | None = None

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.rows.columns]

    @property
    def spreadsheet(self) -> bool:
        """True for CSV and Excel, where our export guards text against formulas (and the import undoes it)."""
        return self.kind in ("csv", "xlsx")


def read(path: Path, layer: str | None = None) -> Source:
    """The records of `path`, chosen by its extension (and, for .json, by its content); `layer` chooses the layer
    of a GeoPackage or the sheet of a workbook.

    Raises UnreadableFile naming the file, what it looks like and what was expected.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in EXTENSIONS:
        raise UnreadableFile("import.error.format", name=path.name, formats=", ".join(EXTENSIONS))
    try:
        data = path.read_bytes() if suffix in (".csv", ".txt", ".xml", ".json") else None
        if suffix in (".csv", ".txt"):
            return _csv(data, path.name)
        if suffix == ".xlsx":
            return _xlsx(path, layer)
        if suffix == ".xml":
            return _open311_xml(data)
        if suffix == ".zip":
            return _odk_zip(path)
        if suffix == ".json":
            document = json.loads(data)
            if isinstance(document, list) or (isinstance(document, dict) and "service_requests" in document):
                return _open311_json(document)
            if isinstance(document, dict) and isinstance(document.get("value"), list):
                return _odata(document["value"])
        return _geo(path, layer)
    except json.JSONDecodeError as exc:
        raise UnreadableFile("import.error.bad_json", name=path.name, line=exc.lineno, column=exc.colno) from None
    except (SafeET.ParseError, DefusedXmlException):
        raise UnreadableFile("import.error.bad_xml", name=path.name) from None
    except zipfile.BadZipFile:
        raise UnreadableFile("import.error.bad_zip", name=path.name, format=FORMATS[suffix]) from None
    except OSError:
        raise UnreadableFile("import.error.cannot_open", name=path.name) from None
    except (ValueError, KeyError, TypeError, AttributeError, pd.errors.ParserError, pyogrio.errors.DataSourceError,
            pyogrio.errors.DataLayerError, pyogrio.errors.FieldError, shapely.errors.GEOSException):
        raise UnreadableFile("import.error.not_format", name=path.name, format=FORMATS[suffix]) from None


# ---------------------------------------------------------------- text: encodings and CSV
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig", "UTF-8"), (b"\xff\xfe\x00\x00", "utf-32", "UTF-32"),
         (b"\x00\x00\xfe\xff", "utf-32", "UTF-32"), (b"\xff\xfe", "utf-16", "UTF-16"),
         (b"\xfe\xff", "utf-16", "UTF-16"))


def decode(data: bytes, name: str) -> tuple[str, str]:
    """The text of a CSV file and the name of its encoding: a byte-order mark decides (UTF-8, UTF-16, UTF-32);
    without one, UTF-16 is recognised by its zero bytes, else UTF-8, else Windows-1252 (Danish Excel's "CSV").
    A byte none of these can read is refused with its row, as is a binary file."""
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            return _strict(data, codec, label, name), label
    head = data[:4096]
    if head.count(0):
        even, odd = head[0::2].count(0), head[1::2].count(0)
        if max(even, odd) > len(head) // 4:  # ASCII text in UTF-16: every other byte is zero
            return _strict(data, "utf-16-le" if odd > even else "utf-16-be", "UTF-16", name), "UTF-16"
        raise UnreadableFile("import.error.binary", name=name)
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    return _strict(data, "cp1252", "Windows-1252", name), "Windows-1252"


def _strict(data: bytes, codec: str, label: str, name: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        row = data[:exc.start].count(b"\n") + 1
        if label == "Windows-1252":  # neither UTF-8 nor Danish Excel's encoding: name the byte and its row
            raise UnreadableFile("import.error.encoding_unknown", name=name, byte=f"0x{data[exc.start]:02X}",
                                 row=row) from None
        raise UnreadableFile("import.error.encoding_broken", name=name, encoding=label, row=row) from None


def _csv(data: bytes, name: str) -> Source:
    text, encoding = decode(data, name)
    if not text.strip():
        raise UnreadableFile("import.error.empty", name=name)
    header = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = max(",;\t", key=header.count)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False,
                            quoting=csv.QUOTE_MINIMAL, skip_blank_lines=True)
    except pd.errors.ParserError:
        row, cells, expected = _first_long_row(text, delimiter)
        raise UnreadableFile("import.error.csv_row", name=name, row=row, cells=cells, expected=expected,
                             delimiter={",": "komma/comma", ";": "semikolon/semicolon", "\t": "tab"}[delimiter]
                             ) from None
    except pd.errors.EmptyDataError:
        raise UnreadableFile("import.error.empty", name=name) from None
    source = _spreadsheet(frame, "csv")
    source.encoding = encoding
    return source


def _first_long_row(text: str, delimiter: str) -> tuple[int, int, int]:
    """The first row with more cells than the header (what pandas refuses), as (row, cells, header cells)."""
    rows = csv.reader(io.StringIO(text), delimiter=delimiter)
    expected = len(next(rows, []))
    for number, row in enumerate(rows, start=2):
        if len(row) > expected:
            return number, len(row), expected
    return 0, 0, expected


def _spreadsheet(frame: pd.DataFrame, kind: str, tables: dict | None = None, layer: str | None = None) -> Source:
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c).strip() for c in frame.columns]
    return Source(frame, np.arange(2, len(frame) + 2), "row", kind, tables=tables or {}, layer=layer)


def _xlsx(path: Path, sheet: str | None) -> Source:
    sheets = pd.read_excel(path, sheet_name=None, dtype=str, keep_default_na=False)
    if not sheets:
        raise UnreadableFile("import.error.empty", name=path.name)
    main = sheet or (MAIN_TABLE if MAIN_TABLE in sheets else next(iter(sheets)))
    if main not in sheets:
        raise MissingLayer("import.error.no_layer", [(n, "") for n in sheets], name=path.name, layer=main)
    return _spreadsheet(sheets[main], "xlsx", {n: f for n, f in sheets.items() if n != main}, main)


# ---------------------------------------------------------------- ODK Central: OData JSON and the zip export
def _odata(submissions: list) -> Source:
    """ODK Central's OData submissions (`{"value": [...]}`): groups are nested objects, flattened to the column
    names of Central's own CSV export (`group-question`), a geopoint (GeoJSON `[lon, lat, alt]` with
    `properties.accuracy`) to `...-Latitude/-Longitude/-Altitude/-Accuracy`, and `__system` to `__system-...`."""
    if not all(isinstance(s, dict) for s in submissions):
        raise ValueError("expected a list of submissions")
    records = [_flatten(s) for s in submissions]
    frame = pd.DataFrame.from_records(records, columns=_union_keys(records)).astype(object)
    return Source(frame.where(frame.notna(), None), np.arange(1, len(frame) + 1), "feature", "odata")


def _flatten(value: dict, prefix: str = "") -> dict:
    out: dict = {}
    for key, item in value.items():
        if str(key).endswith("@odata.navigationLink"):
            continue  # a repeat group: Central serves it as its own table
        name = f"{prefix}{key}"
        if isinstance(item, dict) and item.get("type") == "Point" and isinstance(item.get("coordinates"), list):
            coordinates = list(item["coordinates"]) + [None, None, None]
            out |= {f"{name}-Longitude": coordinates[0], f"{name}-Latitude": coordinates[1],
                    f"{name}-Altitude": coordinates[2],
                    f"{name}-Accuracy": (item.get("properties") or {}).get("accuracy")}
        elif isinstance(item, dict):
            out |= _flatten(item, f"{name}-")
        elif isinstance(item, list):
            out[name] = json.dumps(item, ensure_ascii=False)
        else:
            out[name] = item
    return out


def _odk_zip(path: Path) -> Source:
    """ODK Central's "all data and attachments" export: `<form>.csv` (the submissions), `<form>-<repeat>.csv`
    (repeats, not read) and `media/<file>` (photos and other attachments, named in the submissions' cells)."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        tables = sorted((n for n in names if "/" not in n.strip("/") and n.lower().endswith(".csv")), key=len)
        if not tables:
            raise UnreadableFile("import.error.zip_without_table", name=path.name)
        source = _csv(archive.read(tables[0]), f"{path.name}/{tables[0]}")
    media = {PurePosixPath(n).name: n for n in names
             if PurePosixPath(n).parts[:1] == (MEDIA_FOLDER,) and not n.endswith("/")}
    source.attachments = Attachments(path, media)
    source.layer = tables[0]
    return source


# ---------------------------------------------------------------- Open311
def _open311_json(data) -> Source:
    records = data["service_requests"] if isinstance(data, dict) else data
    if not all(isinstance(r, dict) for r in records):
        raise ValueError("expected a list of service requests (Open311 GeoReport v2)")
    frame = pd.DataFrame.from_records(records).astype(object)
    return Source(frame.where(frame.notna(), None), np.arange(1, len(frame) + 1), "feature", "open311")


def _open311_xml(data: bytes) -> Source:
    root = SafeET.fromstring(data)
    records = [{child.tag: (child.text or "").strip() for child in request} for request in root]
    return Source(pd.DataFrame.from_records(records, columns=_union_keys(records)),
                  np.arange(1, len(records) + 1), "feature", "open311")


def _union_keys(records: list[dict]) -> list[str]:
    return list(dict.fromkeys(k for r in records for k in r))


# ---------------------------------------------------------------- GeoJSON and GeoPackage (GDAL)
_M_DROPPED = re.compile(r"measured|\bM\b|M values", re.IGNORECASE)


def _geo(path: Path, layer: str | None) -> Source:
    kind = "gpkg" if path.suffix.lower() == ".gpkg" else "geojson"
    # GeoJSON times are text: read them as written (GDAL would cut them to milliseconds); GeoPackage's are UTC
    options = {"DATE_AS_STRING": "YES"} if kind == "geojson" else {}
    with warnings.catch_warnings(record=True):  # GDAL's own words never reach the user; the listing's are about
        warnings.simplefilter("always")  # layers that may not be read, the read's below become notes
        listed = [(str(name), str(kind_) if kind_ else "") for name, kind_ in pyogrio.list_layers(path)]
    if not listed:
        raise UnreadableFile("import.error.empty", name=path.name)
    main, reason = choose_layer(listed, layer, path.name)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = pyogrio.read_dataframe(path, layer=main, use_arrow=True, **options)
        tables = ({"walks": pyogrio.read_dataframe(path, layer="walks", read_geometry=False, use_arrow=True)}
                  if any(n == "walks" for n, _ in listed) and main != "walks" else {})
    notes = _layer_notes(listed, main, reason) + _gdal_notes(caught, main)
    numbers = np.arange(1, len(frame) + 1)
    if not isinstance(frame, gpd.GeoDataFrame):  # an attribute table: its location comes from columns
        return Source(pd.DataFrame(frame), numbers, "feature", kind, tables=tables, layer=main, notes=notes)
    if frame.crs is None:
        raise UnreadableFile("import.error.no_crs", name=path.name, layer=main)
    if frame.crs.to_epsg() != geo.WGS84:
        frame = frame.to_crs(geo.WGS84)
    geometry = np.asarray(frame.geometry.array, dtype=object)
    geometry[shapely.is_missing(geometry) | shapely.is_empty(geometry)] = None
    rows = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    return Source(rows, numbers, "feature", kind, geometry, tables, main, notes)


def choose_layer(layers: list[tuple[str, str]], asked: str | None, name: str) -> tuple[str, str]:
    """The layer to read and why: the one asked for; else our export's findings layer; else the only point layer;
    else the first of several point layers; else the first layer (an attribute table with coordinate columns)."""
    names = [n for n, _ in layers]
    if asked is not None:
        if asked not in names:
            raise MissingLayer("import.error.no_layer", layers, name=name, layer=asked)
        return asked, "asked"
    if MAIN_TABLE in names:
        return MAIN_TABLE, "ours"
    points = [n for n, k in layers if "Point" in k]
    if len(points) == 1:
        return points[0], "only_points"
    if points:
        return points[0], "first_points"
    return names[0], "no_points"


def _layer_notes(layers: list[tuple[str, str]], main: str, reason: str) -> list[DkeError]:
    """Which layer of several was read and why, and the others by name and type (nothing for a single layer)."""
    if len(layers) < 2:
        return []
    points = [n for n, k in layers if "Point" in k]
    return [LayerMessage(f"import.layer.{reason}", [(n, k) for n, k in layers if n != main], layer=main,
                         n=len(points))]


def _gdal_notes(caught: list[warnings.WarningMessage], layer: str) -> list[DkeError]:
    """GDAL's warnings while reading, as notes in the user's language (never its own text)."""
    notes = []
    for warning in caught:
        if _M_DROPPED.search(str(warning.message)):
            notes.append(DkeError("import.note.m_dropped", layer=layer))
    return list({n.key: n for n in notes}.values())
