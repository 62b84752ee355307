"""The report-back link's page: an organisation's contact opens the signed link from a message and sees that one
fix as the message showed it (notices.FixNotice: nothing internal), in the organisation's language, and may
report it in progress or done (services/fixes.py `report_via_link`). No login: the link is the authority, so
these take the link's token instead of an actor. A link is refused with a clear reason when it is forged or
damaged, expired, or revoked (its fix has moved to another organisation), and the page is rate-limited per link
and, for refused links, per client, counted in the database so that two app servers count together.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from dke_geo import lifecycle, notices, photos, report_links
from dke_geo.context import AppContext
from dke_geo.lifecycle import FINAL, State
from dke_geo.model import now
from dke_geo.report_links import Grant, LinkRefused
from dke_geo.services.notifications import contact_of
from dke_geo.store import fixes as fix_store
from dke_geo.store import notices as notice_store
from dke_geo.store import report_links as hit_store
from dke_geo.store.db import reading, transaction

WINDOW = timedelta(minutes=10)
LIMITS = {"view": 60, "report": 10, "refused": 20}
"""In WINDOW: page loads of one link, reports through one link, refused links from one client."""
PHOTO_SIDE = 800


@dataclass(frozen=True)
class LinkView:
    """What the page shows: the fix as the organisation may see it, in its language; the states it may report now
    (none when the fix is closed or already done); the version the report is checked against."""
    organisation: str
    language: str
    fix: notices.FixNotice
    version: int
    targets: tuple[str, ...]
    photos: tuple[bytes, ...]  # the approved photos, re-encoded from their pixels (no EXIF)

    @property
    def closed(self) -> bool:
        return State(self.fix.state) in FINAL


def _throttle(ctx: AppContext, kind: str, key: str) -> None:
    """Count one hit; refuse (LinkRefused, nothing else done) past the limit for `kind`."""
    at = now()
    with transaction(ctx.engine, changes_data=False) as conn:
        hits = hit_store.hit(conn, f"{kind}:{key}", at, at - WINDOW)
    if hits > LIMITS[kind]:
        raise LinkRefused("reportback.error.rate", minutes=int(WINDOW.total_seconds() // 60))


def grant(ctx: AppContext, token: str, client: str = "", *, kind: str = "view") -> Grant:
    """The grant of a link, counted against its limit (`kind`: "view" or "report"). LinkRefused when the link is
    forged, damaged, expired or revoked, or over a limit; a refused link counts against its client."""
    try:
        checked = report_links.read(report_links.secret(), token or "")
    except LinkRefused:
        _throttle(ctx, "refused", client or "local")
        raise
    _throttle(ctx, kind, f"{checked.fix_id}:{checked.organisation}")
    with reading(ctx.engine) as conn:
        fix = fix_store.get(conn, checked.fix_id)
    if fix is None:
        raise LinkRefused("reportback.error.gone")
    if fix.organisation != checked.organisation:
        raise LinkRefused("reportback.error.revoked")
    return checked


def open_link(ctx: AppContext, token: str, client: str = "") -> LinkView:
    """The page for a link (see LinkView); LinkRefused with the reason when the link does not work."""
    checked = grant(ctx, token, client)
    with reading(ctx.engine) as conn:
        [fix] = notice_store.fix_notices(conn, fix_ids=[checked.fix_id])
        version = fix_store.get(conn, checked.fix_id).version
        contact = contact_of(conn, checked.organisation)
        pictures = notice_store.approved_photo_paths(conn, fix.photo_ids)
    targets = tuple(m.target.value for m in lifecycle.moves_from(fix.state)
                    if m.target in notices.REPORT_TARGETS and not m.follow_up)
    shown = []
    for _, path in pictures:
        try:
            shown.append(photos.public_jpeg(photos.file(path).read_bytes(), PHOTO_SIDE)[0])
        except (OSError, photos.PhotoError):
            continue
    return LinkView(checked.organisation, contact.language, fix, version, targets, tuple(shown))
