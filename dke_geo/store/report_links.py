"""The report-back page's rate limit in the database (so that two app servers count together): one row per load
or report of a link, and per refused link from a client."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, func, insert, select

from dke_geo.store.tables import report_link_hits

KEEP = timedelta(days=1)
"""Hits older than this are removed as new ones come in: no limit looks back further."""


def hit(conn: Connection, key: str, at: datetime, since: datetime) -> int:
    """Record one hit on `key` and return how many there have been since `since`, this one included."""
    conn.execute(delete(report_link_hits).where(report_link_hits.c.at < at - KEEP))
    conn.execute(insert(report_link_hits).values(key=key[:200], at=at))
    return conn.execute(select(func.count()).select_from(report_link_hits)
                        .where(report_link_hits.c.key == key[:200], report_link_hits.c.at >= since)).scalar_one()
