"""Residents' answers ("Er det stadig et problem?"): anyone may answer about a published finding something is planned
or done about; the answer is stored apart from the findings with the time only, limited per client, refused with a
clear message (and nothing stored) otherwise, and listed for staff by walk area and by fix. On SQLite and PostGIS."""
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, update

from dke_geo import context as context_module
from dke_geo.errors import DkeError, InvalidInput, NotFound
from dke_geo.public import public_key
from dke_geo.roles import SYSTEM, Actor, Role
from dke_geo.services import answers, preferences, public, recording
from dke_geo.store.db import reading, transaction
from dke_geo.store.tables import observations, resident_answers
from tests.public_data import add_fix

BLOKLAND = {"lon": 12.3573, "lat": 55.6602}
STAFF = Actor("demo-medarbejder", Role.STAFF)


def _finding(ctx, states=("approved",), published=True) -> str:
    obs, _ = recording.record_observation(ctx, SYSTEM, {**BLOKLAND, "category": "lighting"})
    if states is not None:
        add_fix(ctx.engine, [obs.id], states)
    if published:
        public.publish(ctx, SYSTEM, obs.id, "Lampen ved stien lyser ikke.")
    return str(obs.id)


def _stored(ctx) -> list:
    with reading(ctx.engine) as conn:
        return conn.execute(select(resident_answers)).fetchall()


def test_an_answer_is_stored_apart_with_the_time_only(ctx):
    oid = _finding(ctx)
    answers.answer(ctx, "10.0.0.1", public_key(oid), True, "  Stadig mørkt\x00 om aftenen  ")
    [row] = _stored(ctx)
    assert set(row._mapping) == {"id", "observation_id", "still_a_problem", "text", "at"}  # no name, client, IP
    assert (row.observation_id, row.still_a_problem, row.text) == (oid, True, "Stadig mørkt om aftenen")
    assert row.at is not None


@pytest.mark.parametrize("case", ["open", "unpublished", "unknown"])
def test_only_published_findings_with_a_planned_or_done_fix_can_be_answered(ctx, case):
    oid = _finding(ctx, states=None if case == "open" else ("approved",), published=case != "unpublished")
    key = "f-0000000000000000" if case == "unknown" else public_key(oid)
    with pytest.raises(NotFound) as refused:
        answers.answer(ctx, "10.0.0.1", key, False)
    assert "kan der ikke svares på" in refused.value.message("da")
    assert _stored(ctx) == []


def test_a_long_text_is_refused_by_name_and_nothing_is_stored(ctx):
    key = public_key(_finding(ctx, ("approved", "in_progress", "done")))
    with pytest.raises(InvalidInput) as refused:
        answers.answer(ctx, "10.0.0.1", key, True, "x" * 501)
    assert refused.value.message("da").startswith("Tekst:") and "501" in refused.value.message("da")
    assert _stored(ctx) == []


def test_answers_are_limited_per_client(ctx, monkeypatch):
    clock = SimpleNamespace(now=1000.0)
    monkeypatch.setattr(context_module, "time", SimpleNamespace(monotonic=lambda: clock.now))
    key = public_key(_finding(ctx))
    for _ in range(answers.ANSWER_LIMIT):
        answers.answer(ctx, "10.0.0.1", key, True)
    with pytest.raises(DkeError) as refused:
        answers.answer(ctx, "10.0.0.1", key, True, "en gang til")
    assert "mange svar på kort tid" in refused.value.message("da")
    answers.answer(ctx, "10.0.0.2", key, False)  # another client is not held back
    assert len(_stored(ctx)) == answers.ANSWER_LIMIT + 1
    clock.now += answers.ANSWER_WINDOW_S + 1  # the window has passed
    answers.answer(ctx, "10.0.0.1", key, True)
    assert len(_stored(ctx)) == answers.ANSWER_LIMIT + 2


def test_staff_read_answers_by_walk_area_and_by_fix(ctx):
    oid = _finding(ctx, states=None)
    fix_id = add_fix(ctx.engine, [oid], ("approved",))
    other = _finding(ctx)
    with transaction(ctx.engine) as conn:  # the other finding lies in another area
        conn.execute(update(observations).where(observations.c.id == other).values(area_id="galgebakken"))
    answers.answer(ctx, "a", public_key(oid), True, "<b>Stadig mørkt</b>")
    answers.answer(ctx, "b", public_key(oid), False)
    answers.answer(ctx, "c", public_key(other), True)
    walk = recording.start_walk(ctx, SYSTEM, {"title": "Opfølgning", "area_ids": ["blokland"]})
    rows = answers.for_walk(ctx, STAFF, walk.id).rows
    assert rows["observation_id"].tolist() == [oid, oid]  # newest first, only the walk's area
    assert rows["text"].tolist() == ["", "<b>Stadig mørkt</b>"] and rows["still_a_problem"].tolist() == [False, True]
    assert answers.for_fix(ctx, STAFF, fix_id).rows["observation_id"].tolist() == [oid, oid]
    with reading(ctx.engine) as conn:
        assert conn.execute(select(func.count()).select_from(resident_answers)).scalar_one() == 3


def test_the_theme_is_kept_per_user(ctx):
    from dke_geo.services import users
    users.add_user(ctx, SYSTEM, "nattevagt", Role.STAFF, "en-lang-kode-123")
    night = Actor("nattevagt", Role.STAFF)
    assert preferences.theme(ctx, night) == "light"
    preferences.set_theme(ctx, night, "dark")
    assert preferences.theme(ctx, night) == "dark"
    with pytest.raises(DkeError):
        preferences.set_theme(ctx, night, "purple")
    assert preferences.theme(ctx, night) == "dark"
