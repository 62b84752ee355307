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
