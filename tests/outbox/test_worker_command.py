"""`portal worker` as its own process: delivers queued mail to a real SMTP server, stops on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess

from portal.core.db import system_transaction
from portal.outbox.services import enqueue_mail
from portal.outbox.tables import OutboxMessage
from tests.cli_runner import portal_command


async def wait_until_sent(timeout: float = 30.0) -> dict:
    for _ in range(int(timeout / 0.1)):
        row = await OutboxMessage.select().first()
        if row["status"] == "sent":
            return row
        await asyncio.sleep(0.1)
    raise AssertionError(f"the worker did not mark the message sent: {row}")


async def test_worker_process_delivers_queued_mail_and_stops_cleanly(smtp_server):
    async with system_transaction():
        await enqueue_mail(
            to_address="pergjegjesi@shqiponja.test",
            subject="Ftesë për t'u bashkuar – Shqiponja Telekom",
            body_text="Hapni lidhjen për të pranuar ftesën: http://portal.test/invitations/abc",
        )
    worker = subprocess.Popen(
        portal_command("worker", "--idle-seconds", "0.2"),
        env={**os.environ, "PORTAL_SMTP_URL": smtp_server.url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        [mail] = await asyncio.to_thread(smtp_server.wait_for, 1, 60)
        row = await wait_until_sent()
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            _stdout, stderr = worker.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            _stdout, stderr = worker.communicate()

    assert mail.to == "pergjegjesi@shqiponja.test"
    assert mail.subject == "Ftesë për t'u bashkuar – Shqiponja Telekom"
    assert "http://portal.test/invitations/abc" in mail.body
    assert row["attempts"] == 1
    assert worker.returncode == 0, stderr
    assert "worker started" in stderr
    assert "worker stopped" in stderr
    assert len(smtp_server.messages) == 1
