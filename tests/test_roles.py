"""The role matrix: every service function that checks a role, called by each role (public, staff, planner,
admin) on SQLite and PostGIS. A role holding the permission gets the work done; any other role is refused
with PermissionDenied before anything is written (the data version does not move).

The matrix is data: to add a service function, add one `Case` to CASES. `test_every_role_checked_function_
is_in_the_matrix` reads the code and fails when a function calling `require(actor, Permission.X)` has no
row, or when its row names another permission.
"""
from __future__ import annotations

import ast
import io
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from dke_geo import config, organisations, reports
from dke_geo import photos as photo_files
from dke_geo.errors import PermissionDenied
from dke_geo.filters import Filter
from dke_geo.interop import export, importers
from dke_geo.roles import GRANTS, SYSTEM, Actor, Permission, Role
from dke_geo.services import areas, fixes, planner, publishing, recording, users
from dke_geo.store.db import data_version, make_engine, migrate, reading

ROOT = Path(__file__).resolve().parents[1]
ROLES = [Role.PUBLIC, Role.STAFF, Role.PLANNER, Role.ADMIN]
BLOKLAND = {"lon": 12.3573, "lat": 55.6602}


class World:
    """A database with the demo data, and helpers that make (as the operator) what a call needs."""

    def __init__(self, engine, tmp: Path):
        self.engine, self.tmp = engine, tmp

    def walk(self, ended: bool = False) -> str:
        walk = recording.start_walk(self.engine, SYSTEM, {"title": "Opfølgning i Blokland", "area_ids": ["blokland"]})
        if ended:
            recording.end_walk(self.engine, SYSTEM, walk.id)
        return str(walk.id)

    def finding(self, walk_id: str | None = None, photo: bool = False) -> str:
        data = {**BLOKLAND, "category": "lighting", "id": str(uuid.uuid4()), "walk_id": walk_id}
        upload = [photo_files.Upload("lampe.jpg", _jpeg())] if photo else []
        return str(recording.record_observation(self.engine, SYSTEM, data, photos=upload)[0].id)

    def photo(self) -> str:
        oid = self.finding(photo=True)
        return publishing.finding_photos(self.engine, SYSTEM, oid)[0]["id"]

    def fix(self, *moves: str) -> tuple[str, int]:
        fix = fixes.create_fix(self.engine, SYSTEM, {"title": "Ny lampe", "observation_ids": [self.finding()],
                                                     "organisation": next(iter(organisations.organisations()))})
        for target in moves:
            fix = fixes.transition_fix(self.engine, SYSTEM, fix.id, fix.version, target)
        return str(fix.id), fix.version

    def user(self) -> str:
        name = f"bruger-{uuid.uuid4().hex[:8]}"
        users.add_user(self.engine, SYSTEM, name, Role.STAFF, "en-lang-kode-123")
        return name

    def csv_export(self) -> Path:
        path = self.tmp / f"{uuid.uuid4().hex}.csv"
        path.write_bytes(export.export_bytes(self.engine, SYSTEM, "csv"))
        return path

    def reports_file(self) -> Path:
        path = self.tmp / f"{uuid.uuid4().hex}.csv"
        path.write_text("id,date,type,lon,lat,source\n"
                        f"{uuid.uuid4().hex},2017-04-01T21:00:00+02:00,Indbrud,12.3573,55.6602,Politiet\n")
        return path


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (250, 200, 0)).save(out, "JPEG")
    return out.getvalue()


@dataclass(frozen=True)
class Case:
    name: str                                  # module.function, as found in the code
    permission: Permission | None              # None: open to everyone, the public too
    call: Callable[[World, Actor, Any], Any]   # the service call, given what `setup` made
    setup: Callable[[World], Any] = lambda w: None


CASES = [
    # recording
    Case("recording.start_walk", Permission.RECORD,
         lambda w, a, _: recording.start_walk(w.engine, a, {"title": "Aften", "area_ids": ["blokland"]})),
    Case("recording.end_walk", Permission.RECORD, lambda w, a, walk: recording.end_walk(w.engine, a, walk),
         lambda w: w.walk()),
    Case("recording.resume_walk", Permission.RECORD, lambda w, a, walk: recording.resume_walk(w.engine, a, walk),
         lambda w: w.walk(ended=True)),
    Case("recording.get_walk", Permission.VIEW_INTERNAL, lambda w, a, walk: recording.get_walk(w.engine, a, walk),
         lambda w: w.walk()),
    Case("recording.recent_walks", Permission.VIEW_INTERNAL, lambda w, a, _: recording.recent_walks(w.engine, a)),
    Case("recording.walk_detail", Permission.VIEW_INTERNAL,
         lambda w, a, walk: recording.walk_detail(w.engine, a, walk), lambda w: w.walk()),
    Case("recording.walk_observations", Permission.VIEW_INTERNAL,
         lambda w, a, walk: recording.walk_observations(w.engine, a, walk), lambda w: w.walk()),
    Case("recording.record_observation", Permission.RECORD,
         lambda w, a, _: recording.record_observation(w.engine, a, {**BLOKLAND, "category": "litter"})),
    Case("recording.edit_observation", Permission.RECORD,
         lambda w, a, oid: recording.edit_observation(w.engine, a, oid, {"severity": 3}), lambda w: w.finding()),
    Case("recording.delete_observation", Permission.RECORD,
         lambda w, a, oid: recording.delete_observation(w.engine, a, oid), lambda w: w.finding()),
    # areas
    Case("areas.replace_from_file", Permission.MANAGE_AREAS,
         lambda w, a, _: areas.replace_from_file(w.engine, a, config.geo_dir() / "areas.geojson", "name")),
    # users
    Case("users.add_user", Permission.MANAGE_USERS,
         lambda w, a, _: users.add_user(w.engine, a, f"ny-{uuid.uuid4().hex[:8]}", Role.STAFF, "en-lang-kode-123")),
    Case("users.list_users", Permission.MANAGE_USERS, lambda w, a, _: users.list_users(w.engine, a)),
    Case("users.set_role", Permission.MANAGE_USERS,
         lambda w, a, name: users.set_role(w.engine, a, name, Role.PLANNER), lambda w: w.user()),
    Case("users.remove_user", Permission.MANAGE_USERS,
         lambda w, a, name: users.remove_user(w.engine, a, name), lambda w: w.user()),
    # publishing
    Case("publishing.suggested_text", Permission.PUBLISH,
         lambda w, a, oid: publishing.suggested_text(w.engine, a, oid), lambda w: w.finding()),
    Case("publishing.publish", Permission.PUBLISH, lambda w, a, oid: publishing.publish(w.engine, a, oid),
         lambda w: w.finding()),
    Case("publishing.publish_walk", Permission.PUBLISH,
         lambda w, a, walk: publishing.publish_walk(w.engine, a, walk),
         lambda w: (walk := w.walk(), w.finding(walk))[0]),
    Case("publishing.unpublish", Permission.PUBLISH, lambda w, a, oid: publishing.unpublish(w.engine, a, oid),
         lambda w: (oid := w.finding(), publishing.publish(w.engine, SYSTEM, oid))[0]),
    Case("publishing.approve_photo", Permission.PUBLISH,
         lambda w, a, pid: publishing.approve_photo(w.engine, a, pid), lambda w: w.photo()),
    Case("publishing.queue", Permission.PUBLISH, lambda w, a, _: publishing.queue(w.engine, a)),
    Case("publishing.finding_photos", Permission.PUBLISH,
         lambda w, a, oid: publishing.finding_photos(w.engine, a, oid), lambda w: w.finding()),
    Case("publishing.history", Permission.PUBLISH, lambda w, a, oid: publishing.history(w.engine, a, oid),
         lambda w: w.finding()),
    # fixes
    Case("fixes.create_fix", Permission.MANAGE_FIXES,
         lambda w, a, oid: fixes.create_fix(w.engine, a, {"title": "Ny lampe", "observation_ids": [oid],
                                                          "organisation": next(iter(organisations.organisations()))}),
         lambda w: w.finding()),
    Case("fixes.edit_fix", Permission.MANAGE_FIXES,
         lambda w, a, fv: fixes.edit_fix(w.engine, a, fv[0], fv[1], {"title": "Ny LED-lampe"}), lambda w: w.fix()),
    Case("fixes.transition_fix", Permission.MANAGE_FIXES,
         lambda w, a, fv: fixes.transition_fix(w.engine, a, fv[0], fv[1], "approved"), lambda w: w.fix()),
    Case("fixes.follow_up", Permission.RECORD,
         lambda w, a, s: fixes.follow_up(w.engine, a, s[0], s[1][0], s[1][1], "fixed"),
         lambda w: (w.walk(), w.fix("approved", "in_progress", "done"))),
    Case("fixes.follow_up_finding", Permission.RECORD,
         lambda w, a, s: fixes.follow_up_finding(w.engine, a, s[0], s[1], "still_a_problem"),
         lambda w: (w.walk(), w.finding())),
    Case("fixes.get_fix", Permission.VIEW_INTERNAL, lambda w, a, fv: fixes.get_fix(w.engine, a, fv[0]),
         lambda w: w.fix()),
    Case("fixes.candidate_findings", Permission.VIEW_INTERNAL, lambda w, a, _: fixes.candidate_findings(w.engine, a)),
    Case("fixes.board_choices", Permission.VIEW_INTERNAL, lambda w, a, _: fixes.board_choices(w.engine, a)),
    Case("fixes.fixes_frame", Permission.VIEW_INTERNAL, lambda w, a, _: fixes.fixes_frame(w.engine, a)),
    Case("fixes.fix_figures", Permission.VIEW_INTERNAL, lambda w, a, _: fixes.fix_figures(w.engine, a, "category")),
    Case("fixes.follow_up_items", Permission.VIEW_INTERNAL,
         lambda w, a, walk: fixes.follow_up_items(w.engine, a, walk), lambda w: w.walk()),
    # planner
    Case("planner.choices", Permission.VIEW_INTERNAL, lambda w, a, _: planner.choices(w.engine, a)),
    Case("planner.planner_view", Permission.VIEW_INTERNAL,
         lambda w, a, _: planner.planner_view(w.engine, a, Filter(), tiles=False)),
    # import and export
    Case("export.tables", Permission.VIEW_INTERNAL, lambda w, a, _: export.tables(w.engine, a)),
    Case("export.tables(public=True)", None, lambda w, a, _: export.tables(w.engine, a, public=True)),
    Case("importers.import_findings", Permission.IMPORT,
         lambda w, a, path: importers.import_findings(w.engine, a, path, dry_run=True), lambda w: w.csv_export()),
    Case("importers.import_reports", Permission.IMPORT,
         lambda w, a, path: importers.import_reports(w.engine, a, path), lambda w: w.reports_file()),
    # reports
    Case("reports.walk_report", Permission.VIEW_INTERNAL,
         lambda w, a, walk: reports.walk_report(w.engine, a, walk), lambda w: w.walk()),
    Case("reports.period_report", Permission.VIEW_INTERNAL,
         lambda w, a, _: reports.period_report(w.engine, a, "2017H1")),
]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def world(request, tmp_path_factory):
    """One database per backend for the whole matrix (the demo data, loaded once), photos in a temp folder."""
    from dke_geo import fixtures
    tmp = tmp_path_factory.mktemp("roles")
    if request.param == "postgis":
        url = request.getfixturevalue("pg_server").new_database("roles", template="dke_template")
    else:
        url = f"sqlite:///{tmp / 'roles.sqlite'}"
    old = os.environ.get("DKE_GEO_DATA_DIR")
    os.environ["DKE_GEO_DATA_DIR"] = str(tmp)
    engine = make_engine(url)
    migrate(engine)
    fixtures.load_demo(engine)
    yield World(engine, tmp)
    engine.dispose()
    if old is None:
        os.environ.pop("DKE_GEO_DATA_DIR", None)
    else:
        os.environ["DKE_GEO_DATA_DIR"] = old


def _version(engine) -> int:
    with reading(engine) as conn:
        return data_version(conn)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_role_matrix(world, case):
    for role in ROLES:
        actor = Actor(f"test-{role.value}" if role != Role.PUBLIC else "", role)
        made = case.setup(world)
        before = _version(world.engine)
        if case.permission is None or case.permission in GRANTS[role]:
            case.call(world, actor, made)  # any error fails the test
        else:
            with pytest.raises(PermissionDenied) as refused:
                case.call(world, actor, made)
            assert refused.value.values["permission"] == case.permission.value
            assert _version(world.engine) == before, f"{case.name} wrote something for {role} before refusing"


def _role_checked_functions() -> dict[str, str]:
    """module.function -> permission, for every function in dke_geo that calls require(actor, Permission.X)."""
    found = {}
    for path in (ROOT / "dke_geo").rglob("*.py"):
        if "ui" in path.parts or "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
                continue
            for call in ast.walk(node):
                if (isinstance(call, ast.Call) and getattr(call.func, "id", "") == "require" and len(call.args) == 2
                        and isinstance(call.args[1], ast.Attribute)):
                    found[f"{path.stem}.{node.name}"] = call.args[1].attr.lower()
    return found


def test_every_role_checked_function_is_in_the_matrix():
    rows = {c.name: c.permission for c in CASES}
    for name, permission in _role_checked_functions().items():
        assert name in rows, f"{name} checks a role but has no row in tests/test_roles.py CASES"
        assert rows[name] is not None and rows[name].value == permission, name


def test_the_grants_table():
    """Public: nothing; staff: record and see internal data; planner: + fixes, publishing, import; admin: all."""
    assert GRANTS[Role.PUBLIC] == frozenset()
    assert GRANTS[Role.STAFF] == {Permission.RECORD, Permission.VIEW_INTERNAL}
    assert GRANTS[Role.PLANNER] == GRANTS[Role.STAFF] | {Permission.MANAGE_FIXES, Permission.PUBLISH,
                                                         Permission.IMPORT}
    assert GRANTS[Role.ADMIN] == frozenset(Permission)
