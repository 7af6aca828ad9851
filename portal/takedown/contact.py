"""Reporters' contact details, encrypted at rest with the key(s) of PORTAL_ENCRYPTION_KEY."""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from portal.core.settings import get_settings


@lru_cache(maxsize=4)
def _cipher(keys: str) -> MultiFernet:
    # The first key encrypts; every listed key decrypts, so keys can be rotated without a migration.
    return MultiFernet([Fernet(part.strip()) for part in keys.split(",") if part.strip()])


def encrypt_contact(text: str) -> str:
    text = (text or "").strip()
    if not text:
        return ""
    return _cipher(get_settings().encryption_key).encrypt(text.encode("utf-8")).decode("ascii")


class UnreadableContact(Exception):
    """The stored token does not open with any configured key (the key was lost or replaced)."""


def decrypt_contact(token: str) -> str:
    if not token:
        return ""
    try:
        return _cipher(get_settings().encryption_key).decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise UnreadableContact() from exc


def submitter_key(address: str) -> str:
    """A keyed hash of the sender's network address: enough to rate-limit, useless to identify."""
    secret = get_settings().secret_key.encode("utf-8")
    return hmac.new(secret, (address or "").encode("utf-8"), hashlib.sha256).hexdigest()
