"""Light condition from the sun's position at Albertslund, for walks and findings, one at a time or a whole
column at once.

The sun's elevation is the NOAA solar-position algorithm as astral (3.2) implements it, written once over
numpy arrays: an import of a million findings needs a light condition per finding, and astral's pure-Python
per-call cost (tens of microseconds) would dominate it. tests/test_light.py checks that both agree.
"""
from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

import numpy as np
import pandas as pd

LATITUDE, LONGITUDE = 55.668, 12.352   # Albertslund
DAYLIGHT_ABOVE = -0.833                 # the sun's upper edge above the horizon, with refraction
TWILIGHT_ABOVE = -6.0                   # civil dusk


class LightCondition(StrEnum):
    DAYLIGHT = "daylight"
    TWILIGHT = "twilight"
    DARK = "dark"


_LEVELS = np.array([LightCondition.DARK.value, LightCondition.TWILIGHT.value, LightCondition.DAYLIGHT.value],
                   dtype=object)  # by elevation, each condition's one string (_classify)
_CHUNK = 100_000  # times per part in light_conditions


def light_condition(at: datetime) -> LightCondition:
    """Daylight with the sun above the horizon (-0.833° for refraction), twilight down to civil
    dusk (-6°), dark below. `at` must be timezone-aware.

    >>> from zoneinfo import ZoneInfo
    >>> light_condition(datetime(2017, 4, 20, 21, 30, tzinfo=ZoneInfo("Europe/Copenhagen")))
    <LightCondition.DARK: 'dark'>
    """
    if at.tzinfo is None:
        raise ValueError("light_condition needs a timezone-aware datetime")
    utc = at.astimezone(UTC)
    sun = _elevation(at.hour, at.minute, at.second, -at.utcoffset().total_seconds() / 3600.0,
                     utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second)  # numpy on scalars: one code
    return LightCondition(_classify(np.atleast_1d(sun))[0])


def light_conditions(times: pd.Series) -> np.ndarray:
    """The light condition (its value, e.g. "dark") of every timezone-aware time in `times`, vectorised.

    >>> light_conditions(pd.Series(pd.to_datetime(["2017-04-20T21:30+02:00", "2017-05-16T15:00+02:00"])))
    array(['dark', 'daylight'], dtype=object)
    """
    times = pd.Series(times)
    if len(times) <= _CHUNK:
        return _classify(elevation(times))
    # in parts: the formula's twenty-odd temporary arrays stay small at a million findings (an import's peak)
    return np.concatenate([_classify(elevation(times.iloc[start:start + _CHUNK]))
                           for start in range(0, len(times), _CHUNK)])


def elevation(times: pd.Series) -> np.ndarray:
    """The sun's elevation at Albertslund in degrees (with refraction) at each aware time in `times`.

    As astral computes it: the Julian century from the UTC time (whole seconds), the hour angle from the wall
    clock of the time as given plus its UTC offset.
    """
    times = pd.Series(times)
    if not isinstance(times.dtype, pd.DatetimeTZDtype):
        raise ValueError("elevation needs timezone-aware times")
    utc = times.dt.tz_convert("UTC")
    local = times.dt.tz_localize(None)
    zone = -(local - utc.dt.tz_localize(None)).dt.total_seconds().to_numpy() / 3600.0
    parts = [getattr(local.dt, p).to_numpy(dtype=float) for p in ("hour", "minute", "second")]
    utc_parts = [getattr(utc.dt, p).to_numpy(dtype=float) for p in ("year", "month", "day", "hour", "minute", "second")]
    return _elevation(*parts, zone, *utc_parts)


def _classify(sun: np.ndarray) -> np.ndarray:
    """Each elevation's condition, as one of three shared strings (a million findings hold three, not a million)."""
    return _LEVELS[(sun > TWILIGHT_ABOVE).astype(np.intp) + (sun > DAYLIGHT_ABOVE)]


def _elevation(hour, minute, second, zone, year, month, day, utc_hour, utc_minute, utc_second) -> np.ndarray:
    t = (_julian_day(year, month, day, utc_hour * 3600 + utc_minute * 60 + utc_second) - 2451545.0) / 36525.0
    declination = _declination(t)
    true_solar = hour * 60.0 + minute + second / 60.0 + _equation_of_time(t) + 4.0 * LONGITUDE + 60 * zone
    true_solar = np.where(true_solar > 1440, true_solar - 1440 * np.ceil((true_solar - 1440) / 1440), true_solar)
    hour_angle = true_solar / 4.0 - 180.0
    hour_angle = np.where(hour_angle < -180, hour_angle + 360.0, hour_angle)
    cl, sl = np.cos(np.radians(LATITUDE)), np.sin(np.radians(LATITUDE))
    csz = cl * np.cos(np.radians(declination)) * np.cos(np.radians(hour_angle)) + sl * np.sin(np.radians(declination))
    zenith = np.degrees(np.arccos(np.clip(csz, -1.0, 1.0)))
    return 90.0 - (zenith - _refraction(zenith))


def _julian_day(year, month, day, seconds) -> np.ndarray:
    early = month <= 2
    year, month = np.where(early, year - 1, year), np.where(early, month + 12, month)
    a = np.trunc(year / 100)
    b = 2 - a + np.trunc(a / 4)
    return (np.trunc(365.25 * (year + 4716)) + np.trunc(30.6001 * (month + 1)) + day + seconds / 86400 + b
            - 1524.5)


def _mean_longitude(t):
    return (280.46646 + t * (36000.76983 + 0.0003032 * t)) % 360.0


def _mean_anomaly(t):
    return 357.52911 + t * (35999.05029 - 0.0001537 * t)


def _eccentricity(t):
    return 0.016708634 - t * (0.000042037 + 0.0000001267 * t)


def _obliquity(t):
    seconds = 21.448 - t * (46.815 + t * (0.00059 - t * 0.001813))
    return 23.0 + (26.0 + seconds / 60.0) / 60.0 + 0.00256 * np.cos(np.radians(125.04 - 1934.136 * t))


def _declination(t):
    m = np.radians(_mean_anomaly(t))
    centre = (np.sin(m) * (1.914602 - t * (0.004817 + 0.000014 * t)) + np.sin(m + m) * (0.019993 - 0.000101 * t)
              + np.sin(m + m + m) * 0.000289)
    apparent = _mean_longitude(t) + centre - 0.00569 - 0.00478 * np.sin(np.radians(125.04 - 1934.136 * t))
    return np.degrees(np.arcsin(np.sin(np.radians(_obliquity(t))) * np.sin(np.radians(apparent))))


def _equation_of_time(t):
    l0, e, m = _mean_longitude(t), _eccentricity(t), _mean_anomaly(t)
    y = np.tan(np.radians(_obliquity(t)) / 2.0) ** 2
    sinm = np.sin(np.radians(m))
    return np.degrees(y * np.sin(2.0 * np.radians(l0)) - 2.0 * e * sinm
                      + 4.0 * e * y * sinm * np.cos(2.0 * np.radians(l0)) - 0.5 * y * y * np.sin(4.0 * np.radians(l0))
                      - 1.25 * e * e * np.sin(2.0 * np.radians(m))) * 4.0


def _refraction(zenith):
    elev = 90 - zenith
    te = np.tan(np.radians(elev))
    with np.errstate(divide="ignore", invalid="ignore"):
        high = 58.1 / te - 0.07 / te**3 + 0.000086 / te**5
        low = -20.774 / te
    near = 1735.0 + elev * (-518.2 + elev * (103.4 + elev * (-12.79 + elev * 0.711)))
    correction = np.where(elev >= 85.0, 0.0, np.where(elev > 5.0, high, np.where(elev > -0.575, near, low)))
    return correction / 3600.0
