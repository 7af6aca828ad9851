"""The outbox: queued in the caller's transaction, delivered over real SMTP with retries."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest

from portal.core.db import system_transaction
from portal.core.mail import LogMailSender, SmtpMailSender, mail_sender
from portal.outbox.services import MAX_ATTEMPTS, deliver_due, enqueue_mail, retry_delay
from portal.outbox.tables import OutboxMessage
from tests.smtpserver import free_port

ALBANIAN_SUBJECT = "Kërkesë për bllokim – ëç ËÇ"
ALBANIAN_BODY = "Përshëndetje,\n\nJu lutemi shqyrtoni kërkesën. Faleminderit për bashkëpunimin!\nçështje, zëvendësim."


def sender_for(url: str, settings) -> SmtpMailSender:
    return SmtpMailSender(url, settings.mail_from)


async def queue(n: int = 1, **overrides) -> None:
    async with system_transaction():
        for i in range(n):
            await enqueue_mail(
                to_address=overrides.get("to_address", f"person{i}@isp.test"),
                subject=overrides.get("subject", f"Message {i}"),
                body_text=overrides.get("body_text", f"Body {i}"),
                tenant_id=overrides.get("tenant_id"),
            )


async def rows() -> list[dict]:
    return await OutboxMessage.select().order_by(OutboxMessage.id)


class Boom(Exception):
    pass


async def test_mail_queued_in_a_transaction_that_rolls_back_is_never_queued():
    with pytest.raises(Boom):
        async with system_transaction():
            await enqueue_mail(to_address="officer@isp.test", subject="Lost", body_text="Never sent")
            assert await OutboxMessage.count() == 1  # visible inside the transaction...
            raise Boom
    assert await OutboxMessage.count() == 0  # ...and gone with it

    await queue(1)
    assert await OutboxMessage.count() == 1


async def test_deliver_due_sends_over_smtp_with_albanian_text_intact(smtp_server, settings):
    await queue(1, to_address="zyrtari@albanet.test", subject=ALBANIAN_SUBJECT, body_text=ALBANIAN_BODY)

    handled = await deliver_due(sender_for(smtp_server.url, settings))

    assert handled == 1
    [mail] = smtp_server.messages
    assert mail.rcpt_tos == ["zyrtari@albanet.test"]
    assert mail.to == "zyrtari@albanet.test"
    assert mail.subject == ALBANIAN_SUBJECT
    assert mail.body.rstrip("\n") == ALBANIAN_BODY
    assert "utf-8" in mail.message.get_content_charset()
    [row] = await rows()
    assert row["status"] == "sent"
    assert row["attempts"] == 1
    assert row["sent_at"] is not None
    # Sent messages are not sent again.
    assert await deliver_due(sender_for(smtp_server.url, settings)) == 0
    assert len(smtp_server.messages) == 1


async def test_messages_are_delivered_in_order_and_only_when_due(smtp_server, settings):
    await queue(3)
    later = datetime.now(UTC) + timedelta(hours=1)
    first = (await rows())[0]
    await OutboxMessage.update({OutboxMessage.next_attempt_at: later}).where(OutboxMessage.id == first["id"])

    assert await deliver_due(sender_for(smtp_server.url, settings)) == 2

    assert [m.subject for m in smtp_server.messages] == ["Message 1", "Message 2"]
    statuses = {r["subject"]: r["status"] for r in await rows()}
    assert statuses == {"Message 0": "pending", "Message 1": "sent", "Message 2": "sent"}


async def test_a_failing_server_backs_off_and_gives_up_after_max_attempts(settings):
    closed = sender_for(f"smtp://127.0.0.1:{free_port()}", settings)
    await queue(1)

    for attempt in range(1, MAX_ATTEMPTS + 1):
        before = datetime.now(UTC)
        assert await deliver_due(closed) == 1
        after = datetime.now(UTC)
        [row] = await rows()
        assert row["attempts"] == attempt
        assert row["last_error"], "the SMTP error is kept for the operator"
        assert row["sent_at"] is None
        assert before + retry_delay(attempt) <= row["next_attempt_at"] <= after + retry_delay(attempt)
        if attempt < MAX_ATTEMPTS:
            assert row["status"] == "pending"
            # Not due yet: a second run right away leaves it alone.
            assert await deliver_due(closed) == 0
            # Pretend the back-off has passed.
            await OutboxMessage.update({OutboxMessage.next_attempt_at: before - timedelta(seconds=1)}).where(
                OutboxMessage.id == row["id"]
            )
    [row] = await rows()
    assert row["status"] == "failed"
    await OutboxMessage.update({OutboxMessage.next_attempt_at: datetime.now(UTC) - timedelta(days=1)}, force=True)
    assert await deliver_due(closed) == 0, "a failed message is not retried any more"


def test_back_off_doubles_and_is_capped_at_an_hour():
    assert [retry_delay(n).total_seconds() / 60 for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]


async def test_one_failing_message_does_not_hold_up_the_others(smtp_server, settings):
    await queue(3)

    class RefusesOne(SmtpMailSender):
        async def send(self, *, to_address, subject, body_text):
            if subject == "Message 1":
                raise ConnectionError("mailbox unavailable")
            await super().send(to_address=to_address, subject=subject, body_text=body_text)

    assert await deliver_due(RefusesOne(smtp_server.url, settings.mail_from)) == 3
    assert sorted(m.subject for m in smtp_server.messages) == ["Message 0", "Message 2"]
    by_subject = {r["subject"]: r for r in await rows()}
    assert by_subject["Message 1"]["status"] == "pending"
    assert "mailbox unavailable" in by_subject["Message 1"]["last_error"]


async def test_a_message_being_sent_is_not_claimed_by_a_second_worker(smtp_server, settings):
    """The first worker is stuck mid-send; a second one must not send the same messages again."""
    await queue(2)
    release = asyncio.Event()
    sending = asyncio.Event()

    class Slow(SmtpMailSender):
        async def send(self, **kwargs):
            sending.set()
            await release.wait()
            await super().send(**kwargs)

    first = asyncio.create_task(deliver_due(Slow(smtp_server.url, settings.mail_from)))
    await asyncio.wait_for(sending.wait(), 10)
    second = await asyncio.wait_for(deliver_due(sender_for(smtp_server.url, settings)), 10)
    assert second == 0
    release.set()
    assert await first == 2
    assert sorted(m.subject for m in smtp_server.messages) == ["Message 0", "Message 1"]


@pytest.mark.postgres
async def test_concurrent_workers_on_postgres_never_send_a_message_twice(settings):
    await queue(60)
    sent: list[str] = []

    class Recording:
        async def send(self, *, to_address, subject, body_text):
            await asyncio.sleep(0.001)
            sent.append(subject)

    async def worker() -> None:
        while await deliver_due(Recording(), batch_size=5):
            pass

    await asyncio.gather(*(worker() for _ in range(6)))
    assert len(sent) == 60
    assert len(set(sent)) == 60, "a message was sent twice"
    assert {r["status"] for r in await rows()} == {"sent"}


@pytest.mark.postgres
async def test_rows_locked_by_another_worker_are_skipped_not_waited_for(settings):
    """FOR UPDATE SKIP LOCKED: rows another transaction holds are left to it."""
    import asyncpg

    from tests import environment

    await queue(4)
    ids = [r["id"] for r in await rows()]
    other = await asyncpg.connect(environment.DATABASE_URL)
    try:
        transaction = other.transaction()
        await transaction.start()
        await other.execute("SELECT set_config('app.all_tenants', 'on', true)")
        await other.execute("SELECT id FROM outbox_message WHERE id = ANY($1::int[]) FOR UPDATE", ids[:2])
        sent: list[str] = []

        class Recording:
            async def send(self, *, to_address, subject, body_text):
                sent.append(subject)

        assert await asyncio.wait_for(deliver_due(Recording()), 10) == 2
        assert sorted(sent) == ["Message 2", "Message 3"]
        await transaction.rollback()
    finally:
        await other.close()


async def test_embedded_mode_prints_mail_to_the_log(caplog, settings):
    assert isinstance(mail_sender(settings), LogMailSender)  # the tests run with PORTAL_SMTP_URL empty
    await queue(1, to_address="ana@hotline.test", subject=ALBANIAN_SUBJECT, body_text="Lidhja: http://portal.test/x")
    with caplog.at_level(logging.WARNING, logger="portal.mail"):
        assert await deliver_due(mail_sender(settings)) == 1
    assert "ana@hotline.test" in caplog.text
    assert ALBANIAN_SUBJECT in caplog.text
    assert "http://portal.test/x" in caplog.text
    [row] = await rows()
    assert row["status"] == "sent"
