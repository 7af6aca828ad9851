"""One reminder per organisation, year and kind, and row-level security on the reminder log."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from portal.core.db import execute
from portal.core.rls import enable_tenant_rls

ID = "2026-11-22T21:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "reminder uniqueness and row level security"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="annual_reports", description=DESCRIPTION)

    async def run():
        await execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS annual_report_reminder_once"
            " ON annual_report_reminder (tenant, year, kind)"
        )
        await enable_tenant_rls("annual_report_reminder")

    manager.add_raw(run)
    return manager
