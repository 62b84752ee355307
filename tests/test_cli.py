"""The command line, run as a user would: `python -m dke_geo ...` in a subprocess."""
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

ROOT = Path(__file__).resolve().parents[1]


def run(env, *args, check=True):
    proc = subprocess.run([sys.executable, "-m", "dke_geo", *args], cwd=ROOT, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120)
    if check and proc.returncode:
        raise AssertionError(proc.stdout + proc.stderr)
    return proc


@pytest.fixture
def env(tmp_path):
    return {"DKE_GEO_DATA_DIR": str(tmp_path / "data"), "DKE_GEO_DATABASE_URL": ""}


def test_init_db_is_idempotent_and_demo_fills_an_empty_database(env, tmp_path):
    assert "database ready" in run(env, "init-db").stdout
    run(env, "init-db")
    out = run(env, "demo").stdout
    assert "3 walks" in out and "demo-medarbejder" in out
    assert run(env, "demo", check=False).returncode == 1  # refuses a database with data
    assert "already holds data" in run(env, "demo", "--if-empty").stdout
    listing = run(env, "areas", "list").stdout
    assert "blokland" in listing and "200 findings" in listing
    assert (tmp_path / "data" / "dke_geo.sqlite").exists()


def test_areas_import_reports_and_refuses_clearly(env, tmp_path):
    run(env, "init-db")
    good = tmp_path / "omraader.geojson"
    gpd.GeoDataFrame({"navn": ["Blokland"]}, geometry=[shapely.box(12.352, 55.658, 12.362, 55.663)],
                     crs=4326).to_file(good, driver="GeoJSON")
    out = run(env, "areas", "import", str(good), "--name-field", "navn").stdout
    assert "1 areas imported" in out
    bad = run(env, "areas", "import", str(good), "--name-field", "name", check=False)
    assert bad.returncode == 1 and "navn" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.parametrize("args", [[], ["init-db"], ["demo"], ["areas"], ["areas", "list"], ["areas", "import"]])
def test_every_command_has_help(args, env):
    out = run(env, *args, "--help").stdout
    assert "Usage" in out
