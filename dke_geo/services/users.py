"""Local accounts (argon2-hashed passwords), login with rate limits, and roles.

Used when no OpenID Connect provider is configured; with one, `actor_for_email` maps the verified
e-mail to a role. Removing an account or giving it a new password ends its sessions (services/sessions.py);
a new role needs nothing ended, since every interaction reads the role again.
"""
from __future__ import annotations

import secrets
from datetime import timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from dke_geo.context import AppContext
from dke_geo.errors import DkeError, NotFound
from dke_geo.model import now
from dke_geo.roles import Actor, Permission, Role, require
from dke_geo.store import sessions as session_store
from dke_geo.store import users as user_store
from dke_geo.store.db import ConstraintViolation, reading, transaction

MAX_FAILURES = 5
"""Wrong passwords for one name within LOCKOUT before the name is locked for the rest of that window."""
MAX_CLIENT_FAILURES = 20
"""Wrong passwords from one client (address) within LOCKOUT, over all names, before the client is locked: an
attacker cannot try 4 passwords on each of many names. Higher than MAX_FAILURES, since a whole office can share
one address behind the municipality's network."""
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
    """Change an account's role; its open tabs get the new role at their next interaction."""
    require(actor, Permission.MANAGE_USERS)
    with transaction(ctx.engine) as conn:
        if not user_store.set_role(conn, name, Role(role).value):
            raise NotFound(what=name)


def set_password(ctx: AppContext, actor: Actor, name: str, password: str) -> None:
    """Give an account a new password (at least 10 characters); every session of the account ends."""
    require(actor, Permission.MANAGE_USERS)
    if len(password) < MIN_PASSWORD:
        raise DkeError("error.password_short", min=MIN_PASSWORD)
    password_hash = _hasher.hash(password)
    with transaction(ctx.engine) as conn:
        if user_store.get(conn, name) is None:
            raise NotFound(what=name)
        user_store.set_password_hash(conn, name, password_hash)
        session_store.revoke_user(conn, name, now(), "password")


def remove_user(ctx: AppContext, actor: Actor, name: str) -> None:
    """Delete an account; every session of it ends (its open tabs are logged out at their next interaction)."""
    require(actor, Permission.MANAGE_USERS)
    with transaction(ctx.engine) as conn:
        if not user_store.remove(conn, name):
            raise NotFound(what=name)
        session_store.revoke_user(conn, name, now(), "removed")


def login_client(peer: str | None, forwarded_for: str | None, trusted_proxies: int) -> str:
    """The client a login attempt comes from, for the limit per client: the connection's address `peer`, or,
    behind `trusted_proxies` reverse proxies (the setting DKE_GEO_TRUSTED_PROXIES), the address the outermost of
    them saw. Each proxy appends the address it was connected from to X-Forwarded-For, so that is the entry
    `trusted_proxies` places from the end; the entries before it were written by the client and could be
    anything. Without such an entry (a request that bypassed the proxies) the connection's address is used.

    Examples
    --------
    >>> login_client("10.0.0.2", "6.6.6.6, 192.0.2.7", 1)
    '192.0.2.7'
    >>> login_client("192.0.2.7", "6.6.6.6", 0)
    '192.0.2.7'
    """
    hops = [h.strip() for h in (forwarded_for or "").split(",") if h.strip()]
    client = hops[-trusted_proxies] if 0 < trusted_proxies <= len(hops) else (peer or "")
    return client[:64]


@cache
def _unknown_name_hash() -> str:
    """A hash of a random password with the hasher's parameters: an unknown name is checked against it, so it
    costs the same argon2 work as a real one and the answer's timing does not tell which names exist."""
    return _hasher.hash(secrets.token_urlsafe(16))


def _password_matches(password_hash: str | None, password: str) -> bool:
    """One argon2 verification, whether or not the account exists and has a password."""
    try:
        return _hasher.verify(password_hash or _unknown_name_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def authenticate(ctx: AppContext, name: str, password: str, client: str = "") -> Actor:
    """The actor for a correct name and password, from `client` (login_client).

    Every attempt costs one argon2 verification, for unknown names too (same work, same time). After
    MAX_FAILURES wrong passwords for a name, or MAX_CLIENT_FAILURES from a client, within LOCKOUT, that name or
    client is refused for the rest of the window, whatever the password. An attempt refused by a lock checks no
    password and is not recorded, so it cannot make the lock last longer: a lock runs out at most LOCKOUT after
    it started. An attempt is recorded as a failure before its password is checked (outside the transaction,
    so the write lock is not held for the hash) and confirmed after, so guesses sent in parallel count against
    the limits while they are checked (on SQLite exactly; on PostgreSQL, where the count and the record of two
    simultaneous attempts are not serialized, a few simultaneous ones can pass the last count together).
    """
    name = name.strip()
    since = now() - LOCKOUT
    with transaction(ctx.engine, changes_data=False) as conn:
        if user_store.failures_since(conn, name, since) >= MAX_FAILURES:
            raise LoginRefused("error.login_locked", minutes=int(LOCKOUT.total_seconds() // 60))
        if user_store.client_failures_since(conn, client, since) >= MAX_CLIENT_FAILURES:
            raise LoginRefused("error.login_client_locked", minutes=int(LOCKOUT.total_seconds() // 60))
        row = user_store.get(conn, name)
        attempt = user_store.record_attempt(conn, name, client, now(), False)
    usable = row is not None and row.active and row.password_hash
    if not _password_matches(row.password_hash if usable else None, password):
        raise LoginRefused()
    rehashed = _hasher.hash(password) if _hasher.check_needs_rehash(row.password_hash) else None
    with transaction(ctx.engine, changes_data=False) as conn:
        user_store.confirm_attempt(conn, attempt)
        if rehashed:
            user_store.set_password_hash(conn, name, rehashed)
    return Actor(row.name, Role(row.role))


def actor_for_email(ctx: AppContext, email: str) -> Actor:
    """The actor for an e-mail verified by the OpenID Connect provider; unknown e-mails get no role."""
    with reading(ctx.engine) as conn:
        row = user_store.get_by_email(conn, email)
    if row is None or not row.active:
        raise LoginRefused("error.login_unknown_email", email=email)
    return Actor(row.name, Role(row.role))
