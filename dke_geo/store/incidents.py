"""Incident reports (police, residents) in the database: kept apart from walk findings, read by the
planner map as their own density layer."""
from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from sqlalchemy import Connection, select

from dke_geo.store import columnar
from dke_geo.store.db import bulk_insert
from dke_geo.store.tables import incident_reports

FRAME_COLUMNS = ("id", "external_id", "source", "reported_at", "type", "lon", "lat", "area_id", "is_demo")


def frame(reader: columnar.ColumnReader, columns: Iterable[str] = FRAME_COLUMNS) -> pd.DataFrame:
    """The reports as a DataFrame (the fast path for the density layer; store.columnar)."""
    return reader.frame(select(*[incident_reports.c[c] for c in columns]))


def add_frame(conn: Connection, rows: pd.DataFrame) -> int:
    """Store many reports given as a frame of model values (an import) in the caller's transaction, skipping any
    whose id or external id is stored; returns how many were new."""
    return bulk_insert(conn, "incident_reports", rows, skip_existing=True)


def stored_keys(reader: columnar.ColumnReader) -> tuple[pd.Series, pd.Series]:
    """Every stored id and external id: what an import skips, read as whole columns."""
    keys = reader.frame(select(incident_reports.c.id, incident_reports.c.external_id))
    return keys["id"], keys["external_id"].dropna()
