"""E-mail out: a message as MIME (plain text and HTML alternatives, photos attached) and its delivery over SMTP
with STARTTLS and AUTH (Python's smtplib). No database and no roles: services/notifications.py decides what is
sent when, and records the outcome.

A server that offers no STARTTLS gets nothing: a message is never sent, nor a password given, in the clear. The
server's certificate is checked against the system's trusted authorities, or the one in DKE_GEO_SMTP_CA_FILE.
"""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate

from dke_geo.config import Settings

TIMEOUT_S = 30


class SendFailed(Exception):
    """The server could not be reached or refused the message; the text says why (never a password)."""


@dataclass(frozen=True)
class Smtp:
    """Where and as whom to send (from the settings DKE_GEO_SMTP_*)."""
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    sender: str
    ca_file: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> Smtp | None:
        """The SMTP settings, or None when no SMTP host is configured (messages then stay queued)."""
        if not settings.smtp_configured:
            return None
        return cls(settings["DKE_GEO_SMTP_HOST"], int(float(settings["DKE_GEO_SMTP_PORT"])),
                   settings["DKE_GEO_SMTP_USER"], settings["DKE_GEO_SMTP_PASSWORD"], settings["DKE_GEO_SMTP_FROM"],
                   settings["DKE_GEO_SMTP_CA_FILE"])


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes  # a JPEG


def build(message_id: str, sender: str, recipient: str, subject: str, text: str, html: str, language: str,
          attachments: list[Attachment] = ()) -> EmailMessage:
    """The MIME message: text and HTML as alternatives, then the photos as JPEG attachments.

    >>> m = build("<1@x>", "DKE <dke@x.dk>", "drift@y.dk", "Ny lampe", "Tekst", "<p>Tekst</p>", "da")
    >>> m["Message-ID"], m.get_content_type(), m["Auto-Submitted"]
    ('<1@x>', 'multipart/alternative', 'auto-generated')
    """
    msg = EmailMessage()
    msg["Message-ID"] = message_id
    msg["Date"] = formatdate(localtime=True)
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = subject
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to a robot
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    for attachment in attachments:
        msg.add_attachment(attachment.data, maintype="image", subtype="jpeg", filename=attachment.filename)
    msg["Content-Language"] = language  # after the bodies: setting content moves Content-* headers into the parts
    return msg


def send(smtp: Smtp, message: EmailMessage) -> None:
    """Deliver `message` through `smtp`: STARTTLS (required), AUTH when a user is set, then the message.
    Raises SendFailed when the server is away, offers no STARTTLS, refuses the login or the message."""
    try:
        context = ssl.create_default_context(cafile=smtp.ca_file or None)
        with smtplib.SMTP(smtp.host, smtp.port, timeout=TIMEOUT_S) as server:
            server.ehlo()
            if not server.has_extn("starttls"):
                raise SendFailed(f"{smtp.host}:{smtp.port} offers no STARTTLS: nothing is sent in the clear")
            server.starttls(context=context)
            server.ehlo()
            if smtp.user:
                server.login(smtp.user, smtp.password)
            server.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise SendFailed(f"login refused by {smtp.host} for {smtp.user}: {exc.smtp_code}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise SendFailed(f"{type(exc).__name__}: {exc}"[:500]) from None
