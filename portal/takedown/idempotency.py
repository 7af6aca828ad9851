"""``Idempotency-Key`` for API POSTs: a retried call gets the first answer instead of acting twice.

The stored answer is written in the same transaction as the change it describes, so either both
exist or neither. Two calls racing with one key: the second one's insert of the key fails, its
whole transaction (change included) rolls back, and it answers with the first one's stored reply.
A key reused for a different call (another path or body) is refused.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from portal.core.db import execute, tenant_transaction
from portal.core.errors import ValidationFailed
from portal.core.i18n import _
from portal.takedown.tables import IdempotencyRecord

MAX_KEY_LENGTH = 200
_UNIQUE_VIOLATIONS = (asyncpg.UniqueViolationError, sqlite3.IntegrityError)


@dataclass(frozen=True)
class Reply:
    status_code: int
    body: dict
    replayed: bool = False


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(b"\n".join([method.encode(), path.encode(), body])).hexdigest()


async def _stored(tenant_id: int, key: str) -> dict | None:
    async with tenant_transaction(tenant_id):
        rows = await execute(
            "SELECT fingerprint, status_code, response FROM takedown_idempotency WHERE tenant = {} AND key = {}",
            tenant_id, key,
        )
    return dict(rows[0]) if rows else None


def _replay(stored: dict, print_: str) -> Reply:
    if stored["fingerprint"] != print_:
        raise ValidationFailed({"Idempotency-Key": _(
            "This Idempotency-Key was already used for a different request. Use a new key for each new request."
        )})
    body = stored["response"]
    if isinstance(body, str):
        body = json.loads(body)
    return Reply(stored["status_code"], body, replayed=True)


async def run_once(
    tenant_id: int, key: str | None, print_: str, action: Callable[[], Awaitable[tuple[int, dict]]]
) -> Reply:
    """Run ``action`` (which returns status and JSON body) at most once per ``key``."""
    if not key:
        status_code, body = await action()
        return Reply(status_code, body)
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationFailed({"Idempotency-Key": _("The Idempotency-Key must be 1 to %(max)s characters.",
                                                     max=MAX_KEY_LENGTH)})
    stored = await _stored(tenant_id, key)
    if stored is not None:
        return _replay(stored, print_)
    try:
        async with tenant_transaction(tenant_id):
            status_code, body = await action()
            await IdempotencyRecord.insert(IdempotencyRecord(
                tenant=tenant_id, key=key, fingerprint=print_, status_code=status_code,
                response=json.dumps(body, default=str), created_at=datetime.now(UTC),
            ))
    except _UNIQUE_VIOLATIONS:
        # A concurrent call with the same key committed first: answer as it did.
        stored = await _stored(tenant_id, key)
        if stored is None:
            raise
        return _replay(stored, print_)
    return Reply(status_code, body)
