"""Schema migrations on data written by an older revision, on a real SQLite file and a real PostGIS database.

0002: the organisations of walks stored before it (labels in the recorder's language) become ids from
data/organisations.toml; a label it cannot map becomes `andre` with the label kept; the downgrade gives labels
back in Danish.
"""
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from dke_geo.store import walks as walk_store
from dke_geo.store.db import MIGRATIONS, make_engine, reading

T0 = datetime(2017, 4, 20, 19, 0, tzinfo=UTC)
# the walks table as revision 0001 made it (not dke_geo.store.tables, which follows the newest revision)
WALKS_0001 = sa.table("walks", *(sa.column(name) for name in (
    "id", "title", "kind", "focus", "notes", "light_condition", "is_demo", "created_by")),
    sa.column("started_at", sa.DateTime(timezone=True)), sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("area_ids", sa.JSON), sa.column("organisations", sa.JSON))

STORED_0001 = {  # walk title -> its organisations as the recording page and the demo stored them before 0002
    "danish": [{"name": "Den Kriminalpræventive Enhed", "count": 3}, {"name": "Boligselskabet", "count": 2},
               {"name": "Miljø & Teknik", "count": 2}, {"name": "Politiet", "count": 1},
               {"name": "Beboere", "count": 9}, {"name": "Hjemmeplejen", "count": 1}],
    "english": [{"name": "Crime Prevention Unit", "count": 3}, {"name": "Housing association", "count": 2},
                {"name": "Environment & Technical Services", "count": 2}, {"name": "Police", "count": 1},
                {"name": "Residents", "count": 9}, {"name": "Home care", "count": 1}],
    "demo": [{"name": "Den Kriminalpræventive Enhed", "count": 2}, {"name": "Hjemmeplejen, nattevagt", "count": 3},
             {"name": "Kultur", "count": 1}],
    "file labels": [{"name": "Bo-Vest / boligselskabet", "count": 2}, {"name": "Planning & Digitalisation", "count": 1},
                    {"name": " politiet ", "count": 1}, {"name": "Crime Prevention Unit (DKE)", "count": 4}],
    "unknown": [{"name": "Vejafdelingen", "count": 4}, {"name": "Beboere", "count": 2}],
    "nobody": [],
}
IDS_0002 = {
    "danish": [("dke", 3), ("bo-vest", 2), ("miljo-teknik", 2), ("politiet", 1), ("beboere", 9), ("hjemmeplejen", 1)],
    "english": [("dke", 3), ("bo-vest", 2), ("miljo-teknik", 2), ("politiet", 1), ("beboere", 9), ("hjemmeplejen", 1)],
    "demo": [("dke", 2), ("hjemmeplejen", 3), ("kultur", 1)],
    "file labels": [("bo-vest", 2), ("plan-digitalisering", 1), ("politiet", 1), ("dke", 4)],
    "unknown": [("andre", 4), ("beboere", 2)],
    "nobody": [],
}


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def empty_engine(request, tmp_path):
    """An empty database, not migrated: a SQLite file, or a new PostGIS database (0001 adds the extension)."""
    if request.param == "postgis":
        engine = make_engine(request.getfixturevalue("pg_server").new_database("migrations"))
    else:
        engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    yield engine
    engine.dispose()


def _alembic(engine: sa.Engine, action, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        action(cfg, revision)


def _organisations(engine: sa.Engine) -> dict[str, list]:
    with reading(engine) as conn:
        return dict(conn.execute(sa.select(WALKS_0001.c.title, WALKS_0001.c.organisations)).all())


def test_0002_turns_the_labels_of_stored_walks_into_organisation_ids_and_back(empty_engine):
    _alembic(empty_engine, command.upgrade, "0001")
    ids = {title: str(uuid.uuid4()) for title in STORED_0001}
    with empty_engine.begin() as conn:
        conn.execute(sa.insert(WALKS_0001), [
            {"id": ids[title], "title": title, "area_ids": ["blokland"], "started_at": T0, "kind": "on_foot",
             "focus": "", "notes": "", "light_condition": "dark", "is_demo": False, "created_by": "pia",
             "created_at": T0, "organisations": organisations} for title, organisations in STORED_0001.items()])

    _alembic(empty_engine, command.upgrade, "head")
    stored = _organisations(empty_engine)
    assert {title: [(o["organisation"], o["count"]) for o in orgs] for title, orgs in stored.items()} == IDS_0002
    assert stored["unknown"][0] == {"organisation": "andre", "label": "Vejafdelingen", "count": 4}  # kept, not dropped
    assert all("name" not in o and ("label" not in o or o["organisation"] == "andre")
               for orgs in stored.values() for o in orgs)
    with reading(empty_engine) as conn:  # the app reads them, and shows them in the reader's language
        walk = walk_store.get(conn, ids["unknown"])
        english = walk_store.get(conn, ids["english"])
    assert [o.shown("en") for o in walk.organisations] == ["Other: Vejafdelingen", "Residents"]
    assert [o.shown("da") for o in english.organisations][:2] == ["Den Kriminalpræventive Enhed (DKE)",
                                                                   "Bo-Vest / boligselskabet"]

    _alembic(empty_engine, command.downgrade, "0001")
    back = _organisations(empty_engine)
    assert back["unknown"] == [{"name": "Vejafdelingen", "count": 4}, {"name": "Beboere", "count": 2}]
    assert back["english"] == back["danish"] == [
        {"name": "Den Kriminalpræventive Enhed (DKE)", "count": 3}, {"name": "Bo-Vest / boligselskabet", "count": 2},
        {"name": "Miljø & Teknik", "count": 2}, {"name": "Politiet", "count": 1}, {"name": "Beboere", "count": 9},
        {"name": "Hjemmeplejen", "count": 1}]

    _alembic(empty_engine, command.upgrade, "head")  # and up again: the same ids
    assert _organisations(empty_engine) == stored
