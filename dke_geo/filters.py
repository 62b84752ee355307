"""The planner's filter: one value, applied once to the findings, so the map, the charts and the tables
show the same rows.

An empty selection means "all". Dates are whole days in Europe/Copenhagen, both ends included.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from dke_geo.categories import categories
from dke_geo.errors import InvalidInput
from dke_geo.lifecycle import Group
from dke_geo.light import LightCondition
from dke_geo.model import TZ

STATUSES = (Group.OPEN, Group.PLANNED, Group.RESOLVED)
SEVERITIES = (1, 2, 3)


class Filter(BaseModel):
    """What the planner wants to see. Frozen and hashable: it is part of the map cache key."""
    model_config = ConfigDict(frozen=True, extra="forbid")

    date_from: date | None = None
    date_to: date | None = None
    areas: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    severities: tuple[int, ...] = ()
    statuses: tuple[Group, ...] = ()
    light: tuple[LightCondition, ...] = ()
    walks: tuple[str, ...] = ()
    include_demo: bool = True

    @field_validator("areas", "categories", "severities", "statuses", "light", "walks")
    @classmethod
    def _sorted(cls, value: tuple) -> tuple:
        return tuple(sorted(set(value)))  # the same choice, in any order, is the same filter

    @field_validator("categories")
    @classmethod
    def _known_categories(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [c for c in value if c not in categories()]
        if unknown:
            raise PydanticCustomError("unknown_category", "unknown category",
                                      {"value": ", ".join(unknown), "allowed": ", ".join(categories())})
        return value

    @field_validator("severities")
    @classmethod
    def _severity_range(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(s not in SEVERITIES for s in value):
            raise PydanticCustomError("out_of_range", "must be between {min} and {max}",
                                      {"min": 1, "max": 3, "value": value})
        return value

    @field_validator("statuses")
    @classmethod
    def _status_groups(cls, value: tuple[Group, ...]) -> tuple[Group, ...]:
        if any(s not in STATUSES for s in value):
            raise PydanticCustomError("out_of_range", "must be open, planned or resolved", {"value": value})
        return value

    @model_validator(mode="after")
    def _dates_in_order(self):
        if self.date_from and self.date_to and self.date_to < self.date_from:
            raise PydanticCustomError("end_before_start", "the end time is before the start time")
        return self

    @classmethod
    def parse(cls, data: dict) -> Filter:
        """Validate `data`; InvalidInput (translatable, naming the field) on a bad choice."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise InvalidInput.from_pydantic(exc) from None

    def key(self) -> str:
        """A stable text for cache keys."""
        return self.model_dump_json()

    def _time_mask(self, when: pd.Series) -> pd.Series:
        mask = pd.Series(True, index=when.index)
        if self.date_from:
            mask &= when >= pd.Timestamp(datetime.combine(self.date_from, time(), TZ))
        if self.date_to:
            mask &= when < pd.Timestamp(datetime.combine(self.date_to + timedelta(days=1), time(), TZ))
        return mask

    def _common_mask(self, frame: pd.DataFrame, when: str) -> pd.Series:
        mask = self._time_mask(frame[when])
        if self.areas:
            mask &= frame["area_id"].isin(self.areas)
        if not self.include_demo:
            mask &= ~frame["is_demo"].astype(bool)
        return mask

    def apply(self, findings: pd.DataFrame) -> pd.DataFrame:
        """The findings (a frame with observed_at, area_id, category, severity, status, light_condition,
        walk_id, is_demo) that pass every part of the filter.

        >>> import pandas as pd
        >>> df = pd.DataFrame({"observed_at": pd.to_datetime(["2017-04-20 21:00", "2017-05-16 15:00"]).tz_localize(TZ),
        ...     "area_id": ["blokland", "blokland"], "category": ["lighting", "litter"], "severity": [3, 1],
        ...     "status": ["open", "resolved"], "light_condition": ["dark", "daylight"], "walk_id": ["a", "b"],
        ...     "is_demo": [True, True]})
        >>> len(Filter(light=("dark",)).apply(df)), len(Filter(date_from=date(2017, 5, 1)).apply(df))
        (1, 1)
        """
        mask = self._common_mask(findings, "observed_at")
        for column, chosen in (("category", self.categories), ("severity", self.severities),
                               ("status", [s.value for s in self.statuses]),
                               ("light_condition", [c.value for c in self.light]), ("walk_id", self.walks)):
            if chosen:
                mask &= findings[column].isin(chosen)
        return findings[mask]

    def apply_reports(self, reports: pd.DataFrame) -> pd.DataFrame:
        """Incident reports (reported_at, area_id, is_demo) that pass the parts of the filter that
        apply to them: dates, areas and demo rows. Categories, severity, status, light and walk
        describe findings only."""
        return reports[self._common_mask(reports, "reported_at")]

