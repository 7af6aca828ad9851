"""Membership uniqueness and row-level security on the tenant-owned tables."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from portal.core.db import execute
from portal.core.rls import enable_tenant_rls

ID = "2026-11-22T19:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "membership unique and row level security"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tenants", description=DESCRIPTION)

    async def run():
        await execute("CREATE UNIQUE INDEX IF NOT EXISTS membership_tenant_user ON membership (tenant, \"user\")")
        await execute("CREATE INDEX IF NOT EXISTS invitation_email ON invitation (email)")
        for table in ("membership", "invitation", "api_key"):
            await enable_tenant_rls(table)

    manager.add_raw(run)
    return manager
