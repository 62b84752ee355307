"""The recording use cases: idempotent save, area derived from the point, roles."""
import uuid

import pytest

from dke_geo.errors import NotFound, PermissionDenied
from dke_geo.roles import PUBLIC, Actor, Role
from dke_geo.services.recording import record_observation, start_walk, walk_observations

STAFF = Actor("anna", Role.STAFF)
GOOD = {"lon": 12.3573, "lat": 55.6602, "category": "lighting"}


def test_save_twice_stores_once_and_derives_the_area(engine):
    walk = start_walk(engine, STAFF, {"title": "Aften i Blokland", "area_ids": ["blokland"]})
    oid = uuid.uuid4()
    first, created = record_observation(engine, STAFF, {**GOOD, "id": oid, "walk_id": walk.id})
    again, created_again = record_observation(engine, STAFF, {**GOOD, "id": oid, "walk_id": walk.id})
    assert (created, created_again) == (True, False)
    assert first.area_id == again.area_id == "blokland"
    assert first.created_by == "anna"
    assert [o.id for o in walk_observations(engine, STAFF, walk.id)] == [oid]


def test_public_may_not_record(engine):
    with pytest.raises(PermissionDenied) as err:
        record_observation(engine, PUBLIC, GOOD)
    assert "må ikke registrere fund" in err.value.message("da")


def test_unknown_walk_and_area_are_refused(engine):
    with pytest.raises(NotFound):
        record_observation(engine, STAFF, {**GOOD, "walk_id": uuid.uuid4()})
    with pytest.raises(NotFound, match="atlantis"):
        start_walk(engine, STAFF, {"title": "x", "area_ids": ["atlantis"]})
