"""One settings table (name, default, help), read from the environment.

Every setting is listed in the README; tests/test_config.py checks that.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("DKE_GEO_DATABASE_URL", "",
            "SQLAlchemy URL of the database. Empty: the embedded SQLite file "
            "data/observations/dke_geo.sqlite. PostGIS: postgresql+psycopg://user:pw@host:5432/db"),
    Setting("DKE_GEO_DATA_DIR", str(ROOT / "data" / "observations"),
            "Folder for the embedded database and the photos (git-ignored)."),
    Setting("DKE_GEO_GEO_DIR", str(ROOT / "data" / "geo"),
            "Folder with the shipped geodata (boundary, areas, paths)."),
    Setting("DKE_GEO_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            "Map tile URL template; the only resource any page loads from another server. Empty: no tiles."),
    Setting("DKE_GEO_TILE_ATTRIBUTION", "&copy; OpenStreetMap-bidragydere",
            "Attribution shown for the tiles."),
    Setting("DKE_GEO_BOUNDARY_MARGIN_M", "200",
            "How far (metres) outside the municipality boundary a point is still accepted."),
    Setting("DKE_GEO_LANGUAGE", "da", "Default UI language: da or en."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def get(name: str) -> str:
    """The setting's value from the environment (set but empty counts: e.g. no tiles), else its default."""
    return os.environ.get(name, _BY_NAME[name].default)


def database_url() -> str:
    """The configured database URL, defaulting to the embedded SQLite file."""
    url = get("DKE_GEO_DATABASE_URL")
    return url or f"sqlite:///{data_dir() / 'dke_geo.sqlite'}"


def data_dir() -> Path:
    return Path(get("DKE_GEO_DATA_DIR") or _BY_NAME["DKE_GEO_DATA_DIR"].default)


def geo_dir() -> Path:
    return Path(get("DKE_GEO_GEO_DIR") or _BY_NAME["DKE_GEO_GEO_DIR"].default)


def boundary_margin_m() -> float:
    return float(get("DKE_GEO_BOUNDARY_MARGIN_M") or _BY_NAME["DKE_GEO_BOUNDARY_MARGIN_M"].default)
