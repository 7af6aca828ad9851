"""Opening another tenant's scope inside one tenant's transaction is an error, not an empty read."""

import pytest

from portal.core.db import system_transaction, tenant_transaction


async def test_nested_transaction_for_another_tenant_is_refused():
    with pytest.raises(RuntimeError, match="tenant_transaction"):
        async with tenant_transaction(1):
            async with tenant_transaction(2):
                pass


async def test_nested_transaction_for_the_same_tenant_or_inside_system_work_is_allowed():
    async with tenant_transaction(1):
        async with tenant_transaction(1):
            pass
    async with system_transaction():
        async with tenant_transaction(1):
            pass
        async with tenant_transaction(2):
            pass
