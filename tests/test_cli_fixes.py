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
