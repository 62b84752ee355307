"""A user's own settings: the colour theme of the recording page (light, or dark for walks after dark), kept with
the user's account so it comes back on another tablet or after a reload."""
from __future__ import annotations

from dke_geo.context import AppContext
from dke_geo.errors import DkeError, NotFound
from dke_geo.roles import Actor, Permission, require
from dke_geo.store import preferences as pref_store
from dke_geo.store.db import reading, transaction

THEMES = ("light", "dark")


def theme(ctx: AppContext, actor: Actor) -> str:
    """The theme `actor` chose for the recording page ("light" until they choose)."""
    require(actor, Permission.RECORD)
    with reading(ctx.engine) as conn:
        return pref_store.theme(conn, actor.name) or THEMES[0]


def set_theme(ctx: AppContext, actor: Actor, value: str) -> None:
    """Keep `value` (one of THEMES) as `actor`'s theme for the recording page."""
    require(actor, Permission.RECORD)
    if value not in THEMES:
        raise DkeError("night.error.theme", theme=value)
    with transaction(ctx.engine) as conn:
        if not pref_store.set_theme(conn, actor.name, value):
            raise NotFound(what=actor.name)
