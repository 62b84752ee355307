"""Signed, expiring report-back links: each names one fix and one organisation and works for
notices.LINK_DAYS. The token is signed with HMAC-SHA256 (itsdangerous) and stamped with the time it was made;
it is signed, not encrypted, and holds nothing secret (a fix id and an organisation id). Whether the link still
applies (the fix still with that organisation, not closed) is checked against the database by the service
(services/report_back.py), so a link is revoked by reassigning its fix, without a list of links. The signing
secret is 32 random bytes in `<DKE_GEO_DATA_DIR>/link.key` (0600, made on first use); deleting it revokes every
link.
"""
from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from dke_geo import config, private_files
from dke_geo.errors import DkeError
from dke_geo.notices import LINK_DAYS

_SALT = "dke-geo.report-link"
PAGE = "report"
"""The report-back page's URL path (streamlit_app.py registers it, hidden from the menu)."""
MAX_AGE_S = LINK_DAYS * 86_400


def secret() -> bytes:
    """The links' signing secret, created (readable by this OS user only) the first time it is needed: written under
    a temporary name and linked into place, so a process starting at the same moment reads either nothing or the
    whole secret, never half of it; a secret that is not 32 bytes is refused."""
    path = config.data_dir() / "link.key"
    if not path.exists():
        private_files.make_folder(path.parent)
        temp = path.with_name(f".link-key-{secrets.token_hex(8)}")
        with private_files.open_private(temp) as f:
            f.write(secrets.token_hex(32).encode())
        try:
            os.link(temp, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            os.unlink(temp)
    key = bytes.fromhex(path.read_text().strip())
    if len(key) != 32:
        raise ValueError(f"{path} must hold 32 random bytes as hex; delete it to make a new one")
    return key


class LinkRefused(DkeError):
    """A link that is forged or damaged (`reportback.error.invalid`), expired, revoked or over its rate limit."""
    key = "reportback.error.invalid"


@dataclass(frozen=True)
class Grant:
    """What a valid link allows: reporting on this fix, for this organisation."""
    fix_id: str
    organisation: str


def _serializer(secret: bytes, issued_at: datetime | None = None) -> URLSafeTimedSerializer:
    signer = TimestampSigner
    if issued_at is not None:  # a link made at a given time (the tests' expired link)
        stamp = int(issued_at.timestamp())
        signer = type("_IssuedAt", (TimestampSigner,), {"get_timestamp": lambda self: stamp})
    return URLSafeTimedSerializer(secret, salt=_SALT, signer=signer,
                                  signer_kwargs={"digest_method": hashlib.sha256})


def token(secret: bytes, fix_id: str, organisation: str, issued_at: datetime | None = None) -> str:
    """The signed token for reporting on `fix_id` as `organisation`."""
    return _serializer(secret, issued_at).dumps({"f": str(fix_id), "o": organisation})


def url(public_url: str, link_token: str) -> str:
    """The link as it goes into a message: the app's public address, the page, the token."""
    return f"{public_url}/{PAGE}?t={quote(link_token, safe='')}"


def read(secret: bytes, link_token: str) -> Grant:
    """The grant of a token; LinkRefused when it is expired (`reportback.error.expired`) or forged or damaged.

    >>> secret = bytes(32)
    >>> read(secret, token(secret, "f1", "bo-vest"))
    Grant(fix_id='f1', organisation='bo-vest')
    >>> read(secret, token(secret, "f1", "bo-vest") + "x")
    Traceback (most recent call last):
    ...
    dke_geo.report_links.LinkRefused: This link is not valid ...
    """
    try:
        data = _serializer(secret).loads(link_token, max_age=MAX_AGE_S)
        return Grant(fix_id=str(data["f"]), organisation=str(data["o"]))
    except SignatureExpired:
        raise LinkRefused("reportback.error.expired", days=LINK_DAYS) from None
    except (BadData, KeyError, TypeError):
        raise LinkRefused() from None
