"""Whole-column reads (store.columnar) on a real SQLite file and a real PostGIS: the same rows and values as
SQLAlchemy reads them, typed by the table, whatever order NULLs and values come in."""
import pandas as pd
import pytest
from sqlalchemy import select

from dke_geo import fixtures
from dke_geo.store import columnar
from dke_geo.store import observations as obs_store
from dke_geo.store.db import bulk_insert, reading, transaction
from dke_geo.store.tables import observations
from tests.conftest import open_database

COLUMNS = ("id", "walk_id", "lon", "lat", "area_id", "category", "severity", "perceived_safety", "observed_at",
           "deleted_at", "light_condition", "published", "is_demo")


def _load(engine, n: int, seed: int = 4) -> pd.DataFrame:
    """n synthetic findings, the first 1,500 without area, perceived safety or walk (the SQLite driver would
    otherwise type those columns from NULLs), and perceived safety set further on."""
    walk_frame = fixtures.synthetic_walks(10, seed)
    rows = fixtures.synthetic_observation_rows(n, seed, walk_frame)
    rows.loc[:1499, ["area_id", "walk_id"]] = None
    rows["perceived_safety"] = [None] * 1500 + [k % 5 + 1 for k in range(n - 1500)]
    rows.loc[n - 1, "is_demo"] = False
    with transaction(engine) as conn:
        bulk_insert(conn, "walks", walk_frame)
        bulk_insert(conn, "observations", rows)
    return rows


def test_frame_has_the_rows_and_values_sqlalchemy_reads(ctx):
    _load(ctx.engine, 4000)
    frame = obs_store.frame(ctx.columns, COLUMNS)
    with reading(ctx.engine) as conn:
        expected = pd.DataFrame([tuple(r) for r in conn.execute(select(*[observations.c[c] for c in COLUMNS]))],
                                columns=COLUMNS)
    assert len(frame) == 4000 and frame["id"].is_unique and set(frame["id"]) == set(expected["id"])
    frame, expected = frame.set_index("id").loc[expected["id"]], expected.set_index("id")
    assert frame["area_id"].isna().sum() == expected["area_id"].isna().sum() >= 1500
    assert frame["walk_id"].isna().sum() == 1500
    for column in ("lon", "lat", "severity", "category", "light_condition"):
        assert frame[column].tolist() == expected[column].tolist(), column
    assert frame["area_id"].fillna("-").tolist() == expected["area_id"].fillna("-").tolist()
    assert frame["perceived_safety"].fillna(0).astype(int).tolist() == expected["perceived_safety"].fillna(0).tolist()
    assert (frame["observed_at"] == pd.to_datetime(expected["observed_at"].tolist(), utc=True)).all()
    assert str(frame["observed_at"].dt.tz) == "Europe/Copenhagen" and frame["deleted_at"].isna().all()
    assert frame["is_demo"].dtype == bool and frame["is_demo"].sum() == 3999 and frame["published"].dtype == bool


def test_sqlite_reads_in_row_ranges_lose_and_repeat_nothing(tmp_path, monkeypatch):
    ctx = open_database(f"sqlite:///{tmp_path / 'ranges.sqlite'}")
    rows = _load(ctx.engine, 3001)
    monkeypatch.setattr(columnar, "SQLITE_READERS", 3)
    assert len(columnar._row_ranges(ctx.engine, select(observations.c.id))) == 3
    frame = obs_store.frame(ctx.columns, ("id", "area_id"))
    assert len(frame) == 3001 and sorted(frame["id"]) == sorted(rows["id"])
    ctx.close()


def test_an_empty_table_gives_an_empty_frame_with_the_columns(ctx):
    frame = obs_store.frame(ctx.columns, COLUMNS)
    assert frame.empty and list(frame.columns) == list(COLUMNS)


@pytest.mark.parametrize("column", ["area_id", "walk_id"])
def test_a_column_that_is_null_throughout_stays_missing(ctx, column):
    _load(ctx.engine, 1600)
    with transaction(ctx.engine) as conn:
        conn.execute(observations.update().values({column: None}))
    assert obs_store.frame(ctx.columns, ("id", column))[column].isna().all()
