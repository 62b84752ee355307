"""The synthetic findings the benchmarks load: valid rows, deterministic, inserted in bulk."""
import pandas as pd
from sqlalchemy import func, select

from dke_geo import fixtures, geo
from dke_geo.categories import categories
from dke_geo.light import light_condition
from dke_geo.model import Observation
from dke_geo.services import maintenance
from dke_geo.store import observations as obs_store
from dke_geo.store.db import reading
from dke_geo.store.tables import incident_reports, observations


def test_rows_are_valid_findings_and_the_same_for_the_same_seed():
    rows = fixtures.synthetic_observation_rows(2000, seed=5)
    assert rows.equals(fixtures.synthetic_observation_rows(2000, seed=5))
    assert rows["id"].is_unique and set(rows["category"]) <= set(categories())
    assert rows["area_id"].notna().mean() > 0.9  # in the housing areas (a few cluster points spill over)
    assigned = pd.Series(geo.assign_areas(rows["lon"], rows["lat"], geo.layer("areas")))
    assert assigned.fillna("-").tolist() == rows["area_id"].fillna("-").tolist()
    sample = rows.sample(50, random_state=1)
    assert all(light_condition(at.to_pydatetime()).value == lc
               for at, lc in zip(sample["observed_at"], sample["light_condition"], strict=True))
    record = rows.head(1).to_dict("records")[0]
    Observation.model_validate({k: v for k, v in record.items() if k in Observation.model_fields})


def test_bulk_load(ctx):
    counts = maintenance.load_synthetic(ctx, 3000, seed=3, reports=300)
    assert counts == {"walks": 10, "observations": 3000, "incident_reports": 300}
    with reading(ctx.engine) as conn:
        assert conn.execute(select(func.count()).select_from(observations)).scalar_one() == 3000
        assert conn.execute(select(func.count()).select_from(incident_reports)).scalar_one() == 300
    frame = obs_store.frame(ctx.columns)
    assert frame["observed_at"].min().year >= 2017 and frame["area_id"].notna().sum() > 2700
    with reading(ctx.engine) as conn:  # bulk_insert (COPY / executemany) stores rows the model reads back
        for row in conn.execute(select(observations).limit(50)):
            obs_store.to_model(row)
