"""Bad input is refused with a clear message in Danish and English that names the field, and nothing
is written."""
import math
from datetime import datetime

import pytest
from sqlalchemy import func, select

from dke_geo.errors import InvalidInput
from dke_geo.model import TZ, Observation, Walk
from dke_geo.roles import Actor, Role
from dke_geo.services.recording import record_observation, start_walk
from dke_geo.store.db import reading
from dke_geo.store.tables import observations, walks

STAFF = Actor("anna", Role.STAFF)
GOOD = {"lon": 12.3573, "lat": 55.6602, "category": "lighting", "severity": 2}


def _count(ctx, table) -> int:
    with reading(ctx.engine) as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


BAD_OBSERVATIONS = [
    ({"lon": 12.568, "lat": 55.676}, "outside", ("Albertslund Kommune", "Albertslund Municipality")),  # Copenhagen
    ({"lon": 55.6602, "lat": 12.3573}, "swapped", ("byttet om", "look swapped")),
    ({"lon": math.nan}, "nan", ("Længdegrad: skal være et endeligt tal", "Longitude: must be a finite number")),
    ({"lat": math.inf}, "inf", ("Breddegrad: skal være et endeligt tal", "Latitude: must be a finite number")),
    ({"category": "ufo"}, "category", ("Kategori: Ukendt kategori 'ufo'", "Category: Unknown category 'ufo'")),
    ({"severity": 4}, "severity high", ("Alvor: skal være mellem 1 og 3", "Severity: must be between 1 and 3")),
    ({"severity": 0}, "severity low", ("Alvor: skal være mellem 1 og 3", "Severity: must be between 1 and 3")),
    ({"perceived_safety": 6}, "safety", ("Oplevet tryghed: skal være mellem 1 og 5",
                                          "Perceived safety: must be between 1 and 5")),
    ({"internal_note": "x" * 4001}, "note", ("Intern note: er 4001 tegn; højst 4000",
                                             "Internal note: is 4001 characters; at most 4000")),
]


@pytest.mark.parametrize(("change", "why", "messages"), BAD_OBSERVATIONS, ids=[b[1] for b in BAD_OBSERVATIONS])
def test_bad_observation_is_refused_and_nothing_written(ctx, change, why, messages):
    with pytest.raises(InvalidInput) as err:
        record_observation(ctx, STAFF, {**GOOD, **change})
    da, en = messages
    assert da in err.value.message("da")
    assert en in err.value.message("en")
    assert _count(ctx, observations) == 0


def test_note_of_exactly_4000_characters_is_accepted(ctx):
    obs, created = record_observation(ctx, STAFF, {**GOOD, "internal_note": "æ" * 4000})
    assert created and len(obs.internal_note) == 4000
    assert _count(ctx, observations) == 1


def test_allow_outside_is_explicit():
    far = Observation.model_validate({**GOOD, "lon": 12.568, "lat": 55.676}, context={"allow_outside": True})
    assert far.lon == 12.568


def test_margin_is_configurable(monkeypatch):
    from dke_geo import geo
    lon, lat = 12.3085, 55.66  # a few hundred metres west of the boundary
    distance = geo.distance_outside_m(lon, lat)
    assert 0 < distance < 2000
    monkeypatch.setenv("DKE_GEO_BOUNDARY_MARGIN_M", str(distance + 10))
    Observation.parse({**GOOD, "lon": lon, "lat": lat})
    monkeypatch.setenv("DKE_GEO_BOUNDARY_MARGIN_M", str(distance - 10))
    with pytest.raises(InvalidInput, match="outside"):
        Observation.parse({**GOOD, "lon": lon, "lat": lat})


def test_end_before_start_is_refused_and_nothing_written(ctx):
    with pytest.raises(InvalidInput) as err:
        start_walk(ctx, STAFF, {"title": "Aften", "area_ids": ["blokland"],
                                "started_at": datetime(2017, 4, 20, 21, 0, tzinfo=TZ),
                                "ended_at": datetime(2017, 4, 20, 20, 0, tzinfo=TZ)})
    assert "Sluttidspunktet ligger før starttidspunktet" in err.value.message("da")
    assert "The end time is before the start time" in err.value.message("en")
    assert _count(ctx, walks) == 0


def test_several_errors_are_all_named():
    with pytest.raises(InvalidInput) as err:
        Observation.parse({**GOOD, "category": "ufo", "severity": 9})
    messages = err.value.messages("en")
    assert any(m.startswith("Category:") for m in messages)
    assert any(m.startswith("Severity:") for m in messages)


def test_walk_without_title_names_the_field():
    with pytest.raises(InvalidInput) as err:
        Walk.parse({"title": "  "})
    assert err.value.messages("da") == ["Titel: skal udfyldes."]


def test_unknown_organisation_of_a_walk_is_refused_and_nothing_written(ctx):
    """A walk stores organisation ids from data/organisations.toml; a label, or an id not in the list, is refused."""
    for org in ("Politiet", "nasa"):
        with pytest.raises(InvalidInput) as err:
            start_walk(ctx, STAFF, {"title": "Aften", "organisations": [{"organisation": org, "count": 2}]})
        assert err.value.messages("da")[0].startswith(f"Deltagende organisationer: Ukendt organisation '{org}'. "
                                                      "Vælg en af: dke, bo-vest,")
        assert err.value.messages("en")[0].startswith(f"Participating organisations: Unknown organisation '{org}'.")
    assert _count(ctx.engine, walks) == 0


def test_a_stored_walk_keeps_an_organisation_id_since_removed_from_the_list():
    data = {"title": "Aften", "organisations": [{"organisation": "nedlagt-enhed", "count": 2}]}
    walk = Walk.model_validate(data, context={"stored": True})
    assert walk.organisations[0].shown("da") == "nedlagt-enhed"
    with pytest.raises(InvalidInput):
        Walk.parse(data)


def test_naive_time_is_refused():
    with pytest.raises(InvalidInput, match="time zone"):
        Observation.parse({**GOOD, "observed_at": datetime(2017, 4, 20, 21, 0)})


def test_string_coordinates_from_a_form_are_accepted():
    obs = Observation.parse({**GOOD, "lon": "12.3573", "lat": "55.6602", "severity": "3"})
    assert (obs.lon, obs.severity) == (12.3573, 3)
