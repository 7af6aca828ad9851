"""Fixtures for the outbox tests: a real SMTP server (see tests/smtpserver.py)."""

from tests.smtpserver import smtp_server  # noqa: F401
