"""The operator's use cases, run from the command line (no login: whoever runs `python -m dke_geo` owns the
data folder and the database): prepare the database at every start, load the demo, make and restore a
backup, fill a store with synthetic findings for the benchmarks."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dke_geo import config, drafts, fixtures, geo, photos, private_files
from dke_geo.context import AppContext
from dke_geo.public import area_label, suggest_text
from dke_geo.roles import SYSTEM, Role
from dke_geo.services import areas as area_service
from dke_geo.services import users as user_service
from dke_geo.services.public import Action
from dke_geo.store import backup as backup_store
from dke_geo.store import fixes as fix_store
from dke_geo.store import observations as obs_store
from dke_geo.store import photos as photo_store
from dke_geo.store import public as pub_store
from dke_geo.store import users as user_store
from dke_geo.store import walks as walk_store
from dke_geo.store.db import bulk_insert, migrate, reading, schema_is_current, transaction


@dataclass(frozen=True)
class Prepared:
    """What `prepare` did."""
    seeded: bool        # the shipped outlines were stored (a new database)
    strays: int         # photo files no saved finding refers to, removed
    stale_drafts: int   # unsaved drafts nobody came back to, removed
    tightened: int      # files and folders in the data folder that others could read, made private


def prepare(ctx: AppContext) -> Prepared:
    """Create the database or migrate it to the newest schema (safe to run again), store the shipped area
    outlines if there are none, remove stray photo files and stale drafts, and make the data folder private
    (0700, its files 0600: an installation made before this rule gets it here). `make run` runs this at every
    start."""
    tightened = private_files.tighten(config.data_dir())  # first: SQLite makes its -wal file with the database's mode
    migrate(ctx.engine)
    seeded = area_service.seed_if_empty(ctx)
    with reading(ctx.engine) as conn:
        strays = photos.sweep(photo_store.stored_paths(conn))
    return Prepared(seeded, len(strays), drafts.sweep(), tightened)


def is_prepared(ctx: AppContext) -> bool:
    """True when the database has the newest schema (`prepare` has run since the last upgrade of the app)."""
    return schema_is_current(ctx.engine)


def is_empty(ctx: AppContext) -> bool:
    """True when the database holds no walks and no findings."""
    with reading(ctx.engine) as conn:
        return not (walk_store.count(conn) or obs_store.count(conn))


def why_no_demo(ctx: AppContext, asked_by_name: bool) -> str | None:
    """None when the demo may be loaded now, else why not. The demo brings accounts with public passwords, so it
    is loaded unasked (`demo --if-empty`, which `make run` runs at every start) only into the embedded default
    database while it is brand new: no account, no walk, no finding. A database named by DKE_GEO_DATABASE_URL
    (a real PostGIS, say) gets it only when asked for by name (`demo`), and then only while it holds no walks
    and no findings.

    Returns "has_data" (walks or findings stored), "configured_database" (DKE_GEO_DATABASE_URL is set) or
    "has_accounts" (an account exists: somebody uses this database)."""
    if not is_empty(ctx):
        return "has_data"
    if asked_by_name:
        return None
    if ctx.settings["DKE_GEO_DATABASE_URL"]:
        return "configured_database"
    with reading(ctx.engine) as conn:
        return "has_accounts" if user_store.count(conn) else None


def has_demo_data(ctx: AppContext) -> bool:
    """True when any demo finding is stored, so every page can say the data is made up."""
    with reading(ctx.engine) as conn:
        return obs_store.has_demo(conn)


def load_demo(ctx: AppContext) -> dict[str, int]:
    """Fill an empty database with the demo walks, findings, solution proposals and accounts (all flagged demo)."""
    area_service.seed_if_empty(ctx)
    demo_walks, demo_obs = fixtures.demo_walks_and_observations()
    assigned = geo.assign_areas([o.lon for o in demo_obs], [o.lat for o in demo_obs], ctx.areas())
    for obs, area_id in zip(demo_obs, assigned, strict=True):
        obs.area_id = area_id
    with transaction(ctx.engine) as conn:
        for walk in demo_walks:
            walk_store.add(conn, walk)
        n = obs_store.add_many(conn, demo_obs)
        for fix, history in fixtures.demo_fixes(demo_obs):
            if fix_store.get(conn, fix.id) is None:
                fix_store.add(conn, fix, *history)
        published = _publish_demo(conn, demo_obs, ctx.area_names()) if n else 0  # once, with the findings
    for name, role, password in fixtures.DEMO_USERS:
        with reading(ctx.engine) as conn:
            exists = user_store.get(conn, name) is not None
        if not exists:
            user_service.add_user(ctx, SYSTEM, name, Role(role), password, is_demo=True)
    return {"walks": len(demo_walks), "observations": n, "fixes": len(fixtures.DEMO_FIXES),
            "published": published, "users": len(fixtures.DEMO_USERS)}


def _publish_demo(conn, demo_obs: list, names: dict[str, str]) -> int:
    """Publish the demo's share of findings (fixtures.demo_publications) as the demo planner would have, each with
    its entry in the publication log; a finding without its own text gets the suggested one in both languages."""
    by_id = {o.id: o for o in demo_obs}
    publications = fixtures.demo_publications(demo_obs)
    for pub in publications:
        obs = by_id[pub.observation_id]
        text, text_en = pub.text, pub.text_en
        if text is None:
            text, text_en = (suggest_text(obs.category, area_label(obs.area_id, names, lang), obs.observed_at, lang)
                             for lang in ("da", "en"))
        pub_store.set_published(conn, str(obs.id), True, text, fixtures.DEMO_PLANNER, pub.at, text_en)
        pub_store.record(conn, str(obs.id), Action.PUBLISHED, fixtures.DEMO_PLANNER, pub.at, text,
                         public_text_en=text_en)
    return len(publications)


def load_synthetic(ctx: AppContext, n: int, seed: int = fixtures.SEED, reports: int = 0) -> dict[str, int]:
    """Bulk-insert n synthetic findings (and `reports` incident reports) in one transaction: the store the
    benchmarks measure (fixtures.synthetic_*)."""
    area_service.seed_if_empty(ctx)
    walk_frame = fixtures.synthetic_walks(max(10, n // 500), seed)
    rows = fixtures.synthetic_observation_rows(n, seed, walk_frame)
    with transaction(ctx.engine) as conn:
        bulk_insert(conn, "walks", walk_frame)
        bulk_insert(conn, "observations", rows)
        bulk_insert(conn, "incident_reports", fixtures.synthetic_incident_rows(reports, seed))
    return {"walks": len(walk_frame), "observations": n, "incident_reports": reports}


def backup(ctx: AppContext, out: Path) -> backup_store.Result:
    """A consistent backup of the database and its photos into the zip `out`, while the app keeps running."""
    return backup_store.backup(ctx.engine, ctx.refuse_database_file(out))


def restore(ctx: AppContext, archive: Path, force: bool = False) -> backup_store.Result:
    """Put a backup back (refused for a database that holds data unless `force`)."""
    return backup_store.restore(ctx.engine, ctx.refuse_database_file(archive), force=force)
