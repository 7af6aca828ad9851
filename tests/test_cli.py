"""The `portal` command, run as a real process against the test database."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from pathlib import Path

import pytest

from portal.audit.tables import AuditEntry
from portal.core.actor import Actor
from portal.core.db import system_transaction
from portal.tenants.api_keys import revoke_api_key
from portal.tenants.tables import ApiKey, Membership, Tenant, User
from tests import environment
from tests.cli_runner import run_portal

ONE_TIME = re.compile(r"One-time password \(shown once, change it after signing in\): (\S+)")
API_KEY_LINE = re.compile(r"^(psk_\S+)$", re.MULTILINE)


def create_tenant(*args: str):
    return run_portal("create-tenant", *args)


async def test_create_tenant_with_a_profile():
    result = create_tenant(
        "--kind", "isp", "--slug", "albanet", "--name", "AlbaNet Fiber sh.p.k.", "--nipt", "l11234561e",
        "--legal-name", "AlbaNet Fiber sh.p.k.", "--contact-email", "abuse@albanet.test",
    )

    assert result.returncode == 0, result.stderr
    assert "Created isp 'AlbaNet Fiber sh.p.k.' at /t/albanet/" in result.stdout
    tenant = await Tenant.select().where(Tenant.slug == "albanet").first()
    assert tenant["kind"] == "isp"
    assert tenant["nipt"] == "L11234561E"
    assert tenant["contact_email"] == "abuse@albanet.test"
    async with system_transaction():
        [entry] = await AuditEntry.select().where(AuditEntry.action == "tenant.created")
    assert entry["actor_label"] == "cli"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "isp", "--slug", "Alba Net!", "--name", "AlbaNet"], "slug: Përdorni shkronja të vogla"),
        (["--kind", "bank", "--slug", "banka", "--name", "Banka"], "Invalid value for '--kind'"),
        (["--kind", "isp", "--slug", "albanet", "--name", "AlbaNet", "--nipt", "12345678"], "nipt: NIPT-i duhet"),
        (["--kind", "isp", "--slug", "albanet", "--name", "   "], "name:"),
        (["--slug", "albanet", "--name", "AlbaNet"], "Missing option '--kind'"),
    ],
)
async def test_create_tenant_refuses_bad_input_with_a_message(args, message):
    result = create_tenant(*args)

    assert result.returncode != 0
    assert message in result.stderr
    assert await Tenant.count() == 0


async def test_create_tenant_refuses_a_taken_slug(factory):
    await factory.tenant("ngo", slug="hotline")
    result = create_tenant("--kind", "ngo", "--slug", "hotline", "--name", "Another")
    assert result.returncode == 1
    assert "slug:" in result.stderr
    assert await Tenant.count() == 1


async def test_create_user_prints_a_one_time_password_that_signs_in(factory, client):
    tenant = await factory.tenant("regulator", slug="akcesk")

    result = run_portal("create-user", "--email", "Elira.Hoxha@akcesk.test", "--tenant", "akcesk", "--role", "analyst",
                        "--name", "Elira Hoxha")

    assert result.returncode == 0, result.stderr
    assert "Created elira.hoxha@akcesk.test as analyst of akcesk." in result.stdout
    password = ONE_TIME.search(result.stdout).group(1)
    user = await User.select().where(User.email == "elira.hoxha@akcesk.test").first()
    assert user["full_name"] == "Elira Hoxha"
    assert password not in user["password_hash"]
    response = await client.login("elira.hoxha@akcesk.test", password)
    assert response.headers["location"] == f"/t/{tenant['slug']}/"


async def test_create_user_reads_the_password_from_stdin(factory, client):
    await factory.tenant("isp", slug="albanet")

    result = run_portal(
        "create-user", "--email", "klajdi@albanet.test", "--tenant", "albanet", "--role", "officer", "--password-stdin",
        input="Fjalekalimi-Im-2026\n",
    )

    assert result.returncode == 0, result.stderr
    assert "One-time password" not in result.stdout
    assert "Fjalekalimi-Im-2026" not in result.stdout + result.stderr
    await client.login("klajdi@albanet.test", "Fjalekalimi-Im-2026")


async def test_create_user_refuses_a_short_password_from_stdin(factory):
    await factory.tenant("isp", slug="albanet")
    result = run_portal(
        "create-user", "--email", "a@albanet.test", "--tenant", "albanet", "--role", "officer", "--password-stdin",
        input="short\n",
    )
    assert result.returncode == 1
    assert "at least 10 characters" in result.stderr
    assert await User.count() == 0


async def test_create_user_with_a_role_the_tenant_cannot_have_leaves_no_account(factory):
    await factory.tenant("isp", slug="albanet")

    result = run_portal("create-user", "--email", "analyst@albanet.test", "--tenant", "albanet", "--role", "analyst")

    assert result.returncode == 1
    assert "role:" in result.stderr
    assert "One-time password" not in result.stdout
    assert await User.count().where(User.email == "analyst@albanet.test") == 0


async def test_create_user_for_an_unknown_tenant_fails():
    result = run_portal("create-user", "--email", "x@nowhere.test", "--tenant", "nowhere", "--role", "viewer")
    assert result.returncode == 1
    assert "nowhere" in result.stderr
    assert await User.count() == 0


async def test_create_user_adds_an_existing_person_to_another_tenant(factory):
    first = await factory.tenant("ngo", slug="hotline", is_hotline=True)
    await factory.tenant("agency", slug="policia")
    member = await factory.member(first, "analyst")

    result = run_portal("create-user", "--email", member.email, "--tenant", "policia", "--role", "viewer")

    assert result.returncode == 0, result.stderr
    assert "already had an account" in result.stdout
    assert "One-time password" not in result.stdout
    async with system_transaction():
        assert await Membership.count().where(Membership.user == member.user["id"]) == 2


async def test_create_api_key_prints_it_once_and_stores_only_its_hash(factory, client):
    tenant = await factory.tenant("isp", slug="albanet")

    result = run_portal("create-api-key", "--tenant", "albanet", "--name", "Sistemi i bllokimit", "--scope", "read")

    assert result.returncode == 0, result.stderr
    secret = API_KEY_LINE.search(result.stdout).group(1)
    async with system_transaction():
        [row] = await ApiKey.select()
        [entry] = await AuditEntry.select().where(AuditEntry.action == "api_key.created")
    assert row["key_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(row)
    assert secret not in str(entry)
    assert row["name"] == "Sistemi i bllokimit"

    response = await client.http.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200, response.text
    assert response.json() == {"tenant": "albanet", "kind": "isp", "scopes": ["read"]}

    await revoke_api_key(tenant, row["id"], actor=Actor.system("tests"))
    revoked = await client.http.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert_problem(revoked, 401)


def assert_problem(response, status: int) -> dict:
    """An RFC 9457 problem document with the fields clients rely on."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["type"]
    assert body["title"]
    assert body["detail"]
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
    return body


async def test_api_without_a_key_answers_401_problem_json(client):
    body = assert_problem(await client.http.get("/api/v1/me"), 401)
    assert "Bearer" in body["detail"]
    assert_problem(await client.http.get("/api/v1/me", headers={"Authorization": "Basic dXNlcjpwdw=="}), 401)
    assert_problem(await client.http.get("/api/v1/me", headers={"Authorization": "Bearer psk_made_up"}), 401)


async def test_unknown_api_route_answers_404_problem_json(client):
    body = assert_problem(await client.http.get("/api/v1/no-such-thing"), 404)
    assert body["instance"] == "/api/v1/no-such-thing"


async def test_production_without_a_secret_refuses_to_start(tmp_path):
    env = {"PORTAL_ENV": "production", "PORTAL_SECRET_KEY": "", "PORTAL_DATA_DIR": str(tmp_path)}
    result = run_portal("migrate", env=env)
    assert result.returncode == 1
    assert "PORTAL_SECRET_KEY" in result.stderr


def count_rows(database: Path) -> dict[str, int]:
    connection = sqlite3.connect(database)
    try:
        listing = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        tables = [row[0] for row in connection.execute(listing)]
        return {table: connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables}
    finally:
        connection.close()


def embedded_env(data_dir: Path) -> dict[str, str]:
    """The README's first command: nothing configured but a data folder."""
    return {
        "PORTAL_DATA_DIR": str(data_dir), "PORTAL_DATABASE_URL": "", "PORTAL_STORAGE_URL": "", "PORTAL_SECRET_KEY": "",
        "PORTAL_ENCRYPTION_KEY": "",
    }


def test_demo_links_point_at_the_port_it_serves(tmp_path):
    data_dir = tmp_path / "var"
    env = {**embedded_env(data_dir), "PORTAL_BASE_URL": ""}
    result = run_portal("demo", "--no-serve", "--port", "9123", env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    connection = sqlite3.connect(data_dir / "portal.sqlite3")
    try:
        bodies = [row[0] for row in connection.execute("SELECT body_text FROM outbox_message")]
    finally:
        connection.close()
    assert bodies and all("http://127.0.0.1:8000" not in body for body in bodies)
    assert any("http://127.0.0.1:9123/t/" in body for body in bodies)


def test_demo_loads_once_and_a_second_run_changes_nothing(tmp_path):
    data_dir = tmp_path / "var"

    first = run_portal("demo", "--no-serve", env=embedded_env(data_dir), timeout=300)
    assert first.returncode == 0, first.stderr
    after_first = count_rows(data_dir / "portal.sqlite3")
    second = run_portal("demo", "--no-serve", env=embedded_env(data_dir), timeout=300)
    assert second.returncode == 0, second.stderr
    after_second = count_rows(data_dir / "portal.sqlite3")

    assert after_second == after_first
    assert after_first["tenant"] == 9
    assert after_first["portal_user"] >= 19
    assert after_first["takedown_request"] == 3 and after_first["takedown_report"] == 7
    for output in (first.stdout, second.stdout):
        assert "Demo-Siguri-2026" in output
        for email in ("admin@akcesk.demo.al", "officer@akep.demo.al", "admin@policia.demo.al", "admin@ashdmf.demo.al",
                      "analyst@hotline.demo.al", "officer@albanet.demo.al", "operator@portal.demo.al"):
            assert email in output
    assert (data_dir / "secret_key").exists()
    verify = run_portal("audit", "verify", env=embedded_env(data_dir))
    assert verify.returncode == 0, verify.stdout + verify.stderr


async def count_postgres_rows(url: str) -> dict[str, int]:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        async with connection.transaction():
            await connection.execute("SELECT set_config('app.all_tenants', 'on', true)")
            listing = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            tables = [row["tablename"] for row in await connection.fetch(listing)]
            return {table: await connection.fetchval(f'SELECT count(*) FROM "{table}"') for table in tables}
    finally:
        await connection.close()


@pytest.mark.postgres
async def test_demo_twice_on_postgresql_changes_nothing_the_second_time(tmp_path):
    """Under row-level security too: the demo's existence checks must run in the right tenant scope."""
    import asyncpg

    name = f"{environment.TEST_DATABASE_NAME}_demo"
    admin = await asyncpg.connect(environment.ADMIN_DATABASE_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" OWNER "{environment.TEST_ROLE}"')
    finally:
        await admin.close()
    url = environment.with_database(environment.ADMIN_DATABASE_URL, name, user=environment.TEST_ROLE)
    env = embedded_env(tmp_path) | {"PORTAL_DATABASE_URL": url}
    try:
        first = run_portal("demo", "--no-serve", env=env, timeout=300)
        assert first.returncode == 0, first.stderr[-3000:]
        after_first = await count_postgres_rows(url)
        second = run_portal("demo", "--no-serve", env=env, timeout=300)
        assert second.returncode == 0, second.stderr[-3000:]
        after_second = await count_postgres_rows(url)
        assert after_second == after_first
        assert after_first["tenant"] == 9
        assert after_first["membership"] >= 19
        assert "admin@akcesk.demo.al" in second.stdout
    finally:
        admin = await asyncpg.connect(environment.ADMIN_DATABASE_URL)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
