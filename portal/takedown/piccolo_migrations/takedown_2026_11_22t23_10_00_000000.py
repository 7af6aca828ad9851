"""A one-round-trip block-list cursor for the ISP feeds' ETag check (PostgreSQL).

Every feed request, and so every ``304 Not Modified``, starts by reading the ISP's list cursor. As
a transaction that took three round trips (``BEGIN`` with the tenant setting, the query,
``COMMIT``). This function sets the tenant for the statement's own transaction and reads the
cursor, so one autocommit ``SELECT`` does it. It runs with the caller's rights (not SECURITY
DEFINER): row-level security still applies, with the tenant it was asked for, and the setting
ends with the statement.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from portal.core.db import execute, is_postgres

ID = "2026-11-22T23:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "block list cursor function"

FUNCTION = """
CREATE OR REPLACE FUNCTION takedown_feed_cursor(p_recipient integer) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM set_config('app.tenant_id', p_recipient::text, true);
    PERFORM set_config('app.all_tenants', 'off', true);
    RETURN (SELECT COALESCE(MAX(id), 0) FROM takedown_feed_change WHERE recipient = p_recipient);
END
$$
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="takedown", description=DESCRIPTION)

    async def run():
        if is_postgres():
            await execute(FUNCTION)

    manager.add_raw(run)
    return manager
