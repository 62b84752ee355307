"""The settings table: every setting documented in the README, and a bad one stops the CLI and the app at
start-up with a message naming the variable (not at first use)."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dke_geo import config

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_in_the_readme_table():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(DKE_GEO_[A-Z_]+)` \|", readme, flags=re.M))
    assert documented == {s.name for s in config.SETTINGS}


@pytest.mark.parametrize(("name", "value", "says"), [
    ("DKE_GEO_LANGAUGE", "en", "unknown setting"),
    ("DKE_GEO_BOUNDARY_MARGIN_M", "two hundred", "must be a number"),
    ("DKE_GEO_LANGUAGE", "de", "must be one of da, en"),
    ("DKE_GEO_DATABASE_URL", "mysql://x@y/z", "not supported"),
    ("DKE_GEO_DATABASE_URL", "not a url", "not a database URL"),
    ("DKE_GEO_TILE_URL", "tiles.example/{z}/{x}/{y}.png", "http(s) URL template"),
    ("DKE_GEO_TRUSTED_PROXIES", "yes", "whole number from 0 to 10"),
    ("DKE_GEO_PUBLIC_URL", "dke-geo.albertslund.dk", "http(s) address"),
    ("DKE_GEO_SMTP_FROM", "DKE Albertslund", "must be an e-mail address"),
    ("DKE_GEO_SMTP_HOST", "smtp.albertslund.dk", "required when DKE_GEO_SMTP_HOST is set"),
])
def test_a_bad_setting_stops_the_command_line_before_it_does_anything(tmp_path, name, value, says):
    env = {**os.environ, "DKE_GEO_DATA_DIR": str(tmp_path / "data"), name: value}
    out = subprocess.run([sys.executable, "-m", "dke_geo", "init-db"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 2
    named = "DKE_GEO_SMTP_FROM" if name == "DKE_GEO_SMTP_HOST" else name  # a host needs a sender: FROM is named
    assert out.stderr.startswith(f"{named}: ") and says in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "data").exists()  # nothing was created


def test_good_settings_are_read_and_checked():
    settings = config.load({"DKE_GEO_LANGUAGE": "en", "DKE_GEO_DATA_DIR": "/srv/dke", "DKE_GEO_TILE_URL": ""})
    assert settings.language == "en" and settings.data_dir == Path("/srv/dke")
    assert settings.database_url == "sqlite:////srv/dke/dke_geo.sqlite"
    assert config.load({}) == config.load({})  # hashable and equal: one app context per configuration


def test_a_bad_setting_stops_the_app_with_its_name(app_test, tmp_path):
    at = app_test({"DKE_GEO_DATA_DIR": str(tmp_path), "DKE_GEO_BOUNDARY_MARGIN_M": "-5"}).run()
    assert not at.exception
    assert "DKE_GEO_BOUNDARY_MARGIN_M" in at.error[0].value and "indstilling" in at.error[0].value
    assert not at.get("component_instance")  # no page was drawn


def test_the_app_asks_for_init_db_on_an_unprepared_database(app_test, tmp_path):
    at = app_test({"DKE_GEO_DATA_DIR": str(tmp_path)}).run()
    assert "init-db" in at.error[0].value


def test_streamlit_runs_with_the_photo_limit_and_its_protections():
    """What Streamlit itself reads from .streamlit/config.toml (its own `config show`): the file picker's limit is the
    25 MB the app enforces on photos (issue 13, point 9), CORS and XSRF protection are on with a same-site cookie,
    and an unexpected error shows no details (issue 13, point 10)."""
    from dke_geo import photos

    shown = subprocess.run([sys.executable, "-m", "streamlit", "config", "show"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout
    values = dict(re.findall(r"^(\w+) = (.+)$", shown, flags=re.M))
    assert int(values["maxUploadSize"]) == photos.MAX_BYTES // 2**20 == 25
    assert (values["enableCORS"], values["enableXsrfProtection"]) == ("true", "true")
    assert (values["xsrfCookieSameSite"], values["showErrorDetails"]) == ('"strict"', '"none"')
