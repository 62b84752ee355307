"""Safe rendering without a browser: hostile user texts reach the HTML of the public map, its tooltips, its data
block (from which the browser builds popups and the list as text) and the static site only escaped.
(tests/e2e/test_public.py checks in Chromium that no dialog fires.)"""
import json
import re
from html.parser import HTMLParser

import folium
import geopandas as gpd
import pytest
import shapely

from dke_geo import maps
from dke_geo.maps.base import safe_popup, safe_tooltip
from dke_geo.maps.public import json_block, public_map
from dke_geo.model import now
from dke_geo.public import AreaDensity, PublicFinding, PublicPhoto, PublicView
from dke_geo.public_site import index_html, map_html, tile_origin
from dke_geo.services import public as public_service

HOSTILE = ["<img src=x onerror=alert(1)>", "${alert(2)}", "`);alert(3);(`", "</script><script>alert(4)</script>",
           '"><svg onload=alert(5)>', "{{ 7*7 }}{% print 1 %}"]
PHOTO = PublicPhoto('x"><script>alert(6)</script>.jpg', b"", b"", 1, 1)


def _view(text: str, area: str = "Blokland") -> PublicView:
    finding = PublicFinding(key="f-1", lon=12.3573, lat=55.6602, category="lighting", category_label="Belysning",
                            colour="#f2b705", icon="💡", area=area, month="april 2017", month_key="2017-04",
                            text=text, text_lang="da", status="Planlagt", status_group="planned", photos=(PHOTO,))
    return PublicView("da", (finding,), (AreaDensity("blokland", area, 1, 2.5),))


def _areas(name: str) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": ["blokland"], "name": [name], "confidence": ["official"], "source": [""]},
                            geometry=[shapely.box(12.35, 55.655, 12.365, 55.665)], crs=4326)


class _Structure(HTMLParser):
    """The elements of a page: each tag with its attribute names, and the <meta> CSP."""

    def __init__(self, page: str):
        super().__init__()
        self.tags: list[tuple[str, tuple[str, ...]]] = []
        self.csp = ""
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, tuple(sorted(name for name, _ in attrs))))
        values = dict(attrs)
        if tag == "meta" and values.get("http-equiv") == "Content-Security-Policy":
            self.csp = values["content"]


def _same_structure(render, text: str) -> str:
    """Render with the hostile `text` and with a plain one: the hostile page must have exactly the same
    elements and attributes (no injected tag, script or handler), hold no evaluated template, and show the
    text escaped. Returns the hostile page."""
    hostile, plain = render(text), render("plain text")
    assert _Structure(hostile).tags == _Structure(plain).tags
    assert "{{ 7*7 }}" not in text or "{{ 7*7 }}" in hostile  # kept as text, never evaluated to 49
    return hostile


@pytest.mark.parametrize("text", HOSTILE)
def test_the_data_block_cannot_end_its_element(text):
    """The findings travel to the browser as JSON in a <script type="application/json">: no text can close it or
    open a comment, and the browser reads back exactly the text."""
    block = json_block({"text": text, "more": ["<!--", "</SCRIPT >", "&amp;"]})
    assert "<" not in block and ">" not in block and "&" not in block
    assert json.loads(block) == {"text": text, "more": ["<!--", "</SCRIPT >", "&amp;"]}


@pytest.mark.parametrize("text", HOSTILE)
def test_public_map_binds_texts_as_json_strings(text, monkeypatch):
    monkeypatch.setenv("DKE_GEO_TILE_URL", "")
    html = _same_structure(lambda x: re.sub(r"_[0-9a-f]{32}", "_id", maps.render(
        public_map(_view(x, area=x), _areas(x), lambda p: f"photos/{p.name}"))), text)
    calls = re.findall(r"\.bind(?:Tooltip|Popup)\((.)", html)
    # every tooltip folium binds is a JSON string, never a `template`; the findings' popups are built by
    # public_map.js from the data block (a function that makes DOM nodes with textContent)
    assert calls and set(calls) == {'"', "("} and html.count(".bindPopup(() => popup(f)") == 1


def test_safe_elements_never_use_template_literals():
    layer = maps.base_map(tiles=False)
    m = folium.CircleMarker([55.66, 12.35]).add_to(layer)
    safe_tooltip("${alert(1)}").add_to(m)
    safe_popup("`x`").add_to(m)
    html = maps.render(layer)
    assert 'bindTooltip("${alert(1)}"' in html
    assert 'bindPopup("`x`"' in html


@pytest.mark.parametrize("text", HOSTILE)
def test_static_site_pages_escape(text, monkeypatch):
    monkeypatch.setenv("DKE_GEO_TILE_URL", "")
    index = _same_structure(lambda x: index_html(_view(x, area=x), now()), text)
    # the front page runs one script of its own (the frame's height), nothing inline
    assert [attrs for tag, attrs in _Structure(index).tags if tag == "script"] == [("src",)]
    assert "script-src 'self';" in _Structure(index).csp
    _same_structure(lambda x: re.sub(r"_[0-9a-f]{32}", "_id", map_html(_view(x, area=x), _areas(x))), text)


def test_static_site_loads_nothing_from_other_hosts(demo_ctx, tmp_path, monkeypatch):
    monkeypatch.setenv("DKE_GEO_TILE_URL", "https://{s}.tiles.example.dk/{z}/{x}/{y}.png")
    assert tile_origin() == "https://*.tiles.example.dk"
    public_service.write_site(demo_ctx, tmp_path / "site")
    for name in ("index.html", "map.html", "tilgaengelighed.html"):
        html = (tmp_path / "site" / name).read_text()
        hosts = set(re.findall(r"https?://([^/\"'\s;]+)", html)) - {"www.w3.org"}
        assert hosts <= {"{s}.tiles.example.dk", "*.tiles.example.dk"}, hosts
    page = (tmp_path / "site" / "map.html").read_text()
    assert 'src="assets/vendor/leaflet/leaflet.js"' in page
    assert (tmp_path / "site" / "assets" / "vendor" / "leaflet" / "leaflet.js").exists()
    assert "img-src 'self' data: https://*.tiles.example.dk;" in _Structure(page).csp


def test_no_text_in_any_folium_element_runs_as_a_template():
    """branca rendered each element's output a second time as a Jinja template; maps.base renders it once, so
    `{{ ... }}` from a user stays text in GeoJSON properties, icons, tooltips and popups alike."""
    m = maps.base_map(tiles=False)
    folium.GeoJson({"type": "Feature", "properties": {"note": "{{ 7*7 }} a"},
                    "geometry": {"type": "Point", "coordinates": [12.35, 55.66]}}).add_to(m)
    folium.Marker([55.66, 12.35], icon=folium.DivIcon(html="{{ 7*7 }} b")).add_to(m)
    safe_popup("{{ 7*7 }} c").add_to(m)
    html = maps.render(m)
    for tag in "abc":
        assert f"{{{{ 7*7 }}}} {tag}" in html
    assert "49 a" not in html and "49 b" not in html and "49 c" not in html
