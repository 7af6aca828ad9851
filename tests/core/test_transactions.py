"""Scoped transactions: all or nothing, and a failed nested step undoes only itself."""

from __future__ import annotations

import asyncio

import pytest

from portal.core.db import execute, system_transaction, tenant_transaction
from portal.tenants.tables import Tenant, User


class Refused(Exception):
    pass


async def add_user(email: str) -> None:
    await User.insert(User(email=email, full_name=email))


async def emails() -> set[str]:
    return {row["email"] for row in await User.select(User.email)}


async def test_an_error_rolls_back_the_whole_transaction():
    with pytest.raises(Refused):
        async with system_transaction():
            await add_user("first@isp.test")
            async with system_transaction():
                await add_user("second@isp.test")
            raise Refused
    assert await emails() == set()


async def test_an_error_in_a_nested_step_propagates_and_undoes_everything_by_default():
    with pytest.raises(Refused):
        async with system_transaction():
            await add_user("outer@isp.test")
            async with system_transaction():
                await add_user("inner@isp.test")
                raise Refused
    assert await emails() == set()


async def test_a_caught_nested_failure_undoes_only_the_nested_step():
    async with system_transaction():
        await add_user("before@isp.test")
        with pytest.raises(Refused):
            async with system_transaction():
                await add_user("half-done@isp.test")
                raise Refused
        await add_user("after@isp.test")
    assert await emails() == {"before@isp.test", "after@isp.test"}


async def test_a_caught_database_error_in_a_nested_step_does_not_lose_the_outer_work():
    """Without a savepoint PostgreSQL would abort the transaction and silently roll back at COMMIT."""
    await add_user("taken@isp.test")
    async with system_transaction():
        await add_user("kept@isp.test")
        with pytest.raises(Exception):  # noqa: B017 - the driver's unique-violation error differs per database
            async with system_transaction():
                await add_user("taken@isp.test")
        await add_user("also-kept@isp.test")
    assert await emails() == {"taken@isp.test", "kept@isp.test", "also-kept@isp.test"}


async def test_concurrent_writers_wait_for_each_other_instead_of_failing(factory):
    """Embedded mode (SQLite) serves many requests at once; none may fail with 'database is locked'."""

    async def create(i: int) -> None:
        await factory.tenant("isp", slug=f"isp-{i:02d}")

    results = await asyncio.gather(*(create(i) for i in range(20)), return_exceptions=True)

    assert [r for r in results if isinstance(r, Exception)] == []
    assert await Tenant.count() == 20


@pytest.mark.postgres
async def test_the_tenant_setting_lives_only_as_long_as_the_transaction(factory):
    tenant = await factory.tenant()
    settings = "SELECT current_setting('app.tenant_id', true) AS t, current_setting('app.all_tenants', true) AS a"
    async with tenant_transaction(tenant["id"]):
        assert await execute(settings) == [{"t": str(tenant["id"]), "a": "off"}]
    async with system_transaction():
        assert await execute(settings) == [{"t": "", "a": "on"}]
