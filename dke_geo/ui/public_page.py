"""What the residents' page draws: the public view and its map-and-list document (maps/public.py), built once per
data version and language and kept in the app context, so a rerun costs a lookup. No streamlit here (the benchmark
builds it directly)."""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from dke_geo.context import AppContext
from dke_geo.maps.base import STREAMLIT_ASSETS
from dke_geo.maps.public import document, public_map
from dke_geo.public import PublicPhoto, PublicView
from dke_geo.services import public


@dataclass(frozen=True)
class PublicPage:
    view: PublicView
    html: str       # the map-and-list document
    version: str    # a hash of `html`: the frame reloads only when it changes


def _thumb_src(photo: PublicPhoto) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(photo.thumb).decode()


def page(ctx: AppContext, lang: str, *, asset_base: str = STREAMLIT_ASSETS) -> PublicPage:
    """The page's view and document in `lang` (residents may answer from it), cached by data version."""
    version = ctx.data_version()
    return ctx.cached("public.page", version, (lang, asset_base), lambda: build(public.view(ctx, lang), ctx,
                                                                                asset_base=asset_base))


def build(view: PublicView, ctx: AppContext, *, asset_base: str = STREAMLIT_ASSETS) -> PublicPage:
    """Draw the document of `view` for the live page (thumbnails inline, "Er det stadig et problem?" offered)."""
    html = document(public_map(view, ctx.areas(), _thumb_src, asset_base=asset_base, answers=True))
    return PublicPage(view, html, hashlib.sha256(html.encode()).hexdigest()[:16])
