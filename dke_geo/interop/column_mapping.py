"""Import mappings: which column of a file is which field, how its values translate, where its point
is. Mappings are TOML files (data/import_mappings/, format in its README); one is chosen by the
columns a file has, or named explicitly.

This module only converts (text to time, comma decimals, value maps, geopoint strings to lon/lat); it
does not judge a value. The model does that (`Observation.parse`), once, for every path into the store.
"""
from __future__ import annotations

import math
import re
import tomllib
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path
from typing import Any, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import shapely
from dateutil import parser as date_parser
from pyproj import Transformer
from shapely import wkt as shapely_wkt

from dke_geo import geo
from dke_geo.categories import categories
from dke_geo.config import ROOT
from dke_geo.errors import DkeError
from dke_geo.i18n import t
from dke_geo.interop.readers import Source

MAPPINGS_DIR = ROOT / "data" / "import_mappings"
TARGETS = ("observations", "incident_reports")
ID_NAMESPACE = uuid.UUID("0b5f8e52-4c1e-4e0a-9f55-1d3c2a7e7e07")  # ids derived from a tool's own id
FORMULA_GUARD = re.compile(r"^'(?=[=+\-@\t\r'])")


class MappingError(DkeError):
    """A mapping file that cannot be used, or a file no mapping fits."""
    key = "import.error.mapping"


class ConversionError(DkeError):
    """A cell that cannot be read as what its field needs (a time, a point); names the field in the
    reader's language."""

    def message(self, lang: str = "da") -> str:
        values = dict(self.values)
        if "field" in values:
            values["field"] = field_label(values["field"], lang)
        return t(self.key, lang, **values)


def field_label(name: str, lang: str = "da") -> str:
    """A field's name as the validation messages show it (the raw name where there is none)."""
    try:
        return t(f"field.{name}", lang)
    except KeyError:
        return name


@dataclass(frozen=True)
class Mapping:
    name: str
    path: Path
    target: str
    priority: int = 50
    detect: tuple[tuple[str, ...], ...] = ()
    timezone: str = "Europe/Copenhagen"
    unescape_formulas: bool = False
    location: dict[str, Any] = field(default_factory=dict)
    fields: dict[str, tuple[str, ...]] = field(default_factory=dict)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    column_timezones: dict[str, str] = field(default_factory=dict)
    photos: tuple[str, ...] = ()

    def fits(self, columns: list[str]) -> bool:
        """True when every `detect` entry is in the file: a column (wildcards allowed), or one of a list of them."""
        return all(resolve(alternatives, columns) for alternatives in self.detect)


def _candidates(value) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def load(path: Path, model_fields: dict | None = None) -> Mapping:
    """Read and check a mapping file; fields are checked against the target model's fields."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            raw = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise MappingError(name=path.name, reason=str(exc)) from None
    target = raw.get("target", "observations")
    if target not in TARGETS:
        raise MappingError(name=path.name, reason=f"target must be one of {', '.join(TARGETS)}")
    try:
        ZoneInfo(raw.get("timezone", "Europe/Copenhagen"))
    except (ZoneInfoNotFoundError, ValueError):
        raise MappingError(name=path.name, reason=f"unknown timezone {raw.get('timezone')!r}") from None
    fields = {k: _candidates(v) for k, v in raw.get("fields", {}).items()}
    if model_fields is not None:
        unknown = (set(fields) | set(raw.get("defaults", {})) | set(raw.get("values", {}))) - set(model_fields)
        if unknown:
            raise MappingError(name=path.name, reason=f"unknown field(s) {', '.join(sorted(unknown))}; "
                                                      f"fields are: {', '.join(model_fields)}")
    zones = {str(k): str(v) for k, v in raw.get("column_timezones", {}).items()}
    for zone in zones.values():
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise MappingError(name=path.name, reason=f"unknown timezone {zone!r}") from None
    location = {k: (v if k == "crs" else _candidates(v)) for k, v in raw.get("location", {}).items()}
    values = {f: {str(k).casefold(): v for k, v in table.items()} for f, table in raw.get("values", {}).items()}
    return Mapping(name=raw.get("name", path.stem), path=path, target=target, priority=int(raw.get("priority", 50)),
                   detect=tuple(_candidates(d) for d in raw.get("detect", ())),
                   timezone=raw.get("timezone", "Europe/Copenhagen"),
                   unescape_formulas=bool(raw.get("unescape_formulas", False)), location=location, fields=fields,
                   values=values, defaults=dict(raw.get("defaults", {})), column_timezones=zones,
                   photos=_candidates(raw.get("photos", ())))


@cache
def builtin(target: str) -> tuple[Mapping, ...]:
    """The shipped mappings for `target`, in the order they are tried."""
    found = [load(p) for p in sorted(MAPPINGS_DIR.glob("*.toml"))]
    return tuple(sorted((m for m in found if m.target == target), key=lambda m: (m.priority, m.name)))


def choose(source: Source, target: str, path: Path | None = None, model_fields: dict | None = None) -> Mapping:
    """The mapping file at `path`, else the first shipped mapping that fits the file's columns."""
    if path is not None:
        chosen = load(path, model_fields)
        if chosen.target != target:
            raise MappingError(name=Path(path).name, reason=f"it maps to {chosen.target}, not {target}")
        return chosen
    for mapping in builtin(target):
        if mapping.fits(source.columns):
            return mapping
    raise MappingError("import.error.no_mapping", columns=", ".join(source.columns))


_REPEAT = re.compile(r"\[\d+\]")


def leaf(column: str) -> str:
    """A column's question name as field apps write it: without its group path (KoBo `group/`, formpack's
    `group[1]/` for a flattened repeat) and repeat index.

    >>> leaf("geo[1]/_geolocation_latitude"), leaf("Q1.4"), leaf("finding/category")
    ('_geolocation_latitude', 'Q1.4', 'category')
    """
    return _REPEAT.sub("", column).rstrip("/").rsplit("/", 1)[-1].strip()


def loose(text: str) -> str:
    """A name compared loosely: without accents, spaces and punctuation, in any case ("Kategori:" = "kategori")."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^0-9a-z*?]+", "", plain.casefold())


def _find(pattern: str, columns: list[str]) -> str | None:
    """The first column matching `pattern` (wildcards allowed): exactly, else ignoring case, else by its question
    name without group path or repeat index (KoBo, formpack), else loosely (accents, spaces, punctuation; only for
    names of four letters or more without wildcards, and not for KoBo's own `_meta` names, so that `id` never finds
    `_id` nor `_uuid` a QField `uuid`)."""
    plain = loose(pattern) if len(pattern) >= 4 and not set("*?[") & set(pattern) and pattern[0] != "_" else ""
    passes = (lambda c: fnmatchcase(c, pattern),
              lambda c: fnmatchcase(c.casefold(), pattern.casefold()),
              lambda c: fnmatchcase(leaf(c).casefold(), pattern.casefold()),
              lambda c: bool(plain) and loose(leaf(c)) == plain)
    for match in passes:
        for column in columns:
            if match(column):
                return column
    return None


def resolve(candidates: tuple[str, ...], columns: list[str]) -> str | None:
    """The column for the first candidate that is present."""
    for pattern in candidates:
        found = _find(pattern, columns)
        if found is not None:
            return found
    return None


def is_empty(value) -> bool:
    """True for an empty cell: None, NaN or blank text."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def parse_time(value, zone: ZoneInfo) -> datetime:
    """A time as field apps and spreadsheets write it: ISO 8601 (with or without zone), or forms like
    "Apr 26, 2018 8:58:20 AM" and "20-04-2017 21:30" (day first). No zone given: `zone`."""
    if isinstance(value, datetime):
        parsed = value
    else:
        text = str(value).strip()
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
        except ValueError:
            parsed = date_parser.parse(text, dayfirst=True)
    return parsed.replace(tzinfo=zone) if parsed.tzinfo is None else parsed


def _number(value) -> Any:
    """A number from a cell, accepting a decimal comma ("55,6674") as Danish spreadsheets write it."""
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+,\d+\s*", value):
        return value.replace(",", ".").strip()
    return value


@cache
def transformer_to_wgs84(epsg: int) -> Transformer:
    return Transformer.from_crs(epsg, geo.WGS84, always_xy=True)


@dataclass
class Record:
    """One record ready for the model: its number in the file, the field values, what could not be converted
    (each a DkeError, translated when shown), and its position in the file's table."""
    row: int
    data: dict[str, Any]
    errors: list[DkeError]
    position: int = 0


class Converter:
    """Turns the rows of one file into records for one model, as one mapping says."""

    def __init__(self, source: Source, mapping: Mapping, model_fields: dict):
        self.source, self.mapping = source, mapping
        columns = source.columns
        self.columns = {f: resolve(c, columns) for f, c in mapping.fields.items() if f in model_fields}
        self.columns = {f: c for f, c in self.columns.items() if c is not None}
        self.location = {k: resolve(v, columns) for k, v in mapping.location.items() if k != "crs"}
        self.crs = int(mapping.location.get("crs", geo.WGS84))
        self.zone = ZoneInfo(mapping.timezone)
        self.zones = {column: ZoneInfo(zone) for pattern, zone in mapping.column_timezones.items()
                      for column in columns if fnmatchcase(column, pattern) or fnmatchcase(leaf(column), pattern)}
        self.unescape = mapping.unescape_formulas and source.spreadsheet  # the guard is our CSV/Excel export's only
        self.photo = resolve(mapping.photos, columns) if mapping.photos else None
        self.times = {name for name, info in model_fields.items()
                      if info.annotation is datetime or datetime in get_args(info.annotation)}
        self.numbers = {name for name, info in model_fields.items()
                        if info.annotation is float or float in get_args(info.annotation)}

    def describe(self) -> dict[str, str]:
        """Which column each field (and the point) is read from, for the dry-run report."""
        described = dict(self.columns)
        if self.source.geometry is not None:
            described["lon/lat"] = "geometry"
        elif self.location.get("lon") and self.location.get("lat"):
            described["lon/lat"] = f"{self.location['lon']}, {self.location['lat']}"
        elif self.location.get("wkt") or self.location.get("geopoint"):
            described["lon/lat"] = self.location.get("wkt") or self.location.get("geopoint")
        return described

    @property
    def located(self) -> bool:
        """True when the file can hold a point at all: its own geometry, or a location column the mapping names."""
        return self.source.geometry is not None or any(self.location.values())

    def zone_of(self, column: str) -> ZoneInfo:
        """The zone of times written without one in `column` (KoBo's `_submission_time` is UTC)."""
        return self.zones.get(column, self.zone)

    def records(self, base: dict[str, Any], positions=None) -> Iterator[Record]:
        """The records at `positions` (default: all), in file order."""
        frame = self.source.rows
        names = list(frame.columns)
        positions = np.arange(len(frame)) if positions is None else np.asarray(positions, dtype=np.int64)
        for i, values in zip(positions, frame.take(positions).itertuples(index=False, name=None), strict=True):
            row = dict(zip(names, values, strict=True))
            yield self._record(int(self.source.row_numbers[i]), row, int(i), base)

    def _record(self, number: int, row: dict, index: int, base: dict) -> Record:
        data: dict[str, Any] = dict(base)
        errors: list[DkeError] = []
        for name, value in self.mapping.defaults.items():
            data[name] = value
        for name, column in self.columns.items():
            value = row.get(column)
            if isinstance(value, np.ndarray):  # a list property of a GeoJSON/GeoPackage feature
                value = value.tolist()
            if is_empty(value):
                continue
            try:
                data[name] = self._value(name, value, column)
            except (ValueError, OverflowError):
                errors.append(ConversionError("import.error.bad_time", field=name, value=str(value)))
        point = self._point(row, index, errors)
        if point is not None:
            data["lon"], data["lat"] = point
        return Record(number, data, errors, index)

    def _value(self, name: str, value, column: str) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if self.unescape:
                value = FORMULA_GUARD.sub("", value)
        if name in self.mapping.values:
            value = self.mapping.values[name].get(str(value).casefold(), value)
        if name == "category":
            return category_id(str(value))
        if name in self.times:
            return parse_time(value, self.zone_of(column))
        if name in self.numbers:
            return _number(value)
        return value

    def _point(self, row: dict, index: int, errors: list[DkeError]) -> tuple[float, float] | None:
        """The record's lon/lat (EPSG:4326); None with a reason in `errors` when there is no usable point."""
        if self.source.geometry is not None:
            return _geometry_point(self.source.geometry[index], errors)
        lon_col, lat_col = self.location.get("lon"), self.location.get("lat")
        if lon_col and lat_col and not (is_empty(row.get(lon_col)) and is_empty(row.get(lat_col))):
            return self._project(row.get(lon_col), row.get(lat_col), errors)
        wkt_col = self.location.get("wkt")
        if wkt_col and not is_empty(row.get(wkt_col)):
            try:
                geometry = shapely_wkt.loads(str(row[wkt_col]))
            except shapely.errors.ShapelyError as exc:
                errors.append(ConversionError("import.error.bad_wkt", value=str(row[wkt_col])[:80], reason=str(exc)))
                return None
            point = _geometry_point(geometry, errors)
            return point and self._project(*point, errors)
        geopoint_col = self.location.get("geopoint")
        if geopoint_col and not is_empty(row.get(geopoint_col)):
            parts = str(row[geopoint_col]).split()
            if len(parts) < 2:
                errors.append(ConversionError("import.error.bad_geopoint", value=str(row[geopoint_col])[:80]))
                return None
            return self._project(parts[1], parts[0], errors)
        errors.append(ConversionError("import.error.no_location", columns=", ".join(
            str(c) for c in (lon_col, lat_col, wkt_col, geopoint_col) if c) or "-"))
        return None

    def _project(self, lon, lat, errors: list[DkeError]) -> tuple[float, float] | None:
        try:
            x, y = float(_number(lon)), float(_number(lat))
        except (TypeError, ValueError, OverflowError):
            errors.append(ConversionError("import.error.bad_number", lon=str(lon), lat=str(lat)))
            return None
        if self.crs == geo.WGS84:
            return x, y
        lon_out, lat_out = transformer_to_wgs84(self.crs).transform(x, y)
        return float(lon_out), float(lat_out)


def _geometry_point(geometry, errors: list[DkeError]) -> tuple[float, float] | None:
    """A Point (or a MultiPoint of one point, as QGIS layers often are) as lon/lat."""
    if geometry is None or geometry.is_empty:
        errors.append(ConversionError("import.error.no_geometry"))
        return None
    if geometry.geom_type == "MultiPoint" and len(geometry.geoms) == 1:
        geometry = geometry.geoms[0]
    if geometry.geom_type != "Point":
        errors.append(ConversionError("import.error.not_point", type=geometry.geom_type))
        return None
    return float(geometry.x), float(geometry.y)


@cache
def category_names() -> dict[str, str]:
    """Every way a file may name one of our categories, casefolded: its id and its Danish and English labels."""
    return {name.casefold(): cat.id for cat in categories().values() for name in (cat.en, cat.da, cat.id)}


def category_id(value: str) -> str:
    """A category id from its id or its Danish or English label (any case); anything else unchanged, for
    the model to refuse with the list of categories."""
    return category_names().get(value.casefold(), value)

