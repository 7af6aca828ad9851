"""Fills the assignment copies of the request fields added by the previous migration, and indexes
an ISP's copies by reference (the API's get and transitions look a request up that way).

Piccolo runs a migration's raw steps before its column additions, so the backfill is a migration
of its own. On PostgreSQL the tables force row-level security, so the update runs with the
all-tenants setting, local to the migration's transaction.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from portal.core.db import execute, is_postgres

ID = "2026-11-22T22:11:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "fill assignment copies of request fields, index by reference"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="takedown", description=DESCRIPTION)

    async def run():
        if is_postgres():
            await execute("SELECT set_config('app.all_tenants', 'on', true)")
        await execute(
            "UPDATE takedown_assignment SET"
            " reference = (SELECT r.reference FROM takedown_request r WHERE r.id = takedown_assignment.request),"
            " kind = (SELECT r.kind FROM takedown_request r WHERE r.id = takedown_assignment.request),"
            " priority = (SELECT r.priority FROM takedown_request r WHERE r.id = takedown_assignment.request),"
            " issued_at = (SELECT r.created_at FROM takedown_request r WHERE r.id = takedown_assignment.request),"
            " url_count = (SELECT COUNT(*) FROM takedown_request_url u WHERE u.request = takedown_assignment.request)"
            " WHERE reference = ''"
        )
        await execute(
            "CREATE INDEX IF NOT EXISTS takedown_assignment_reference ON takedown_assignment (recipient, reference)"
        )

    manager.add_raw(run)
    return manager
