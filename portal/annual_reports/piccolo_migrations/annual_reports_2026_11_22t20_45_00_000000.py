"""One report per organisation and year, one row per revision number, and row-level security."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from portal.core.db import execute
from portal.core.rls import enable_tenant_rls

ID = "2026-11-22T20:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "uniqueness and row level security"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="annual_reports", description=DESCRIPTION)

    async def run():
        await execute("CREATE UNIQUE INDEX IF NOT EXISTS annual_report_tenant_year ON annual_report (tenant, year)")
        await execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS annual_report_revision_number ON annual_report_revision (report, number)"
        )
        for table in ("annual_report", "annual_report_revision", "annual_report_review"):
            await enable_tenant_rls(table)

    manager.add_raw(run)
    return manager
