from datetime import datetime

import pytest

from dke_geo.light import LightCondition, light_condition
from dke_geo.model import TZ, Walk


@pytest.mark.parametrize(("when", "expected"), [
    (datetime(2017, 4, 20, 21, 30, tzinfo=TZ), LightCondition.DARK),      # the first Blokland walk
    (datetime(2017, 5, 16, 15, 0, tzinfo=TZ), LightCondition.DAYLIGHT),   # the daylight walk
    (datetime(2017, 4, 20, 20, 45, tzinfo=TZ), LightCondition.TWILIGHT),  # between sunset and civil dusk
    (datetime(2017, 12, 21, 16, 0, tzinfo=TZ), LightCondition.TWILIGHT),   # sunset 15:38
    (datetime(2017, 12, 21, 2, 0, tzinfo=TZ), LightCondition.DARK),
])
def test_light_condition_in_albertslund(when, expected):
    assert light_condition(when) is expected


def test_naive_time_is_refused():
    with pytest.raises(ValueError):
        light_condition(datetime(2017, 4, 20, 21, 30))


def test_walk_light_is_computed_and_can_be_overridden():
    walk = Walk(title="x", started_at=datetime(2017, 4, 20, 21, 30, tzinfo=TZ))
    assert walk.light_condition is LightCondition.DARK
    overridden = Walk(title="x", started_at=datetime(2017, 4, 20, 21, 30, tzinfo=TZ),
                      light_condition_override="twilight")
    assert overridden.light_condition is LightCondition.TWILIGHT


def test_the_vectorised_sun_agrees_with_astral_over_thirty_years():
    """light.py computes the sun's elevation over numpy arrays (astral's own algorithm): it must agree with
    astral for any time, in any zone, including the hours around midnight where astral wraps the solar time."""
    import numpy as np
    import pandas as pd
    from astral import Observer
    from astral.sun import elevation as astral_elevation

    from dke_geo.light import LATITUDE, LONGITUDE, elevation, light_conditions

    rng = np.random.default_rng(7)
    seconds = rng.integers(pd.Timestamp("2000-01-01").value // 10**9, pd.Timestamp("2030-12-31").value // 10**9, 3000)
    for zone in ("Europe/Copenhagen", "UTC", "America/New_York", "Asia/Kolkata"):
        times = pd.Series(pd.to_datetime(seconds, unit="s", utc=True)).dt.tz_convert(zone)
        expected = [astral_elevation(Observer(LATITUDE, LONGITUDE), t.to_pydatetime()) for t in times]
        assert np.allclose(elevation(times), expected, rtol=0, atol=1e-9)
        assert list(light_conditions(times)) == [light_condition(t.to_pydatetime()).value for t in times]
