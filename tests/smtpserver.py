"""A real SMTP server for the tests: aiosmtpd on a free loopback port, keeping what it receives.

The server runs in its own thread (aiosmtpd's ``Controller``), so it answers both the portal code
running in the test's event loop and a ``portal worker`` started as a separate process.
"""

from __future__ import annotations

import email
import socket
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    """A loopback port nobody listens on right now (also what a closed SMTP server looks like)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def to(self) -> str:
        return str(self.message["To"])

    @property
    def body(self) -> str:
        """The decoded text, with the wire's CRLF line ends turned back into newlines."""
        return self.message.get_content().replace("\r\n", "\n")


class _Recorder:
    def __init__(self) -> None:
        self.received: list[ReceivedMail] = []
        self.changed = threading.Condition()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=default_policy)
        with self.changed:
            self.received.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), raw, message))
            self.changed.notify_all()
        return "250 Message accepted for delivery"


class SmtpServer:
    """An aiosmtpd server on 127.0.0.1; ``url`` is what PORTAL_SMTP_URL would say."""

    def __init__(self) -> None:
        self.recorder = _Recorder()
        self.port = free_port()
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port, ready_timeout=10)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[ReceivedMail]:
        with self.recorder.changed:
            return list(self.recorder.received)

    def wait_for(self, count: int, timeout: float = 20.0) -> list[ReceivedMail]:
        """Block until ``count`` messages have arrived (for deliveries made by another process)."""
        deadline = time.monotonic() + timeout
        with self.recorder.changed:
            while len(self.recorder.received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} messages, got {len(self.recorder.received)}")
                self.recorder.changed.wait(remaining)
            return list(self.recorder.received)

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


@pytest.fixture
def smtp_server():
    server = SmtpServer().start()
    yield server
    server.stop()
