"""Appending to and verifying the hash-chained audit log."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from portal.audit.tables import AuditEntry
from portal.core.actor import Actor
from portal.core.db import execute, system_transaction, tenant_transaction

GENESIS_HASH = "0" * 64


def _canonical_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_detail(value: object) -> object:
    """The detail as the database gives it back, so its hash can be recomputed later.

    PostgreSQL's JSONB keeps numbers as decimals: a float written as ``1e+20`` comes back as the
    integer ``100000000000000000000``. Whole floats are therefore stored and hashed as integers;
    without this an untouched entry would be reported as tampered with.
    """
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: canonical_detail(item) for key, item in value.items()}
    if isinstance(value, list):
        return [canonical_detail(item) for item in value]
    return value


def entry_hash(
    *,
    prev_hash: str,
    at: datetime,
    actor_user_id: int | None,
    actor_label: str,
    tenant_id: int | None,
    action: str,
    object_type: str,
    object_id: str,
    ip: str,
    detail: dict,
) -> str:
    payload = json.dumps(
        [prev_hash, _canonical_time(at), actor_user_id, actor_label, tenant_id, action, object_type, object_id, ip, detail],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


async def record(
    action: str,
    *,
    actor: Actor,
    tenant_id: int | None = None,
    object_type: str = "",
    object_id: object = "",
    detail: dict | None = None,
) -> None:
    """Append one entry inside the caller's transaction, so it commits or rolls back with the change."""
    detail = canonical_detail(json.loads(json.dumps(detail or {}, default=str)))
    at = datetime.now(UTC)
    async with system_transaction() if tenant_id is None else tenant_transaction(tenant_id):
        # Updating the head first takes the write lock on it (a row lock on PostgreSQL, the database
        # lock on SQLite) before the previous hash is read, so concurrent appends queue up.
        await execute("UPDATE audit_chain_head SET last_entry_id = last_entry_id + 1 WHERE id = 1")
        head = await execute("SELECT last_hash FROM audit_chain_head WHERE id = 1")
        prev_hash = head[0]["last_hash"]
        new_hash = entry_hash(
            prev_hash=prev_hash,
            at=at,
            actor_user_id=actor.user_id,
            actor_label=actor.label,
            tenant_id=tenant_id,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            ip=actor.ip,
            detail=detail,
        )
        await execute(
            "INSERT INTO audit_entry (at, actor_user_id, actor_label, tenant_id, action, object_type, object_id,"
            " ip, detail, prev_hash, entry_hash) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
            at,
            actor.user_id,
            actor.label,
            tenant_id,
            action,
            object_type,
            str(object_id),
            actor.ip,
            json.dumps(detail, ensure_ascii=False),
            prev_hash,
            new_hash,
        )
        await execute("UPDATE audit_chain_head SET last_hash = {} WHERE id = 1", new_hash)


@dataclass
class VerifyResult:
    intact: bool
    entries_checked: int
    first_broken_id: int | None = None
    reason: str = ""


def _as_datetime(value: object) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def _as_dict(value: object) -> dict:
    return json.loads(value) if isinstance(value, str) else (value or {})


async def verify_chain(batch_size: int = 5000) -> VerifyResult:
    """Walk the chain in id order; report the first entry whose link or content does not match."""
    expected_prev = GENESIS_HASH
    checked = 0
    last_id = 0
    async with system_transaction():
        while True:
            rows = await AuditEntry.select().where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch_size)
            if not rows:
                break
            for row in rows:
                checked += 1
                last_id = row["id"]
                if row["prev_hash"] != expected_prev:
                    return VerifyResult(False, checked, row["id"], "previous-hash link does not match")
                recomputed = entry_hash(
                    prev_hash=row["prev_hash"],
                    at=_as_datetime(row["at"]),
                    actor_user_id=row["actor_user_id"],
                    actor_label=row["actor_label"],
                    tenant_id=row["tenant_id"],
                    action=row["action"],
                    object_type=row["object_type"],
                    object_id=row["object_id"],
                    ip=row["ip"],
                    detail=canonical_detail(_as_dict(row["detail"])),
                )
                if recomputed != row["entry_hash"]:
                    return VerifyResult(False, checked, row["id"], "entry content does not match its hash")
                expected_prev = row["entry_hash"]
        head = await execute("SELECT last_hash FROM audit_chain_head WHERE id = 1")
    if head and head[0]["last_hash"] != expected_prev:
        return VerifyResult(False, checked, None, "entries are missing from the end of the chain")
    return VerifyResult(True, checked)


async def entries_for_tenant(tenant_id: int, *, limit: int, offset: int) -> tuple[list[dict], int]:
    async with tenant_transaction(tenant_id):
        rows = (
            await AuditEntry.select()
            .where(AuditEntry.tenant_id == tenant_id)
            .order_by(AuditEntry.id, ascending=False)
            .limit(limit)
            .offset(offset)
        )
        total = await AuditEntry.count().where(AuditEntry.tenant_id == tenant_id)
    for row in rows:
        row["detail"] = _as_dict(row["detail"])
    return rows, total
