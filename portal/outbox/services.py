"""Writing mail to the outbox inside the caller's transaction, and delivering it with retries.

Delivery claims a batch in one short transaction (on PostgreSQL with FOR UPDATE SKIP LOCKED) by
moving the rows' ``next_attempt_at`` past a lease, then sends with no transaction open, and
records each outcome in its own short transaction. No database lock is held while an SMTP
server is slow: on SQLite, a lock held during a send would stall every page that writes. Several
workers never claim the same message; one that dies mid-batch leaves its messages to be claimed
again once the lease has passed (delivery is at least once, never silently lost).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from portal.core.db import execute, is_postgres, system_transaction
from portal.core.mail import SEND_TIMEOUT_SECONDS, MailSender
from portal.outbox.tables import OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BATCH_SIZE = 20


def retry_delay(attempts: int) -> timedelta:
    """Back off 1, 2, 4 ... minutes, capped at an hour."""
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def claim_lease(batch_size: int) -> timedelta:
    """Long enough for every message of a batch to time out once, so a live worker keeps its claim."""
    return timedelta(seconds=batch_size * SEND_TIMEOUT_SECONDS + 60)


async def enqueue_mail(*, to_address: str, subject: str, body_text: str, tenant_id: int | None = None) -> None:
    """Queue a message; called inside the transaction of the change that causes it."""
    await OutboxMessage.insert(
        OutboxMessage(tenant_id=tenant_id, to_address=to_address, subject=subject, body_text=body_text)
    )


async def _claim_due(batch_size: int) -> list[dict]:
    lock = " FOR UPDATE SKIP LOCKED" if is_postgres() else ""
    now = datetime.now(UTC)
    async with system_transaction():
        rows = await execute(
            "SELECT id, to_address, subject, body_text, attempts FROM outbox_message "
            "WHERE status = 'pending' AND next_attempt_at <= {} ORDER BY next_attempt_at, id LIMIT {}" + lock,
            now,
            batch_size,
        )
        if rows:
            await OutboxMessage.update({OutboxMessage.next_attempt_at: now + claim_lease(batch_size)}).where(
                OutboxMessage.id.is_in([row["id"] for row in rows])
            )
    return rows


async def deliver_due(sender: MailSender, batch_size: int = BATCH_SIZE) -> int:
    """Send up to ``batch_size`` due messages; returns how many were attempted."""
    rows = await _claim_due(batch_size)
    for row in rows:
        attempts = row["attempts"] + 1
        try:
            await sender.send(to_address=row["to_address"], subject=row["subject"], body_text=row["body_text"])
        except Exception as exc:  # any delivery failure is retried later, never lost
            status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
            log.warning("mail %s to %s failed (attempt %s): %s", row["id"], row["to_address"], attempts, exc)
            changes = {
                OutboxMessage.attempts: attempts,
                OutboxMessage.status: status,
                OutboxMessage.last_error: f"{exc.__class__.__name__}: {exc}"[:2000],
                OutboxMessage.next_attempt_at: datetime.now(UTC) + retry_delay(attempts),
            }
        else:
            changes = {
                OutboxMessage.status: "sent",
                OutboxMessage.attempts: attempts,
                OutboxMessage.sent_at: datetime.now(UTC),
                OutboxMessage.last_error: "",
            }
        async with system_transaction():
            await OutboxMessage.update(changes).where(OutboxMessage.id == row["id"])
    return len(rows)
