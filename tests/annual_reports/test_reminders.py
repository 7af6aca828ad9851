"""Reminders to ISP admins 30 and 7 days before the annual report deadline and once when overdue."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from portal import worker
from portal.annual_reports import reminders
from portal.annual_reports.services import default_deadline
from portal.core.db import execute, system_transaction
from tests.annual_reports.conftest import YEAR, submitted_report

DEADLINE = default_deadline(YEAR)  # 31 March of the next year


def day(offset: int) -> date:
    """``offset`` days from the deadline (negative: before it)."""
    return DEADLINE + timedelta(days=offset)


async def outbox() -> list[dict]:
    async with system_transaction():
        return await execute("SELECT to_address, subject, body_text, tenant_id FROM outbox_message ORDER BY id")


async def recorded() -> list[tuple[int, int, str]]:
    async with system_transaction():
        rows = await execute("SELECT tenant, year, kind FROM annual_report_reminder ORDER BY id")
    return [(r["tenant"], r["year"], r["kind"]) for r in rows]


async def set_language(member, language: str) -> None:
    async with system_transaction():
        await execute("UPDATE portal_user SET language = {} WHERE id = {}", language, member.user["id"])


@pytest.fixture
async def setup(world, factory):
    """The world of the annual report tests, signatures placed inside the reporting year, an empty outbox."""
    async with system_transaction():
        await execute("UPDATE coc_signature SET signed_at = {}", datetime(YEAR, 2, 1, 9, 0, tzinfo=UTC))
        await execute("DELETE FROM outbox_message")
    second_admin = await factory.member(world.isp, "admin")
    await set_language(world.isp_admin, "en")
    await set_language(second_admin, "sq")
    await set_language(world.other_admin, "en")
    return world, second_admin


def admin_emails(world, second_admin) -> set[str]:
    return {world.isp_admin.email, second_admin.email, world.other_admin.email}


def test_reminder_kind_windows():
    assert reminders.reminder_kind(day(-31), DEADLINE) is None
    assert reminders.reminder_kind(day(-30), DEADLINE) == reminders.DUE_30
    assert reminders.reminder_kind(day(-8), DEADLINE) == reminders.DUE_30
    assert reminders.reminder_kind(day(-7), DEADLINE) == reminders.DUE_7
    assert reminders.reminder_kind(day(0), DEADLINE) == reminders.DUE_7
    assert reminders.reminder_kind(day(1), DEADLINE) == reminders.OVERDUE
    assert reminders.reporting_year(day(-30)) == YEAR
    assert reminders.reporting_year(day(1)) == YEAR


async def test_nothing_31_days_before(setup):
    assert await reminders.check_annual_report_reminders(day(-31)) == 0
    assert await outbox() == []
    assert await recorded() == []


async def test_30_days_before_mails_each_admin_once(setup):
    world, second_admin = setup
    assert await reminders.check_annual_report_reminders(day(-30)) == 3
    mails = await outbox()
    assert sorted(m["to_address"] for m in mails) == sorted(admin_emails(world, second_admin))
    for mail in mails:
        assert "2026" in mail["subject"]
    by_address = {m["to_address"]: m for m in mails}
    assert by_address[world.isp_admin.email]["tenant_id"] == world.isp["id"]
    assert by_address[world.other_admin.email]["tenant_id"] == world.other["id"]
    assert f"/t/{world.isp['slug']}/annual-reports/{YEAR}" in by_address[world.isp_admin.email]["body_text"]
    assert "30 days" in by_address[world.isp_admin.email]["subject"]
    assert sorted(await recorded()) == sorted([(world.isp["id"], YEAR, "due_30"), (world.other["id"], YEAR, "due_30")])

    # run again, the same day and a few days later: nothing more
    assert await reminders.check_annual_report_reminders(day(-30)) == 0
    assert await reminders.check_annual_report_reminders(day(-20)) == 0
    assert len(await outbox()) == 3


async def test_7_days_then_overdue_once(setup):
    world, second_admin = setup
    await reminders.check_annual_report_reminders(day(-30))
    assert await reminders.check_annual_report_reminders(day(-7)) == 3
    assert await reminders.check_annual_report_reminders(day(-3)) == 0
    assert len(await outbox()) == 6
    seven = (await outbox())[3:]
    assert {m["to_address"] for m in seven} == admin_emails(world, second_admin)
    assert all("7" in m["subject"] for m in seven)

    assert await reminders.check_annual_report_reminders(DEADLINE) == 0  # the last day is not overdue yet
    assert await reminders.check_annual_report_reminders(day(1)) == 3
    assert await reminders.check_annual_report_reminders(day(2)) == 0
    assert await reminders.check_annual_report_reminders(day(60)) == 0
    overdue = (await outbox())[6:]
    assert len(overdue) == 3
    assert {m["to_address"] for m in overdue} == admin_emails(world, second_admin)
    english = next(m for m in overdue if m["to_address"] == world.isp_admin.email)
    assert "overdue" in english["subject"]


async def test_a_submitted_report_gets_no_mail(setup):
    world, _second_admin = setup
    await submitted_report(world)
    async with system_transaction():
        await execute("DELETE FROM outbox_message")
    assert await reminders.check_annual_report_reminders(day(-30)) == 1
    assert await reminders.check_annual_report_reminders(day(5)) == 1
    assert {m["to_address"] for m in await outbox()} == {world.other_admin.email}
    assert all(tenant == world.other["id"] for tenant, _year, _kind in await recorded())


async def test_non_admins_and_other_organisations_are_never_mailed(setup, factory):
    world, second_admin = setup
    inactive = await factory.member(world.isp, "admin")
    async with system_transaction():
        await execute("UPDATE membership SET active = {} WHERE \"user\" = {}", False, inactive.user["id"])
    for offset in (-30, -7, 1):
        await reminders.check_annual_report_reminders(day(offset))
    addresses = {m["to_address"] for m in await outbox()}
    assert addresses == admin_emails(world, second_admin)
    for never in (world.isp_officer, world.isp_viewer, inactive, world.ngo_admin, world.akcesk_admin,
                  world.akep_officer):
        assert never.email not in addresses


async def test_an_organisation_that_did_not_sign_for_the_year_is_not_reminded(setup):
    world, _second = setup
    async with system_transaction():
        # the other ISP's signature was withdrawn before the reporting year began
        await execute("UPDATE coc_signature SET signed_at = {}, withdrawn_at = {} WHERE tenant = {}",
                      datetime(YEAR - 2, 5, 1, tzinfo=UTC), datetime(YEAR - 1, 6, 1, tzinfo=UTC), world.other["id"])
    await reminders.check_annual_report_reminders(day(-30))
    assert world.other_admin.email not in {m["to_address"] for m in await outbox()}


async def test_mail_is_in_albanian_for_an_albanian_user(setup):
    world, second_admin = setup
    await reminders.check_annual_report_reminders(day(-30))
    await reminders.check_annual_report_reminders(day(1))
    mails = [m for m in await outbox() if m["to_address"] == second_admin.email]
    assert len(mails) == 2
    assert "Raporti vjetor" in mails[0]["subject"] and "30 ditë" in mails[0]["subject"]
    assert "Kodit të Sjelljes" in mails[0]["body_text"] and "31 mars 2027" in mails[0]["body_text"]
    assert "afati ka kaluar" in mails[1]["subject"].lower()
    english = [m for m in await outbox() if m["to_address"] == world.isp_admin.email]
    assert "Annual report" in english[0]["subject"] and "March 31, 2027" in english[0]["body_text"]


@pytest.mark.postgres
async def test_two_workers_at_once_send_each_reminder_once(setup):
    _world, _second_admin = setup
    counts = await asyncio.gather(*(reminders.check_annual_report_reminders(day(-30)) for _ in range(4)))
    assert sum(counts) == 3
    assert len(await outbox()) == 3
    assert len(await recorded()) == 2


async def test_the_worker_check_queues_them_and_survives_a_failure(setup, monkeypatch):
    _world, _second_admin = setup
    now = datetime.combine(day(-30), datetime.min.time(), tzinfo=UTC) + timedelta(hours=10)
    assert await worker.run_annual_report_reminders(now) == 3

    async def broken(**_kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(worker, "check_annual_report_reminders", broken)
    assert await worker.run_annual_report_reminders(now) == 0
