"""The role matrix: every service function, called by each role (public, staff, planner, admin) on SQLite and
PostGIS. A role holding the permission gets the work done; any other role is refused with PermissionDenied before
anything is written (the data version does not move). What needs no role (the public view) works for everyone.

The matrix is data: to add a service function, add one `Case` to CASES. `test_every_service_function_is_in_the_
matrix` reads dke_geo/services/ and fails when a function that takes an actor, or calls `require(actor,
Permission.X)`, has no row (or a row naming another permission), and when a function that takes the app context
but no actor is neither in the matrix nor in WITHOUT_ACTOR with the reason it needs no role.
"""
from __future__ import annotations

import ast
import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from shapely.geometry import mapping
from sqlalchemy import update

from dke_geo import config, organisations
from dke_geo import photos as photo_files
from dke_geo.context import AppContext
from dke_geo.errors import PermissionDenied
from dke_geo.filters import Filter
from dke_geo.public import public_key
from dke_geo.roles import GRANTS, SYSTEM, Actor, Permission, Role
from dke_geo.services import (
    answers,
    areas,
    exports,
    fixes,
    hotspots,
    imports,
    maintenance,
    notifications,
    preferences,
    public,
    recording,
    reports,
    users,
)
from dke_geo.store.db import data_version, reading, transaction
from dke_geo.store.tables import outbox
from tests.conftest import open_database

ROOT = Path(__file__).resolve().parents[1]
ROLES = [Role.PUBLIC, Role.STAFF, Role.PLANNER, Role.ADMIN]
BLOKLAND = {"lon": 12.3573, "lat": 55.6602}


class World:
    """A database with the demo data (through its app context), and helpers that make (as the operator) what a
    call needs."""

    def __init__(self, ctx: AppContext, tmp: Path):
        self.ctx, self.tmp = ctx, tmp

    def outline(self, area_id: str) -> dict:
        """The stored outline of `area_id` as GeoJSON (as the map's drawing tool would send it back)."""
        areas_now = self.ctx.areas()
        return mapping(areas_now[areas_now["id"] == area_id].geometry.iloc[0])

    def walk(self, ended: bool = False) -> str:
        walk = recording.start_walk(self.ctx, SYSTEM, {"title": "Opfølgning i Blokland", "area_ids": ["blokland"]})
        if ended:
            recording.end_walk(self.ctx, SYSTEM, walk.id)
        return str(walk.id)

    def finding(self, walk_id: str | None = None, photo: bool = False) -> str:
        data = {**BLOKLAND, "category": "lighting", "id": str(uuid.uuid4()), "walk_id": walk_id}
        upload = [photo_files.Upload("lampe.jpg", _jpeg())] if photo else []
        return str(recording.record_observation(self.ctx, SYSTEM, data, photos=upload)[0].id)

    def photo(self) -> str:
        oid = self.finding(photo=True)
        return public.finding_photos(self.ctx, SYSTEM, oid)[0]["id"]

    def fix(self, *moves: str) -> tuple[str, int]:
        fix = fixes.create_fix(self.ctx, SYSTEM, {"title": "Ny lampe", "observation_ids": [self.finding()],
                                                  "organisation": next(iter(organisations.organisations()))})
        for target in moves:
            fix = fixes.transition_fix(self.ctx, SYSTEM, fix.id, fix.version, target)
        return str(fix.id), fix.version

    def failed_message(self) -> str:
        """An outbox row that failed for good (what an administrator resends)."""
        fix_id, _ = self.fix("approved")
        row = notifications.fix_messages(self.ctx, SYSTEM, fix_id).iloc[0]
        with transaction(self.ctx.engine) as conn:
            conn.execute(update(outbox).where(outbox.c.id == row["id"]).values(state="failed"))
        return row["id"]

    def answerable(self) -> str:
        """The public key of a published finding whose fix is planned (residents may answer about it)."""
        fix_id, _version = self.fix("approved")
        oid = str(fixes.get_fix(self.ctx, SYSTEM, fix_id).fix.observation_ids[0])
        public.publish(self.ctx, SYSTEM, oid)
        return public_key(oid)

    def accounts(self) -> None:
        """Accounts for the matrix's actors (test-staff, test-planner, test-admin), for what is kept per user."""
        existing = {u["name"] for u in users.list_users(self.ctx, SYSTEM)}
        for role in (Role.STAFF, Role.PLANNER, Role.ADMIN):
            if f"test-{role.value}" not in existing:
                users.add_user(self.ctx, SYSTEM, f"test-{role.value}", role, "en-lang-kode-123")

    def user(self) -> str:
        name = f"bruger-{uuid.uuid4().hex[:8]}"
        users.add_user(self.ctx, SYSTEM, name, Role.STAFF, "en-lang-kode-123")
        return name

    def csv_export(self) -> Path:
        path = self.tmp / f"{uuid.uuid4().hex}.csv"
        path.write_bytes(exports.export_bytes(self.ctx, SYSTEM, "csv"))
        return path

    def reports_file(self) -> Path:
        path = self.tmp / f"{uuid.uuid4().hex}.csv"
        path.write_text("id,date,type,lon,lat,source\n"
                        f"{uuid.uuid4().hex},2017-04-01T21:00:00+02:00,Indbrud,12.3573,55.6602,Politiet\n")
        return path

    def out(self, suffix: str = "") -> Path:
        """A new path in the temp folder (a file to export to, a folder for the static site)."""
        return self.tmp / f"{uuid.uuid4().hex}{suffix}"


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (250, 200, 0)).save(out, "JPEG")
    return out.getvalue()


@dataclass(frozen=True)
class Case:
    name: str                                  # module.function in dke_geo/services/, a variant in (brackets)
    permission: Permission | None              # None: open to everyone, the public too
    call: Callable[[World, Actor, Any], Any]   # the service call, given what `setup` made
    setup: Callable[[World], Any] = lambda w: None


CASES = [
    # recording
    Case("recording.start_walk", Permission.RECORD,
         lambda w, a, _: recording.start_walk(w.ctx, a, {"title": "Aften", "area_ids": ["blokland"]})),
    Case("recording.end_walk", Permission.RECORD, lambda w, a, walk: recording.end_walk(w.ctx, a, walk),
         lambda w: w.walk()),
    Case("recording.resume_walk", Permission.RECORD, lambda w, a, walk: recording.resume_walk(w.ctx, a, walk),
         lambda w: w.walk(ended=True)),
    Case("recording.get_walk", Permission.VIEW_INTERNAL, lambda w, a, walk: recording.get_walk(w.ctx, a, walk),
         lambda w: w.walk()),
    Case("recording.recent_walks", Permission.VIEW_INTERNAL, lambda w, a, _: recording.recent_walks(w.ctx, a)),
    Case("recording.walk_detail", Permission.VIEW_INTERNAL,
         lambda w, a, walk: recording.walk_detail(w.ctx, a, walk), lambda w: w.walk()),
    Case("recording.walk_observations", Permission.VIEW_INTERNAL,
         lambda w, a, walk: recording.walk_observations(w.ctx, a, walk), lambda w: w.walk()),
    Case("recording.record_observation", Permission.RECORD,
         lambda w, a, _: recording.record_observation(w.ctx, a, {**BLOKLAND, "category": "litter"})),
    Case("recording.edit_observation", Permission.RECORD,
         lambda w, a, oid: recording.edit_observation(w.ctx, a, oid, {"severity": 3}), lambda w: w.finding()),
    Case("recording.delete_observation", Permission.RECORD,
         lambda w, a, oid: recording.delete_observation(w.ctx, a, oid), lambda w: w.finding()),
    # areas
    Case("areas.replace_from_file", Permission.MANAGE_AREAS,
         lambda w, a, _: areas.replace_from_file(w.ctx, a, config.geo_dir() / "areas.geojson", "name")),
    Case("areas.summary", Permission.VIEW_INTERNAL, lambda w, a, _: areas.summary(w.ctx, a)),
    Case("areas.save_outline", Permission.MANAGE_AREAS,
         lambda w, a, outline: areas.save_outline(w.ctx, a, "blokland", "Blokland", outline),
         lambda w: w.outline("blokland")),
    Case("areas.outline_history", Permission.MANAGE_AREAS, lambda w, a, _: areas.outline_history(w.ctx, a)),
    # users
    Case("users.add_user", Permission.MANAGE_USERS,
         lambda w, a, _: users.add_user(w.ctx, a, f"ny-{uuid.uuid4().hex[:8]}", Role.STAFF, "en-lang-kode-123")),
    Case("users.list_users", Permission.MANAGE_USERS, lambda w, a, _: users.list_users(w.ctx, a)),
    Case("users.set_role", Permission.MANAGE_USERS,
         lambda w, a, name: users.set_role(w.ctx, a, name, Role.PLANNER), lambda w: w.user()),
    Case("users.set_password", Permission.MANAGE_USERS,
         lambda w, a, name: users.set_password(w.ctx, a, name, "en-anden-kode-456"), lambda w: w.user()),
    Case("users.remove_user", Permission.MANAGE_USERS,
         lambda w, a, name: users.remove_user(w.ctx, a, name), lambda w: w.user()),
    # publishing, and what the public sees
    Case("public.suggested_text", Permission.PUBLISH,
         lambda w, a, oid: public.suggested_text(w.ctx, a, oid), lambda w: w.finding()),
    Case("public.publish", Permission.PUBLISH, lambda w, a, oid: public.publish(w.ctx, a, oid),
         lambda w: w.finding()),
    Case("public.publish_walk", Permission.PUBLISH,
         lambda w, a, walk: public.publish_walk(w.ctx, a, walk),
         lambda w: (walk := w.walk(), w.finding(walk))[0]),
    Case("public.unpublish", Permission.PUBLISH, lambda w, a, oid: public.unpublish(w.ctx, a, oid),
         lambda w: (oid := w.finding(), public.publish(w.ctx, SYSTEM, oid))[0]),
    Case("public.approve_photo", Permission.PUBLISH,
         lambda w, a, pid: public.approve_photo(w.ctx, a, pid), lambda w: w.photo()),
    Case("public.queue", Permission.PUBLISH, lambda w, a, _: public.queue(w.ctx, a)),
    Case("public.finding_photos", Permission.PUBLISH,
         lambda w, a, oid: public.finding_photos(w.ctx, a, oid), lambda w: w.finding()),
    Case("public.history", Permission.PUBLISH, lambda w, a, oid: public.history(w.ctx, a, oid),
         lambda w: w.finding()),
    Case("public.view", None, lambda w, a, _: public.view(w.ctx, "en")),
    Case("public.walk_view", Permission.VIEW_INTERNAL,
         lambda w, a, walk: public.walk_view(w.ctx, a, walk), lambda w: w.walk()),
    Case("public.write_site", None, lambda w, a, _: public.write_site(w.ctx, w.out())),
    # residents' answers (anyone answers; staff read them), and what a user keeps for themselves
    Case("answers.answer", None,
         lambda w, a, key: answers.answer(w.ctx, f"client-{uuid.uuid4().hex}", key, True, "Lampen lyser igen"),
         lambda w: w.answerable()),
    Case("answers.for_walk", Permission.VIEW_INTERNAL, lambda w, a, walk: answers.for_walk(w.ctx, a, walk),
         lambda w: w.walk()),
    Case("answers.for_fix", Permission.VIEW_INTERNAL, lambda w, a, fv: answers.for_fix(w.ctx, a, fv[0]),
         lambda w: w.fix()),
    Case("preferences.theme", Permission.RECORD, lambda w, a, _: preferences.theme(w.ctx, a), lambda w: w.accounts()),
    Case("preferences.set_theme", Permission.RECORD, lambda w, a, _: preferences.set_theme(w.ctx, a, "dark"),
         lambda w: w.accounts()),
    # fixes
    Case("fixes.create_fix", Permission.MANAGE_FIXES,
         lambda w, a, oid: fixes.create_fix(w.ctx, a, {"title": "Ny lampe", "observation_ids": [oid],
                                                       "organisation": next(iter(organisations.organisations()))}),
         lambda w: w.finding()),
    Case("fixes.edit_fix", Permission.MANAGE_FIXES,
         lambda w, a, fv: fixes.edit_fix(w.ctx, a, fv[0], fv[1], {"title": "Ny LED-lampe"}), lambda w: w.fix()),
    Case("fixes.transition_fix", Permission.MANAGE_FIXES,
         lambda w, a, fv: fixes.transition_fix(w.ctx, a, fv[0], fv[1], "approved"), lambda w: w.fix()),
    Case("fixes.follow_up", Permission.RECORD,
         lambda w, a, s: fixes.follow_up(w.ctx, a, s[0], s[1][0], s[1][1], "fixed"),
         lambda w: (w.walk(), w.fix("approved", "in_progress", "done"))),
    Case("fixes.follow_up_finding", Permission.RECORD,
         lambda w, a, s: fixes.follow_up_finding(w.ctx, a, s[0], s[1], "still_a_problem"),
         lambda w: (w.walk(), w.finding())),
    Case("fixes.get_fix", Permission.VIEW_INTERNAL, lambda w, a, fv: fixes.get_fix(w.ctx, a, fv[0]),
         lambda w: w.fix()),
    Case("fixes.candidate_findings", Permission.VIEW_INTERNAL, lambda w, a, _: fixes.candidate_findings(w.ctx, a)),
    Case("fixes.board_choices", Permission.VIEW_INTERNAL, lambda w, a, _: fixes.board_choices(w.ctx, a)),
    Case("fixes.fixes_frame", Permission.VIEW_INTERNAL, lambda w, a, _: fixes.fixes_frame(w.ctx, a)),
    Case("fixes.fix_figures", Permission.VIEW_INTERNAL, lambda w, a, _: fixes.fix_figures(w.ctx, a, "category")),
    Case("fixes.follow_up_items", Permission.VIEW_INTERNAL,
         lambda w, a, walk: fixes.follow_up_items(w.ctx, a, walk), lambda w: w.walk()),
    # telling the responsible organisations
    Case("notifications.contacts", Permission.MANAGE_CONTACTS, lambda w, a, _: notifications.contacts(w.ctx, a)),
    Case("notifications.set_contact", Permission.MANAGE_CONTACTS,
         lambda w, a, _: notifications.set_contact(w.ctx, a, "bo-vest", "drift@bo-vest.example", "da")),
    Case("notifications.contact_history", Permission.MANAGE_CONTACTS,
         lambda w, a, _: notifications.contact_history(w.ctx, a)),
    Case("notifications.outbox", Permission.MANAGE_CONTACTS, lambda w, a, _: notifications.outbox(w.ctx, a)),
    Case("notifications.resend", Permission.MANAGE_CONTACTS,
         lambda w, a, message: notifications.resend(w.ctx, a, message), lambda w: w.failed_message()),
    Case("notifications.delivery", Permission.VIEW_INTERNAL, lambda w, a, _: notifications.delivery(w.ctx, a)),
    Case("notifications.fix_messages", Permission.VIEW_INTERNAL,
         lambda w, a, fv: notifications.fix_messages(w.ctx, a, fv[0]), lambda w: w.fix("approved")),
    # the hotspots page
    Case("hotspots.load", Permission.VIEW_INTERNAL, lambda w, a, _: hotspots.load(w.ctx, a)),
    Case("hotspots.choices", Permission.VIEW_INTERNAL, lambda w, a, _: hotspots.choices(w.ctx, a)),
    Case("hotspots.select", Permission.VIEW_INTERNAL, lambda w, a, _: hotspots.select(w.ctx, a, Filter(), 500)),
    # export and import
    Case("exports.tables", Permission.VIEW_INTERNAL, lambda w, a, _: exports.tables(w.ctx, a)),
    Case("exports.tables(public=True)", None, lambda w, a, _: exports.tables(w.ctx, a, public=True)),
    Case("exports.export", Permission.VIEW_INTERNAL,
         lambda w, a, _: exports.export(w.ctx, a, "gpkg", w.out(".gpkg"), Filter(areas=("blokland",)))),
    Case("exports.export(public=True)", None,
         lambda w, a, _: exports.export(w.ctx, a, "geojson", w.out(".geojson"), public=True)),
    Case("exports.export_bytes", Permission.VIEW_INTERNAL, lambda w, a, _: exports.export_bytes(w.ctx, a, "csv")),
    Case("exports.export_bytes(public=True)", None,
         lambda w, a, _: exports.export_bytes(w.ctx, a, "xlsx", public=True)),
    Case("imports.import_findings", Permission.IMPORT,
         lambda w, a, path: imports.import_findings(w.ctx, a, path, dry_run=True), lambda w: w.csv_export()),
    Case("imports.import_reports", Permission.IMPORT,
         lambda w, a, path: imports.import_reports(w.ctx, a, path), lambda w: w.reports_file()),
    Case("imports.draft_mapping", Permission.IMPORT,
         lambda w, a, path: imports.draft_mapping(w.ctx, a, path), lambda w: w.csv_export()),
    Case("imports.write_mapping", Permission.IMPORT,
         lambda w, a, path: imports.write_mapping(w.ctx, a, path, w.out(".toml")), lambda w: w.csv_export()),
    Case("imports.write_form", Permission.IMPORT, lambda w, a, _: imports.write_form(w.ctx, a, w.out(".xlsx"))),
    # reports
    Case("reports.walk_report", Permission.VIEW_INTERNAL,
         lambda w, a, walk: reports.walk_report(w.ctx, a, walk), lambda w: w.walk()),
    Case("reports.walk_report(forum=True)", Permission.VIEW_INTERNAL,
         lambda w, a, walk: reports.walk_report(w.ctx, a, walk, forum=True), lambda w: w.walk()),
    Case("reports.period_report", Permission.VIEW_INTERNAL,
         lambda w, a, _: reports.period_report(w.ctx, a, "2017H1")),
]

WITHOUT_ACTOR = {
    # module.function (or module.*): why it takes the app context but no actor
    "maintenance.*": "the operator's command line (init-db, demo, backup, restore): no login, whoever runs "
                     "`python -m dke_geo` owns the data folder and the database",
    "areas.seed_if_empty": "init-db's work (maintenance.prepare)",
    "users.authenticate": "the login itself (name and password)",
    "users.actor_for_email": "the login itself (OpenID Connect: the provider's verified e-mail)",
    "sessions.start": "the login itself: the session of who has just given the right password",
    "sessions.start_oidc": "the login itself (OpenID Connect: the provider's login)",
    "sessions.resume": "the login itself: the tab's session checked at every interaction",
    "sessions.end": "logging out: ends the caller's own session, whoever they are",
    "notifications.queue_for_change": "called by services/fixes.py inside the transaction of a change it has "
                                      "role-checked",
    "notifications.queue_due": "the sender (the app's scheduler, or the operator's `notify send`): it queues "
                               "reminders and digests of what role-checked changes made",
    "notifications.queue_digests": "the operator's `notify digest`",
    "notifications.send_queued": "the sender (the app's scheduler, or the operator's `notify send`): it delivers what "
                                 "role-checked changes queued",
    "notifications.start_scheduler": "the app starting its sender (ui/session.py)",
    "hotspots.prefetch": "the app's warm-up at start (ui/session.py): reads into the context's cache, returns nothing",
    "report_back.*": "the organisation's report-back page: its signed link is the authority (no login)",
    "fixes.report_via_link": "the organisation's report through its signed link, which report_back.grant checks",
}


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def world(request, tmp_path_factory):
    """One database per backend for the whole matrix (the demo data, loaded once), photos in a temp folder."""
    tmp = tmp_path_factory.mktemp("roles")
    if request.param == "postgis":
        url = request.getfixturevalue("pg_server").new_database("roles", template="dke_template")
    else:
        url = f"sqlite:///{tmp / 'roles.sqlite'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DKE_GEO_DATA_DIR", str(tmp))
        ctx = open_database(url)
        maintenance.load_demo(ctx)
        yield World(ctx, tmp)
        ctx.close()


def _version(ctx) -> int:
    with reading(ctx.engine) as conn:
        return data_version(conn)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_role_matrix(world, case):
    for role in ROLES:
        actor = Actor(f"test-{role.value}" if role != Role.PUBLIC else "", role)
        made = case.setup(world)
        before = _version(world.ctx)
        if case.permission is None or case.permission in GRANTS[role]:
            case.call(world, actor, made)  # any error fails the test
        else:
            with pytest.raises(PermissionDenied) as refused:
                case.call(world, actor, made)
            assert refused.value.values["permission"] == case.permission.value
            assert _version(world.ctx) == before, f"{case.name} wrote something for {role} before refusing"


def _service_functions() -> dict[str, tuple[list[str], str | None]]:
    """module.function -> (its parameters, the permission it requires itself or None), for every public function
    in dke_geo/services/."""
    found = {}
    for path in sorted((ROOT / "dke_geo" / "services").glob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
                continue
            params = [a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs]
            required = None
            for call in ast.walk(node):
                if (isinstance(call, ast.Call) and getattr(call.func, "id", "") == "require" and len(call.args) == 2
                        and isinstance(call.args[1], ast.Attribute)):
                    required = call.args[1].attr.lower()
            found[f"{path.stem}.{node.name}"] = (params, required)
    return found


def test_every_service_function_is_in_the_matrix():
    functions = _service_functions()
    rows = {case.name: case.permission for case in CASES if "(" not in case.name}  # variants: name(...)
    assert set(rows) <= set(functions), f"rows for no service function: {set(rows) - set(functions)}"
    variants = {c.name.split("(")[0] for c in CASES}
    assert variants <= set(rows), f"variants without the function's own row: {variants - set(rows)}"
    exempt = {name for name in functions if name in WITHOUT_ACTOR or f"{name.split('.')[0]}.*" in WITHOUT_ACTOR}
    assert not exempt & set(rows), "a function is both in the matrix and in WITHOUT_ACTOR"
    for name, (params, required) in functions.items():
        if required is not None:  # checks a role itself: its row names that permission
            assert name in rows, f"{name} checks a role but has no row in tests/test_roles.py CASES"
            assert rows[name] is not None and rows[name].value == required, name
        elif "ctx" in params:     # a use case: in the matrix (its role checked through another call, or none)
            assert name in rows or name in exempt, (
                f"{name} has no row in tests/test_roles.py CASES (nor a reason in WITHOUT_ACTOR)")
        else:                     # no context: a pure helper (figures, CSV text ...), nothing to check
            assert "actor" not in params, f"{name} takes an actor but no context"


def test_the_grants_table():
    """Public: nothing; staff: record and see internal data; planner: + fixes, publishing, import; admin: all."""
    assert GRANTS[Role.PUBLIC] == frozenset()
    assert GRANTS[Role.STAFF] == {Permission.RECORD, Permission.VIEW_INTERNAL}
    assert GRANTS[Role.PLANNER] == GRANTS[Role.STAFF] | {Permission.MANAGE_FIXES, Permission.PUBLISH,
                                                         Permission.IMPORT, Permission.MANAGE_AREAS}
    assert GRANTS[Role.ADMIN] == frozenset(Permission)
