"""Local accounts (argon2-hashed passwords), login with rate limiting, and roles.

Used when no OpenID Connect provider is configured; with one, `actor_for_email` maps the verified
e-mail to a role.
"""
from __future__ import annotations

from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from dke_geo.context import AppContext
from dke_geo.errors import DkeError, NotFound
from dke_geo.model import now
from dke_geo.roles import Actor, Permission, Role, require
from dke_geo.store import users as user_store
from dke_geo.store.db import ConstraintViolation, reading, transaction

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD = 10
_hasher = PasswordHasher()


class LoginRefused(DkeError):
    key = "error.login_failed"


def add_user(ctx: AppContext, actor: Actor, name: str, role: Role, password: str | None = None,
             email: str | None = None, is_demo: bool = False) -> None:
    """Create an account; a password (at least 10 characters) for local login, or only an e-mail for OIDC."""
    require(actor, Permission.MANAGE_USERS)
    name = name.strip()
    if not name or len(name) > 120:
        raise DkeError("error.user_name")
    if password is not None and len(password) < MIN_PASSWORD:
        raise DkeError("error.password_short", min=MIN_PASSWORD)
    try:
        with transaction(ctx.engine) as conn:
            user_store.add(conn, name, Role(role).value, password and _hasher.hash(password), email, now(), is_demo)
    except ConstraintViolation:
        raise DkeError("error.user_exists", name=name) from None


def list_users(ctx: AppContext, actor: Actor) -> list[dict]:
    require(actor, Permission.MANAGE_USERS)
    with reading(ctx.engine) as conn:
        return [{"name": r.name, "role": r.role, "email": r.email, "active": r.active, "is_demo": r.is_demo}
                for r in user_store.all_users(conn)]


def set_role(ctx: AppContext, actor: Actor, name: str, role: Role) -> None:
    require(actor, Permission.MANAGE_USERS)
    with transaction(ctx.engine) as conn:
        if not user_store.set_role(conn, name, Role(role).value):
            raise NotFound(what=name)


def remove_user(ctx: AppContext, actor: Actor, name: str) -> None:
    require(actor, Permission.MANAGE_USERS)
    with transaction(ctx.engine) as conn:
        if not user_store.remove(conn, name):
            raise NotFound(what=name)


def authenticate(ctx: AppContext, name: str, password: str) -> Actor:
    """The actor for a correct name and password. After 5 failures in 15 minutes the name is locked
    for the rest of that window, whatever the password; every attempt is recorded."""
    name = name.strip()
    with transaction(ctx.engine) as conn:
        if user_store.failures_since(conn, name, now() - LOCKOUT) >= MAX_FAILURES:
            user_store.record_attempt(conn, name, now(), False)
            locked = True
        else:
            locked = False
            row = user_store.get(conn, name)
            ok = False
            if row is not None and row.active and row.password_hash:
                try:
                    ok = _hasher.verify(row.password_hash, password)
                except (VerificationError, InvalidHashError):
                    ok = False
                if ok and _hasher.check_needs_rehash(row.password_hash):
                    user_store.set_password_hash(conn, name, _hasher.hash(password))
            user_store.record_attempt(conn, name, now(), ok)
    if locked:
        raise LoginRefused("error.login_locked", minutes=int(LOCKOUT.total_seconds() // 60))
    if not ok:
        raise LoginRefused()
    return Actor(row.name, Role(row.role))


def actor_for_email(ctx: AppContext, email: str) -> Actor:
    """The actor for an e-mail verified by the OpenID Connect provider; unknown e-mails get no role."""
    with reading(ctx.engine) as conn:
        row = user_store.get_by_email(conn, email)
    if row is None or not row.active:
        raise LoginRefused("error.login_unknown_email", email=email)
    return Actor(row.name, Role(row.role))
