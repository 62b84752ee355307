"""An administrator's overrides of the organisations' contacts (data/organisations.toml), each change also
appended to organisation_contact_events with who and when."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, insert, select

from dke_geo.store.tables import organisation_contact_events, organisation_contacts


def overrides(conn: Connection) -> dict[str, dict]:
    """organisation id -> {email, language, updated_by, updated_at} for every override."""
    rows = conn.execute(select(organisation_contacts))
    return {r.organisation: {k: v for k, v in r._mapping.items() if k != "organisation"} for r in rows}


def set_override(conn: Connection, organisation: str, email: str, language: str, by: str, at: datetime) -> None:
    """Store (or with an empty `email`, remove) the override, and its event, in the caller's transaction."""
    conn.execute(delete(organisation_contacts).where(organisation_contacts.c.organisation == organisation))
    if email:
        conn.execute(insert(organisation_contacts).values(organisation=organisation, email=email, language=language,
                                                          updated_by=by, updated_at=at))
    conn.execute(insert(organisation_contact_events).values(organisation=organisation, at=at, by=by, email=email,
                                                             language=language))


def events(conn: Connection, organisation: str | None = None) -> list[dict]:
    """The changes, newest first (of one organisation if given)."""
    query = select(organisation_contact_events).order_by(organisation_contact_events.c.at.desc(),
                                                         organisation_contact_events.c.id.desc())
    if organisation is not None:
        query = query.where(organisation_contact_events.c.organisation == organisation)
    return [dict(r._mapping) for r in conn.execute(query)]
