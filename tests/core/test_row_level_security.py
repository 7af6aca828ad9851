"""PostgreSQL row-level security: a query that forgets its tenant filter still sees one tenant only.

Every query here is deliberately unfiltered (``SELECT * FROM table``); only the transaction's
tenant scope decides what comes back. The tests connect as the role that owns the tables (not a
superuser), which FORCE ROW LEVEL SECURITY binds too.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from portal.core.actor import Actor
from portal.core.db import execute, get_engine, rls_bypassed, system_transaction, tenant_transaction
from portal.core.security import new_token, token_hash
from portal.files.tables import StoredFile
from portal.tenants.api_keys import create_api_key
from portal.tenants.tables import ApiKey, Invitation, Membership
from tests import environment

pytestmark = pytest.mark.postgres

ACTOR = Actor.system("tests")
# table -> its tenant column
TENANT_TABLES = {
    "membership": "tenant",
    "api_key": "tenant",
    "invitation": "tenant",
    "stored_file": "tenant",
    "audit_entry": "tenant_id",
}


async def add_owned_rows(factory, tenant: dict) -> None:
    """At least one row of the tenant in every tenant-owned table."""
    member = await factory.member(tenant, "admin")
    await create_api_key(tenant, name="SIEM", scopes=["read"], actor=ACTOR)
    async with tenant_transaction(tenant["id"]):
        await Invitation.insert(
            Invitation(
                tenant=tenant["id"], email=f"new@{tenant['slug']}.test", role="viewer",
                token_hash=token_hash(new_token()), invited_by=member.user["id"],
                expires_at=datetime.now(UTC) + timedelta(days=7),
            )
        )
        await StoredFile.insert(
            StoredFile(
                tenant=tenant["id"], storage_key=f"{tenant['slug']}/{new_token(8)}", filename="marreveshja.pdf",
                content_type="application/pdf", size_bytes=1234, sha256="0" * 64, uploaded_by=member.user["id"],
            )
        )


@pytest.fixture
async def two_tenants(factory) -> tuple[dict, dict]:
    albanet = await factory.tenant("isp", slug="albanet")
    hotline = await factory.tenant("ngo", slug="hotline", is_hotline=True)
    for tenant in (albanet, hotline):
        await add_owned_rows(factory, tenant)
    return albanet, hotline


async def counts_by_tenant(table: str) -> dict[int, int]:
    column = TENANT_TABLES[table]
    async with system_transaction():
        rows = await execute(f'SELECT {column} AS tenant, count(*) AS n FROM "{table}" GROUP BY {column}')
    return {row["tenant"]: row["n"] for row in rows if row["tenant"] is not None}


async def test_the_tests_connect_as_a_role_that_rls_binds():
    assert not await rls_bypassed(), "connected as a superuser or BYPASSRLS role: the policies would do nothing"


@pytest.mark.parametrize("table", sorted(TENANT_TABLES))
async def test_an_unfiltered_select_in_a_tenant_scope_sees_only_that_tenant(two_tenants, table):
    albanet, hotline = two_tenants
    column = TENANT_TABLES[table]
    counts = await counts_by_tenant(table)
    assert counts.get(albanet["id"], 0) > 0 and counts.get(hotline["id"], 0) > 0

    for tenant in (albanet, hotline):
        async with tenant_transaction(tenant["id"]):
            rows = await execute(f'SELECT * FROM "{table}"')
        assert {row[column] for row in rows} == {tenant["id"]}
        assert len(rows) == counts[tenant["id"]]


@pytest.mark.parametrize("table", sorted(TENANT_TABLES))
async def test_the_system_scope_sees_every_tenant(two_tenants, table):
    albanet, hotline = two_tenants
    async with system_transaction():
        rows = await execute(f'SELECT * FROM "{table}"')
    assert {albanet["id"], hotline["id"]} <= {row[TENANT_TABLES[table]] for row in rows}


async def test_a_connection_that_declared_no_scope_sees_nothing(two_tenants):
    connection = await asyncpg.connect(environment.DATABASE_URL)
    try:
        for table in TENANT_TABLES:
            owner = await connection.fetchval("SELECT tableowner FROM pg_tables WHERE tablename = $1", table)
            assert owner == await connection.fetchval("SELECT current_user")
            assert await connection.fetch(f'SELECT * FROM "{table}"') == [], table
            async with connection.transaction():
                assert await connection.fetch(f'SELECT * FROM "{table}"') == [], table
    finally:
        await connection.close()
    # ...and the same through the portal's own pool, outside any scoped transaction.
    assert await Membership.select() == []
    assert await ApiKey.count() == 0


async def test_rows_of_another_tenant_cannot_be_written_from_a_tenant_scope(factory, two_tenants):
    albanet, hotline = two_tenants
    outsider = await factory.member(await factory.tenant("isp", slug="third"), "viewer")

    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with tenant_transaction(albanet["id"]):
            await Membership.insert(Membership(tenant=hotline["id"], user=outsider.user["id"], role="viewer"))
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with tenant_transaction(albanet["id"]):
            await StoredFile.insert(
                StoredFile(
                    tenant=hotline["id"], storage_key="planted", filename="x.pdf", content_type="application/pdf",
                    size_bytes=1, sha256="0" * 64,
                )
            )
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with tenant_transaction(albanet["id"]):  # moving one's own row to another tenant
            await ApiKey.update({ApiKey.tenant: hotline["id"]}).where(ApiKey.tenant == albanet["id"])

    async with tenant_transaction(albanet["id"]):  # another tenant's rows are simply not there to change
        changed = await execute("UPDATE api_key SET name = 'hijacked' WHERE tenant = {} RETURNING id", hotline["id"])
        deleted = await execute("DELETE FROM invitation WHERE tenant = {} RETURNING id", hotline["id"])
    assert changed == [] and deleted == []
    async with system_transaction():
        assert await ApiKey.count().where(ApiKey.name == "hijacked") == 0
        assert await Invitation.count().where(Invitation.tenant == hotline["id"]) == 1
        assert await Membership.count().where(Membership.tenant == hotline["id"]) == 1


async def test_the_scope_does_not_leak_between_pooled_connections(factory):
    tenants = [await factory.tenant("isp", slug=f"isp-{i}") for i in range(5)]
    for tenant in tenants:
        for role in ("admin", "officer"):
            await factory.member(tenant, role)
    expected = await counts_by_tenant("membership")
    seen: list[tuple[int, set[int], int]] = []

    async def look(i: int) -> None:
        tenant_id = tenants[i % len(tenants)]["id"]
        async with tenant_transaction(tenant_id):
            await asyncio.sleep(random.random() / 100)  # interleave with the other transactions
            rows = await execute("SELECT * FROM membership")
        seen.append((tenant_id, {row["tenant"] for row in rows}, len(rows)))

    await asyncio.gather(*(look(i) for i in range(60)))  # far more than the pool's connections

    assert len(seen) == 60
    for tenant_id, tenants_seen, count in seen:
        assert tenants_seen == {tenant_id}
        assert count == expected[tenant_id]
    # Every pooled connection forgot its scope when its transaction ended.
    engine = get_engine()
    for _ in range(20):
        async with engine.transaction():
            assert await execute("SELECT * FROM membership") == []
            setting = await execute("SELECT current_setting('app.tenant_id', true) AS t")
            assert setting[0]["t"] in (None, "")


async def test_a_nested_scope_keeps_the_outer_one(two_tenants):
    """Services called from a tenant's transaction run with that tenant's rights, never wider."""
    albanet, hotline = two_tenants
    async with tenant_transaction(albanet["id"]):
        async with system_transaction():
            rows = await execute("SELECT * FROM membership")
    assert {row["tenant"] for row in rows} == {albanet["id"]}


async def test_a_connection_goes_back_to_the_pool_without_tenant_settings_or_locks(two_tenants):
    """The pool skips asyncpg's session reset on release, so nothing may outlive a transaction."""
    albanet, _ = two_tenants
    pool = get_engine().pool
    for _ in range(pool.get_max_size() * 2):
        async with tenant_transaction(albanet["id"]):
            await execute("SELECT pg_advisory_xact_lock(7304, {})", albanet["id"])
            assert (await execute("SELECT COUNT(*) AS n FROM membership"))[0]["n"] >= 1
    connections = [await pool.acquire() for _ in range(pool.get_max_size())]
    try:
        for connection in connections:
            assert await connection.fetchval("SELECT current_setting('app.tenant_id', true)") in (None, "")
            assert await connection.fetchval("SELECT current_setting('app.all_tenants', true)") in (None, "", "off")
            assert await connection.fetchval("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory'"
                                             " AND pid = pg_backend_pid()") == 0
            assert await connection.fetchval("SELECT COUNT(*) FROM membership") == 0
    finally:
        for connection in connections:
            await pool.release(connection)
