"""The worker loop runs the takedown deadline check: reminders and escalations queued once, even with several workers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from portal import worker
from portal.core.db import execute, system_transaction
from portal.outbox.services import enqueue_mail
from portal.takedown import notifications
from portal.takedown import requests as rq
from tests.takedown.conftest import ANALYST


class RecordingSender:
    """A mail sender that keeps what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[dict] = []

    async def send(self, *, to_address: str, subject: str, body_text: str) -> None:
        self.sent.append({"to": to_address, "subject": subject, "body": body_text})


async def _issue(hotline, recipients, url="http://late.test/x", category="csam") -> str:
    issued = await rq.issue_request(hotline, rq.RequestInput(
        kind="block", recipients=list(recipients), legal_basis="Ligji 9918", item_ids=[], urls=[url],
        category=category,
    ), ANALYST)
    return issued["reference"]


async def _set_due(reference: str, due_at: datetime) -> None:
    async with system_transaction():
        await execute(
            "UPDATE takedown_assignment SET due_at = {} WHERE request = (SELECT id FROM takedown_request"
            " WHERE reference = {})", due_at, reference,
        )


async def _mails() -> list[dict]:
    async with system_transaction():
        return await execute("SELECT to_address, subject, body_text, status FROM outbox_message ORDER BY id")


async def _clear_mail() -> None:
    async with system_transaction():
        await execute("DELETE FROM outbox_message")


@pytest.fixture
async def world(factory, isps):
    """A hotline, ISP 1 with an admin, one request nearing its deadline and one overdue."""
    hotline = await factory.tenant("ngo", slug="linja", is_hotline=True, contact_point_email="analistet@linja.test")
    admin = await factory.member(isps[0], "admin", email="shefi@isp-1.test")
    await factory.member(isps[0], "officer", email="oficeri@isp-1.test")  # not an admin: no escalation mail
    soon = await _issue(hotline, ["isp-1"], url="http://soon.test/a")
    late = await _issue(hotline, ["isp-1", "isp-2"], url="http://late.test/b")
    await rq.mark_actioned(isps[1]["id"], late, "blocked", "", ANALYST)  # ISP 2 acted in time
    now = datetime.now(UTC)
    await _set_due(soon, now + timedelta(hours=2))  # CSAM: reminders in the last 4.8 hours
    await _set_due(late, now - timedelta(minutes=1))
    await _clear_mail()
    return {"hotline": hotline, "soon": soon, "late": late, "admin": admin}


EXPECTED = [
    ("analistet@linja.test", "late"),  # the issuer hears about the overdue copy
    ("noc@isp-1.test", "late"),  # ISP 1's contact point: overdue
    ("noc@isp-1.test", "soon"),  # ISP 1's contact point: deadline approaching
    ("shefi@isp-1.test", "late"),  # ISP 1's admin: overdue
]


def _summary(mails: list[dict], world: dict) -> list[tuple[str, str]]:
    names = {world["soon"]: "soon", world["late"]: "late"}
    out = []
    for mail in mails:
        reference = next(ref for ref in names if ref in mail["subject"])
        out.append((mail["to_address"], names[reference]))
    return sorted(out)


async def test_one_loop_iteration_queues_the_expected_mail_and_a_second_queues_nothing(world):
    sender = RecordingSender()
    await worker.run_iteration(sender)
    mails = await _mails()
    assert _summary(mails, world) == EXPECTED
    assert all("late.test" not in m["body_text"] and "soon.test" not in m["body_text"] for m in mails)
    # The same iteration delivered them through the outbox.
    assert sorted(m["to"] for m in sender.sent) == sorted(address for address, _ in EXPECTED)
    assert {m["status"] for m in mails} == {"sent"}

    await worker.run_iteration(sender)
    assert len(await _mails()) == len(EXPECTED)
    assert len(sender.sent) == len(EXPECTED)
    assert await notifications.check_deadlines() == (0, 0)


async def test_the_background_loop_runs_the_check(world, settings):
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run_outbox_loop(settings, idle_seconds=0.05, stop=stop))
    try:
        for _ in range(200):
            if len(await _mails()) >= len(EXPECTED):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # a few more turns: the check must not repeat within its minute
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)
    assert _summary(await _mails(), world) == EXPECTED


async def test_the_loop_checks_about_once_a_minute(world, monkeypatch, settings):
    calls: list[datetime] = []
    real = worker.check_deadlines

    async def counting(now=None):
        calls.append(datetime.now(UTC))
        return await real(now)

    monkeypatch.setattr(worker, "check_deadlines", counting)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run_outbox_loop(settings, idle_seconds=0.02, stop=stop))
    await asyncio.sleep(0.5)
    stop.set()
    await asyncio.wait_for(task, timeout=30)
    assert len(calls) == 1  # the first turn checks; the next check is a minute later


async def test_a_failing_check_does_not_stop_delivery(world, monkeypatch):
    async def broken(now=None):
        raise RuntimeError("database went away")

    monkeypatch.setattr(worker, "check_deadlines", broken)
    async with system_transaction():
        await enqueue_mail(to_address="x@y.test", subject="s", body_text="b")
    sender = RecordingSender()
    assert await worker.run_iteration(sender) == 1
    assert [m["to"] for m in sender.sent] == ["x@y.test"]


async def test_the_whole_backlog_is_handled_in_batches(hotline, isps, monkeypatch):
    monkeypatch.setattr(notifications, "BATCH", 2)
    references = [await _issue(hotline, ["isp-1"], url=f"http://late.test/{n}") for n in range(5)]
    for reference in references:
        await _set_due(reference, datetime.now(UTC) - timedelta(minutes=5))
    await _clear_mail()
    assert await notifications.check_deadlines() == (0, 5)
    assert len(await _mails()) == 5  # ISP 1's contact point (the fixture's hotline has no contact address)
    assert await notifications.check_deadlines() == (0, 0)


async def test_a_reminder_backlog_of_other_priorities_does_not_hide_a_due_one(hotline, isps, monkeypatch):
    """Copies not yet in their own reminder window never fill a batch and starve one that is."""
    monkeypatch.setattr(notifications, "BATCH", 2)
    now = datetime.now(UTC)
    early = [await _issue(hotline, ["isp-1"], url=f"http://early.test/{n}") for n in range(3)]
    for reference in early:  # CSAM, 10 hours left: outside the 4.8-hour window
        await _set_due(reference, now + timedelta(hours=10))
    harmful = await _issue(hotline, ["isp-1"], url="http://harmful.test/x", category="cyberbullying")
    await _set_due(harmful, now + timedelta(hours=12))  # normal priority: 14.4-hour window
    await _clear_mail()
    assert await notifications.check_deadlines(now) == (1, 0)
    assert [harmful in m["subject"] for m in await _mails()] == [True]


@pytest.mark.postgres
async def test_concurrent_workers_never_notify_twice(hotline, isps):
    references = [await _issue(hotline, ["isp-1", "isp-2"], url=f"http://late.test/{n}") for n in range(12)]
    now = datetime.now(UTC)
    for n, reference in enumerate(references):
        await _set_due(reference, now - timedelta(minutes=1) if n % 2 else now + timedelta(hours=1))
    await _clear_mail()

    results = await asyncio.gather(*[notifications.check_deadlines() for _ in range(4)])
    assert sum(r[0] for r in results) == 12  # 6 requests × 2 ISPs reminded
    assert sum(r[1] for r in results) == 12  # 6 requests × 2 ISPs escalated
    mails = await _mails()
    # Reminders: one per copy; escalations: the ISP's contact point per copy (the issuer has no address).
    assert len(mails) == 24
    assert len({(m["to_address"], m["subject"]) for m in mails}) == 24
    async with system_transaction():
        events = await execute("SELECT COUNT(*) AS n FROM takedown_event WHERE kind = 'overdue'")
    assert events[0]["n"] == 12
    assert await notifications.check_deadlines() == (0, 0)
