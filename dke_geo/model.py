"""The domain: Walk, Observation, Photo, Fix, FixEvent, Area (pydantic v2).

Validation errors use our own error types (see `error.*` in dke_geo/strings/core.toml), so the UI
can say, in Danish or English, which field is wrong and why. Times are timezone-aware and shown in
Europe/Copenhagen.
"""
from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    computed_field,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from dke_geo import config, organisations
from dke_geo.categories import categories
from dke_geo.errors import InvalidInput
from dke_geo.light import LightCondition, light_condition

TZ = ZoneInfo("Europe/Copenhagen")
MAX_NOTE = 4000
MAX_TITLE = 200
MAX_NAME = 120  # a user name (created_by ...): the length of its column


def now() -> datetime:
    """The current time in Europe/Copenhagen."""
    return datetime.now(TZ)


class WalkKind(StrEnum):
    ON_FOOT = "on_foot"
    BY_CAR = "by_car"


class LocationSource(StrEnum):
    MAP_TAP = "map_tap"
    GPS = "gps"
    PHOTO_EXIF = "photo_exif"
    IMPORT = "import"


class Priority(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
"""Control characters (but tab and line breaks) and lone surrogates: invisible, and PostgreSQL cannot store NUL,
UTF-8 cannot encode a lone surrogate, Excel refuses the others. They come only from files, never from a keyboard."""


def _text(max_len: int):
    def check(value: Any) -> Any:
        if value is None:
            return ""
        if not isinstance(value, str):
            return value  # a number, list ... from an import file: pydantic's own "not a text" error names the field
        value = _UNSTORABLE.sub("", value).strip()
        if len(value) > max_len:
            raise PydanticCustomError("too_long", "is {length} characters; at most {max} allowed",
                                      {"length": len(value), "max": max_len})
        return value
    return check


def _optional_text(max_len: int):
    """Like `_text`, for a field where "no value" is None (an external id: empty must not be a shared id)."""
    def check(value: Any) -> Any:
        value = _text(max_len)(value)
        return value or None if isinstance(value, str) else value
    return check


def _in_range(lo: int, hi: int):
    def check(value: Any) -> Any:
        if value is None:
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise PydanticCustomError("out_of_range", "must be between {min} and {max}",
                                      {"min": lo, "max": hi, "value": _shown(value)})
        try:
            number = float(value)
        except (ValueError, OverflowError):  # OverflowError: an integer beyond any float, from a JSON file
            number = math.nan
        if not (lo <= number <= hi) or number != int(number):
            raise PydanticCustomError("out_of_range", "must be between {min} and {max}",
                                      {"min": lo, "max": hi, "value": _shown(value)})
        return int(number)
    return check


def _shown(value: Any) -> Any:
    """A refused value as a message may quote it: long text cut, an integer of hundreds of digits (which Python
    will not even turn into text past 4300 digits) as its order of magnitude."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"{'-' if value < 0 else ''}1e{int(value.bit_length() * math.log10(2))}"
    if isinstance(value, str) and len(value) > 40:
        return value[:40] + "…"
    return value


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise PydanticCustomError("naive_datetime", "must have a time zone")
    return value.astimezone(TZ)


FUTURE_SLACK = timedelta(days=1)
"""How far past now a time may lie: a tablet's clock a little ahead, a walk across midnight in another zone."""


def time_window() -> tuple[datetime, datetime]:
    """The times a finding, walk or report may carry: from DKE_GEO_EARLIEST_DATE (2000-01-01 by default) to a
    day from now. A time outside it is a typo or a broken clock (0001-01-01, 9999-12-31), never a real walk."""
    return datetime.combine(config.earliest_date(), time(), TZ), now() + FUTURE_SLACK


def in_time_window(value: datetime, window: tuple[datetime, datetime]) -> bool:
    """True when the aware `value` lies in `window`. Years are compared first, so that an extreme year is
    refused without the zone arithmetic that overflows at year 1 and 9999."""
    earliest, latest = window
    return earliest.year - 1 <= value.year <= latest.year + 1 and earliest <= value <= latest


def _event_time(value: datetime | None, info: ValidationInfo) -> datetime | None:
    """An aware time inside the time window (not checked again for a row read back from the database: its
    window was checked when it was stored), in Europe/Copenhagen."""
    if value is None:
        return value
    if value.tzinfo is None:
        raise PydanticCustomError("naive_datetime", "must have a time zone")
    window = time_window()
    if not (info.context or {}).get("stored") and not in_time_window(value, window):
        raise PydanticCustomError("outside_time_window", "must lie between {earliest} and {latest}",
                                  {"earliest": f"{window[0]:%d.%m.%Y}", "latest": f"{window[1]:%d.%m.%Y %H:%M}",
                                   "value": _shown(value.isoformat())})
    return value.astimezone(TZ)


def _wgs84(limit: int):
    """A longitude (limit 180) or latitude (limit 90) as WGS84 allows it: always checked, even when a point
    outside the municipality is allowed (UTM metres read as degrees, lat 95 ...)."""
    def check(value: float) -> float:
        if not -limit <= value <= limit:
            raise PydanticCustomError("out_of_range", "must be between {min} and {max}",
                                      {"min": -limit, "max": limit, "value": _shown(value)})
        return value
    return check


class _Model(BaseModel):
    model_config = ConfigDict(validate_assignment=False, extra="forbid", frozen=False)

    @classmethod
    def parse(cls, data: dict, **context):
        """Validate `data`; raise InvalidInput (translatable, naming each field) on bad input."""
        try:
            return cls.model_validate(data, context=context or None)
        except ValidationError as exc:
            raise InvalidInput.from_pydantic(exc) from None


class OrganisationCount(_Model):
    """An organisation taking part in a walk and how many came (no personal names). `organisation` is an id
    from data/organisations.toml, shown by its label in the reader's language; `label` keeps the name of one
    that is not in the list (id `andre`), as a walk recorded before walks stored ids can have.

    Validation context: `stored=True` (a walk read back from the database) accepts an id since removed from
    the list; it shows as itself.
    """
    organisation: str
    count: Annotated[int, Field(ge=1, le=500)] = 1
    label: str | None = None

    _label = field_validator("label", mode="before")(_optional_text(120))

    @field_validator("organisation")
    @classmethod
    def _known_organisation(cls, value: str, info: ValidationInfo) -> str:
        known = organisations.organisations()
        if value not in known and not (info.context or {}).get("stored"):
            raise PydanticCustomError("unknown_organisation", "unknown organisation",
                                      {"value": _shown(value), "allowed": ", ".join(known)})
        return value

    def shown(self, lang: str = "da") -> str:
        """The organisation's label in `lang` (with the kept name of one outside the list)."""
        return organisations.participant_label(self.organisation, lang, self.label)


class Walk(_Model):
    id: UUID = Field(default_factory=uuid4)
    title: str
    area_ids: list[str] = Field(default_factory=list)
    started_at: datetime = Field(default_factory=now)
    ended_at: datetime | None = None
    kind: WalkKind = WalkKind.ON_FOOT
    focus: str = ""
    organisations: list[OrganisationCount] = Field(default_factory=list)
    notes: str = ""
    light_condition_override: LightCondition | None = None
    is_demo: bool = False
    created_by: str = ""
    created_at: datetime = Field(default_factory=now)

    _title = field_validator("title", mode="before")(_text(MAX_TITLE))
    _focus = field_validator("focus", mode="before")(_text(MAX_TITLE))
    _by = field_validator("created_by", mode="before")(_text(MAX_NAME))
    _notes = field_validator("notes", mode="before")(_text(MAX_NOTE))
    _times = field_validator("started_at", "ended_at", "created_at")(_event_time)

    @field_validator("title")
    @classmethod
    def _title_required(cls, value: str) -> str:
        if not value:
            raise PydanticCustomError("required", "is required")
        return value

    @model_validator(mode="after")
    def _end_after_start(self):
        if self.ended_at is not None and self.ended_at < self.started_at:
            raise PydanticCustomError("end_before_start", "the end time is before the start time")
        return self

    @computed_field
    @property
    def light_condition(self) -> LightCondition:
        """From the sun at Albertslund at the walk's start, unless the user overrode it."""
        return self.light_condition_override or light_condition(self.started_at)

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


class Photo(_Model):
    """A photo of a finding; the files are written by dke_geo/photos.py."""
    id: UUID = Field(default_factory=uuid4)
    observation_id: UUID
    fix_id: UUID | None = None
    full_path: str
    thumb_path: str
    original_path: str = ""
    width: int = 0
    height: int = 0
    sha256: str = ""
    exif: dict = Field(default_factory=dict)
    public_approved: bool = False
    created_by: str = ""
    created_at: datetime = Field(default_factory=now)


def _finite_number(value: Any) -> Any:
    try:
        number = float(value) if value is not None else None
    except OverflowError:  # an integer beyond any float, from a JSON file
        number = math.inf
    except (TypeError, ValueError):
        return value  # pydantic's own float error follows
    if number is not None and not math.isfinite(number):
        raise PydanticCustomError("not_finite", "must be a finite number", {"value": _shown(value)})
    return number


def _inside_municipality(point, info: ValidationInfo):
    """A model's lon/lat must lie in Albertslund (within the margin) unless the validation context says
    `allow_outside`; swapped coordinates get their own message."""
    from dke_geo import geo  # geopandas is heavy; load it only when a point is checked

    if (info.context or {}).get("allow_outside"):
        return point
    margin = geo.boundary_margin()
    distance = geo.distance_outside_m(point.lon, point.lat)
    if distance <= margin:
        return point
    if geo.distance_outside_m(point.lat, point.lon) <= margin:
        raise PydanticCustomError("swapped_coordinates", "longitude and latitude look swapped",
                                  {"lon": point.lon, "lat": point.lat})
    raise PydanticCustomError("outside_municipality", "the point lies outside the municipality",
                              {"lon": point.lon, "lat": point.lat, "distance_m": distance, "margin_m": margin})


class Observation(_Model):
    """A finding. The client chooses `id`, so saving the same finding twice stores it once.

    `created_by` is who put it into this database (the recording user, or the importing one); an imported
    finding keeps the file's author in `source_created_by`, as provenance for internal readers only.

    Validation context: `allow_outside=True` skips the municipality check (tests, explicit imports);
    `stored=True` (a row read back from the database) skips the time window, checked when it was stored.
    """
    id: UUID = Field(default_factory=uuid4)
    walk_id: UUID | None = None
    lon: float
    lat: float
    location_source: LocationSource = LocationSource.MAP_TAP
    gps_accuracy_m: float | None = None
    area_id: str | None = None
    category: str
    severity: int = 2
    perceived_safety: int | None = None
    internal_note: str = ""
    public_text: str = ""
    observed_at: datetime = Field(default_factory=now)
    created_by: str = ""
    created_at: datetime = Field(default_factory=now)
    updated_by: str = ""
    updated_at: datetime = Field(default_factory=now)
    deleted: bool = False
    deleted_by: str | None = None
    deleted_at: datetime | None = None
    published: bool = False
    is_demo: bool = False
    external_id: str | None = None
    source_created_by: str = ""
    photos: list[Photo] = Field(default_factory=list)

    _note = field_validator("internal_note", "public_text", mode="before")(_text(MAX_NOTE))
    _external = field_validator("external_id", mode="before")(_optional_text(MAX_TITLE))
    _by = field_validator("created_by", "updated_by", "source_created_by", mode="before")(_text(MAX_NAME))
    _deleted_by = field_validator("deleted_by", mode="before")(_optional_text(MAX_NAME))
    _severity = field_validator("severity", mode="before")(_in_range(1, 3))
    _safety = field_validator("perceived_safety", mode="before")(_in_range(1, 5))
    _times = field_validator("observed_at", "created_at", "updated_at", "deleted_at")(_event_time)

    _finite = field_validator("lon", "lat", "gps_accuracy_m", mode="before")(_finite_number)
    _lon = field_validator("lon")(_wgs84(180))
    _lat = field_validator("lat")(_wgs84(90))

    @field_validator("gps_accuracy_m")
    @classmethod
    def _accuracy(cls, value: float | None) -> float | None:
        if value is not None and not 0 <= value <= 100_000:
            raise PydanticCustomError("out_of_range", "must be between {min} and {max}",
                                      {"min": 0, "max": 100_000, "value": value})
        return value

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str) -> str:
        known = categories()
        if value not in known:
            raise PydanticCustomError("unknown_category", "unknown category",
                                      {"value": value, "allowed": ", ".join(known)})
        return value

    _inside = model_validator(mode="after")(_inside_municipality)

    @computed_field
    @property
    def light_condition(self) -> LightCondition:
        return light_condition(self.observed_at)


class IncidentReport(_Model):
    """A police or resident report (date, type, point), imported and kept apart from walk findings.
    Its point is checked like a finding's (context `allow_outside=True` skips the municipality check)."""
    id: UUID = Field(default_factory=uuid4)
    external_id: str | None = None
    source: Annotated[str, Field(min_length=1, max_length=120)]
    reported_at: datetime
    type: Annotated[str, Field(min_length=1, max_length=200)]
    lon: float
    lat: float
    area_id: str | None = None
    is_demo: bool = False
    imported_at: datetime = Field(default_factory=now)

    _texts = field_validator("source", "type", mode="before")(_text(MAX_TITLE))
    _external = field_validator("external_id", mode="before")(_optional_text(MAX_TITLE))
    _finite = field_validator("lon", "lat", mode="before")(_finite_number)
    _lon = field_validator("lon")(_wgs84(180))
    _lat = field_validator("lat")(_wgs84(90))
    _times = field_validator("reported_at", "imported_at")(_event_time)
    _inside = model_validator(mode="after")(_inside_municipality)


class Fix(_Model):
    """A solution proposal (løsningsforslag); its workflow lives in dke_geo/lifecycle.py."""
    id: UUID = Field(default_factory=uuid4)
    title: str
    description: str = ""
    observation_ids: list[UUID] = Field(default_factory=list)
    organisation: str = ""
    contact_role: str = ""
    due_date: date | None = None
    cost_dkk: Annotated[int, Field(ge=0, le=1_000_000_000)] | None = None
    priority: Priority = Priority.MEDIUM
    state: str = "proposed"
    reject_reason: str = ""
    version: int = 1
    created_by: str = ""
    created_at: datetime = Field(default_factory=now)
    updated_by: str = ""
    updated_at: datetime = Field(default_factory=now)
    is_demo: bool = False

    _title = field_validator("title", mode="before")(_text(MAX_TITLE))
    _description = field_validator("description", "reject_reason", mode="before")(_text(MAX_NOTE))
    _short = field_validator("organisation", "contact_role", mode="before")(_text(MAX_TITLE))
    _by = field_validator("created_by", "updated_by", mode="before")(_text(MAX_NAME))
    _times = field_validator("created_at", "updated_at")(_aware)

    @field_validator("title")
    @classmethod
    def _title_required(cls, value: str) -> str:
        if not value:
            raise PydanticCustomError("required", "is required")
        return value


class FixEvent(_Model):
    """One append-only entry in a fix's history."""
    id: int | None = None
    fix_id: UUID
    at: datetime = Field(default_factory=now)
    by: str
    from_state: str | None = None
    to_state: str
    comment: str = ""
    photo_id: UUID | None = None

    _comment = field_validator("comment", mode="before")(_text(MAX_NOTE))
    _at = field_validator("at")(_aware)


class Area(_Model):
    """A housing area; geometry as GeoJSON (EPSG:4326)."""
    id: str
    name: str
    confidence: str = "official"
    source: str = ""
    geometry: dict


MAX_ANSWER = 500


class ResidentAnswer(_Model):
    """A resident's answer to "Er det stadig et problem?" about a published finding: yes or no and an optional
    short text, untrusted like any input from outside. No name, e-mail, photo or address is asked or kept."""
    still_a_problem: bool
    text: str = ""

    _text_field = field_validator("text", mode="before")(_text(MAX_ANSWER))
