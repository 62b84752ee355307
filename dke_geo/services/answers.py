"""Residents' answers: "Er det stadig et problem?" on a published finding that something is planned or done about,
and the staff's view of them.

Anyone may answer (no login, no name, no e-mail, no photo); an answer is stored apart from the findings with the
time only, never shown on the public side, and read by staff where it helps them act: the follow-up panel of the
next walk in the finding's area and the page of a fix for it. Answers are limited per client (ANSWER_LIMIT in
ANSWER_WINDOW_S), counted in the app's memory only (AppContext.allow), so no address is ever stored. The text is
untrusted: it is escaped wherever it is shown, and exports guard it like every other text.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import pandas as pd

from dke_geo.context import AppContext
from dke_geo.errors import DkeError, NotFound
from dke_geo.model import ResidentAnswer, now
from dke_geo.public import public_key
from dke_geo.roles import Actor, Permission, require
from dke_geo.services import public
from dke_geo.store import answers as answer_store
from dke_geo.store import public as pub_store
from dke_geo.store import walks as walk_store
from dke_geo.store.db import reading, transaction

ANSWER_LIMIT = 5
ANSWER_WINDOW_S = 15 * 60
"""At most ANSWER_LIMIT answers per client in ANSWER_WINDOW_S seconds: plenty for a resident who answers about the
few places they know, too few to flood the staff's lists."""
FOLLOW_UP_ANSWERS = 20  # the newest answers the follow-up panel of a walk shows


@dataclass(frozen=True)
class Answers:
    """Answers for staff, newest first: columns observation_id, still_a_problem, text, at, category, area_id."""
    rows: pd.DataFrame


def answer(ctx: AppContext, client: str, key: str, still_a_problem: bool, text: str = "") -> None:
    """Store a resident's answer about the published finding named `key` (PublicFinding.key).

    Refused with a clear message (and nothing stored) when the finding is not published or nothing is planned or
    done about it, when the text is too long, and when `client` (the address the page was opened from; kept in
    memory only) has answered ANSWER_LIMIT times in the last ANSWER_WINDOW_S seconds.
    """
    data = ResidentAnswer.parse({"still_a_problem": still_a_problem, "text": text})
    finding = next((f for f in public.view(ctx).findings if f.key == key), None)
    if finding is None or not finding.answerable:
        raise NotFound("answers.error.not_answerable")
    with reading(ctx.engine) as conn:
        obs_id = next((i for i in pub_store.published_ids(conn) if public_key(i) == key), None)
    if obs_id is None:  # unpublished since the view was read
        raise NotFound("answers.error.not_answerable")
    if not ctx.allow("answers", client, ANSWER_LIMIT, ANSWER_WINDOW_S):
        raise DkeError("answers.error.too_many", minutes=ANSWER_WINDOW_S // 60)
    with transaction(ctx.engine) as conn:
        answer_store.add(conn, obs_id, data.still_a_problem, data.text, now())


def for_walk(ctx: AppContext, actor: Actor, walk_id: UUID | str) -> Answers:
    """The newest FOLLOW_UP_ANSWERS answers about findings in a walk's areas, given before the walk ended (or until
    now, while it runs): what residents have said about the places the walk checks, for its follow-up panel."""
    require(actor, Permission.VIEW_INTERNAL)
    with reading(ctx.engine) as conn:
        walk = walk_store.get(conn, walk_id)
        if walk is None:
            raise NotFound(what=str(walk_id))
        until: datetime = walk.ended_at or now()
        return Answers(answer_store.in_areas(conn, walk.area_ids, until, FOLLOW_UP_ANSWERS))


def for_fix(ctx: AppContext, actor: Actor, fix_id: UUID | str) -> Answers:
    """Every answer about the findings a fix addresses, newest first, for the fix page."""
    require(actor, Permission.VIEW_INTERNAL)
    with reading(ctx.engine) as conn:
        return Answers(answer_store.for_fix(conn, str(fix_id)))
