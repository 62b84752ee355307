"""What the notification tests share: an app context that sends through the test SMTP server, and fixes made through
the services (a finding in Blokland, optionally with a photo approved for the public)."""
from __future__ import annotations

import io
import uuid
from contextlib import contextmanager
from datetime import date

from PIL import Image
from sqlalchemy import Engine

from dke_geo import config
from dke_geo.context import AppContext
from dke_geo.model import Fix
from dke_geo.roles import SYSTEM, Actor, Role
from dke_geo.services import fixes, public, recording

PLANNER = Actor("pia-planlaegger", Role.PLANNER)
PUBLIC_URL = "http://127.0.0.1:8599"
CONTACT = {"bo-vest": "drift@bo-vest.example", "forsyning": "drift@forsyning.example", "dke": "dke@albertslund.example",
           "miljo-teknik": "miljoeogteknik@albertslund.example"}


@contextmanager
def mail_context(engine: Engine, env: dict) -> AppContext:
    """A fresh app context on `engine` with the settings `env` (the SMTP server's, a public URL ...)."""
    url = engine.url.render_as_string(hide_password=False)
    context = AppContext(config.load({"DKE_GEO_DATABASE_URL": url, "DKE_GEO_PUBLIC_URL": PUBLIC_URL, **env}), engine)
    try:
        yield context
    finally:
        context.columns.close()


def jpeg(colour=(250, 200, 0)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, "JPEG")
    return out.getvalue()


def finding(ctx: AppContext, *, photo: bool = False, note: str = "Lampen er slukket") -> str:
    """A finding in Blokland; with `photo`, published with its photo approved for the public."""
    from dke_geo.photos import Upload
    data = {"lon": 12.3573, "lat": 55.6602, "category": "lighting", "id": str(uuid.uuid4()), "internal_note": note}
    obs, _ = recording.record_observation(ctx, SYSTEM, data, photos=[Upload("lampe.jpg", jpeg())] if photo else [])
    if photo:
        public.publish(ctx, SYSTEM, obs.id, "Lampen ved stien lyser ikke.")
        public.approve_photo(ctx, SYSTEM, public.finding_photos(ctx, SYSTEM, obs.id)[0]["id"])
    return str(obs.id)


def make_fix(ctx: AppContext, *moves: str, organisation: str = "bo-vest", due: date | None = None,
             title: str = "Ny lampe ved stien", photo: bool = False, actor: Actor = PLANNER) -> Fix:
    """A fix on a new finding, moved through `moves` by `actor`."""
    fix = fixes.create_fix(ctx, actor, {"title": title, "description": "LED-armatur på masten.",
                                        "observation_ids": [finding(ctx, photo=photo)], "organisation": organisation,
                                        "contact_role": "driftschef", "due_date": due})
    for target in moves:
        fix = fixes.transition_fix(ctx, actor, fix.id, fix.version, target)
    return fix
