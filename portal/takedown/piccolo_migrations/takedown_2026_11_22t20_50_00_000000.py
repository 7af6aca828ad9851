"""Indexes for the ISP hot paths: the API's request list in deadline order, block-list value look-ups.

``GET /api/v1/takedown/requests`` without a status filter lists an ISP's copies by ``due_at, id``.
With only (recipient, status, due_at) PostgreSQL sorted every copy addressed to the ISP (80,000
for the main ISP of the benchmark data set: 140 ms a page); this index hands it the first page
directly (1.5 ms). See bench/bench_requests_api.py.

An incremental block-list fetch (``?since=``) looks up each changed value by (ISP, value hash)
instead of reading the whole list (600 ms for 100,000 values); the unique key starts with
(recipient, issuer), so it needs its own index. See bench/bench_blocklist.py.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from portal.core.db import execute

ID = "2026-11-22T20:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "assignment deadline order and feed value indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="takedown", description=DESCRIPTION)

    async def run():
        await execute(
            "CREATE INDEX IF NOT EXISTS takedown_assignment_deadline ON takedown_assignment (recipient, due_at, id)"
        )
        await execute(
            "CREATE INDEX IF NOT EXISTS takedown_feed_entry_value ON takedown_feed_entry (recipient, value_hash)"
        )

    manager.add_raw(run)
    return manager
