"""Walk report and half-year summary: the PDF renders (pages, title, counts), the HTML carries its map image
and loads nothing from another server, Danish and English, the forum version leaves internal notes out."""
from __future__ import annotations

import base64
import io
import re

import pandas as pd
import pytest
from PIL import Image
from pypdf import PdfReader

from dke_geo import fixtures, photos, reports
from dke_geo.model import Photo
from dke_geo.public import status_text
from dke_geo.roles import Actor, Role
from dke_geo.services import fixes as fix_service
from dke_geo.services import public as public_service
from dke_geo.services import recording
from dke_geo.services import reports as report_service
from dke_geo.store import observations as obs_store
from dke_geo.store import photos as photo_store
from dke_geo.store.db import reading, transaction

PLANNER = Actor("planner-test", Role.PLANNER)
DARK_WALK = fixtures.demo_walks_and_observations()[0][0]  # Blokland after dark, 20 April 2017: 120 findings


def pdf_text(data: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def test_walk_report_pdf_renders_with_title_and_counts(demo_ctx):
    with reading(demo_ctx.engine) as conn:
        found = obs_store.for_walk(conn, DARK_WALK.id)
    pages, text = pdf_text(report_service.walk_report(demo_ctx, PLANNER, DARK_WALK.id, "da", "pdf"))
    assert pages >= 3
    flat = re.sub(r"\s+", " ", text)
    assert DARK_WALK.title in flat
    assert "20. april 2017" in flat and "Deltagere" in flat and "I alt 17" in flat  # 17 participants
    lighting = [o for o in found if o.category == "lighting"]
    by_severity = [sum(o.severity == s for o in lighting) for s in (1, 2, 3)]
    assert f"Belysning {' '.join(map(str, by_severity))} {len(lighting)}" in flat
    assert len(found) == 120 and re.search(r"I alt \d+ \d+ \d+ 120", flat)


def test_walk_report_html_has_the_map_and_no_third_party_urls(demo_ctx):
    html = report_service.walk_report(demo_ctx, PLANNER, DARK_WALK.id, "en", "html").decode()
    found = re.search(r'<img class="map" src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert found, "the map image is embedded"
    image = Image.open(io.BytesIO(base64.b64decode(found[1])))
    assert image.format == "PNG" and image.width > 800
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", html)  # nothing loaded from any server
    assert "Map of the findings" in html and "Findings by category and severity" in html
    assert "Demo: " in html  # the internal version shows the notes


def test_walk_report_photos_fixes_forum_version_and_escaping(demo_ctx, tmp_path, monkeypatch):
    monkeypatch.setenv("DKE_GEO_DATA_DIR", str(tmp_path))
    walk = recording.start_walk(demo_ctx, PLANNER, {"title": "<script>alert(1)</script> Galgebakken",
                                                    "area_ids": ["galgebakken"],
                                                    "organisations": [{"organisation": "beboere", "count": 5}]})
    lon, lat = _galgebakken_point()
    obs, _ = recording.record_observation(demo_ctx, PLANNER, {
        "walk_id": walk.id, "lon": lon, "lat": lat, "category": "lighting", "severity": 3,
        "internal_note": "INTERN: <b>navn</b> på beboer", "public_text": "Lampe ud ved stien"})
    thumb = tmp_path / "thumb.jpg"
    Image.new("RGB", (40, 30), (200, 30, 30)).save(thumb, "JPEG")
    with transaction(demo_ctx.engine) as conn:
        photo_store.add_many(conn, [Photo(observation_id=obs.id, full_path=str(thumb), thumb_path=str(thumb),
                                          public_approved=False)])
    due = pd.Timestamp("2017-06-30").date()
    fix_service.create_fix(demo_ctx, PLANNER, {"title": "Ny lampe", "observation_ids": [obs.id],
                                               "organisation": "bo-vest", "contact_role": "Driftschef",
                                               "due_date": due})
    internal = report_service.walk_report(demo_ctx, PLANNER, walk.id, "da", "html").decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Galgebakken" in internal and "<script>" not in internal
    assert "INTERN: &lt;b&gt;navn&lt;/b&gt; på beboer" in internal
    assert internal.count("data:image/jpeg;base64,") == 1
    assert "Ny lampe" in internal and "Driftschef" in internal and "30. juni 2017" in internal
    assert "<td>Beboere</td>" in internal  # the organisation's label in the reader's language
    assert photos.file(str(thumb)) == thumb

    # The forum version holds only what the public map shows: nothing before the finding is published, then its
    # public text and status, and its photo once approved; never the title, organisations or fixes.
    def forum() -> str:
        html = report_service.walk_report(demo_ctx, PLANNER, walk.id, "en", "html", forum=True).decode()
        for internal_text in ("INTERN", "alert(1)", "Residents", "Ny lampe", "Driftschef"):
            assert internal_text not in html
        return html

    assert "No finding of this walk has been published yet." in forum() and "Lampe" not in forum()
    public_service.publish(demo_ctx, PLANNER, obs.id, "Lampe ud ved stien")
    shown = forum()
    assert "Lampe ud ved stien" in shown and "Areas: Galgebakken" in shown
    assert f"<td>{status_text('open', None, 'en')}</td>" in shown
    assert "data:image/jpeg" not in shown  # the photo is not approved for the public
    public_service.approve_photo(demo_ctx, PLANNER, public_service.finding_photos(demo_ctx, PLANNER, obs.id)[0]["id"])
    assert forum().count("data:image/jpeg;base64,") == 1


def _galgebakken_point() -> tuple[float, float]:
    obs = next(o for o in fixtures.demo_walks_and_observations()[1] if o.area_id == "galgebakken")
    return obs.lon, obs.lat


def test_period_report_pdf_and_html(demo_ctx):
    pages, text = pdf_text(report_service.period_report(demo_ctx, PLANNER, "2017H1", "en", "pdf"))
    flat = re.sub(r"\s+", " ", text)
    assert pages >= 1 and "2017H1" in flat
    # the drive with the night home-care staff in March and the two Blokland walks in April and May
    assert "3 area walk(s) were held with 300 findings" in flat
    html = report_service.period_report(demo_ctx, PLANNER, "2017H1", "da", "html").decode()
    assert "Køretur med nattens hjemmepleje" in html
    assert html.count("data:image/png;base64,") == 2 and not re.search(r"https?://", html)


def test_fix_figures_median_and_counts():
    span = reports.parse_period("2017H2")
    utc = "UTC"
    table = pd.DataFrame({
        "created_at": pd.to_datetime(["2017-05-01", "2017-08-01", "2017-09-01", "2018-02-01"], utc=True),
        "done_at": pd.to_datetime(["2017-07-11", "2017-08-11", None, None], utc=True).tz_convert(utc),
        "verified_at": pd.to_datetime(["2017-08-01", None, None, None], utc=True),
        "updated_at": pd.to_datetime(["2017-08-01", "2017-08-11", "2017-10-01", "2018-02-01"], utc=True),
        "state": ["verified", "done", "rejected", "proposed"], "group": ["resolved", "resolved", "closed", "open"],
        "overdue": [False, False, False, True]})
    figures = reports._fix_figures(table, span)
    assert (figures["proposed"], figures["done"], figures["verified"], figures["rejected"]) == (2, 2, 1, 1)
    assert figures["median_days_done"] == pytest.approx((71 + 10) / 2)
    assert figures["median_days_verified"] == 92.0
    assert (figures["open"], figures["overdue"]) == (1, 1)


def test_periods_and_file_names():
    half = reports.parse_period("2017h2")
    assert (half.label, half.start.month, half.end.year) == ("2017H2", 7, 2018)
    with pytest.raises(reports.BadPeriod):
        reports.parse_period("2017Q3")
    assert reports.format_for("x.PDF") == "pdf" and reports.format_for("x.html") == "html"
    with pytest.raises(reports.DkeError):
        reports.format_for("x.docx")
