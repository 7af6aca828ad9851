"""Row-level security on stored files."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from portal.core.rls import enable_tenant_rls

ID = "2026-11-22T19:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "row level security"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="files", description=DESCRIPTION)

    async def run():
        await enable_tenant_rls("stored_file")

    manager.add_raw(run)
    return manager
