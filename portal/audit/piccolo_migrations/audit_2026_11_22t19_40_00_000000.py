"""Seed the chain head, make entries append-only, and scope reads per tenant."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from portal.core.db import execute, is_postgres
from portal.core.rls import enable_tenant_rls

ID = "2026-11-22T19:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "chain head append only rls"

GENESIS_HASH = "0" * 64


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="audit", description=DESCRIPTION)

    async def run():
        await execute(
            "INSERT INTO audit_chain_head (id, last_entry_id, last_hash) "
            "SELECT 1, 0, {} WHERE NOT EXISTS (SELECT 1 FROM audit_chain_head)",
            GENESIS_HASH,
        )
        if is_postgres():
            await execute(
                """
                CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger AS $$
                BEGIN
                    RAISE EXCEPTION 'audit_entry is append-only';
                END;
                $$ LANGUAGE plpgsql
                """
            )
            await execute("DROP TRIGGER IF EXISTS audit_entry_no_change ON audit_entry")
            await execute(
                "CREATE TRIGGER audit_entry_no_change BEFORE UPDATE OR DELETE ON audit_entry "
                "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()"
            )
        else:
            for event in ("UPDATE", "DELETE"):
                await execute(
                    f"CREATE TRIGGER IF NOT EXISTS audit_entry_no_{event.lower()} BEFORE {event} ON audit_entry "
                    "BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only'); END"
                )
        await enable_tenant_rls("audit_entry", column="tenant_id", insert_anywhere=True)

    manager.add_raw(run)
    return manager
