"""Shared fixtures: a migrated database per run, clean tables per test, factories, signed-in clients."""

from __future__ import annotations


import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import environment  # noqa: F401  (sets the environment before portal is imported)

from argon2 import PasswordHasher  # noqa: E402
import httpx  # noqa: E402

from portal.core import security  # noqa: E402
from portal.core.actor import Actor  # noqa: E402
from portal.core.db import close_pool, execute, is_postgres, start_pool  # noqa: E402
from portal.core.settings import get_settings  # noqa: E402

# Full-strength argon2 is for production; tests hash hundreds of passwords.
security._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

TEST_PASSWORD = "correct-horse-battery"
TEST_ACTOR = Actor.system("tests")
KEEP_TABLES = {"migration", "audit_chain_head"}


def pytest_report_header(config: pytest.Config) -> list[str]:
    kind = "PostgreSQL" if environment.USING_POSTGRES else "SQLite"
    return [f"portal test database: {kind} ({environment.DATABASE_URL})", f"CI mode: {environment.IN_CI}"]


def pytest_sessionstart(session: pytest.Session) -> None:
    if environment.IN_CI and not environment.USING_POSTGRES:
        pytest.exit("CI=true but PostgreSQL is not reachable at 127.0.0.1:5432 or PORTAL_TEST_DATABASE_URL", returncode=3)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if environment.USING_POSTGRES:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (start it, or set PORTAL_TEST_DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


async def _create_database() -> None:
    import asyncpg

    connection = await asyncpg.connect(environment.ADMIN_DATABASE_URL)
    try:
        role = environment.TEST_ROLE
        exists = await connection.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
        if not exists:
            try:
                await connection.execute(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOBYPASSRLS')
            except asyncpg.DuplicateObjectError:
                pass  # another test run created it at the same moment
        await connection.execute(f'CREATE DATABASE "{environment.TEST_DATABASE_NAME}" OWNER "{role}"')
    finally:
        await connection.close()


async def _drop_database() -> None:
    import asyncpg

    connection = await asyncpg.connect(environment.ADMIN_DATABASE_URL)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{environment.TEST_DATABASE_NAME}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture(scope="session", autouse=True)
async def database():
    """Migrate once per run; the pool stays open for every test and app in the run."""
    from portal.cli import apply_migrations

    if environment.USING_POSTGRES:
        await _create_database()
    await apply_migrations()
    await start_pool()
    tables = [
        row["name"] for row in await execute(
            "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'" if is_postgres()
            else "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        if row["name"] not in KEEP_TABLES
    ]
    yield tables
    await close_pool()
    if environment.USING_POSTGRES:
        await _drop_database()
    shutil.rmtree(environment.RUN_DIR, ignore_errors=True)


@pytest.fixture(autouse=True)
async def clean_tables(database):
    """Every test starts from empty tables (and an empty audit chain)."""
    yield
    from portal.tenants.api_keys import clear_cache

    clear_cache()
    if is_postgres():
        await execute("TRUNCATE " + ", ".join(f'"{t}"' for t in database) + " RESTART IDENTITY CASCADE")
    else:
        await execute("DROP TRIGGER IF EXISTS audit_entry_no_delete")
        # Foreign keys are enforced: delete children first, retrying parents until all are empty.
        pending = list(database)
        while pending:
            failed = []
            for table in pending:
                try:
                    await execute(f'DELETE FROM "{table}"')
                except Exception:
                    failed.append(table)
            if len(failed) == len(pending):
                raise RuntimeError(f"cannot empty tables {failed}")
            pending = failed
        await execute(
            "CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry "
            "BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only'); END"
        )
    await execute("UPDATE audit_chain_head SET last_entry_id = 0, last_hash = {} WHERE id = 1", "0" * 64)


@pytest.fixture(scope="session")
def app():
    from portal.app import create_app

    return create_app()


@dataclass
class Member:
    user: dict
    tenant: dict
    role: str
    password: str = TEST_PASSWORD

    @property
    def email(self) -> str:
        return self.user["email"]


class Factory:
    """Realistic rows for tests, created through the services so rules and audit apply."""

    def __init__(self) -> None:
        self.counter = 0

    async def tenant(self, kind: str = "isp", slug: str | None = None, **profile) -> dict:
        from portal.tenants.services import create_tenant

        self.counter += 1
        slug = slug or f"{kind}-{self.counter}"
        hotline = profile.pop("is_hotline", False)
        return await create_tenant(
            kind=kind, slug=slug, name=profile.pop("name", f"Test {kind.upper()} {self.counter}"), actor=TEST_ACTOR,
            is_hotline=hotline, **profile,
        )

    async def member(self, tenant: dict, role: str = "admin", email: str | None = None) -> Member:
        from portal.tenants.services import add_member, get_or_create_user

        self.counter += 1
        email = email or f"{role}{self.counter}@{tenant['slug']}.test"
        user, _ = await get_or_create_user(email, f"{role.title()} {self.counter}", TEST_ACTOR, TEST_PASSWORD)
        await add_member(tenant, user, role, TEST_ACTOR)
        return Member(user=user, tenant=tenant, role=role)


@pytest.fixture
def factory() -> Factory:
    return Factory()


CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')


class PortalClient:
    """An HTTP client that behaves like a browser: keeps cookies and sends the CSRF token."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.http = client

    def csrf(self) -> str:
        return self.http.cookies.get("csrftoken") or ""

    async def get(self, path: str, **kwargs):
        return await self.http.get(path, **kwargs)

    async def post(self, path: str, data: dict | None = None, files=None, **kwargs):
        if not self.csrf():
            await self.http.get("/login")
        payload = {"_csrf_token": self.csrf(), **(data or {})}
        return await self.http.post(path, data=payload, files=files, **kwargs)

    async def login(self, email: str, password: str = TEST_PASSWORD):
        await self.http.get("/login")
        response = await self.post("/login", {"email": email, "password": password})
        assert response.status_code == 303, response.text
        return response


@pytest.fixture
async def client_factory(app):
    """Open as many independent browsers as a test needs (one per person).

    The app runs in the test's own event loop (the session fixture already opened the pool, so the
    app's lifespan is not needed).
    """
    opened: list[httpx.AsyncClient] = []

    async def make(member: Member | None = None) -> PortalClient:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://portal.test")
        opened.append(client)
        portal_client = PortalClient(client)
        if member is not None:
            await portal_client.login(member.email, member.password)
        return portal_client

    yield make
    for client in opened:
        await client.aclose()


@pytest.fixture
async def client(client_factory) -> PortalClient:
    return await client_factory()


@pytest.fixture
def settings():
    return get_settings()


@pytest.fixture
def run_dir() -> Path:
    return environment.RUN_DIR




# ---------------------------------------------------------------------------------------------
# S3: one real SeaweedFS server per test session, for the storage, files and readiness tests.
# (Defined in tests/s3server.py; registered here so every folder shares the same instance.)
# ---------------------------------------------------------------------------------------------
from tests.s3server import S3Server, s3_server  # noqa: E402,F401
