"""Signed, expiring login tokens, so that a page reload on the tablet keeps a local account logged in.

After a correct password the browser gets a token in a cookie (see dke_geo/ui/browser.py). A token is the
account name and a fingerprint of its current password hash, signed with HMAC-SHA256 (itsdangerous) under
a server secret and stamped with the time it was issued. It is accepted for LIFETIME only, and only while
the account still exists, is active and has the same password hash; the role is read from the database
each time, never from the token. So removing an account or changing its password ends its sessions at
once, and a changed role applies at the next page load. Tokens are signed, not encrypted: they hold nothing
secret. The secret is 32 random bytes in `<DKE_GEO_DATA_DIR>/session.key` (mode 0600, created on first use);
deleting that file logs everybody out.
"""
from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

from itsdangerous import BadData, URLSafeTimedSerializer

from dke_geo import config
from dke_geo.context import AppContext
from dke_geo.roles import Actor, Role
from dke_geo.store import users as user_store
from dke_geo.store.db import reading

LIFETIME = timedelta(hours=12)  # a working day or an evening walk; then the password again
COOKIE = "dke_geo_session"
_SALT = "dke-geo.login"


def _key_file() -> Path:
    return config.data_dir() / "session.key"


def server_secret() -> bytes:
    """The signing secret, created (readable by this OS user only) the first time it is needed.

    It is written to a temporary file and linked into place, so a process starting at the same moment reads
    either nothing or the whole secret, never a half-written one; a secret that is not 32 bytes is refused.
    """
    path = _key_file()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".session-key-")  # mode 0600
        try:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            os.unlink(tmp)
    secret = bytes.fromhex(path.read_text().strip())
    if len(secret) != 32:
        raise ValueError(f"{path} must hold 32 random bytes as hex; delete it to make a new one")
    return secret


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(server_secret(), salt=_SALT, signer_kwargs={"digest_method": hashlib.sha256})


def _fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def issue(ctx: AppContext, actor: Actor) -> str:
    """A token for `actor`, who has just logged in with a local password."""
    with reading(ctx.engine) as conn:
        row = user_store.get(conn, actor.name)
    if row is None or not row.password_hash:
        raise ValueError(f"{actor.name!r} has no local password")
    return _serializer().dumps({"u": row.name, "h": _fingerprint(row.password_hash)})


def actor_for_token(ctx: AppContext, token: str) -> Actor | None:
    """The actor a token stands for, or None if it is forged, expired or its account changed."""
    try:
        data = _serializer().loads(token, max_age=int(LIFETIME.total_seconds()))
        name, fingerprint = data["u"], data["h"]
    except (BadData, KeyError, TypeError):
        return None
    with reading(ctx.engine) as conn:
        row = user_store.get(conn, str(name))
    if row is None or not row.active or not row.password_hash or _fingerprint(row.password_hash) != fingerprint:
        return None
    return Actor(row.name, Role(row.role))
