"""Deadline reminders and overdue escalation through the outbox, once per copy."""

from datetime import UTC, datetime, timedelta

from portal.core.db import execute, system_transaction
from portal.takedown import notifications
from portal.takedown import requests as rq
from tests.takedown.conftest import ANALYST, audit_actions


async def _issue(hotline, recipients, category="csam"):
    return (await rq.issue_request(hotline, rq.RequestInput(
        kind="block", recipients=list(recipients), legal_basis="Ligji", item_ids=[], urls=["http://late.test/x"],
        category=category,
    ), ANALYST))["reference"]


async def _mails():
    async with system_transaction():
        return [dict(r) for r in await execute("SELECT to_address, subject, body_text FROM outbox_message ORDER BY id")]


async def _clear_mail():
    async with system_transaction():
        await execute("DELETE FROM outbox_message")


async def test_reminder_when_the_last_fifth_begins_then_escalation(factory, isps):
    hotline = await factory.tenant("ngo", slug="linja", is_hotline=True, contact_point_email="analistet@linja.test")
    reference = await _issue(hotline, ["isp-1", "isp-2"])  # CSAM: 24 hours, reminder in the last 4.8 hours
    await rq.mark_actioned(isps[1]["id"], reference, "blocked", "", ANALYST)
    await _clear_mail()
    now = datetime.now(UTC)
    assert await notifications.send_reminders(now + timedelta(hours=18)) == 0
    assert await notifications.send_reminders(now + timedelta(hours=20)) == 1
    assert await notifications.send_reminders(now + timedelta(hours=21)) == 0  # once only
    mails = await _mails()
    assert [m["to_address"] for m in mails] == ["noc@isp-1.test"]
    assert reference in mails[0]["subject"] and "late.test" not in mails[0]["body_text"]
    await _clear_mail()
    assert await notifications.escalate_overdue(now + timedelta(hours=23)) == 0
    assert await notifications.escalate_overdue(now + timedelta(hours=25)) == 1
    assert await notifications.escalate_overdue(now + timedelta(hours=26)) == 0
    mails = await _mails()
    assert sorted(m["to_address"] for m in mails) == ["analistet@linja.test", "noc@isp-1.test"]
    assert "takedown.overdue" in await audit_actions()
    detail = await rq.request_for_recipient(isps[0]["id"], reference)
    assert [e["kind"] for e in detail["events"]][-1] == "overdue"
    other = await rq.request_for_recipient(isps[1]["id"], reference)
    assert "overdue" not in [e["kind"] for e in other["events"]]  # another ISP never sees it


async def test_acted_or_withdrawn_copies_are_left_alone(hotline, isps):
    reference = await _issue(hotline, ["isp-1"], category="cyberbullying")
    await rq.dispute(isps[0]["id"], reference, "Gabim", ANALYST)
    later = datetime.now(UTC) + timedelta(days=10)
    assert await notifications.check_deadlines(later) == (0, 0)
