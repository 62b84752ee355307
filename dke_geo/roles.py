"""Roles and what each may do. Service functions call `require`; the UI only hides what a role may
not do, so a call from the wrong role is refused here even if a page forgot to hide it."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dke_geo.errors import PermissionDenied
from dke_geo.i18n import t


class Role(StrEnum):
    PUBLIC = "public"
    STAFF = "staff"
    PLANNER = "planner"
    ADMIN = "admin"


class Permission(StrEnum):
    RECORD = "record"                  # start walks, save, edit and delete findings
    VIEW_INTERNAL = "view_internal"    # internal notes, unpublished findings, who recorded
    MANAGE_FIXES = "manage_fixes"      # create and move solution proposals
    PUBLISH = "publish"                # publish findings and approve photos
    IMPORT = "import"                  # import findings and incident reports
    MANAGE_AREAS = "manage_areas"      # correct an area's outline on the map, replace all outlines
    MANAGE_USERS = "manage_users"      # accounts and roles
    MANAGE_CONTACTS = "manage_contacts"  # the organisations' contact e-mails and the outbox of messages to them


_STAFF = {Permission.RECORD, Permission.VIEW_INTERNAL}
_PLANNER = _STAFF | {Permission.MANAGE_FIXES, Permission.PUBLISH, Permission.IMPORT, Permission.MANAGE_AREAS}
GRANTS: dict[Role, frozenset[Permission]] = {
    Role.PUBLIC: frozenset(),
    Role.STAFF: frozenset(_STAFF),
    Role.PLANNER: frozenset(_PLANNER),
    Role.ADMIN: frozenset(Permission),
}


@dataclass(frozen=True)
class Actor:
    """Who is calling: a user name (never shown publicly) and a role."""
    name: str
    role: Role

    def can(self, permission: Permission) -> bool:
        return permission in GRANTS[self.role]


PUBLIC = Actor("", Role.PUBLIC)
SYSTEM = Actor("system", Role.ADMIN)  # the command line run by an operator


def require(actor: Actor, permission: Permission) -> None:
    """Refuse with a translatable PermissionDenied unless `actor` holds `permission`."""
    if not actor.can(permission):
        raise PermissionDenied(role=actor.role.value, action=t(f"permission.{permission.value}", "en"),
                               permission=permission.value)
