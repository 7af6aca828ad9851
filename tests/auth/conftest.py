"""Fixtures for the sign-in tests: a real SMTP server for the password-reset mail."""

from tests.smtpserver import smtp_server  # noqa: F401
