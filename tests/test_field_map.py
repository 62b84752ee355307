"""The walk map without a browser: rendered to HTML and read back (zoom to the walk's areas, pins in their
category's colour, the pending pin, escaped user text, no third-party scripts)."""
import re
import uuid
from datetime import datetime

import folium

from dke_geo import geo
from dke_geo.categories import categories
from dke_geo.maps import field, render
from dke_geo.model import TZ, Observation


def _finding(**kw) -> Observation:
    return Observation.model_validate({"id": uuid.uuid4(), "lon": 12.35732, "lat": 55.66024, "category": "lighting",
                                       "observed_at": datetime(2017, 4, 20, 21, 30, tzinfo=TZ), **kw})


def _html(findings=(), pending=None, accuracy=None, lang="da") -> str:
    m = field.walk_map(geo.layer("areas"), ["blokland"], lang)
    field.findings_layer(findings, lang).add_to(m)
    field.pending_layer(pending, accuracy, lang).add_to(m)
    return render(m)


def test_zoomed_to_the_walks_areas_with_them_highlighted():
    html = _html()
    (bounds,) = re.findall(r"fitBounds\(\s*(\[\[.*?\]\])", html, re.S)
    (south, west), (north, east) = eval(bounds)  # noqa: S307 (numbers written by folium)
    blokland = geo.layer("areas").set_index("id").loc["blokland"].geometry.bounds
    assert west < blokland[0] < blokland[2] < east and south < blokland[1] < blokland[3] < north
    assert east - west < 0.03  # the area, not the whole municipality
    assert "dke-area-blokland" in html and "dke-area-galgebakken" in html


def test_findings_are_pins_in_their_category_colour_sized_by_severity():
    light, serious = _finding(), _finding(category="graffiti", severity=3, lon=12.3580, is_demo=True)
    html = _html([light, serious])
    assert f'data-obs=\\"{light.id}\\"' in html and f'data-obs=\\"{serious.id}\\"' in html
    assert categories()["lighting"].colour in html and categories()["graffiti"].colour in html
    assert "width:36px" in html and "width:30px" in html
    assert "Graffiti" in html and "DEMO" in html and '"bubblingMouseEvents": true' in html


def test_the_pending_pin_is_distinct_and_shows_the_gps_accuracy():
    assert "dke-pending" not in _html()
    html = _html(pending=(12.3570, 55.6600), accuracy=45.0)
    assert "dke-pending" in html and field.PENDING_COLOUR in html
    assert re.search(r'"radius": 45\.0', html)


def test_user_text_is_escaped_and_no_script_comes_from_a_cdn():
    note = "</script><script>alert(1)</script> ${alert(2)} `x`"
    html = _html([_finding(internal_note=note)], pending=(12.3570, 55.6600))
    assert "<script>alert(1)" not in html and "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert re.search(r"`[^`]*alert\(2\)", html) is None  # never inside a JavaScript template literal
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/app/static/vendor/") for s in sources), sources


def test_english_labels():
    html = _html([_finding(category="hiding_places")], lang="en")
    assert "Hiding places and poor sightlines" in html and "Significant" in html
    assert isinstance(field.findings_layer([], "en"), folium.FeatureGroup)
