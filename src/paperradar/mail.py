"""Sending email over SMTP: SSL or STARTTLS, optional login, settings from flags, environment and
paperradar.toml. Does network I/O.

`send_message` returns only when the server has accepted the message for every recipient; any
refusal or connection problem raises NetworkError with a one-line reason. Passwords never
appear in messages, reprs or logs.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from .config import Settings
from .errors import InvalidInput, NetworkError

SECURITY = ("ssl", "starttls", "none")
DEFAULT_PORTS = {"ssl": 465, "starttls": 587, "none": 25}


@dataclass(frozen=True)
class SMTPSettings:
    host: str
    port: int
    security: str = "starttls"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def public(self) -> dict[str, object]:
        """The settings as they may be shown: the password only as set or not."""
        return {
            "host": self.host,
            "port": self.port,
            "security": self.security,
            "user": self.user,
            "password": "(set)" if self.password else None,
        }


def smtp_settings(settings: Settings) -> SMTPSettings:
    """The SMTP part of the settings (read at the edge: flags over PAPERRADAR_SMTP_* over
    paperradar.toml, see config.py); the port defaults by the connection security."""
    security = settings.smtp_security
    if security not in SECURITY:
        raise InvalidInput(f"smtp_security must be one of {', '.join(SECURITY)}, not {security!r}")
    return SMTPSettings(
        host=settings.smtp_host,
        port=settings.smtp_port or DEFAULT_PORTS[security],
        security=security,
        user=settings.smtp_user,
        password=settings.secret("smtp_password"),
    )


def build_message(
    *,
    subject: str,
    sender: str,
    to: str,
    text: str,
    html: str | None,
    message_id: str,
    date: datetime,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """A multipart/alternative message (plain text first, HTML preferred by clients that can)."""
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = to
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg


def send_message(
    msg: EmailMessage, settings: SMTPSettings, ssl_context: ssl.SSLContext | None = None
) -> None:
    """Deliver `msg` to the server; returns only when every recipient was accepted."""
    context = ssl_context or ssl.create_default_context()
    try:
        with _connect(settings, context) as server:
            if settings.user:
                server.login(settings.user, settings.password or "")
            refused = server.send_message(msg)
    except smtplib.SMTPRecipientsRefused as e:
        raise NetworkError(f"{settings.where} refused the recipient: {_refusal(e.recipients)}") from None
    except smtplib.SMTPAuthenticationError as e:
        raise NetworkError(f"{settings.where} refused the login of {settings.user!r}: {_reply(e)}") from None
    except smtplib.SMTPResponseException as e:
        raise NetworkError(f"{settings.where} refused the message: {_reply(e)}") from None
    except smtplib.SMTPException as e:
        raise NetworkError(f"SMTP with {settings.where} failed: {e}") from None
    except ssl.SSLError as e:
        raise NetworkError(f"TLS with {settings.where} failed: {e.reason or e}") from None
    except OSError as e:  # timeouts and refused connections
        reason = str(e).split("] ", 1)[-1] or type(e).__name__
        raise NetworkError(f"cannot reach the SMTP server {settings.where}: {reason.lower()}") from None
    if refused:
        raise NetworkError(f"{settings.where} refused the recipient: {_refusal(refused)}")


def _connect(settings: SMTPSettings, context: ssl.SSLContext) -> smtplib.SMTP:
    if settings.security == "ssl":
        return smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout, context=context)
    server = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    try:
        if settings.security == "starttls":
            server.starttls(context=context)
    except BaseException:
        server.close()
        raise
    return server


def _reply(e: smtplib.SMTPResponseException) -> str:
    text = e.smtp_error.decode(errors="replace") if isinstance(e.smtp_error, bytes) else str(e.smtp_error)
    return f"{e.smtp_code} {' '.join(text.split())}"


def _refusal(recipients: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(
        f"{addr}: {code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
        for addr, (code, msg) in recipients.items()
    )
