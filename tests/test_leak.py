"""Nothing internal reaches the public: a database with a marker string in every internal field (and in
every text column a later schema adds), unpublished and deleted findings, unapproved and deleted photos,
fixes, histories, accounts and residents' answers. The public view, its map and the list beside it, the public
page (AppTest, also after a resident has answered), the static site, the public exports and the walk report for
the Bydelsforum (HTML and PDF) contain no marker, while the one published finding (in Danish and English) and its
one approved photo are there. The same database sends every kind of message to the organisations and to DKE (text,
HTML and attachments, as received by a real SMTP server) and shows the report-back page: none holds a marker
either. The browser half is tests/e2e/test_public.py."""
import base64
import email
import email.policy
import io
import re
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select, update

from dke_geo import maps, notices, report_links
from dke_geo.interop import writers
from dke_geo.maps.public import public_map
from dke_geo.model import now
from dke_geo.photos import Upload
from dke_geo.roles import PUBLIC, SYSTEM, Actor, Role
from dke_geo.services import areas as area_service
from dke_geo.services import exports, notifications
from dke_geo.services import fixes as fix_service
from dke_geo.services import public as public_service
from dke_geo.services import reports as report_service
from dke_geo.store.db import make_engine, migrate, reading, transaction
from dke_geo.store.tables import fixes as fixes_table
from dke_geo.store.tables import outbox
from tests.conftest import ROOT, context_for
from tests.notify_data import mail_context
from tests.public_data import (
    MARK,
    PUBLIC_TEXT,
    PUBLIC_TEXT_EN,
    colour_of,
    fill_leak_database,
    is_good_colour,
    jpeg_with_exif,
    site_data,
)


@pytest.fixture
def leak_ids(ctx, tmp_path, monkeypatch) -> dict:
    """The leak database in `ctx` (SQLite and PostGIS); returns its ids."""
    monkeypatch.setenv("DKE_GEO_DATA_DIR", str(tmp_path))
    return fill_leak_database(ctx.engine, tmp_path)


@pytest.fixture
def leaky(ctx, leak_ids):
    """The app context on the leak database."""
    return ctx


def _clean(blob: bytes | str, where: str) -> None:
    data = blob.encode() if isinstance(blob, str) else blob
    assert MARK.encode() not in data and MARK.lower().encode() not in data.lower(), f"internal data in {where}"


def test_the_leak_database_marks_an_imported_findings_source_author(leaky):
    """The file's author kept by an import (observations.source_created_by) is internal: it carries a marker here,
    so every public output below is checked for it too."""
    from sqlalchemy import select

    from dke_geo.store.db import reading
    from dke_geo.store.tables import observations
    with reading(leaky.engine) as conn:
        authors = set(conn.execute(select(observations.c.source_created_by)).scalars())
    assert authors == {f"{MARK}-observations-source_created_by"}


def test_public_view_holds_only_the_published_finding_and_its_approved_photo(leaky):
    view = public_service.view(leaky)
    _clean(repr(view), "the public view")
    [finding] = view.findings
    assert finding.text == PUBLIC_TEXT and finding.area == "Blokland" and finding.month == "april 2017"
    assert finding.status == "Planlagt"
    [photo] = finding.photos
    assert is_good_colour(colour_of(photo.data)) and is_good_colour(colour_of(photo.thumb))
    for data in (photo.data, photo.thumb):
        _clean(data, "a public photo")
        assert b"Exif" not in data and b"GPS" not in data
    assert {d.name: d.findings for d in view.density}["Blokland"] == 1


@pytest.mark.parametrize(("lang", "text"), [("da", PUBLIC_TEXT), ("en", PUBLIC_TEXT_EN)])
def test_public_map_and_list(leaky, lang, text):
    """The map's page holds the list's data too (maps/public.py): one finding, its public text, nothing else."""
    html = maps.render(public_map(public_service.view(leaky, lang), leaky.areas(), lambda p: f"photos/{p.name}",
                                  answers=True))
    _clean(html, f"the public map and list ({lang})")
    data = site_data(html)
    assert len(data["f"]) == 1 and data["texts"] == [text]
    assert data["statusTexts"] == [public_service.view(leaky, lang).findings[0].status]


def test_static_site(leaky, tmp_path):
    out = tmp_path / "site"
    assert public_service.write_site(leaky, out) == {"findings": 1, "photos": 1}
    files = [p for p in out.rglob("*") if p.is_file()]
    for path in files:
        _clean(path.read_bytes(), str(path.relative_to(out)))
    assert site_data((out / "map.html").read_text())["texts"] == [PUBLIC_TEXT]
    assert "tilgaengelighed.html" in (out / "index.html").read_text()
    [photo] = (out / "photos").iterdir()
    assert is_good_colour(colour_of(photo.read_bytes()))


@pytest.mark.parametrize("fmt", writers.FORMATS)
def test_public_exports(leaky, fmt):
    data = exports.export_bytes(leaky, PUBLIC, fmt, public=True)
    _clean(data, f"the public {fmt} export")


# ---------------------------------------------------------------- the walk report for the Bydelsforum
def test_forum_report_html(leaky, leak_ids):
    """The forum version of the walk's report (issue 13, point 5): the published finding with its public text, its
    status in plain words and its one approved photo without EXIF; no title, focus, organisation, note, fix,
    contact role, unpublished or deleted finding, or other photo."""
    html = report_service.walk_report(leaky, SYSTEM, leak_ids["walk"], "da", "html", forum=True).decode()
    _clean(html, "the forum report (HTML)")
    assert PUBLIC_TEXT in html and "Planlagt" in html and "Blokland" in html and "20. april 2017" in html
    photos = [base64.b64decode(p) for p in re.findall(r'src="data:image/jpeg;base64,([A-Za-z0-9+/=]+)"', html)]
    assert len(photos) == 1 and is_good_colour(colour_of(photos[0]))
    assert b"Exif" not in photos[0] and b"GPS" not in photos[0]


def test_forum_report_pdf(leaky, leak_ids):
    data = report_service.walk_report(leaky, SYSTEM, leak_ids["walk"], "en", "pdf", forum=True)
    _clean(data, "the forum report (PDF bytes)")
    reader = PdfReader(io.BytesIO(data))
    text = re.sub(r"\s+", " ", "\n".join(page.extract_text() for page in reader.pages))
    _clean(text, "the forum report (PDF text)")
    _clean(repr(reader.metadata), "the forum report (PDF metadata)")
    assert PUBLIC_TEXT_EN in text and "Planned" in text and "20 April 2017" in text
    jpegs = [image.data for page in reader.pages for image in page.images if image.data[:3] == b"\xff\xd8\xff"]
    assert len(jpegs) == 1 and is_good_colour(colour_of(jpegs[0]))


# ---------------------------------------------------------------- the public page through AppTest
def leak_app_data(tmp_path) -> tuple[dict, dict]:
    """An app data folder whose SQLite file holds the leak database (migrated and seeded as init-db does): the
    environment to run the app with, and the leak database's ids."""
    env = {"DKE_GEO_DATA_DIR": str(tmp_path), "DKE_GEO_DATABASE_URL": "", "DKE_GEO_TILE_URL": ""}
    engine = make_engine(f"sqlite:///{tmp_path / 'dke_geo.sqlite'}")
    migrate(engine)
    engine.dispose()
    with context_for(env) as ctx:
        area_service.seed_if_empty(ctx)
        ids = fill_leak_database(ctx.engine, tmp_path)
    return env, ids


@pytest.fixture
def leaky_app(tmp_path, app_test):
    """The app on the leak database; nobody logged in. Returns the app, not yet run."""
    return app_test(leak_app_data(tmp_path)[0])


def _everything(at) -> str:
    """Every element the page sent (protos, with the map's HTML and the tables' data), as text."""
    def walk(node):
        yield node
        for child in getattr(node, "children", {}).values():
            yield from walk(child)
    parts = [str(getattr(node, "proto", "")) for node in walk(at._tree)]
    parts += [frame.value.to_string() for frame in at.dataframe]
    return "\n".join(parts)


@pytest.mark.parametrize(("lang", "text"), [("da", PUBLIC_TEXT), ("en", PUBLIC_TEXT_EN)])
def test_public_page_in_apptest(leaky_app, lang, text):
    at = leaky_app.run()
    if lang == "en":
        at.button_group(key="lang").set_value("en").run()
    assert not at.exception
    page = _everything(at)
    _clean(page, f"the public page ({lang})")
    assert text in page  # in the map-and-list document the page sends
    assert at.table[0].value.iloc[:, 0].to_dict()["Blokland"] == 1  # density by area: the one published finding
    assert len(at.get("image")) == 1  # the approved photo, and no other
    [choice] = at.selectbox(key="public_answer_finding").options  # the one finding a resident may answer about
    at.radio(key="public_answer_still").set_value("Ja, det er stadig et problem" if lang == "da"
                                                  else "Yes, it is still a problem")
    at.text_area(key="public_answer_text").input("Det er stadig mørkt")
    at.button(key="FormSubmitter:public_answer_form-" + ("Send svar" if lang == "da" else "Send answer")).click()
    at.run()
    assert not at.exception and len(at.success) == 1
    _clean(_everything(at), f"the public page after an answer ({lang})")
    assert "Det er stadig mørkt" not in _everything(at)  # an answer is never shown publicly


# ---------------------------------------------------------------- messages to the organisations and the link page
FIX_TITLE, FIX_TEXT, REPORT = "Lampen ved skolestien", "Udskift armaturet på masten.", "Armaturet er skiftet."
LEAKY_PLANNER = Actor(f"{MARK}-planner", Role.PLANNER)


def _sendable_fix(engine, fix_id: str, due) -> None:
    """What an organisation needs to act is clean (title, description, contact role, organisation, due date); every
    other field of the fix, its events, findings, walk, photos and accounts keeps its marker."""
    with transaction(engine) as conn:
        conn.execute(update(fixes_table).where(fixes_table.c.id == fix_id).values(
            title=FIX_TITLE, description=FIX_TEXT, contact_role="driftschef", organisation="bo-vest", due_date=due,
            version=2))  # its history has two events


def _decoded(raw: bytes) -> str:
    """A received message as its recipient reads it: headers, every text part decoded, attachment bytes."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    parts = [str(message.items())]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            parts.append(part.get_content())
        elif not part.is_multipart():
            parts.append(part.get_content().decode("latin-1"))
    return "\n".join(parts)


def test_every_message_to_an_organisation_and_to_dke_holds_nothing_internal(engine, smtp_server, tmp_path,
                                                                            monkeypatch):
    monkeypatch.setenv("DKE_GEO_DATA_DIR", str(tmp_path))
    ids = fill_leak_database(engine, tmp_path)
    _sendable_fix(engine, ids["fix"], now().date() + timedelta(days=3))
    with mail_context(engine, smtp_server.env()) as ctx:
        notifications.queue_due(ctx)                       # reminder (due in 3 days), digest
        fix = fix_service.get_fix(ctx, SYSTEM, ids["fix"]).fix
        fix = fix_service.edit_fix(ctx, LEAKY_PLANNER, fix.id, fix.version, {"due_date": now().date() - timedelta(2)})
        notifications.queue_due(ctx)                       # overdue
        fix = fix_service.transition_fix(ctx, LEAKY_PLANNER, fix.id, fix.version, "in_progress", f"{MARK}-comment")
        fix = fix_service.edit_fix(ctx, LEAKY_PLANNER, fix.id, fix.version, {"organisation": "forsyning"})
        token = report_links.token(report_links.secret(), ids["fix"], "forsyning")
        fix_service.report_via_link(ctx, token, fix.version, "done", REPORT, Upload("efter.jpg", jpeg_with_exif(MARK)))
        notifications.queue_digests(ctx)
        rows = notifications.outbox(ctx, SYSTEM)
        assert set(rows["kind"]) == {k.value for k in notices.Kind}  # every kind of message is covered
        result = notifications.send_queued(ctx)
        assert result.sent == len(rows) and result.failed == 0
        with reading(ctx.engine) as conn:
            stored = conn.execute(select(outbox.c.kind, outbox.c.subject, outbox.c.body_text, outbox.c.body_html))
            for kind, *texts in stored:
                _clean("\n".join(texts), f"the {kind} message in the outbox")
    received = smtp_server.wait_for(len(rows))
    for got in received:
        _clean(_decoded(got.raw), f"the message {got.message['Subject']!r}")
    assigned = next(m for m in received if m.message["Subject"].startswith("Løsningsforslag til jer"))
    assert FIX_TITLE in assigned.part("plain") and FIX_TEXT in assigned.part("html")
    [photo] = [part.get_content() for part in assigned.message.iter_attachments()]  # the approved one only
    assert is_good_colour(colour_of(photo)) and b"Exif" not in photo
    told = next(m for m in received if m.rcpt_tos == ("dke@albertslund.example",))
    assert REPORT in told.part("plain")


def test_the_report_back_page_holds_nothing_internal(tmp_path, app_test):
    env, ids = leak_app_data(tmp_path)
    with context_for(env) as ctx:
        _sendable_fix(ctx.engine, ids["fix"], now().date() - timedelta(days=4))
    at = app_test(env, ROOT / "dke_geo/ui/pages/report_back.py")
    at.query_params["t"] = report_links.token(report_links.secret(), ids["fix"], "bo-vest")
    at.run()
    assert not at.exception and not at.error
    page = _everything(at)
    _clean(page, "the report-back page")
    assert FIX_TITLE in at.header[0].value and FIX_TEXT in page and "4 dage overskredet" in page
    assert len(at.get("image")) == 1  # the approved photo, and no other
