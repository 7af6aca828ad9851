"""De-duplication keys, queue indexes and row-level security for the takedown tables.

Items, reports, imports and idempotency records belong to one organisation. Requests, their URLs and
their timeline belong to the issuer and are readable by an ISP only through an assignment
addressed to it; an assignment is visible to its issuer and its recipient; block-list rows are
visible to the ISP whose list they are and to the issuer that put them there.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from portal.core.db import execute, is_postgres
from portal.core.rls import TENANT_MATCH, enable_tenant_rls

ID = "2026-11-22T20:16:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "takedown keys indexes and row level security"

CURRENT = "NULLIF(current_setting('app.tenant_id', true), '')::integer"


def _match(column: str) -> str:
    return "(" + TENANT_MATCH.format(column=column) + ")"


def _addressed(request_column: str) -> str:
    return (
        f"EXISTS (SELECT 1 FROM takedown_assignment a WHERE a.request = {request_column} "
        f"AND a.recipient = {CURRENT})"
    )


async def _policy(table: str, using: str, check: str) -> None:
    await execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    await execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    await execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
    await execute(f"CREATE POLICY tenant_isolation ON {table} USING ({using}) WITH CHECK ({check})")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="takedown", description=DESCRIPTION)

    async def run():
        statements = [
            "CREATE UNIQUE INDEX IF NOT EXISTS takedown_item_tenant_url ON takedown_item (tenant, url_hash)",
            "CREATE INDEX IF NOT EXISTS takedown_item_queue ON takedown_item (tenant, status, last_reported_at)",
            "CREATE INDEX IF NOT EXISTS takedown_item_recent ON takedown_item (tenant, last_reported_at)",
            "CREATE INDEX IF NOT EXISTS takedown_item_domain ON takedown_item (tenant, registrable_domain)",
            # Only public-form reports carry a sender key; imports never touch this index.
            (
                "CREATE INDEX IF NOT EXISTS takedown_report_rate_limit ON takedown_report (submitter_key, created_at)"
                " WHERE submitter_key <> ''"
            ),
            "CREATE UNIQUE INDEX IF NOT EXISTS takedown_request_year_seq ON takedown_request (year, sequence)",
            (
                "CREATE UNIQUE INDEX IF NOT EXISTS takedown_assignment_request_recipient "
                "ON takedown_assignment (request, recipient)"
            ),
            "CREATE INDEX IF NOT EXISTS takedown_assignment_inbox ON takedown_assignment (recipient, status, due_at)",
            # The deadline watcher scans only copies still waiting for action.
            (
                "CREATE INDEX IF NOT EXISTS takedown_assignment_pending ON takedown_assignment (due_at)"
                " WHERE status IN ('sent', 'acknowledged')"
            ),
            "CREATE UNIQUE INDEX IF NOT EXISTS takedown_idempotency_key ON takedown_idempotency (tenant, key)",
            (
                "CREATE UNIQUE INDEX IF NOT EXISTS takedown_feed_entry_key "
                "ON takedown_feed_entry (recipient, issuer, entry_type, value_hash)"
            ),
            "CREATE INDEX IF NOT EXISTS takedown_feed_entry_active ON takedown_feed_entry (recipient, refcount)",
            "CREATE INDEX IF NOT EXISTS takedown_feed_change_cursor ON takedown_feed_change (recipient, id)",
            "CREATE INDEX IF NOT EXISTS takedown_event_request ON takedown_event (request, id)",
        ]
        for statement in statements:
            await execute(statement)
        if not is_postgres():
            return
        for table in ("takedown_item", "takedown_report", "takedown_idempotency", "takedown_import"):
            await enable_tenant_rls(table)
        # The assignment policy comes first: the request policies read takedown_assignment.
        both = f"{_match('recipient')} OR {_match('issuer')}"
        await _policy("takedown_assignment", both, both)
        await _policy("takedown_feed_entry", both, both)
        await _policy("takedown_feed_change", both, both)
        await _policy("takedown_request", f"{_match('tenant')} OR {_addressed('takedown_request.id')}", _match("tenant"))
        await _policy(
            "takedown_request_url", f"{_match('tenant')} OR {_addressed('takedown_request_url.request')}",
            _match("tenant"),
        )
        # An ISP sees the events of its own copy and the request-wide ones (issued), not other ISPs'.
        event_check = f"{_match('tenant')} OR recipient = {CURRENT}"
        event = f"{event_check} OR (recipient IS NULL AND {_addressed('takedown_event.request')})"
        await _policy("takedown_event", event, event_check)

    manager.add_raw(run)
    return manager
