"""Checking an import file in columns: the same conversions as the column mapping's `Converter` and the same rules
as the model, applied to whole columns at once, so that a million findings are checked in seconds instead of a
pydantic validation and a point-in-polygon test per row.

The model stays the one judge. A column that holds few distinct values (category, severity, a flag, who
recorded) is judged by converting each distinct value as the Converter does and asking the model about it
(`_probe`); what takes a value per row (points, times, ids, notes) is checked here with the model's own limits
(its WGS84 range, time window, text lengths, the municipality with the same boundary and margin). A row that
anything here cannot vouch for (an unusual character, a day-first date, a point outside the municipality, a
missing field, anything refused) goes back to `records.py` to be checked row by row by the Converter and the
model, which give it its reasons; so rejections and messages are the model's, and tests/test_property.py checks
that both paths accept the same rows with the same values on random input.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely

from dke_geo import geo, light
from dke_geo.errors import InvalidInput
from dke_geo.interop.column_mapping import FORMULA_GUARD, Converter, is_empty, transformer_to_wgs84
from dke_geo.model import MAX_NAME, MAX_NOTE, MAX_TITLE, TZ, IncidentReport, Observation, time_window

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_COMMA_NUMBER = r"-?\d+,\d+"
_TIME = (r"[1-9]\d{3}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?"
         r"(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)?)?")
_OFFSET = r".*(?:Z|[+-]\d{2}:\d{2})"
_GUARDED = r"'[=+\-@\t\r']"
assert FORMULA_GUARD.pattern == r"^'(?=[=+\-@\t\r'])", "keep _GUARDED the same as the Converter's guard"
_UNUSUAL = (r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00a0\u1680\u2000-\u200f\u2028-\u202f\u205f\u3000\ufeff"
            r"\ud800-\udfff]")
"""Characters whose handling (Unicode whitespace, controls, surrogates) is left to the row-by-row path."""

TEXTS = {Observation: {"internal_note": MAX_NOTE, "public_text": MAX_NOTE, "created_by": MAX_NAME,
                       "updated_by": MAX_NAME, "source_created_by": MAX_NAME, "external_id": MAX_TITLE},
         IncidentReport: {"external_id": MAX_TITLE}}
"""Text fields checked here (the model's `_text` limits); `external_id` is None when empty."""
UUIDS = ("id", "walk_id")
NUMBERS = {"gps_accuracy_m": (0.0, 100_000.0)}
PROBE_LIMIT = 20_000
"""A column with more distinct values than this in a field judged by probing goes row by row instead."""


@dataclass
class Columns:
    """What the columns vouch for: the model values of those rows (by field, index = file position) and the
    positions left to the row-by-row path. `outside` marks accepted points outside the municipality (only with
    allow_outside)."""
    values: pd.DataFrame
    rest: np.ndarray
    outside: np.ndarray


def check(converter: Converter, model: type, base: dict, overrides: dict, allow_outside: bool) -> Columns:
    """The rows of `converter`'s file that the model would accept as they are, in columns; every other row is
    left to the row-by-row path (see the module's docstring)."""
    n = len(converter.source.rows)
    ok = np.ones(n, dtype=bool)
    values: dict[str, pd.Series] = {}
    window = time_window()
    fields = dict.fromkeys([*base, *converter.mapping.defaults, *converter.columns, *overrides])
    for name in fields:
        if name not in model.model_fields or name in ("lon", "lat"):
            continue
        column = converter.columns.get(name)
        if name in overrides:
            constant, good = _probe_one(model, name, overrides[name])
            values[name], ok = pd.Series([constant] * n, dtype=object), ok & good
            continue
        got, good, empty = (_column(converter, model, name, column, window) if column is not None
                            else (pd.Series([None] * n, dtype=object), np.ones(n, bool), np.ones(n, bool)))
        fallback = converter.mapping.defaults.get(name, base.get(name, _ABSENT))
        if fallback is not _ABSENT and empty.any():
            constant, fine = _probe_one(model, name, fallback)
            got = got.astype(object).where(~empty, constant)
            good = np.where(empty, fine, good)
        elif empty.any() and _required(model, name):
            good = good & ~empty
        if fallback is _ABSENT and empty.any():
            got = got.astype(object).where(~empty, _DEFAULT)
        values[name], ok = got, ok & good
    if any(f not in values and _required(model, f) and f not in ("lon", "lat") for f in model.model_fields):
        ok[:] = False  # a required field no column, default or base gives: the model names it, row by row
    lon, lat, located = _points(converter)
    ok &= located
    ok, outside = _in_municipality(lon, lat, ok, allow_outside)
    frame = pd.DataFrame({name: (series if isinstance(series, pd.Series) else pd.Series(series))
                          for name, series in values.items()})
    frame["lon"], frame["lat"] = lon, lat
    if not ok.all():  # when every row is vouched for, a million rows are not copied
        frame = frame.loc[ok]
    return Columns(_complete(frame, model), np.flatnonzero(~ok), outside[ok])


class _Absent:
    """No value for a field (not in the file, no default, no base): the model's default applies."""


_ABSENT, _DEFAULT = _Absent(), _Absent()


def _required(model: type, name: str) -> bool:
    return model.model_fields[name].is_required()


# ---------------------------------------------------------------- one column
def _column(converter: Converter, model: type, name: str, column: str, window) -> tuple[pd.Series, np.ndarray,
                                                                                         np.ndarray]:
    """(values, vouched for, empty) of the field `name` read from `column`."""
    raw = converter.source.rows[column]
    text, unusual = _text_cells(raw)
    empty = raw.isna().to_numpy() | (text.notna().to_numpy() & (text.str.strip() == "").fillna(False).to_numpy())
    empty &= ~unusual
    prepared = _prepared(converter, text) if text.notna().any() else text
    if name in converter.mapping.values or name in ("category",):
        got, good = _probe_column(converter, model, name, column, raw, empty | unusual)
    elif name in converter.times:
        got, good = _times(raw, prepared, converter.zone_of(column), window)
    elif name in UUIDS:
        got, good = _uuids(prepared)
    elif name in NUMBERS:
        got, good = _numbers(raw, *NUMBERS[name])
    elif name in TEXTS.get(model, {}):
        got, good = _texts(prepared, TEXTS[model][name], optional=name == "external_id")
    else:
        got, good = _probe_column(converter, model, name, column, raw, empty | unusual)
    return got, (good | empty) & ~unusual, empty


def _text_cells(raw: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """The text cells of a column (other cells missing) and which of them hold an unusual character."""
    if pd.api.types.is_string_dtype(raw.dtype) and raw.dtype != object:
        text = raw
    elif raw.dtype == object:
        text = raw.where(raw.map(lambda v: isinstance(v, str)), None)
    else:
        return pd.Series([None] * len(raw), index=raw.index, dtype=object), np.zeros(len(raw), dtype=bool)
    unusual = text.str.contains(_UNUSUAL, regex=True).fillna(False).to_numpy(dtype=bool)
    return text, unusual


def _prepared(converter: Converter, text: pd.Series) -> pd.Series:
    """Text cells as the Converter gives them to the model: stripped, our export's formula guard undone
    (column_mapping.FORMULA_GUARD: a leading apostrophe before = + - @ tab CR or another apostrophe)."""
    prepared = text.str.strip()
    if converter.unescape:
        guarded = prepared.str.match(_GUARDED).fillna(False).to_numpy(dtype=bool)
        prepared = prepared.where(~guarded, prepared.str.slice(1))
    return prepared


def _texts(prepared: pd.Series, max_length: int, optional: bool) -> tuple[pd.Series, np.ndarray]:
    """The model's `_text`: stripped again (after the guard), at most `max_length` characters; empty is None
    for an optional text."""
    cleaned = prepared.str.strip()
    good = (cleaned.str.len() <= max_length).fillna(False).to_numpy(dtype=bool)
    out = cleaned.astype(object)
    if optional:
        out = out.where(cleaned.fillna("") != "", None)
    return out, good


def _uuids(prepared: pd.Series) -> tuple[pd.Series, np.ndarray]:
    good = prepared.str.fullmatch(_UUID).fillna(False).to_numpy(dtype=bool)
    return prepared.str.lower().astype(object), good


def _numbers(raw: pd.Series, low: float, high: float) -> tuple[pd.Series, np.ndarray]:
    """A float field: numbers as they are, text in plain or decimal-comma notation; finite and within range."""
    values, good = _coordinate(raw)
    with np.errstate(invalid="ignore"):
        good &= (values >= low) & (values <= high)
    return pd.Series(values, index=raw.index, dtype=float), good


def _times(raw: pd.Series, prepared: pd.Series, zone, window) -> tuple[pd.Series, np.ndarray]:
    """Times as `parse_time` reads them (ISO 8601 with or without a zone; without: `zone`), inside the model's
    time window. Other notations (day first, "Apr 26, 2018 ...") and wall times a clock change makes ambiguous
    or impossible go row by row."""
    index = raw.index
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        parsed = raw.dt.tz_convert("UTC")
    elif pd.api.types.is_datetime64_dtype(raw.dtype):
        parsed = raw.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
    else:
        iso = prepared.str.fullmatch(_TIME).fillna(False).to_numpy(dtype=bool)
        zoned = iso & prepared.str.fullmatch(_OFFSET).fillna(False).to_numpy(dtype=bool)
        parsed = pd.Series(pd.NaT, index=index, dtype="datetime64[us, UTC]")
        if zoned.any():
            parsed[zoned] = pd.to_datetime(prepared[zoned].astype(object), format="ISO8601", utc=True,
                                           errors="coerce").dt.as_unit("us")
        local = iso & ~zoned
        if local.any():
            naive = pd.to_datetime(prepared[local].astype(object), format="ISO8601", errors="coerce")
            parsed[local] = naive.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT").dt.tz_convert(
                "UTC").dt.as_unit("us")
    earliest, latest = window
    good = (parsed.notna() & (parsed >= earliest) & (parsed <= latest)).to_numpy(dtype=bool)
    return parsed, good


# ---------------------------------------------------------------- fields judged by the model itself
def _probe_column(converter: Converter, model: type, name: str, column: str, raw: pd.Series,
                  skip: np.ndarray) -> tuple[pd.Series, np.ndarray]:
    """Each distinct value of the column converted as the Converter does and judged by the model."""
    good = np.zeros(len(raw), dtype=bool)
    out = pd.Series([None] * len(raw), index=raw.index, dtype=object)
    candidates = ~skip & raw.map(_hashable).to_numpy(dtype=bool) if raw.dtype == object else ~skip
    if not candidates.any():
        return out, good
    codes, uniques = pd.factorize(raw[candidates].astype(object))
    if len(uniques) > PROBE_LIMIT:
        return out, good
    judged = []
    for value in uniques:
        try:
            judged.append(_probe_one(model, name, converter._value(name, value, column)))
        except (ValueError, OverflowError, TypeError):
            judged.append((None, False))
    results = np.array([v for v, _ in judged] + [None], dtype=object)
    fine = np.array([g for _, g in judged] + [False], dtype=bool)
    out.loc[candidates] = results[codes]
    good[candidates] = fine[codes]
    return out, good


def _hashable(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _probe_one(model: type, name: str, value: Any) -> tuple[Any, bool]:
    """The model's value for `name` when given `value`, and whether the model accepts it: a known-good record
    with this one field replaced is validated."""
    try:
        item = model.parse({**_probe_base(model), name: value}, allow_outside=True)
    except InvalidInput:
        return None, False
    result = getattr(item, name)
    return (result.value if hasattr(result, "value") else str(result) if isinstance(result, uuid.UUID)
            else result), True


def _probe_base(model: type) -> dict:
    if model is IncidentReport:
        earliest, _latest = time_window()
        return {"lon": 12.35732, "lat": 55.66024, "source": "probe", "type": "probe", "reported_at": earliest}
    return {"lon": 12.35732, "lat": 55.66024, "category": "lighting"}


# ---------------------------------------------------------------- the point
def _points(converter: Converter) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """lon, lat (EPSG:4326) and which rows have a point the columns can vouch for, as `Converter._point` finds
    it: the file's geometry; else lon/lat columns; else WKT; else a geopoint "lat lon ..."."""
    source, location, n = converter.source, converter.location, len(converter.source.rows)
    lon, lat, ok = np.full(n, np.nan), np.full(n, np.nan), np.zeros(n, dtype=bool)
    if source.geometry is not None:
        lon, lat, ok = _geometry_xy(source.geometry)
        return lon, lat, ok
    taken = np.zeros(n, dtype=bool)
    lon_col, lat_col = location.get("lon"), location.get("lat")
    if lon_col and lat_col:
        taken = ~(_empty(source.rows[lon_col]) & _empty(source.rows[lat_col]))
        x, good_x = _coordinate(source.rows[lon_col])
        y, good_y = _coordinate(source.rows[lat_col])
        lon[taken], lat[taken], ok[taken] = x[taken], y[taken], (good_x & good_y)[taken]
    for key, parse in (("wkt", _wkt_xy), ("geopoint", _geopoint_xy)):
        column = location.get(key)
        if column:
            use = ~taken & ~_empty(source.rows[column])
            if use.any():
                lon[use], lat[use], ok[use] = parse(source.rows[column][use])
            taken |= use
    if converter.crs != geo.WGS84 and ok.any():
        lon_out, lat_out = transformer_to_wgs84(converter.crs).transform(lon[ok], lat[ok])
        lon[ok], lat[ok] = lon_out, lat_out
    return lon, lat, ok & taken


def _wkt_xy(cells: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points written as WKT (a broken one is not vouched for: row by row says why)."""
    return _geometry_xy(shapely.from_wkt(cells.astype(str).to_numpy(dtype=object), on_invalid="ignore"))


def _geopoint_xy(cells: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Geopoints as ODK and KoBo write them: "lat lon [altitude accuracy]"."""
    parts = cells.astype(str).str.split()
    y, good_y = _coordinate(parts.str[0])
    x, good_x = _coordinate(parts.str[1])
    return x, y, good_x & good_y & (parts.str.len() >= 2).to_numpy(dtype=bool)


def _empty(cells: pd.Series) -> np.ndarray:
    return cells.map(is_empty).to_numpy(dtype=bool) if cells.dtype == object else (
        cells.isna() | (cells.astype(str).str.strip() == "")).to_numpy(dtype=bool)


def _coordinate(cells: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A number column as the Converter reads a float field (`float(_number(cell))`): numbers as they are, text in
    plain or decimal-comma notation (converted by Python's float, as row by row); finite."""
    if pd.api.types.is_numeric_dtype(cells.dtype) and not pd.api.types.is_bool_dtype(cells.dtype):
        values = cells.to_numpy(dtype=float)
        return values, np.isfinite(values)
    values = np.full(len(cells), np.nan)
    valid = np.zeros(len(cells), dtype=bool)
    if cells.dtype == object:
        valid = cells.map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)).to_numpy(dtype=bool)
        values[valid] = [_float(v) for v in cells[valid]]
    text, unusual = _text_cells(cells)
    text = text.str.strip()
    text = text.where(~text.str.fullmatch(_COMMA_NUMBER).fillna(False).to_numpy(dtype=bool),
                      text.str.replace(",", "."))
    plain = text.str.fullmatch(_NUMBER).fillna(False).to_numpy(dtype=bool) & ~unusual
    if plain.any():
        values[plain] = [float(v) for v in text[plain]]
    return values, (valid | plain) & np.isfinite(values)


def _float(value) -> float:
    try:
        return float(value)
    except OverflowError:  # an integer beyond any float: refused row by row
        return np.nan


def _geometry_xy(geometry: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, y of Points (and of a MultiPoint of one point, as QGIS layers often are); others are not vouched for."""
    n = len(geometry)
    present = np.array([g is not None for g in geometry], dtype=bool)
    kinds = np.full(n, -1)
    kinds[present] = shapely.get_type_id(geometry[present])
    single = np.zeros(n, dtype=bool)
    multi = kinds == 4
    if multi.any():
        single[multi] = shapely.get_num_geometries(geometry[multi]) == 1
        geometry = geometry.copy()
        geometry[multi & single] = shapely.get_geometry(geometry[multi & single], 0)
    points = (kinds == 0) | (multi & single)
    points[points] = ~shapely.is_empty(geometry[points])
    x, y = np.full(n, np.nan), np.full(n, np.nan)
    x[points], y[points] = shapely.get_x(geometry[points]), shapely.get_y(geometry[points])
    return x, y, points & np.isfinite(x) & np.isfinite(y)


def _in_municipality(lon: np.ndarray, lat: np.ndarray, ok: np.ndarray, allow_outside: bool
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The model's point checks: WGS84 range always; within the margin of the municipality, or with
    `allow_outside` anywhere but where the coordinates look swapped (the model refuses those even then)."""
    ok = ok & (np.abs(lon) <= 180) & (np.abs(lat) <= 90)
    outside = np.zeros(len(lon), dtype=bool)
    if not ok.any():
        return ok, outside
    margin = geo.boundary_margin()
    distance = np.full(len(lon), np.inf)
    distance[ok] = geo.distances_outside_m(lon[ok], lat[ok])
    far = ok & (distance > margin)
    if far.any() and allow_outside:
        swapped = np.zeros(len(lon), dtype=bool)
        swapped[far] = geo.distances_outside_m(lat[far], lon[far]) <= margin
        outside = far & ~swapped
        far = far & swapped
    return ok & ~far, outside


# ---------------------------------------------------------------- the rows as the model would keep them
def _complete(frame: pd.DataFrame, model: type) -> pd.DataFrame:
    """The vouched-for rows with every model field: the model's defaults where no value was given, times in
    UTC, and the computed light condition of a finding."""
    for name, info in model.model_fields.items():
        if name == "photos":
            continue
        if name not in frame:
            frame[name] = _DEFAULT
        given = frame[name]
        defaults = (np.fromiter((v is _DEFAULT for v in given.to_numpy()), dtype=bool, count=len(given))
                    if given.dtype == object else None)
        if defaults is not None and defaults.any():
            default = info.get_default(call_default_factory=True) if name != "id" else None
            frame[name] = given.astype(object).where(~defaults, default)
    if model is Observation:
        times = pd.to_datetime(frame["observed_at"], utc=True) if len(frame) else pd.Series(dtype="datetime64[us, UTC]")
        frame["light_condition"] = light.light_conditions(times.dt.tz_convert(TZ)) if len(frame) else []
    return frame
