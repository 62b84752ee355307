"""A throwaway PostgreSQL + PostGIS cluster on 127.0.0.1, for the tests (tests/conftest.py) and the benchmarks
(bench/): initdb in a temp dir, run as the `postgres` OS user when we are root (PostgreSQL refuses to run as
root), durability switched off because the data is thrown away. No pytest here, so bench/ can use it too."""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text


class PostgisMissing(RuntimeError):
    """PostgreSQL or PostGIS is not installed."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    """A throwaway PostgreSQL cluster on 127.0.0.1 in a temp dir, run as the `postgres` OS user when
    the caller runs as root. `start`/`stop` can be repeated (same data, same port): the fault tests stop
    the server in the middle of use."""

    def __init__(self):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not bins or not glob.glob("/usr/share/postgresql/*/extension/postgis.control"):
            raise PostgisMissing("PostgreSQL + PostGIS are required: apt-get install postgresql-15-postgis-3 "
                                 "(or run .ci/run)")
        self.bin = str(Path(bins[-1]).parent)
        self.tmp = tempfile.mkdtemp(prefix="dke-pg-")
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.tmp, pw.pw_uid, pw.pw_gid)
            self.prefix = ["runuser", "-u", "postgres", "--"]
        self.data = os.path.join(self.tmp, "data")
        self.port = free_port()

    def run(self, *args, check=True):
        return subprocess.run(self.prefix + list(args), check=check, capture_output=True, text=True)

    def start(self, settings: str = ""):
        """Start the server (initdb on first start); `settings` are extra `-c name=value` options."""
        if not os.path.exists(self.data):
            self.run(f"{self.bin}/initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                     "--no-sync")
        self.run(f"{self.bin}/pg_ctl", "-D", self.data, "-l", f"{self.tmp}/server.log", "-w", "-t", "60", "-o",
                 f"-p {self.port} -k {self.tmp} -c listen_addresses=127.0.0.1 -c fsync=off "
                 f"-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 {settings}", "start")
        return self

    def stop(self):
        self.run(f"{self.bin}/pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop", check=False)

    def remove(self):
        """Stop the server and delete its files."""
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def url(self, db: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{db}"

    def new_database(self, prefix: str, template: str | None = None) -> str:
        """A new database with a unique name starting with `prefix`, empty or a copy of `template`; its URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        self.admin(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
        return self.url(name)

    def admin(self, sql: str) -> None:
        engine = create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(sql))
        engine.dispose()
