"""Writing mail to the outbox inside the caller's transaction, and delivering it with retries."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from portal.core.db import execute, is_postgres, system_transaction
from portal.core.mail import MailSender
from portal.outbox.tables import OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


def retry_delay(attempts: int) -> timedelta:
    """Back off 1, 2, 4 ... minutes, capped at an hour."""
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


async def enqueue_mail(*, to_address: str, subject: str, body_text: str, tenant_id: int | None = None) -> None:
    """Queue a message; called inside the transaction of the change that causes it."""
    await OutboxMessage.insert(
        OutboxMessage(tenant_id=tenant_id, to_address=to_address, subject=subject, body_text=body_text)
    )


async def deliver_due(sender: MailSender, batch_size: int = 20) -> int:
    """Send up to ``batch_size`` due messages; returns how many were handled.

    On PostgreSQL the rows are claimed with FOR UPDATE SKIP LOCKED, so several workers can run
    side by side without sending a message twice.
    """
    lock = " FOR UPDATE SKIP LOCKED" if is_postgres() else ""
    handled = 0
    async with system_transaction():
        rows = await execute(
            "SELECT id, to_address, subject, body_text, attempts FROM outbox_message "
            "WHERE status = 'pending' AND next_attempt_at <= {} ORDER BY id LIMIT {}" + lock,
            datetime.now(UTC),
            batch_size,
        )
        for row in rows:
            handled += 1
            try:
                await sender.send(to_address=row["to_address"], subject=row["subject"], body_text=row["body_text"])
            except Exception as exc:  # any delivery failure is retried later, never lost
                attempts = row["attempts"] + 1
                status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
                log.warning("mail %s to %s failed (attempt %s): %s", row["id"], row["to_address"], attempts, exc)
                await OutboxMessage.update(
                    {
                        OutboxMessage.attempts: attempts,
                        OutboxMessage.status: status,
                        OutboxMessage.last_error: str(exc)[:2000],
                        OutboxMessage.next_attempt_at: datetime.now(UTC) + retry_delay(attempts),
                    }
                ).where(OutboxMessage.id == row["id"])
            else:
                await OutboxMessage.update(
                    {
                        OutboxMessage.status: "sent",
                        OutboxMessage.attempts: row["attempts"] + 1,
                        OutboxMessage.sent_at: datetime.now(UTC),
                    }
                ).where(OutboxMessage.id == row["id"])
    return handled
