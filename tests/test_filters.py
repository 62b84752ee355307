"""The planner's filter: each part changes the counts as expected on a small fixture."""
from datetime import date

import pandas as pd
import pytest

from dke_geo.errors import InvalidInput
from dke_geo.filters import Filter
from dke_geo.model import TZ

FINDINGS = pd.DataFrame({
    "id": list("abcdef"),
    "observed_at": pd.to_datetime(["2017-04-20 21:30", "2017-04-20 23:59", "2017-05-16 15:00",
                                   "2017-05-16 16:00", "2017-10-24 22:00", "2018-01-02 12:00"]).tz_localize(TZ),
    "area_id": ["blokland", "blokland", "blokland", "galgebakken", "galgebakken", None],
    "category": ["lighting", "lighting", "litter", "graffiti", "lighting", "other"],
    "severity": [3, 2, 1, 2, 3, 1],
    "status": ["open", "planned", "resolved", "open", "resolved", "open"],
    "light_condition": ["dark", "dark", "daylight", "daylight", "dark", "daylight"],
    "walk_id": ["w1", "w1", "w2", "w2", "w3", None],
    "is_demo": [True, True, False, False, False, False],
})
REPORTS = pd.DataFrame({
    "reported_at": pd.to_datetime(["2017-04-21 01:00", "2017-06-01 12:00", "2019-01-01 12:00"]).tz_localize(TZ),
    "area_id": ["blokland", "galgebakken", "blokland"], "is_demo": [False, True, False]})


def ids(f: Filter) -> str:
    return "".join(f.apply(FINDINGS)["id"])


def test_no_filter_keeps_everything():
    assert ids(Filter()) == "abcdef"
    assert len(Filter().apply_reports(REPORTS)) == 3


@pytest.mark.parametrize(("data", "expected"), [
    ({"date_from": date(2017, 5, 16)}, "cdef"),
    ({"date_to": date(2017, 4, 20)}, "ab"),  # the whole last day, in Copenhagen time
    ({"date_from": date(2017, 5, 1), "date_to": date(2017, 10, 31)}, "cde"),
    ({"areas": ["galgebakken"]}, "de"),
    ({"areas": ["blokland", "galgebakken"]}, "abcde"),  # a finding outside every area is then left out
    ({"categories": ["lighting"]}, "abe"),
    ({"categories": ["lighting", "graffiti"]}, "abde"),
    ({"severities": [3]}, "ae"),
    ({"statuses": ["open"]}, "adf"),
    ({"statuses": ["planned", "resolved"]}, "bce"),
    ({"light": ["dark"]}, "abe"),
    ({"light": ["daylight"]}, "cdf"),
    ({"walks": ["w2"]}, "cd"),
    ({"include_demo": False}, "cdef"),
    ({"categories": ["lighting"], "light": ["dark"], "include_demo": False}, "e"),
])
def test_each_part_narrows_the_findings(data, expected):
    assert ids(Filter.parse(data)) == expected


def test_reports_follow_dates_areas_and_demo_only():
    f = Filter.parse({"date_from": date(2017, 4, 1), "date_to": date(2017, 12, 31), "areas": ["blokland"],
                      "categories": ["lighting"], "statuses": ["resolved"]})
    assert len(f.apply_reports(REPORTS)) == 1
    assert len(Filter(include_demo=False).apply_reports(REPORTS)) == 2


def test_same_choice_in_another_order_is_the_same_filter():
    a = Filter.parse({"categories": ["litter", "lighting"], "areas": ["b", "a", "a"]})
    b = Filter.parse({"categories": ["lighting", "litter"], "areas": ["a", "b"]})
    assert a == b and hash(a) == hash(b) and a.key() == b.key()


@pytest.mark.parametrize("data", [
    {"date_from": date(2018, 1, 2), "date_to": date(2018, 1, 1)},
    {"categories": ["no-such-category"]},
    {"severities": [4]},
    {"statuses": ["closed"]},
    {"light": ["moonlight"]},
])
def test_bad_choices_are_refused_with_a_message(data):
    with pytest.raises(InvalidInput) as err:
        Filter.parse(data)
    assert err.value.message("da")
