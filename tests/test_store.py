"""The repository on a real SQLite file and a real PostGIS database: round trips, idempotent create,
all-or-nothing transactions."""
import uuid
import warnings
from datetime import datetime

import pytest
from sqlalchemy import func, select, text

from dke_geo.model import TZ, Observation, Walk
from dke_geo.store import observations as obs_store
from dke_geo.store import walks as walk_store
from dke_geo.store.db import ConstraintViolation, data_version, reading, transaction
from dke_geo.store.tables import observations, walks

BLOKLAND = (12.3573, 55.6602)


def _walk(**kw) -> Walk:
    return Walk(title="Aftenvandring", area_ids=["blokland"], started_at=datetime(2017, 4, 20, 21, 30, tzinfo=TZ),
                organisations=[{"organisation": "dke", "count": 3}], **kw)


def _obs(walk_id=None, **kw) -> Observation:
    data = {"lon": BLOKLAND[0], "lat": BLOKLAND[1], "category": "lighting", "severity": 3,
            "internal_note": "Lampe ud – æøå", "observed_at": datetime(2017, 4, 20, 21, 30, tzinfo=TZ),
            "walk_id": walk_id, **kw}
    return Observation.model_validate(data)


def test_walk_round_trip(engine):
    walk = _walk(focus="Belysning")
    with transaction(engine) as conn:
        assert walk_store.add(conn, walk)
    with reading(engine) as conn:
        back = walk_store.get(conn, walk.id)
    assert back == walk
    assert back.light_condition.value == "dark"
    assert back.started_at.utcoffset().total_seconds() == 7200  # CEST, read back in Europe/Copenhagen


def test_observation_round_trip(engine):
    walk = _walk()
    obs = _obs(walk.id, perceived_safety=2, gps_accuracy_m=7.5, area_id="blokland")
    with transaction(engine) as conn:
        walk_store.add(conn, walk)
        assert obs_store.add(conn, obs)
    with reading(engine) as conn:
        back = obs_store.get(conn, obs.id)
        listed = obs_store.for_walk(conn, walk.id)
    assert back == obs
    assert [o.id for o in listed] == [obs.id]
    assert back.internal_note == "Lampe ud – æøå"


def test_same_uuid_twice_is_stored_once(engine):
    obs = _obs()
    with transaction(engine) as conn:
        assert obs_store.add(conn, obs) is True
    with transaction(engine) as conn:
        assert obs_store.add(conn, obs.model_copy(update={"severity": 1})) is False
    with reading(engine) as conn:
        assert conn.execute(select(func.count()).select_from(observations)).scalar_one() == 1
        assert obs_store.get(conn, obs.id).severity == 3  # the first save stands


def test_failed_transaction_leaves_nothing(engine):
    walk = _walk()
    with pytest.raises(RuntimeError), transaction(engine) as conn:
        walk_store.add(conn, walk)
        obs_store.add(conn, _obs(walk.id))
        raise RuntimeError("crash in the middle of a save")
    with reading(engine) as conn:
        assert conn.execute(select(func.count()).select_from(walks)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(observations)).scalar_one() == 0


def test_foreign_key_is_enforced(engine):
    with pytest.raises(ConstraintViolation, match="(?i)foreign key"), transaction(engine) as conn:
        obs_store.add(conn, _obs(uuid.uuid4()))
    with reading(engine) as conn:
        assert conn.execute(select(func.count()).select_from(observations)).scalar_one() == 0


def test_data_version_grows_with_each_write(engine):
    with reading(engine) as conn:
        before = data_version(conn)
    with transaction(engine) as conn:
        obs_store.add(conn, _obs())
    with reading(engine) as conn:
        assert data_version(conn) == before + 1


@pytest.mark.postgis
def test_postgis_geometry_column_and_index(pg_url):
    from dke_geo.store.db import make_engine, migrate
    engine = make_engine(pg_url)
    migrate(engine)
    obs = _obs()
    with transaction(engine) as conn:
        obs_store.add(conn, obs)
    with reading(engine) as conn:
        geom_type, srid, x, y = conn.execute(text(
            "SELECT GeometryType(geom), ST_SRID(geom), ST_X(geom), ST_Y(geom) FROM observations")).one()
        index = conn.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_observations_geom'")).scalar()
        column = conn.execute(text("SELECT type FROM geometry_columns WHERE f_table_name = 'observations'")).scalar()
    assert (geom_type, srid) == ("POINT", 4326)
    assert (x, y) == pytest.approx(BLOKLAND)
    assert "USING gist" in index
    assert column == "POINT"
    engine.dispose()


def test_sqlite_is_in_wal_mode_with_foreign_keys(sqlite_url):
    from dke_geo.store.db import make_engine, migrate
    engine = make_engine(sqlite_url)
    migrate(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_migrate_is_idempotent(engine):
    from dke_geo.store.db import migrate, schema_is_current
    migrate(engine)
    migrate(engine)
    assert schema_is_current(engine)


def test_the_migrations_make_exactly_the_tables_the_code_queries(engine):
    """Alembic's comparison of the migrated database with store/tables.py finds nothing to change (PostGIS's own
    geometry columns and tables aside), so a table or column added in one place but not the other fails here."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from dke_geo.store.tables import metadata

    def ours(obj, name, type_, reflected, compare_to):
        postgis = (type_ == "column" and name == "geom") or (type_ == "index" and name.endswith("_geom")) or (
            type_ == "table" and name == "spatial_ref_sys")
        return not postgis

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": ours, "compare_type": True})
        with warnings.catch_warnings():  # SQLAlchemy does not know PostGIS's geometry type: it is left out above
            warnings.simplefilter("ignore")
            assert compare_metadata(context, metadata) == []
