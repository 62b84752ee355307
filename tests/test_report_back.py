"""The report-back link through the services, on SQLite and PostGIS: the fix as the message shows it; in progress and
done with a comment and an after photo, recorded as "<organisation> (via link)", DKE told, verification offered on
the next walk; forged, expired and revoked links refused with their reason and nothing written; moves the state
table does not allow refused as for planners; a stale page refused without naming anyone; the rate limit."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from dke_geo import report_links
from dke_geo.errors import Conflict, DkeError
from dke_geo.lifecycle import TransitionRefused
from dke_geo.model import now
from dke_geo.photos import Upload
from dke_geo.report_links import LinkRefused
from dke_geo.roles import SYSTEM, Actor, Role
from dke_geo.services import fixes, notifications, recording, report_back
from dke_geo.store.db import reading
from dke_geo.store.tables import outbox
from tests.notify_data import PLANNER, jpeg, mail_context, make_fix

STAFF = Actor("sami", Role.STAFF)
VIA_LINK = "Bo-Vest / boligselskabet (via link)"


@pytest.fixture
def ctx(engine, tmp_path, monkeypatch):
    monkeypatch.setenv("DKE_GEO_DATA_DIR", str(tmp_path))
    with mail_context(engine, {}) as context:
        yield context


def _token(fix, organisation: str = "bo-vest", issued_at=None) -> str:
    return report_links.token(report_links.secret(), str(fix.id), organisation, issued_at)


def _outbox(ctx, kind: str) -> list:
    with reading(ctx.engine) as conn:
        return conn.execute(select(outbox).where(outbox.c.kind == kind)).fetchall()


def test_the_link_shows_the_fix_as_the_message_does_in_the_organisations_language(ctx):
    fix = make_fix(ctx, "approved", photo=True)
    view = report_back.open_link(ctx, _token(fix))
    assert (view.organisation, view.language, view.version, view.targets) == ("bo-vest", "da", 2, ("in_progress",))
    assert view.fix.title == "Ny lampe ved stien" and view.fix.description == "LED-armatur på masten."
    assert [(p.area, p.category) for p in view.fix.places] == [("Blokland", "lighting")]
    [photo] = view.photos
    assert photo[:3] == b"\xff\xd8\xff" and b"Exif" not in photo
    notifications.set_contact(ctx, SYSTEM, "bo-vest", "drift@bo-vest.example", "en")
    assert report_back.open_link(ctx, _token(fix)).language == "en"


def test_in_progress_then_done_with_an_after_photo_tells_dke_and_offers_it_on_the_next_walk(ctx):
    fix = make_fix(ctx, "approved")
    token = _token(fix)
    moved = fixes.report_via_link(ctx, token, fix.version, "in_progress", "Bestilt hos elektrikeren")
    done = fixes.report_via_link(ctx, token, moved.version, "done", "Ny lampe sat op", Upload("efter.jpg", jpeg()))
    assert done.state == "done"
    detail = fixes.get_fix(ctx, PLANNER, fix.id)
    assert [(e.by, e.to_state, e.comment) for e in detail.events[-2:]] == [
        (VIA_LINK, "in_progress", "Bestilt hos elektrikeren"), (VIA_LINK, "done", "Ny lampe sat op")]
    [after] = detail.after
    assert detail.events[-1].photo_id == after.id and after.created_by == VIA_LINK
    told = _outbox(ctx, "reported_back")
    assert [r.organisation for r in told] == ["dke", "dke"] and not _outbox(ctx, "moved")  # not to themselves
    last = max(told, key=lambda r: r.fix_version)
    assert last.subject == "Bo-Vest / boligselskabet melder »Udført«: Ny lampe ved stien"
    assert "Ny lampe sat op" in last.body_text and "Med et efter-foto" in last.body_text
    assert "tilbydes til kontrol på næste vandring" in last.body_text
    assert report_back.open_link(ctx, token).targets == ()  # done: DKE verifies it now
    walk = recording.start_walk(ctx, STAFF, {"title": "Opfølgning i Blokland", "area_ids": ["blokland"]})
    assert str(fix.id) in set(fixes.follow_up_items(ctx, STAFF, walk.id).fixes["id"])


@pytest.mark.parametrize(("case", "says"), [
    ("tampered", "Dette link er ikke gyldigt"),
    ("expired", "Linket er udløbet: et link virker i 30 dage"),
    ("reassigned", "Linket er trukket tilbage"),
    ("another organisation", "Linket er trukket tilbage"),
])
def test_a_link_that_does_not_work_says_why_and_changes_nothing(ctx, case, says):
    fix = make_fix(ctx, "approved")
    token = _token(fix)
    if case == "tampered":
        token = token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")
    elif case == "expired":
        token = _token(fix, issued_at=now() - timedelta(days=31))
    elif case == "reassigned":
        fix = fixes.edit_fix(ctx, PLANNER, fix.id, fix.version, {"organisation": "forsyning"})
    else:
        token = _token(fix, "forsyning")
    for attempt in (lambda: report_back.open_link(ctx, token),
                    lambda: fixes.report_via_link(ctx, token, fix.version, "in_progress")):
        with pytest.raises(LinkRefused) as refused:
            attempt()
        assert refused.value.message("da").startswith(says)
    assert fixes.get_fix(ctx, PLANNER, fix.id).fix.version == fix.version
    assert not _outbox(ctx, "reported_back")


def test_moves_the_table_does_not_allow_are_refused_as_for_planners(ctx):
    fix = make_fix(ctx, "approved")
    token = _token(fix)
    with pytest.raises(DkeError, match="only report"):
        fixes.report_via_link(ctx, token, fix.version, "verified")
    with pytest.raises(TransitionRefused) as refused:  # approved -> done skips a step of the table
        fixes.report_via_link(ctx, token, fix.version, "done")
    assert refused.value.message("da") == "Et løsningsforslag kan ikke gå fra »Godkendt« til »Udført«. Intet er ændret."
    done = fixes.transition_fix(ctx, PLANNER, fix.id, fixes.transition_fix(ctx, PLANNER, fix.id, fix.version,
                                                                             "in_progress").version, "done")
    with pytest.raises(TransitionRefused):  # done -> in progress is the follow-up walk's verdict, not theirs
        fixes.report_via_link(ctx, token, done.version, "in_progress")
    verified = fixes.transition_fix(ctx, PLANNER, fix.id, done.version, "verified")
    view = report_back.open_link(ctx, token)
    assert view.closed and view.targets == ()
    assert fixes.get_fix(ctx, PLANNER, fix.id).fix.version == verified.version


def test_a_stale_page_is_refused_without_naming_anyone(ctx):
    fix = make_fix(ctx, "approved")
    token = _token(fix)
    fixes.edit_fix(ctx, PLANNER, fix.id, fix.version, {"description": "Nyt armatur"})
    with pytest.raises(Conflict) as refused:
        fixes.report_via_link(ctx, token, fix.version, "in_progress")
    for lang in ("da", "en"):
        assert PLANNER.name not in refused.value.message(lang)
    assert refused.value.message("da").startswith("Forslaget er ændret hos DKE")


def test_the_page_is_rate_limited_per_link_and_refused_links_per_client(ctx):
    fix = make_fix(ctx, "approved")
    token = _token(fix)
    for _ in range(report_back.LIMITS["view"]):
        report_back.open_link(ctx, token, "10.0.0.8")
    with pytest.raises(LinkRefused, match="Too many attempts"):
        report_back.open_link(ctx, token, "10.0.0.8")
    forged = token[:-4] + "abcd"
    for _ in range(report_back.LIMITS["refused"]):
        with pytest.raises(LinkRefused, match="not valid"):
            report_back.open_link(ctx, forged, "10.0.0.9")
    with pytest.raises(LinkRefused, match="Too many attempts"):
        report_back.open_link(ctx, forged, "10.0.0.9")
    with pytest.raises(LinkRefused, match="not valid"):  # another client is not held up
        report_back.open_link(ctx, forged, "10.0.0.10")
