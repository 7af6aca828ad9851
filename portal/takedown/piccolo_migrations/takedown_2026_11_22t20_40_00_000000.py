"""Webhook delivery indexes and row-level security.

``takedown_webhook`` (address and encrypted secret) belongs to its ISP alone. Deliveries are
queued from whichever transaction causes the event (an issuer's, or the deadline watcher's), so
they may be inserted from any scope but are read only by their ISP (and the system worker).
``takedown_webhook_target`` only says which organisations have a webhook: every scope may read
it (an issuer's transaction checks it when queueing), only its own organisation may change it.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from portal.core.db import execute, is_postgres
from portal.core.rls import enable_tenant_rls

ID = "2026-11-22T20:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "webhook indexes and row level security"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="takedown", description=DESCRIPTION)

    async def run():
        await execute(
            "CREATE INDEX IF NOT EXISTS takedown_webhook_delivery_due ON takedown_webhook_delivery (next_attempt_at)"
            " WHERE status = 'pending'"
        )
        await execute(
            "CREATE INDEX IF NOT EXISTS takedown_webhook_delivery_recent ON takedown_webhook_delivery (tenant, id)"
        )
        if not is_postgres():
            return
        await enable_tenant_rls("takedown_webhook")
        await enable_tenant_rls("takedown_webhook_delivery", insert_anywhere=True)
        await enable_tenant_rls("takedown_webhook_target")
        await execute("DROP POLICY IF EXISTS readable_by_all ON takedown_webhook_target")
        await execute("CREATE POLICY readable_by_all ON takedown_webhook_target FOR SELECT USING (true)")

    manager.add_raw(run)
    return manager
