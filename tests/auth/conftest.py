"""Fixtures for the sign-in tests: a real SMTP server for the password-reset mail, and a real
OpenID Connect provider for single sign-on."""

import pytest

from tests.auth.oidc_provider import FakeProvider
from tests.smtpserver import smtp_server  # noqa: F401


@pytest.fixture
def oidc_provider():
    from portal.auth import oidc

    provider = FakeProvider().start()
    yield provider
    provider.stop()
    oidc.clear_cache()
