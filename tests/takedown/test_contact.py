"""Contact details at rest: encrypted, rotatable keys, and a lost key shown as such, never as the token."""

from dataclasses import replace

import pytest
from cryptography.fernet import Fernet

from portal.core.settings import get_settings
from portal.takedown import contact


@pytest.fixture
def keys(monkeypatch):
    def use(value: str) -> None:
        settings = replace(get_settings(), encryption_key=value)
        monkeypatch.setattr(contact, "get_settings", lambda: settings)
    return use


def test_rotation_keeps_old_tokens_readable(keys):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    keys(old)
    token = contact.encrypt_contact("+355 69 123 4567")
    assert "355" not in token
    keys(f"{new},{old}")
    assert contact.decrypt_contact(token) == "+355 69 123 4567"
    fresh = contact.encrypt_contact("x@y.al")
    keys(new)
    assert contact.decrypt_contact(fresh) == "x@y.al"  # the first key encrypts
    with pytest.raises(contact.UnreadableContact):
        contact.decrypt_contact(token)


def test_empty_contact_stays_empty(keys):
    keys(Fernet.generate_key().decode())
    assert contact.encrypt_contact("  ") == "" and contact.decrypt_contact("") == ""


def test_submitter_key_is_a_keyed_hash():
    assert contact.submitter_key("10.0.0.1") != contact.submitter_key("10.0.0.2")
    assert "10.0.0.1" not in contact.submitter_key("10.0.0.1") and len(contact.submitter_key("x")) == 64
