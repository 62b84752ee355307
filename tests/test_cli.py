"""The command line, run as a user would: `python -m dke_geo ...` in a subprocess."""
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from dke_geo.fixtures import DEMO_USERS
from dke_geo.roles import SYSTEM
from dke_geo.services import maintenance
from dke_geo.services import users as user_service
from tests.conftest import context_for

ROOT = Path(__file__).resolve().parents[1]


def run(env, *args, check=True, input=None):
    proc = subprocess.run([sys.executable, "-m", "dke_geo", *args], cwd=ROOT, env={**os.environ, **env},
                          input=input, capture_output=True, text=True, timeout=120)
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


def _accounts_and_walks(env: dict) -> tuple[set[str], bool]:
    """The account names in the database of `env`, and whether it holds walks or findings."""
    with context_for(env) as ctx:
        return {u["name"] for u in user_service.list_users(ctx, SYSTEM)}, not maintenance.is_empty(ctx)


def test_make_run_loads_the_demo_into_a_brand_new_embedded_database_only(env):
    """`make run` runs `demo --if-empty` at every start: demo data and accounts go into the embedded database
    while it is brand new, and never once somebody has made an account (before: an administrator of their own
    did not stop the demo accounts with their public passwords)."""
    run(env, "init-db")
    assert "demo loaded" in run(env, "demo", "--if-empty").stdout
    assert _accounts_and_walks(env) == ({name for name, _, _ in DEMO_USERS}, True)

    own = {**env, "DKE_GEO_DATA_DIR": env["DKE_GEO_DATA_DIR"] + "-own"}
    run(own, "init-db")
    run(own, "user", "add", "admin", "--role", "admin", "--password-stdin", input="en-lang-kode-2024\n")
    out = run(own, "demo", "--if-empty").stdout
    assert "already has accounts: demo not loaded" in out and "demo-admin" not in out
    assert _accounts_and_walks(own) == ({"admin"}, False)
    assert "demo loaded" in run(own, "demo").stdout  # asked for by name


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def test_a_database_named_by_url_gets_the_demo_only_when_asked_for_by_name(env, tmp_path, request, database):
    """A fresh production database (DKE_GEO_DATABASE_URL set: PostGIS, or a SQLite file of one's own): `make run`
    loads no demo data and no demo accounts into it and says how to make an administrator; `demo` does."""
    url = request.getfixturevalue("pg_url") if database == "postgis" else f"sqlite:///{tmp_path / 'own.sqlite'}"
    env = {**env, "DKE_GEO_DATABASE_URL": url}
    run(env, "init-db")
    out = run(env, "demo", "--if-empty").stdout
    assert "DKE_GEO_DATABASE_URL" in out and "user add NAME --role admin" in out and "password" not in out
    assert _accounts_and_walks(env) == (set(), False)
    out = run(env, "demo").stdout
    assert "demo loaded" in out and "demo-admin-2017" in out
    assert _accounts_and_walks(env) == ({name for name, _, _ in DEMO_USERS}, True)


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
