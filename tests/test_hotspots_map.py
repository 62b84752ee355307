"""The Hotspots page's map as HTML (no browser, maps/hotspots.py): layers, legend, attribution, no CDN, escaped
notes; and the view behind it (ui/hotspots_view.py, services/hotspots.py) on a real SQLite file and a real PostGIS
database: status from the fix workflow, incident reports as their own layer, the cache following the data version
and belonging to the app context, the role check."""
import json
import re
import uuid
from datetime import date, datetime

import pandas as pd
import pytest
from PIL import Image
from sqlalchemy import insert

from dke_geo import charts
from dke_geo.context import AppContext
from dke_geo.errors import PermissionDenied
from dke_geo.filters import Filter
from dke_geo.i18n import t
from dke_geo.interop import writers
from dke_geo.maps import render
from dke_geo.maps.hotspots import PIN_LIMIT, hotspots_map
from dke_geo.model import TZ, Observation
from dke_geo.roles import PUBLIC, Actor, Role
from dke_geo.services import fixes as fix_service
from dke_geo.services import hotspots
from dke_geo.store import observations as obs_store
from dke_geo.store.db import transaction
from dke_geo.store.tables import incident_reports, photos
from dke_geo.ui import hotspots_view

PLANNER = Actor("demo-planlaegger", Role.PLANNER)
STAFF = Actor("demo-medarbejder", Role.STAFF)
BLOKLAND = (12.3573, 55.6602)
HOSTILE = "<img src=x onerror=alert(1)> ${alert(2)} </script><script>alert(3)</script>"


def _html(ctx, filt=Filter(), **kw) -> str:
    return hotspots_view.view(ctx, PLANNER, filt, "da", tiles=False, **kw).map_html


def _shows(html: str, text: str) -> bool:
    """`text` is in the page, as HTML text or inside a script's JSON string (non-ASCII and < > & escaped)."""
    as_json = json.dumps(text)[1:-1].replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return text in html or as_json in html or json.dumps(text, ensure_ascii=False)[1:-1] in html


def _add_finding(ctx, **kw) -> Observation:
    obs = Observation.model_validate({"lon": BLOKLAND[0], "lat": BLOKLAND[1], "category": "lighting", "severity": 3,
                                      "area_id": "blokland", "observed_at": datetime(2024, 3, 1, 22, 0, tzinfo=TZ),
                                      **kw})
    with transaction(ctx.engine) as conn:
        obs_store.add(conn, obs)
    return obs


def _add_reports(ctx, n: int, is_demo: bool = False) -> None:
    with transaction(ctx.engine) as conn:
        conn.execute(insert(incident_reports), [
            {"id": str(uuid.uuid4()), "source": "politi", "reported_at": datetime(2024, 1, 1 + k, 23, tzinfo=TZ),
             "type": "indbrud", "lon": BLOKLAND[0] + k * 1e-4, "lat": BLOKLAND[1], "area_id": "blokland",
             "is_demo": is_demo, "imported_at": datetime(2024, 2, 1, tzinfo=TZ)} for k in range(n)])


def test_layers_legend_and_attribution_are_there_and_nothing_comes_from_a_cdn(demo_ctx):
    html = _html(demo_ctx)
    for layer in ("Fund (300)", "Tæthed af fund (vægtet efter alvor)", "Antal fund pr. celle på 50 m",
                  "Tæthed af indmeldte hændelser (0)", "Signifikante hotspots (Gi*)", "Boligområder"):
        assert _shows(html, layer), layer
    assert "L.control.layers" in html and "L.markerClusterGroup" in html and "L.heatLayer" in html
    assert _shows(html, "Signaturforklaring") and _shows(html, "»Signifikant« betyder her")
    assert _shows(html, "forventes højst cirka 5 ud af 100 at være falsk alarm")
    assert "GeoDanmark" in html  # the geodata attribution from maps.base
    assert not re.search(r"cdn\.|unpkg|jsdelivr|cdnjs|googleapis", html)
    for asset in ("leaflet/leaflet.js", "leaflet.markercluster/leaflet.markercluster.js",
                  "leaflet.heat/leaflet-heat.js"):
        assert f'/app/static/vendor/{asset}"' in html
    assert _shows(html, "Hotspot (99 %)")  # Blokland's 200 demo findings on a few paths are a significant cluster
    assert len(html) < 2_000_000


def test_english_map(demo_ctx):
    html = hotspots_view.view(demo_ctx, PLANNER, Filter(), "en", tiles=False).map_html
    assert _shows(html, "Findings (300)") and _shows(html, "Significant hotspots (Gi*)")
    assert _shows(html, "are expected to be false alarms")


def test_hostile_note_is_escaped_in_the_popup(ctx):
    _add_finding(ctx, internal_note=HOSTILE)
    html = _html(ctx)
    assert "<img src=x" not in html and "<script>alert(3)" not in html and "</script><script>" not in html
    assert r"\u0026lt;img src=x onerror=alert(1)\u0026gt; ${alert(2)}" in html  # shown as text in the popup


def test_popup_carries_category_severity_status_date_walk_and_thumbnail(demo_ctx, tmp_path):
    obs = _add_finding(demo_ctx, internal_note="Lampe ud ved stien")
    thumb = tmp_path / "thumb.jpg"
    Image.new("RGB", (8, 8), "red").save(thumb)
    with transaction(demo_ctx.engine) as conn:
        conn.execute(insert(photos).values(id=str(uuid.uuid4()), observation_id=str(obs.id), full_path=str(thumb),
                                           thumb_path=str(thumb), exif={}, created_at=datetime.now(TZ)))
    html = _html(demo_ctx, Filter(date_from=date(2024, 1, 1)))
    assert _shows(html, "Fund (1)")
    for text in ("Belysning", "Alvor: Alvorlig", "Status: Åben", "Dato: 01.03.2024 22:00", "Lampe ud ved stien",
                 "data:image/jpeg;base64,"):
        assert _shows(html, text), text
    assert _shows(_html(demo_ctx, Filter(categories=("lighting",))), "Vandring: Områdevandring i Blokland")


def test_above_the_pin_limit_findings_are_shown_per_cell(demo_ctx):
    html = _html(demo_ctx, pin_limit=100)
    assert _shows(html, "Fund samlet pr. celle (300)") and "L.markerClusterGroup" not in html
    assert _shows(html, "for mange til enkelte nåle (grænse 100)")
    assert "Lampe ud" not in html  # no internal note is shipped when there are no pins
    assert sum(int(n) for n in re.findall(r"(\d+) fund; flest: ", html)) == 300  # every finding in one cell


def test_status_comes_from_the_fix_workflow(ctx):
    obs = [_add_finding(ctx), _add_finding(ctx, category="litter", severity=1)]
    fix = fix_service.create_fix(ctx, PLANNER, {"title": "Ny lampe", "observation_ids": [obs[0].id],
                                                "organisation": "bo-vest"})
    view = hotspots_view.view(ctx, PLANNER, Filter(statuses=("open",)), tiles=False)
    assert view.findings == 2  # a proposal alone leaves a finding open
    for version, target in enumerate(("approved", "in_progress"), start=1):
        fix = fix_service.transition_fix(ctx, PLANNER, fix.id, version, target)
    assert hotspots_view.view(ctx, PLANNER, Filter(statuses=("planned",)), tiles=False).findings == 1
    fix_service.transition_fix(ctx, PLANNER, fix.id, 3, "done")
    resolved = hotspots_view.view(ctx, PLANNER, Filter(statuses=("resolved",)), tiles=False)
    assert resolved.findings == 1
    assert resolved.days_to_resolution is not None
    table = hotspots_view.view(ctx, PLANNER, Filter(), tiles=False).areas
    row = table[table[t("hotspots.col.area")] == "Blokland"].iloc[0]
    assert (row[t("hotspots.col.findings")], row[t("hotspots.col.open")], row[t("hotspots.col.resolved")]) == (2, 1, 1)


def test_incident_reports_are_their_own_density_layer_and_follow_the_filter(ctx):
    _add_finding(ctx)
    _add_reports(ctx, 3)
    _add_reports(ctx, 2, is_demo=True)
    view = hotspots_view.view(ctx, PLANNER, Filter(), tiles=False)
    assert view.reports == 5 and _shows(view.map_html, "Tæthed af indmeldte hændelser (5)")
    assert hotspots_view.view(ctx, PLANNER, Filter(include_demo=False), tiles=False).reports == 3
    assert hotspots_view.view(ctx, PLANNER, Filter(areas=("galgebakken",)), tiles=False).reports == 0
    table = view.areas
    assert table.loc[table[t("hotspots.col.area")] == "Blokland", t("hotspots.col.reports")].item() == 5


def test_view_is_cached_until_the_data_changes(ctx):
    _add_finding(ctx)
    first = hotspots_view.view(ctx, PLANNER, Filter(), tiles=False)
    assert hotspots_view.view(ctx, PLANNER, Filter(), tiles=False) is first
    assert hotspots.select(ctx, PLANNER, Filter(), PIN_LIMIT) is hotspots.select(ctx, PLANNER, Filter(), PIN_LIMIT)
    _add_finding(ctx)
    second = hotspots_view.view(ctx, PLANNER, Filter(), tiles=False)
    assert second is not first and second.findings == 2
    assert hotspots_view.view(ctx, PLANNER, Filter(categories=("litter",)), tiles=False).findings == 0  # per filter
    # the cache belongs to the context, not the process: a fresh context on the same database builds its own
    fresh = AppContext(ctx.settings, ctx.engine)
    try:
        third = hotspots_view.view(fresh, PLANNER, Filter(), tiles=False)
    finally:
        fresh.close()
    assert third is not second and third.findings == 2


def test_only_roles_that_see_internal_data_get_the_view(ctx):
    assert hotspots_view.view(ctx, STAFF, Filter(), tiles=False).findings == 0
    with pytest.raises(PermissionDenied):
        hotspots_view.view(ctx, PUBLIC, Filter())
    with pytest.raises(PermissionDenied):
        hotspots.choices(ctx, PUBLIC)


def test_choices_offer_areas_walks_and_the_date_span(demo_ctx):
    choices = hotspots.choices(demo_ctx, PLANNER)
    assert choices.areas["blokland"] == "Blokland" and len(choices.walks) == 3
    assert (choices.first, choices.last) == (date(2017, 3, 14), date(2017, 5, 16))


def test_map_of_no_findings_still_draws():
    from dke_geo import geo
    empty = pd.DataFrame({c: [] for c in ("lon", "lat", "x", "y", "category", "severity", "area_id", "note",
                                          "status", "observed_at", "walk_title", "is_demo", "thumb")})
    html = render(hotspots_map(empty, pd.DataFrame({"x": [], "y": []}), geo.layer("areas"), tiles=False))
    assert _shows(html, "Fund (0)") and _shows(html, "Signaturforklaring")


def test_charts_and_csv_agree_with_the_filter(demo_ctx):
    view = hotspots_view.view(demo_ctx, PLANNER, Filter(categories=("lighting",)), tiles=False)
    table = view.areas
    assert table[t("hotspots.col.findings")].sum() == view.findings
    bars = pd.DataFrame(view.by_category_area.to_dict()["datasets"].popitem()[1])
    assert bars[t("hotspots.col.count")].sum() == view.findings and set(bars[t("hotspots.col.category")]) == {
        "Belysning"}
    csv = writers.csv_bytes(table).decode("utf-8-sig")
    assert csv.splitlines()[0].startswith("Område,Fund") and "Blokland" in csv
    monthly = charts.monthly_open_resolved(hotspots.load(demo_ctx, PLANNER).findings)
    assert monthly["unresolved"].iloc[-1] + monthly["resolved"].iloc[-1] == 300


def test_finding_frame_times_are_exact_on_both_databases(ctx):
    """The planner reads times in bulk (text on SQLite, timestamptz on PostGIS, both as Arrow): still to the
    microsecond; a column of nothing but NULLs keeps its type."""
    at = datetime(2017, 4, 20, 21, 7, 1, 675300, tzinfo=TZ)
    _add_finding(ctx, observed_at=at)
    frame = obs_store.frame(ctx.columns, ("id", "observed_at", "deleted_at", "is_demo"))
    assert frame["observed_at"].iloc[0] == at and str(frame["observed_at"].dt.tz) == "Europe/Copenhagen"
    assert frame["deleted_at"].isna().all() and frame["is_demo"].dtype == bool
