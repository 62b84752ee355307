"""Light condition from the sun's position at Albertslund (astral), for walks and findings."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from astral import Observer
from astral.sun import elevation

ALBERTSLUND = Observer(latitude=55.668, longitude=12.352)


class LightCondition(StrEnum):
    DAYLIGHT = "daylight"
    TWILIGHT = "twilight"
    DARK = "dark"


def light_condition(at: datetime, observer: Observer = ALBERTSLUND) -> LightCondition:
    """Daylight with the sun above the horizon (-0.833° for refraction), twilight down to civil
    dusk (-6°), dark below. `at` must be timezone-aware.

    >>> from zoneinfo import ZoneInfo
    >>> light_condition(datetime(2017, 4, 20, 21, 30, tzinfo=ZoneInfo("Europe/Copenhagen")))
    <LightCondition.DARK: 'dark'>
    """
    if at.tzinfo is None:
        raise ValueError("light_condition needs a timezone-aware datetime")
    sun = elevation(observer, at)
    if sun > -0.833:
        return LightCondition.DAYLIGHT
    if sun > -6.0:
        return LightCondition.TWILIGHT
    return LightCondition.DARK
