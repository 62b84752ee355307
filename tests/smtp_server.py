"""A real SMTP server on 127.0.0.1 for the tests (aiosmtpd): STARTTLS with a self-signed certificate made here (the
sender trusts it through DKE_GEO_SMTP_CA_FILE), AUTH only after STARTTLS and required before any message. It
keeps what it received, and can be stopped and started again on the same port (an SMTP server that is down)."""
from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import ipaddress
import ssl
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.pgserver import free_port

USER, PASSWORD = "dke-geo", "smtp-hemmelighed-7f3a"
SENDER = "DKE Albertslund <dke-geo@albertslund.example>"


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, its own authority, and its key: (cert.pem, key.pem)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dke-geo test SMTP")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@dataclass(frozen=True)
class Received:
    """One message as the server got it, and how the session that sent it was secured."""
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    tls: bool
    authenticated: bool

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)

    @property
    def message_id(self) -> str:
        return self.message["Message-ID"]

    def part(self, subtype: str) -> str:
        """The text/plain or text/html body."""
        return self.message.get_body(preferencelist=(subtype,)).get_content()


class _Handler:
    def __init__(self, server: SmtpServer):
        self.server = server

    async def handle_DATA(self, smtp, session, envelope):  # noqa: N802 (aiosmtpd's name)
        if self.server.delay_s:
            await asyncio.sleep(self.server.delay_s)
        with self.server.lock:
            self.server.received.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos),
                                                 envelope.original_content, session.ssl is not None,
                                                 bool(session.authenticated)))
        return "250 Message accepted for delivery"


class SmtpServer:
    """`start()`, `stop()` (down: connections refused), `start()` again on the same port; `received` is kept."""

    def __init__(self, folder: Path, *, starttls: bool = True, delay_s: float = 0.0):
        self.port = free_port()
        self.cert, self.key = self_signed(folder)
        self.starttls, self.delay_s = starttls, delay_s
        self.received: list[Received] = []
        self.logins: list[tuple[str, bool]] = []  # (user, accepted)
        self.lock = threading.Lock()
        self.controller: Controller | None = None

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode()
              and auth_data.password == PASSWORD.encode())
        with self.lock:
            self.logins.append((auth_data.login.decode() if isinstance(auth_data, LoginPassword) else "", ok))
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself

    def start(self) -> SmtpServer:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(self.cert, self.key)
        options = {"tls_context": tls, "require_starttls": True} if self.starttls else {}
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port,
                                     authenticator=self._authenticate, auth_required=self.starttls,
                                     auth_require_tls=self.starttls, **options)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def env(self, **more: str) -> dict[str, str]:
        """The settings that make the app send through this server."""
        return {"DKE_GEO_SMTP_HOST": "127.0.0.1", "DKE_GEO_SMTP_PORT": str(self.port), "DKE_GEO_SMTP_USER": USER,
                "DKE_GEO_SMTP_PASSWORD": PASSWORD, "DKE_GEO_SMTP_FROM": SENDER,
                "DKE_GEO_SMTP_CA_FILE": str(self.cert), **more}

    def messages(self, to: str | None = None) -> list[Received]:
        with self.lock:
            return [m for m in self.received if to is None or to in m.rcpt_tos]

    def wait_for(self, count: int, to: str | None = None, timeout: float = 60) -> list[Received]:
        """Poll until at least `count` messages (to `to`) have arrived; they, or AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        while len(found := self.messages(to)) < count:
            assert time.monotonic() < deadline, f"{len(found)} of {count} messages arrived in {timeout} s"
            time.sleep(0.05)
        return found
