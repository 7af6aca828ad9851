"""Sending one message: over SMTP in production and tests, to the log in embedded mode."""

from __future__ import annotations

import logging
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import unquote, urlparse

import aiosmtplib

from portal.core.settings import Settings

log = logging.getLogger("portal.mail")

SEND_TIMEOUT_SECONDS = 30


class MailSender(Protocol):
    async def send(self, *, to_address: str, subject: str, body_text: str) -> None: ...


class LogMailSender:
    """Embedded mode: print the message so a developer can follow links (e.g. password resets)."""

    async def send(self, *, to_address: str, subject: str, body_text: str) -> None:
        log.warning("MAIL to %s\nSubject: %s\n\n%s\n", to_address, subject, body_text)


class SmtpMailSender:
    def __init__(self, smtp_url: str, mail_from: str) -> None:
        parsed = urlparse(smtp_url)
        self.host = parsed.hostname or "localhost"
        self.implicit_tls = parsed.scheme == "smtps"
        self.port = parsed.port or (465 if self.implicit_tls else 25)
        self.username = unquote(parsed.username) if parsed.username else None
        self.password = unquote(parsed.password) if parsed.password else None
        self.mail_from = mail_from

    async def send(self, *, to_address: str, subject: str, body_text: str) -> None:
        message = EmailMessage()
        message["From"] = self.mail_from
        message["To"] = to_address
        message["Subject"] = subject
        message.set_content(body_text)
        await aiosmtplib.send(
            message,
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.implicit_tls,
            start_tls=None if not self.implicit_tls else False,
            timeout=SEND_TIMEOUT_SECONDS,
        )


def mail_sender(settings: Settings) -> MailSender:
    if settings.smtp_url:
        return SmtpMailSender(settings.smtp_url, settings.mail_from)
    return LogMailSender()
