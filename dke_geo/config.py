"""One settings table (name, default, help), read from the environment and checked at start-up.

`load()` is called once when the app or the command line starts: a `DKE_GEO_*` variable that is not in the
table, or one whose value cannot be used, stops the program with a message naming the variable (as Datasette
refuses an unknown setting), instead of failing at first use. Every setting is listed in the README;
tests/test_config.py checks that.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from dke_geo.i18n import LANGUAGES

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "DKE_GEO_"


class StartupError(Exception):
    """A setting that stops the program before it starts: the message names the variable."""

    def __init__(self, name: str, reason: str):
        self.name = name
        super().__init__(f"{name}: {reason}")


def _any(value: str) -> str:
    return value


def _database_url(value: str) -> str:
    if not value:
        return value
    try:
        url = make_url(value)
    except ArgumentError:
        raise ValueError("not a database URL (e.g. postgresql+psycopg://user:pw@host:5432/db)") from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ValueError(f"database {url.get_backend_name()!r} is not supported: use sqlite or postgresql")
    return value


def _tile_url(value: str) -> str:
    if value and (urlsplit(value).scheme not in ("http", "https") or "{z}" not in value):
        raise ValueError("must be an http(s) URL template with {z}, {x} and {y}, or empty for no tiles")
    return value


def _number(low: float, high: float) -> Callable[[str], str]:
    def check(value: str) -> str:
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"must be a number between {low:g} and {high:g}") from None
        if not low <= number <= high:
            raise ValueError(f"must be between {low:g} and {high:g}")
        return value
    return check


def _count(low: int, high: int) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not value.isdigit() or not low <= int(value) <= high:
            raise ValueError(f"must be a whole number from {low} to {high}")
        return value
    return check


def _language(value: str) -> str:
    if value not in LANGUAGES:
        raise ValueError(f"must be one of {', '.join(LANGUAGES)}")
    return value


def _iso_date(value: str) -> str:
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a date written YYYY-MM-DD") from None
    return value


def _public_url(value: str) -> str:
    parts = urlsplit(value)
    if value and (parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment):
        raise ValueError("must be the app's http(s) address as the organisations reach it, e.g. "
                         "https://dke-geo.albertslund.dk, or empty for messages without a report-back link")
    return value.rstrip("/")


def _address(value: str) -> str:
    """An e-mail address, optionally with a display name: "DKE Albertslund <dke-geo@albertslund.dk>"."""
    if value and not re.fullmatch(r"[^<>@\s]+@[^<>@\s]+\.[^<>@\s]+|[^<>\r\n]*<[^<>@\s]+@[^<>@\s]+\.[^<>@\s]+>", value):
        raise ValueError("must be an e-mail address, e.g. DKE Albertslund <dke-geo@albertslund.dk>")
    return value


def _host(value: str) -> str:
    if value and not re.fullmatch(r"[A-Za-z0-9.:\[\]-]+", value):
        raise ValueError("must be a host name or address, e.g. smtp.albertslund.dk")
    return value


def _file(value: str) -> str:
    if value and not Path(value).is_file():
        raise ValueError("no such file")
    return value


def _sizes(value: str) -> str:
    if value and not all(part.strip().isdigit() for part in value.split(",")):
        raise ValueError("must be numbers separated by commas, e.g. 10000,100000")
    return value


def _databases(value: str) -> str:
    if value and not set(p.strip() for p in value.split(",")) <= {"sqlite", "postgis"}:
        raise ValueError("must be sqlite, postgis or both, separated by a comma")
    return value


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str
    check: Callable[[str], str] = _any
    secret: bool = False  # never printed: not in an error message, nor in the settings' repr


SETTINGS: tuple[Setting, ...] = (
    Setting("DKE_GEO_DATABASE_URL", "",
            "SQLAlchemy URL of the database. Empty: the embedded SQLite file "
            "data/observations/dke_geo.sqlite. PostGIS: postgresql+psycopg://user:pw@host:5432/db",
            _database_url),
    Setting("DKE_GEO_DATA_DIR", str(ROOT / "data" / "observations"),
            "Folder for the embedded database and the photos (git-ignored)."),
    Setting("DKE_GEO_GEO_DIR", str(ROOT / "data" / "geo"),
            "Folder with the shipped geodata (boundary, areas, paths)."),
    Setting("DKE_GEO_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            "Map tile URL template; the only resource any page loads from another server. Empty: no tiles.",
            _tile_url),
    Setting("DKE_GEO_TILE_ATTRIBUTION", "&copy; OpenStreetMap-bidragydere",
            "Attribution shown for the tiles."),
    Setting("DKE_GEO_BOUNDARY_MARGIN_M", "200",
            "How far (metres) outside the municipality boundary a point is still accepted.", _number(0, 10_000)),
    Setting("DKE_GEO_LANGUAGE", "da", "Default UI language: da or en.", _language),
    Setting("DKE_GEO_TRUSTED_PROXIES", "0",
            "How many reverse proxies in front of the app append to X-Forwarded-For. 0: the login limit per client "
            "uses the connection's address; n: the address the outermost of the n proxies saw.", _count(0, 10)),
    Setting("DKE_GEO_EARLIEST_DATE", "2000-01-01",
            "The earliest date a finding, walk or incident report may carry (recorded or imported); later than a "
            "day from now is always refused.", _iso_date),
    Setting("DKE_GEO_SMTP_HOST", "",
            "SMTP server the messages to the responsible organisations go through (STARTTLS is required). "
            "Empty: messages stay queued in the outbox, and the fixes page says so.", _host),
    Setting("DKE_GEO_SMTP_PORT", "587", "Port of the SMTP server (submission with STARTTLS).", _number(1, 65535)),
    Setting("DKE_GEO_SMTP_USER", "", "User name for the SMTP server's AUTH (after STARTTLS). Empty: no AUTH."),
    Setting("DKE_GEO_SMTP_PASSWORD", "", "Password for the SMTP server's AUTH; never printed.", secret=True),
    Setting("DKE_GEO_SMTP_FROM", "",
            "Sender of the messages, a function mailbox: DKE Albertslund <dke-geo@albertslund.dk>. Required when "
            "DKE_GEO_SMTP_HOST is set.", _address),
    Setting("DKE_GEO_SMTP_CA_FILE", "",
            "PEM file of the certificate authority to trust for the SMTP server's STARTTLS. Empty: the system's.",
            _file),
    Setting("DKE_GEO_PUBLIC_URL", "",
            "The app's address as the organisations reach it (https://...): the report-back links in the messages "
            "point there. Empty: messages carry no link.", _public_url),
    Setting("DKE_GEO_NOTIFY_INTERVAL_S", "60",
            "How often (seconds) the app's scheduler queues due reminders and digests and sends the outbox. "
            "0: no scheduler in the app (a cron job or systemd timer runs `notify send`).", _number(0, 86_400)),
    Setting("DKE_GEO_ACCESSIBILITY_CONTACT", "",
            "How residents reach the municipality about accessibility (an e-mail address or a web form), named in the "
            "accessibility statement. Empty: the statement says to contact Albertslund Kommune."),
    Setting("DKE_GEO_LOAD_SECONDS", "30",
            "Test suite only: how long the concurrent-tablets load test runs (tests/test_concurrency.py).",
            _number(1, 3600)),
    Setting("DKE_GEO_BENCH_SIZES", "",
            "Benchmarks only: the store sizes `make bench` measures (default 10000,100000,1000000).", _sizes),
    Setting("DKE_GEO_BENCH_DATABASES", "",
            "Benchmarks only: sqlite, postgis or both (default both).", _databases),
)

_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    """The checked settings of one run (hashable: it keys the app's one context per configuration). Its repr
    masks the secret ones, so a log line or a traceback that shows it holds no password."""
    values: tuple[tuple[str, str], ...]

    def __repr__(self) -> str:
        shown = {n: ("***" if v and _BY_NAME[n].secret else v) for n, v in self.values}
        return f"Settings({shown!r})"

    def __getitem__(self, name: str) -> str:
        return dict(self.values)[name]

    @property
    def database_url(self) -> str:
        return self["DKE_GEO_DATABASE_URL"] or f"sqlite:///{self.data_dir / 'dke_geo.sqlite'}"

    @property
    def data_dir(self) -> Path:
        return Path(self["DKE_GEO_DATA_DIR"] or _BY_NAME["DKE_GEO_DATA_DIR"].default)

    @property
    def language(self) -> str:
        return self["DKE_GEO_LANGUAGE"]

    @property
    def smtp_configured(self) -> bool:
        """True when messages can be sent (an SMTP host is set); else they wait in the outbox."""
        return bool(self["DKE_GEO_SMTP_HOST"])


def load(environ: Mapping[str, str] | None = None) -> Settings:
    """Every setting from `environ` (default: the process environment), checked.

    Raises StartupError naming the first variable that is unknown or malformed.

    >>> load({"DKE_GEO_LANGUAGE": "en"})["DKE_GEO_LANGUAGE"]
    'en'
    >>> load({"DKE_GEO_LANGAUGE": "en"})
    Traceback (most recent call last):
    ...
    dke_geo.config.StartupError: DKE_GEO_LANGAUGE: unknown setting; the settings are: DKE_GEO_DATABASE_URL, ...
    """
    environ = os.environ if environ is None else environ
    for name in sorted(environ):
        if name.startswith(PREFIX) and name not in _BY_NAME:
            raise StartupError(name, "unknown setting; the settings are: " + ", ".join(_BY_NAME))
    values = []
    for setting in SETTINGS:
        raw = environ.get(setting.name, setting.default)
        try:
            values.append((setting.name, setting.check(raw.strip())))
        except ValueError as exc:
            raise StartupError(setting.name, str(exc) if setting.secret else f"{exc} (is {raw!r})") from None
    settings = Settings(tuple(values))
    if settings["DKE_GEO_SMTP_HOST"] and not settings["DKE_GEO_SMTP_FROM"]:
        raise StartupError("DKE_GEO_SMTP_FROM", "required when DKE_GEO_SMTP_HOST is set (the sender's address)")
    return settings


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


def earliest_date() -> date:
    """The earliest date a finding, walk or report may carry (DKE_GEO_EARLIEST_DATE)."""
    return date.fromisoformat(get("DKE_GEO_EARLIEST_DATE") or _BY_NAME["DKE_GEO_EARLIEST_DATE"].default)


def boundary_margin_m() -> float:
    return float(get("DKE_GEO_BOUNDARY_MARGIN_M") or _BY_NAME["DKE_GEO_BOUNDARY_MARGIN_M"].default)
