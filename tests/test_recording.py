"""Recording services on a real SQLite file and a real PostGIS database: walks (start, end, resume, recent with
counts), findings with photos saved once however often the save is repeated and their area derived from the
point, validation naming what is missing, edits, soft deletes, roles, and no rows or files left behind by a
failed save."""
import uuid
from datetime import datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from dke_geo import photos
from dke_geo.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from dke_geo.model import TZ, now
from dke_geo.photos import PhotoError, Upload
from dke_geo.roles import PUBLIC, Actor, Role
from dke_geo.services import recording
from dke_geo.store.db import reading
from dke_geo.store.tables import observations
from dke_geo.store.tables import photos as photo_rows
from tests import images

STAFF = Actor("anna", Role.STAFF)
OTHER = Actor("bo", Role.STAFF)
BLOKLAND = {"lon": 12.3573, "lat": 55.6602}
GALGEBAKKEN = {"lon": 12.34734, "lat": 55.67768}


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    monkeypatch.setenv("DKE_GEO_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def walk(ctx):
    return recording.start_walk(ctx, STAFF, {"title": "Aften i Blokland", "area_ids": ["blokland"]})


def _count(ctx, table, **where) -> int:
    query = select(func.count()).select_from(table)
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    with reading(ctx.engine) as conn:
        return conn.execute(query).scalar_one()


def _files(folder) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def _finding(walk, **kw) -> dict:
    return {"id": uuid.uuid4(), "walk_id": walk.id, **BLOKLAND, "category": "lighting", **kw}


# ---------------------------------------------------------------- walks
def test_start_walk_fills_title_light_and_creator(ctx):
    started = datetime(2017, 4, 20, 21, 30, tzinfo=TZ)
    walk = recording.start_walk(ctx, STAFF, {"area_ids": ["blokland", "galgebakken"], "started_at": started,
                                                "organisations": [{"organisation": "dke", "count": 3}]}, lang="da")
    assert walk.title == "Områdevandring Blokland, Galgebakken 20.04.2017"
    assert walk.light_condition.value == "dark" and walk.created_by == "anna" and walk.is_open
    assert recording.get_walk(ctx, STAFF, walk.id) == walk
    english = recording.start_walk(ctx, STAFF, {"area_ids": [], "started_at": started}, lang="en")
    assert english.title == "Area walk outside the housing areas 20.04.2017"


def test_end_and_resume_a_walk(ctx, walk):
    ended = recording.end_walk(ctx, STAFF, walk.id)
    assert not ended.is_open and ended.ended_at >= walk.started_at
    assert recording.end_walk(ctx, OTHER, walk.id).ended_at == ended.ended_at  # ending twice changes nothing
    with pytest.raises(Conflict) as err:
        recording.record_observation(ctx, STAFF, _finding(walk))
    assert "Genoptag vandringen" in err.value.message("da")
    assert _count(ctx, observations) == 0
    resumed = recording.resume_walk(ctx, STAFF, walk.id)
    assert resumed.is_open and recording.get_walk(ctx, STAFF, walk.id).is_open
    assert recording.record_observation(ctx, STAFF, _finding(walk))[1]


def test_a_walk_that_starts_later_ends_no_earlier_than_it_starts(ctx):
    later = recording.start_walk(ctx, STAFF, {"title": "Senere", "started_at": now() + timedelta(hours=2)})
    ended = recording.end_walk(ctx, STAFF, later.id)
    assert ended.ended_at == later.started_at


def test_recent_walks_newest_first_with_counts_of_undeleted_findings(ctx):
    old = recording.start_walk(ctx, STAFF, {"title": "Gammel", "started_at": datetime(2017, 5, 16, 15, tzinfo=TZ)})
    new = recording.start_walk(ctx, STAFF, {"title": "Ny", "area_ids": ["blokland"]})
    kept, _ = recording.record_observation(ctx, STAFF, _finding(new))
    gone, _ = recording.record_observation(ctx, STAFF, _finding(new, category="litter"))
    recording.delete_observation(ctx, STAFF, gone.id)
    recent = recording.recent_walks(ctx, STAFF)
    assert [(s.walk.title, s.findings) for s in recent] == [("Ny", 1), ("Gammel", 0)]
    assert recent[1].walk.id == old.id and kept.walk_id == new.id
    assert [s.walk.title for s in recording.recent_walks(ctx, STAFF, limit=1)] == ["Ny"]


def test_unknown_walks_and_areas_are_refused(ctx):
    with pytest.raises(NotFound):
        recording.end_walk(ctx, STAFF, uuid.uuid4())
    with pytest.raises(NotFound):
        recording.walk_detail(ctx, STAFF, uuid.uuid4())
    with pytest.raises(NotFound):
        recording.record_observation(ctx, STAFF, {**BLOKLAND, "category": "lighting", "walk_id": uuid.uuid4()})
    with pytest.raises(NotFound, match="atlantis"):
        recording.start_walk(ctx, STAFF, {"title": "x", "area_ids": ["atlantis"]})
    assert _count(ctx, observations) == 0


# ---------------------------------------------------------------- saving
def test_save_with_photos_stores_rows_files_and_internal_exif(ctx, walk, data_dir):
    shot = images.jpeg(images.striped(3000, 2000), orientation=6, gps=images.BLOKLAND_DMS, accuracy_m=5.0)
    obs, created = recording.record_observation(
        ctx, STAFF, _finding(walk, severity=3, perceived_safety=2, internal_note="Lampe ud ved stien",
                                location_source="photo_exif", gps_accuracy_m=5.0),
        photos=[Upload("IMG_1.jpg", shot), Upload("IMG_2.HEIC", images.heic())])
    assert created and obs.area_id == "blokland" and obs.created_by == "anna"
    assert (obs.location_source.value, obs.gps_accuracy_m) == ("photo_exif", 5.0)
    assert (obs.severity, obs.perceived_safety) == (3, 2)
    assert len(obs.photos) == 2 and _count(ctx, photo_rows, observation_id=str(obs.id)) == 2
    first = next(p for p in obs.photos if p.original_path.endswith(".jpg"))
    assert (first.width, first.height) == (1365, 2048)  # upright, at most 2048 px
    assert first.exif["gps"]["GPSHPositioningError"] == 5.0 and first.created_by == "anna"
    full = Image.open(photos.file(first.full_path))
    assert full.size == (1365, 2048) and not full.getexif()
    assert photos.file(first.original_path).read_bytes() == shot
    assert not [n for n in _files(data_dir) if n.endswith(".tmp")] and len(_files(data_dir)) == 6
    detail = recording.walk_detail(ctx, STAFF, walk.id)
    assert [o.id for o in detail.findings] == [obs.id] and len(detail.findings[0].photos) == 2


def test_saving_twice_stores_one_finding_and_one_set_of_photos(ctx, walk, data_dir):
    data = _finding(walk)
    uploads = [Upload("a.jpg", images.jpeg()), Upload("b.png", images.png())]
    first, created = recording.record_observation(ctx, STAFF, data, photos=uploads)
    again, created_again = recording.record_observation(ctx, STAFF, data, photos=uploads)
    assert (created, created_again) == (True, False)
    assert again.id == first.id and {p.id for p in again.photos} == {p.id for p in first.photos}
    assert first.area_id == again.area_id == "blokland"  # derived from the point (none was given)
    assert first.created_by == again.created_by == "anna"
    assert _count(ctx, observations) == 1 and _count(ctx, photo_rows) == 2
    assert [o.id for o in recording.walk_observations(ctx, STAFF, walk.id)] == [data["id"]]
    assert len(_files(data_dir)) == 6


def test_save_after_the_walk_ended_elsewhere_still_answers_a_retry(ctx, walk):
    data = _finding(walk)
    recording.record_observation(ctx, STAFF, data)
    recording.end_walk(ctx, OTHER, walk.id)
    stored, created = recording.record_observation(ctx, STAFF, data)  # the retry of a save that got through
    assert not created and stored.id == data["id"]


@pytest.mark.parametrize(("data", "danish", "english"), [
    ({"category": "lighting"}, ["Placering: skal udfyldes."], ["Location: is required."]),
    ({**BLOKLAND}, ["Kategori: skal udfyldes."], ["Category: is required."]),
    ({"category": ""}, ["Placering: skal udfyldes.", "Kategori: skal udfyldes."],
     ["Location: is required.", "Category: is required."]),
])
def test_nothing_is_saved_without_location_and_category_and_the_message_says_what_is_missing(
        ctx, walk, data, danish, english):
    with pytest.raises(InvalidInput) as err:
        recording.record_observation(ctx, STAFF, {"walk_id": walk.id, **data})
    assert err.value.messages("da") == danish and err.value.messages("en") == english
    assert _count(ctx, observations) == 0


def test_other_validation_messages_are_translated(ctx, walk):
    with pytest.raises(InvalidInput) as err:
        recording.record_observation(ctx, STAFF, _finding(walk, severity=5))
    assert err.value.message("da") == "Alvor: skal være mellem 1 og 3, ikke 5."
    with pytest.raises(InvalidInput) as err:
        recording.record_observation(ctx, STAFF, _finding(walk, lon=12.60, lat=55.68))
    assert "uden for Albertslund Kommune" in err.value.message("da")
    assert _count(ctx, observations) == 0


def test_a_bad_photo_stores_nothing(ctx, walk, data_dir):
    with pytest.raises(PhotoError) as err:
        recording.record_observation(ctx, STAFF, _finding(walk),
                                     photos=[Upload("god.jpg", images.jpeg()), Upload("noter.txt", b"ikke et foto")])
    assert err.value.message("da").startswith("noter.txt er ikke et billede")
    assert _count(ctx, observations) == 0 and _count(ctx, photo_rows) == 0 and _files(data_dir) == []


def test_a_failure_inside_the_transaction_leaves_no_rows_and_no_files(ctx, walk, data_dir, monkeypatch):
    def fail(*_args):
        raise RuntimeError("disk full")
    monkeypatch.setattr(recording, "_with_photos", fail)  # runs after the files were renamed into place
    with pytest.raises(RuntimeError):
        recording.record_observation(ctx, STAFF, _finding(walk), photos=[Upload("a.jpg", images.jpeg())])
    assert _count(ctx, observations) == 0 and _count(ctx, photo_rows) == 0 and _files(data_dir) == []


def test_a_failed_retry_keeps_the_files_of_the_first_save(ctx, walk, data_dir, monkeypatch):
    data, uploads = _finding(walk), [Upload("a.jpg", images.jpeg())]
    recording.record_observation(ctx, STAFF, data, photos=uploads)
    before = _files(data_dir)
    monkeypatch.setattr(recording, "_with_photos", lambda *_: (_ for _ in ()).throw(RuntimeError("lost")))
    with pytest.raises(RuntimeError):
        recording.record_observation(ctx, STAFF, data, photos=uploads)
    assert _files(data_dir) == before and _count(ctx, photo_rows) == 1


# ---------------------------------------------------------------- correcting
def test_edit_changes_fields_moves_and_rederives_the_area(ctx, walk):
    obs, _ = recording.record_observation(ctx, STAFF, _finding(walk, internal_note="Lampe ud"))
    edited = recording.edit_observation(ctx, OTHER, obs.id, {
        "category": "overgrowth", "severity": 3, "perceived_safety": 1, "internal_note": "Hæk skygger for lampen",
        **GALGEBAKKEN, "location_source": "gps", "gps_accuracy_m": 8.0}, expected_updated_at=obs.updated_at)
    assert (edited.category, edited.severity, edited.perceived_safety) == ("overgrowth", 3, 1)
    assert (edited.area_id, edited.location_source.value, edited.updated_by) == ("galgebakken", "gps", "bo")
    assert edited.created_by == "anna" and edited.updated_at > obs.updated_at
    stored = recording.walk_observations(ctx, STAFF, walk.id)[0]
    assert (stored.internal_note, stored.lon) == ("Hæk skygger for lampen", GALGEBAKKEN["lon"])
    assert stored.area_id == "galgebakken"


def test_edit_on_stale_data_is_refused(ctx, walk):
    obs, _ = recording.record_observation(ctx, STAFF, _finding(walk))
    recording.edit_observation(ctx, OTHER, obs.id, {"severity": 3})
    with pytest.raises(Conflict) as err:
        recording.edit_observation(ctx, STAFF, obs.id, {"severity": 1}, expected_updated_at=obs.updated_at)
    assert err.value.message("da").startswith("bo har rettet fundet imens")
    assert recording.walk_observations(ctx, STAFF, walk.id)[0].severity == 3


def test_edit_validates_and_only_touches_editable_fields(ctx, walk):
    obs, _ = recording.record_observation(ctx, STAFF, _finding(walk))
    with pytest.raises(InvalidInput, match="Severity"):
        recording.edit_observation(ctx, STAFF, obs.id, {"severity": 0})
    with pytest.raises(ValueError, match="published"):
        recording.edit_observation(ctx, STAFF, obs.id, {"published": True})
    with pytest.raises(ValueError):
        recording.edit_observation(ctx, STAFF, obs.id, {"lon": 12.36})
    with pytest.raises(NotFound):
        recording.edit_observation(ctx, STAFF, uuid.uuid4(), {"severity": 1})


def test_edit_adds_and_removes_photos(ctx, walk, data_dir):
    obs, _ = recording.record_observation(ctx, STAFF, _finding(walk), photos=[Upload("a.jpg", images.jpeg())])
    edited = recording.edit_observation(ctx, STAFF, obs.id, {}, photos=[Upload("b.heic", images.heic())],
                                        remove_photos=[obs.photos[0].id])
    assert [p.original_path.rsplit(".", 1)[1] for p in edited.photos] == ["heic"]
    assert _count(ctx, photo_rows, observation_id=str(obs.id), deleted=False) == 1
    with pytest.raises(PhotoError):
        recording.edit_observation(ctx, STAFF, obs.id, {"severity": 3}, photos=[Upload("x.jpg", b"x")])
    assert recording.walk_observations(ctx, STAFF, walk.id)[0].severity == 2


def test_delete_is_soft_and_records_who_and_when(ctx, walk):
    obs, _ = recording.record_observation(ctx, STAFF, _finding(walk))
    deleted = recording.delete_observation(ctx, OTHER, obs.id)
    assert deleted.deleted and deleted.deleted_by == "bo" and deleted.deleted_at is not None
    assert recording.walk_observations(ctx, STAFF, walk.id) == []
    assert _count(ctx, observations, deleted=True) == 1  # still in the database
    again = recording.delete_observation(ctx, STAFF, obs.id)
    assert (again.deleted_by, again.deleted_at) == ("bo", deleted.deleted_at)
    with pytest.raises(NotFound):
        recording.edit_observation(ctx, STAFF, obs.id, {"severity": 3})


def test_roles_are_checked_in_every_service(ctx, walk):
    obs, _ = recording.record_observation(ctx, STAFF, _finding(walk))
    calls = [lambda: recording.start_walk(ctx, PUBLIC, {"title": "x"}),
             lambda: recording.end_walk(ctx, PUBLIC, walk.id),
             lambda: recording.resume_walk(ctx, PUBLIC, walk.id),
             lambda: recording.recent_walks(ctx, PUBLIC),
             lambda: recording.walk_detail(ctx, PUBLIC, walk.id),
             lambda: recording.record_observation(ctx, PUBLIC, _finding(walk)),
             lambda: recording.edit_observation(ctx, PUBLIC, obs.id, {"severity": 3}),
             lambda: recording.delete_observation(ctx, PUBLIC, obs.id)]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    with pytest.raises(PermissionDenied) as err:
        recording.record_observation(ctx, PUBLIC, {**BLOKLAND, "category": "lighting"})
    assert "må ikke registrere fund" in err.value.message("da")
    assert recording.walk_observations(ctx, STAFF, walk.id)[0].severity == 2
    assert _count(ctx, observations) == 1
