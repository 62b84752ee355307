"""`python -m dke_geo fixes list [--overdue] [--format csv]` on a real database with the demo fixes."""
import csv
import io
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, prepare_app_data


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory):
    return {**os.environ, **prepare_app_data(tmp_path_factory.mktemp("cli-fixes"))}


def _run(env, *args):
    return subprocess.run([sys.executable, "-m", "dke_geo", "fixes", "list", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)


def test_list_shows_every_fix_overdue_first(cli_env):
    out = _run(cli_env)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[-1] == "6 fixes, 3 overdue"
    assert [line.startswith("OVERDUE") for line in lines[:-1]] == [True] * 3 + [False] * 3
    assert any("verified" in line and "Nye lamper langs stien" in line for line in lines)


def test_overdue_only(cli_env):
    out = _run(cli_env, "--overdue")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[-1] == "3 fixes, 3 overdue" and all(line.startswith("OVERDUE") for line in lines[:-1])
    assert not any("rejected" in line or "verified" in line for line in lines)


def test_csv_for_a_spreadsheet(cli_env):
    out = _run(cli_env, "--format", "csv", "--lang", "en", "--overdue")
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert len(rows) == 3 and {r["overdue"] for r in rows} == {"True"}
    assert {r["state"] for r in rows} == {"Proposed", "Approved", "In progress"}
    assert "Environment & Technical Services" in {r["organisation"] for r in rows}
    assert all(r["is_demo"] == "True" for r in rows)


def test_bad_format_is_refused(cli_env):
    out = _run(cli_env, "--format", "xlsx")
    assert out.returncode == 1 and "--format must be table or csv" in out.stderr and not out.stdout



FORMULAS = {"title": '=HYPERLINK("http://evil.example/x","Klik her")', "contact_role": "@SUM(1+1)*cmd|' /C calc'!A0"}


def add_formula_fix(env: dict) -> None:
    """A fix whose title and contact role were typed as spreadsheet formulas, in the app database of `env`."""
    from dke_geo import fixtures
    from dke_geo.roles import SYSTEM
    from dke_geo.services import fixes as fix_service
    from dke_geo.services import recording
    from tests.conftest import context_for

    with context_for(env) as ctx:
        walk = fixtures.demo_walks_and_observations()[0][0]
        finding = recording.walk_observations(ctx, SYSTEM, walk.id)[0]
        fix_service.create_fix(ctx, SYSTEM, {**FORMULAS, "observation_ids": [finding.id], "organisation": "bo-vest"})


def assert_formulas_guarded(data: bytes) -> None:
    """`data` is the board's CSV: a BOM, the formula fix's cells as text (a leading apostrophe), and no cell that a
    spreadsheet would run."""
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    (row,) = [r for r in rows if "HYPERLINK" in r["title"]]
    assert row["title"] == "'" + FORMULAS["title"] and row["contact_role"] == "'" + FORMULAS["contact_role"]
    for r in rows:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in r.values()), r


def test_csv_guards_formulas_typed_into_a_fix(tmp_path):
    """A title or contact role typed as a formula reaches the spreadsheet as text, with the BOM Excel needs for
    æøå: the same guard as `export` (issue 13, point 7)."""
    env = prepare_app_data(tmp_path)
    add_formula_fix(env)
    done = subprocess.run([sys.executable, "-m", "dke_geo", "fixes", "list", "--format", "csv"], cwd=ROOT,
                          env={**os.environ, **env}, capture_output=True)
    assert done.returncode == 0, done.stderr
    assert_formulas_guarded(done.stdout)
