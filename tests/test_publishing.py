"""Publishing: unpublished by default, one by one or per walk, suggested texts, photos approved one by one,
unpublishing, every action recorded; the public view built from it."""
import io
from datetime import datetime

import pytest
from PIL import Image
from sqlalchemy import delete, select, update

from dke_geo import fixtures
from dke_geo.errors import DkeError, NotFound
from dke_geo.model import TZ
from dke_geo.roles import Actor, Role
from dke_geo.services import public as public_service
from dke_geo.store.db import reading, transaction
from dke_geo.store.tables import fix_observations, observations, publication_events
from tests.public_data import add_fix, add_photo, jpeg_with_exif

PLANNER = Actor("pia", Role.PLANNER)


def _without_fixes(ctx, obs):
    """The demo findings no demo fix is linked to (their status is "open" until a test adds a fix)."""
    with reading(ctx.engine) as conn:
        linked = set(conn.execute(select(fix_observations.c.observation_id)).scalars())
    return [o for o in obs if str(o.id) not in linked]


@pytest.fixture
def demo(demo_ctx):
    """The demo with nothing published (the demo publishes a share; these tests publish what they need)."""
    with transaction(demo_ctx.engine) as conn:
        conn.execute(delete(publication_events))
        conn.execute(update(observations).values(published=False, published_by=None, published_at=None,
                                                  public_text="", public_text_en=""))
    walks, obs = fixtures.demo_walks_and_observations()
    return demo_ctx, walks, obs


def test_the_demo_publishes_a_share_with_texts_and_visible_fixes(demo_ctx):
    """What residents would see of DKE's first half of 2017: some findings of every walk, those with a fix in their
    own words (Danish and English), the rest with the suggested text; fixes planned and done among them."""
    da, en = public_service.view(demo_ctx, "da"), public_service.view(demo_ctx, "en")
    _walks, obs = fixtures.demo_walks_and_observations()
    assert 0.2 < len(da.findings) / len(obs) < 0.4
    assert {f.status_group for f in da.findings} == {"open", "planned", "resolved"}
    assert {f.text for f in da.findings} >= {t for t, _en in fixtures.PUBLIC_TEXTS.values()}
    assert {f.text for f in en.findings} >= {t for _da, t in fixtures.PUBLIC_TEXTS.values()}
    assert all(f.text_lang == "en" for f in en.findings)  # every demo text has its English version
    assert {f.month for f in da.findings} == {"marts 2017", "april 2017", "maj 2017"}


def test_nothing_is_public_until_published(demo):
    ctx, _walks, _obs = demo
    view = public_service.view(ctx)
    assert view.findings == ()
    assert all(d.findings == 0 for d in view.density)


def test_publish_one_with_the_suggested_text_never_the_note(demo):
    ctx, _walks, obs = demo
    first = next(o for o in _without_fixes(ctx, obs) if o.area_id == "blokland" and o.observed_at.month == 4)
    with transaction(ctx.engine) as conn:
        conn.execute(update(observations).where(observations.c.id == str(first.id))
                     .values(internal_note="Naboen i nr. 7 sælger hash"))
    suggestion = public_service.suggested_text(ctx, PLANNER, first.id)
    assert "Blokland" in suggestion and "april 2017" in suggestion and "hash" not in suggestion
    text = public_service.publish(ctx, PLANNER, first.id)
    assert text == suggestion
    view = public_service.view(ctx)
    assert [(f.text, f.area, f.month) for f in view.findings] == [(suggestion, "Blokland", "april 2017")]
    assert view.findings[0].status == "Noteret; der er endnu ikke aftalt en løsning"
    assert next(d for d in view.density if d.area_id == "blokland").findings == 1
    [event] = public_service.history(ctx, PLANNER, first.id)
    assert (event["action"], event["by"], event["public_text"]) == ("published", "pia", suggestion)
    with reading(ctx.engine) as conn:
        row = conn.execute(select(observations).where(observations.c.id == str(first.id))).one()
    assert row.published and row.published_by == "pia" and row.published_at is not None


def test_own_text_update_and_unpublish_are_recorded(demo):
    ctx, _walks, obs = demo
    oid = obs[1].id
    public_service.publish(ctx, PLANNER, oid, "  Lampen ved stien er ude.  ")
    public_service.publish(ctx, PLANNER, oid, "Lampen ved stien er ude.")  # same text: nothing new
    public_service.publish(ctx, PLANNER, oid, "Lampen ved stien er skiftet.")
    assert [f.text for f in public_service.view(ctx, "en").findings] == ["Lampen ved stien er skiftet."]
    public_service.unpublish(ctx, PLANNER, oid)
    public_service.unpublish(ctx, PLANNER, oid)  # already off: nothing new
    assert public_service.view(ctx).findings == ()
    actions = [(e["action"], e["public_text"]) for e in public_service.history(ctx, PLANNER, oid)]
    assert actions == [("published", "Lampen ved stien er ude."), ("published", "Lampen ved stien er skiftet."),
                       ("unpublished", "")]
    public_service.publish(ctx, PLANNER, oid)  # re-publishing keeps nothing hidden: the suggestion if empty
    assert len(public_service.view(ctx).findings) == 1


def test_publish_a_whole_walk_keeps_existing_texts(demo):
    ctx, walks, obs = demo
    night = next(w for w in walks if w.kind == "by_car")
    mine = [o for o in obs if o.walk_id == night.id]
    public_service.publish(ctx, PLANNER, mine[0].id, "Egen tekst.")
    assert public_service.publish_walk(ctx, PLANNER, night.id) == len(mine) - 1
    assert public_service.publish_walk(ctx, PLANNER, night.id) == 0
    view = public_service.view(ctx)
    assert len(view.findings) == len(mine)
    assert sum(f.text == "Egen tekst." for f in view.findings) == 1
    assert {f.area for f in view.findings} == {"Galgebakken", "Hyldespjældet", "Morbærhaven", "Banehegnet",
                                                "Hedemarksvænge"}
    assert sum(d.findings for d in view.density) == len(mine)


def test_unknown_or_deleted_findings_and_long_texts_are_refused(demo):
    ctx, _walks, obs = demo
    with pytest.raises(NotFound):
        public_service.publish(ctx, PLANNER, "00000000-0000-0000-0000-000000000000")
    with transaction(ctx.engine) as conn:
        conn.execute(update(observations).where(observations.c.id == str(obs[2].id)).values(deleted=True))
    with pytest.raises(NotFound):
        public_service.publish(ctx, PLANNER, obs[2].id)
    with pytest.raises(DkeError) as err:
        public_service.publish(ctx, PLANNER, obs[3].id, "x" * 5000)
    assert "5000" in err.value.message("da")
    assert public_service.view(ctx).findings == ()


def test_photos_show_only_when_approved_and_published_and_without_exif(demo, tmp_path, monkeypatch):
    ctx, _walks, obs = demo
    oid = obs[0].id
    approved = add_photo(ctx.engine, oid, tmp_path / "a.jpg", jpeg_with_exif("Anna Jensen", (200, 0, 0), (80, 60)))
    add_photo(ctx.engine, oid, tmp_path / "b.jpg", jpeg_with_exif("Bo Hansen", (0, 200, 0)))
    public_service.approve_photo(ctx, PLANNER, approved)
    assert public_service.view(ctx).findings == ()  # the finding itself is not published
    public_service.publish(ctx, PLANNER, oid)
    [finding] = public_service.view(ctx).findings
    [photo] = finding.photos
    assert (photo.width, photo.height) == (80, 60)
    image = Image.open(io.BytesIO(photo.data))
    assert image.getpixel((40, 30))[0] > 150  # the approved (red) photo, not the green one
    assert not image.getexif() and "exif" not in image.info and "comment" not in image.info
    assert b"Anna" not in photo.data and b"Exif" not in photo.data
    public_service.approve_photo(ctx, PLANNER, approved, approved=False)
    assert public_service.view(ctx).findings[0].photos == ()
    actions = [e["action"] for e in public_service.history(ctx, PLANNER, oid)]
    assert actions == ["photo_approved", "published", "photo_withdrawn"]


def test_fix_status_in_plain_words(demo):
    ctx, _walks, obs = demo
    planned, fixed, open_ = (o.id for o in _without_fixes(ctx, obs)[:3])
    add_fix(ctx.engine, [planned], ["approved"])
    add_fix(ctx.engine, [fixed], ["approved", "in_progress", "done"], at=datetime(2018, 5, 12, 10, tzinfo=TZ))
    add_fix(ctx.engine, [open_], ["rejected"])
    for oid in (planned, fixed, open_):
        public_service.publish(ctx, PLANNER, oid, f"tekst {oid}")
    status = {f.text: f.status for f in public_service.view(ctx).findings}
    assert status[f"tekst {planned}"] == "Planlagt"
    assert status[f"tekst {fixed}"] == "Udbedret den 12. maj 2018"
    assert status[f"tekst {open_}"] == "Noteret; der er endnu ikke aftalt en løsning"
    english = {f.text: f.status for f in public_service.view(ctx, "en").findings}
    assert english[f"tekst {fixed}"] == "Fixed on 12 May 2018"


def test_queue_for_the_planner(demo, tmp_path):
    ctx, walks, obs = demo
    add_photo(ctx.engine, obs[0].id, tmp_path / "a.jpg", jpeg_with_exif("x"), approved=True)
    add_photo(ctx.engine, obs[0].id, tmp_path / "b.jpg", jpeg_with_exif("y"))
    public_service.publish(ctx, PLANNER, obs[0].id)
    table = public_service.queue(ctx, PLANNER, walks[0].id)
    assert len(table) == 120 and table["published"].sum() == 1
    row = table.set_index("id").loc[str(obs[0].id)]
    assert (row["n_photos"], row["n_approved"], row["area"], row["walk_title"]) == (2, 1, "Blokland", walks[0].title)
    assert len(public_service.queue(ctx, PLANNER)) == 300


def test_an_english_public_text_beside_the_danish_one(demo):
    """The planner may write (or accept the suggested) English text; English pages show it, and without one the
    Danish text, marked as Danish. The history keeps both."""
    ctx, _walks, obs = demo
    oid = obs[1].id
    public_service.publish(ctx, PLANNER, oid, "Lampen ved stien er ude.")
    [finding] = public_service.view(ctx, "en").findings
    assert (finding.text, finding.text_lang) == ("Lampen ved stien er ude.", "da")
    english = public_service.suggested_text(ctx, PLANNER, oid, "en")
    assert english.endswith("noted on an area walk in April 2017.")
    public_service.publish(ctx, PLANNER, oid, "Lampen ved stien er ude.", public_text_en=english)
    [finding] = public_service.view(ctx, "en").findings
    assert (finding.text, finding.text_lang) == (english, "en")
    assert public_service.view(ctx, "da").findings[0].text == "Lampen ved stien er ude."
    public_service.publish(ctx, PLANNER, oid, "Lampen ved stien er ude.")  # None keeps the English text
    assert public_service.view(ctx, "en").findings[0].text == english
    public_service.publish(ctx, PLANNER, oid, "Lampen ved stien er ude.", public_text_en="")  # "" removes it
    assert public_service.view(ctx, "en").findings[0].text_lang == "da"
    history = public_service.history(ctx, PLANNER, oid)
    assert [h["public_text_en"] for h in history] == ["", english, ""]
