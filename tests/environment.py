"""Chooses the test database and prepares the environment before any portal module is imported.

PostgreSQL is used when PORTAL_TEST_DATABASE_URL is set or 127.0.0.1:5432 answers; each run gets
a fresh database that is dropped at the end. Without PostgreSQL the suite runs on SQLite and the
PostgreSQL-only tests are skipped, except under CI=true, where a missing server is an error.
"""

from __future__ import annotations

import os
import socket
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlparse, urlunparse

IN_CI = os.environ.get("CI", "").lower() == "true"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
RUN_DIR = Path(tempfile.mkdtemp(prefix="portal-tests-"))


def _reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 5432), timeout=1):
            return True
    except OSError:
        return False


def _admin_url() -> str | None:
    explicit = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if explicit:
        return explicit
    return DEFAULT_POSTGRES if _reachable(DEFAULT_POSTGRES) else None


ADMIN_DATABASE_URL = _admin_url()
TEST_DATABASE_NAME = f"portal_test_{uuid.uuid4().hex[:10]}"
# The portal connects as an ordinary role that owns the test database: a superuser would
# bypass row-level security and hide every isolation bug the tests are meant to catch.
TEST_ROLE = "portal_tester"


def with_database(url: str, name: str, user: str | None = None) -> str:
    parsed = urlparse(url)
    netloc = parsed.netloc
    if user is not None:
        host = netloc.rsplit("@", 1)[-1]
        netloc = f"{user}@{host}"
    return urlunparse(parsed._replace(path=f"/{name}", netloc=netloc))


if ADMIN_DATABASE_URL:
    DATABASE_URL = with_database(ADMIN_DATABASE_URL, TEST_DATABASE_NAME, user=TEST_ROLE)
    USING_POSTGRES = True
else:
    DATABASE_URL = f"sqlite:///{RUN_DIR / 'portal.sqlite3'}"
    USING_POSTGRES = False

os.environ.update(
    {
        "PORTAL_ENV": "embedded",
        "PORTAL_DATA_DIR": str(RUN_DIR),
        "PORTAL_DATABASE_URL": DATABASE_URL,
        "PORTAL_STORAGE_URL": f"file://{RUN_DIR / 'files'}",
        "PORTAL_SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "PORTAL_INPROCESS_WORKER": "false",
        "PORTAL_SMTP_URL": "",
        "PORTAL_BASE_URL": "http://portal.test",
        "PICCOLO_CONF": "portal.piccolo_conf",
    }
)
