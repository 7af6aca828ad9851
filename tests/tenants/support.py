"""Helpers for the organisation administration tests: database snapshots and mailed links."""

from __future__ import annotations

import re

from portal.core.db import execute, system_transaction

# Everything an administration page could change; sessions are left out (every request touches them).
WATCHED_TABLES = ("tenant", "portal_user", "membership", "invitation", "api_key", "audit_entry", "outbox_message")

INVITATION_LINK = re.compile(r"http://portal\.test/invitations/([A-Za-z0-9_-]+)")


async def database_state() -> dict[str, list[dict]]:
    """Every row of the watched tables, to prove that a refused request changed nothing at all."""
    async with system_transaction():
        return {table: [dict(row) for row in await execute(f"SELECT * FROM {table} ORDER BY id")] for table in WATCHED_TABLES}


async def count(table: str, where: str = "", *args: object) -> int:
    async with system_transaction():
        rows = await execute(f"SELECT COUNT(*) AS n FROM {table}" + (f" WHERE {where}" if where else ""), *args)
    return rows[0]["n"]


async def mails_to(address: str) -> list[dict]:
    async with system_transaction():
        return [dict(row) for row in await execute("SELECT * FROM outbox_message WHERE to_address = {} ORDER BY id", address)]


async def invitation_token(address: str) -> str:
    """The token of the latest invitation mailed to ``address`` (the only place it exists)."""
    mails = await mails_to(address)
    assert mails, f"no mail was queued for {address}"
    match = INVITATION_LINK.search(mails[-1]["body_text"])
    assert match, mails[-1]["body_text"]
    return match.group(1)


async def audit_actions(tenant_id: int) -> list[str]:
    async with system_transaction():
        rows = await execute("SELECT action FROM audit_entry WHERE tenant_id = {} ORDER BY id", tenant_id)
    return [row["action"] for row in rows]


async def membership_of(member) -> dict:
    """The membership row of a test ``Member`` (id, role, active)."""
    async with system_transaction():
        rows = await execute(
            'SELECT id, role, active FROM membership WHERE tenant = {} AND "user" = {}', member.tenant["id"], member.user["id"]
        )
    row = dict(rows[0])
    row["active"] = bool(row["active"])
    return row
