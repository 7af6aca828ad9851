"""Takedown figures of a report year against hand-computed expectations."""

import asyncio
from datetime import UTC, datetime

import pytest

from portal.annual_reports import figures, figures_cache
from portal.core.db import execute, system_transaction, tenant_transaction
from portal.takedown import requests as rq
from portal.takedown import stats
from tests.annual_reports.conftest import T0, YEAR, hours, issue, set_times
from tests.takedown.conftest import ANALYST

LATER = T0 + hours(1000)


def row(ack=None, act=None, due=24, status=None, outcome=None, disputed=None):
    return {
        "recipient": 1, "sent_at": T0, "due_at": T0 + hours(due),
        "acknowledged_at": T0 + hours(ack) if ack is not None else None,
        "actioned_at": T0 + hours(act) if act is not None else None,
        "disputed_at": disputed, "outcome": outcome if outcome is not None else ("blocked" if act is not None else ""),
        "status": status or ("actioned" if act is not None else "acknowledged" if ack is not None else "sent"),
    }


def test_percentile_is_nearest_rank():
    assert figures.percentile([], 0.9) is None
    assert figures.percentile([5.0], 0.9) == 5.0
    assert figures.percentile([float(n) for n in range(10, 0, -1)], 0.9) == 9.0  # ceil(0.9 * 10) = 9th value
    assert figures.percentile([2.0, 10.0, 30.0], 0.9) == 30.0  # ceil(2.7) = 3rd value


def test_small_year_by_hand():
    rows = [row(ack=1, act=2), row(ack=2, act=10), row(ack=3, act=30), row(ack=4), row()]
    result = figures.takedown_figures(rows, now=LATER)
    assert result == {
        "received": 5, "acknowledged": 4, "actioned": 3, "disputed": 0,
        "overdue": 3,  # one actioned after its deadline, two still open past it
        "median_hours_to_acknowledge": 2.5, "p90_hours_to_acknowledge": 4.0,
        "median_hours_to_action": 10.0, "p90_hours_to_action": 30.0,
        "share_within_deadline": 0.4,  # 2 of 5 actioned by the deadline
    }


def test_withdrawn_requests_do_not_count_against_the_share():
    rows = [row(ack=1, act=2), row(status="withdrawn"), row(ack=1, act=48, due=24)]
    assert figures.takedown_figures(rows, now=LATER)["share_within_deadline"] == 0.5


def test_no_requests():
    result = figures.takedown_figures([], now=LATER)
    assert result["received"] == 0 and result["overdue"] == 0
    assert result["median_hours_to_action"] is None and result["p90_hours_to_action"] is None
    assert result["median_hours_to_acknowledge"] is None and result["share_within_deadline"] is None


def test_all_overdue():
    result = figures.takedown_figures([row(), row(), row(ack=30)], now=LATER)
    assert (result["received"], result["actioned"], result["overdue"]) == (3, 0, 3)
    assert result["share_within_deadline"] == 0.0
    assert result["median_hours_to_action"] is None and result["p90_hours_to_acknowledge"] == 30.0


async def test_figures_from_the_database_per_isp_and_year(world, hotline):
    refs = await issue(hotline, [world.isp["slug"], world.other["slug"]], 3)
    isp = world.isp["id"]
    await set_times(refs[0], isp, sent=T0, due=T0 + hours(24), acknowledged=T0 + hours(1), actioned=T0 + hours(4))
    await set_times(refs[1], isp, sent=T0, due=T0 + hours(24), acknowledged=T0 + hours(3), actioned=T0 + hours(26))
    await set_times(refs[2], isp, sent=T0, due=T0 + hours(24))
    mine = await figures.for_isp(isp, YEAR)
    assert (mine["received"], mine["acknowledged"], mine["actioned"], mine["overdue"]) == (3, 2, 2, 2)
    assert mine["median_hours_to_acknowledge"] == 2.0 and mine["p90_hours_to_acknowledge"] == 3.0
    assert mine["median_hours_to_action"] == 15.0 and mine["p90_hours_to_action"] == 26.0
    assert mine["share_within_deadline"] == round(1 / 3, 4)
    assert (await figures.for_isp(isp, YEAR - 1))["received"] == 0
    everyone = await figures.by_isp(YEAR)
    assert everyone[isp] == mine
    # the other ISP's requests were sent now: they count in this year only if this is that year
    now_year = datetime.now(UTC).year
    assert everyone.get(world.other["id"], {"received": 0})["received"] == (3 if now_year == YEAR else 0)


# --- the per-ISP cache -----------------------------------------------------------------------------


async def direct(year: int, now: datetime) -> dict:
    async with system_transaction():
        return await stats.compute(year, now=now)


async def test_the_cache_gives_the_figures_of_a_direct_computation(world, hotline):
    refs = await issue(hotline, [world.isp["slug"], world.other["slug"]], 3)
    isp = world.isp["id"]
    await set_times(refs[0], isp, sent=T0, due=T0 + hours(24), acknowledged=T0 + hours(1), actioned=T0 + hours(4))
    await set_times(refs[1], isp, sent=T0, due=T0 + hours(24), acknowledged=T0 + hours(3), actioned=T0 + hours(26))
    await set_times(refs[2], world.other["id"], sent=T0, due=T0 + hours(48), acknowledged=T0 + hours(50))
    now = datetime.now(UTC)
    cached = await figures_cache.all_figures(YEAR, now=now)
    assert cached == await direct(YEAR, now) and set(cached) == {isp, world.other["id"]}
    assert await figures_cache.all_figures(YEAR, now=now) == cached  # the warm read
    assert await figures_cache.isp_figures(isp, YEAR, now=now) == cached[isp]
    assert (await figures_cache.isp_figures(isp, YEAR - 1, now=now)).received == 0


async def test_a_transition_shows_in_the_next_read(world, hotline):
    refs = await issue(hotline, [world.isp["slug"], world.other["slug"]], 2)
    isp, other, year = world.isp["id"], world.other["id"], datetime.now(UTC).year
    before = await figures.by_isp(year)
    assert (await figures.for_isp(isp, year))["acknowledged"] == before[isp]["acknowledged"] == 0
    await rq.acknowledge(isp, refs[0], ANALYST)
    after = await figures.by_isp(year)
    assert after[isp]["acknowledged"] == 1 and after[other] == before[other]
    await rq.mark_actioned(isp, refs[1], "blocked", "", ANALYST)
    mine = await figures.for_isp(isp, year)
    assert (mine["acknowledged"], mine["actioned"]) == (2, 1)
    assert (await figures.by_isp(year))[isp] == mine
    await rq.withdraw_request(hotline["id"], refs[0], "Gabim", ANALYST)
    assert (await figures.by_isp(year))[other]["share_within_deadline"] == 0.0  # one of one left counts
    # an edit outside the portal's transitions is seen too: the trigger logs every write
    await set_times(refs[1], other, sent=T0.replace(year=year - 1), due=T0.replace(year=year - 1) + hours(24))
    assert (await figures.by_isp(year))[other]["received"] == 1  # the withdrawn one stays
    assert (await figures.by_isp(year - 1))[other]["overdue"] == 1
    assert await figures_cache.all_figures(year) == await direct(year, datetime.now(UTC))


async def test_open_overdue_follows_the_clock(world, hotline):
    refs = await issue(hotline, [world.isp["slug"]], 2)
    isp = world.isp["id"]
    await set_times(refs[0], isp, sent=T0, due=T0 + hours(24))
    await set_times(refs[1], isp, sent=T0, due=T0 + hours(48), acknowledged=T0 + hours(1))
    early = await figures_cache.all_figures(YEAR, now=T0 + hours(2))
    assert early[isp].open_overdue == 0 and early[isp].open_until == T0 + hours(24)
    later = await figures_cache.all_figures(YEAR, now=T0 + hours(30))
    assert later[isp].open_overdue == 1 and later[isp].open_until == T0 + hours(48)
    assert (await figures_cache.isp_figures(isp, YEAR, now=T0 + hours(49))).open_overdue == 2
    assert (await figures_cache.all_figures(YEAR, now=T0 + hours(49)))[isp].overdue == 2


@pytest.mark.postgres
async def test_an_isp_reads_only_its_own_cached_figures(world, hotline):
    refs = await issue(hotline, [world.isp["slug"], world.other["slug"]], 1)
    isp, other, year = world.isp["id"], world.other["id"], datetime.now(UTC).year
    await figures.by_isp(year)  # caches both ISPs
    await rq.acknowledge(isp, refs[0], ANALYST)
    await rq.acknowledge(other, refs[0], ANALYST)
    for tenant in (isp, other):
        async with tenant_transaction(tenant):
            cached = await execute("SELECT recipient FROM annual_report_takedown_figures")
            changes = await execute("SELECT recipient FROM annual_report_takedown_change")
        assert {row["recipient"] for row in cached} == {row["recipient"] for row in changes} == {tenant}
    async with tenant_transaction(hotline["id"]):
        assert await execute("SELECT recipient FROM annual_report_takedown_figures") == []
    # an ISP's refresh runs in its scope and leaves the other's stale row to the other
    assert (await figures.for_isp(isp, year))["acknowledged"] == 1
    async with system_transaction():
        left = await execute("SELECT recipient FROM annual_report_takedown_change")
    assert {row["recipient"] for row in left} == {other}
    assert (await figures.by_isp(year))[other]["acknowledged"] == 1


@pytest.mark.postgres
async def test_a_change_committed_while_the_figures_are_computed_is_not_lost(world, hotline, monkeypatch):
    refs = await issue(hotline, [world.isp["slug"]], 2)
    isp, year = world.isp["id"], datetime.now(UTC).year
    await figures.by_isp(year)
    await rq.acknowledge(isp, refs[1], ANALYST)  # makes the cached row stale
    updated, release = asyncio.Event(), asyncio.Event()

    async def in_flight():
        async with tenant_transaction(isp):
            await execute("UPDATE takedown_assignment SET status = 'acknowledged', acknowledged_at = {}"
                          " WHERE recipient = {} AND status = 'sent'", datetime.now(UTC), isp)
            updated.set()
            await release.wait()

    compute = stats.compute

    async def compute_then_commit_the_other(*args, **kwargs):
        result = await compute(*args, **kwargs)  # did not see the in-flight change
        release.set()
        await task  # ...which commits before the refresh prunes the change log
        return result

    task = asyncio.create_task(in_flight())
    await updated.wait()
    monkeypatch.setattr(stats, "compute", compute_then_commit_the_other)
    assert (await figures.by_isp(year))[isp]["acknowledged"] == 1
    monkeypatch.setattr(stats, "compute", compute)
    assert (await figures.by_isp(year))[isp]["acknowledged"] == 2


async def test_the_worker_refreshes_stale_figures_before_anyone_reads_them(world, hotline):
    refs = await issue(hotline, [world.isp["slug"]], 1)
    isp, now = world.isp["id"], datetime.now(UTC)
    assert await figures_cache.refresh_recent(now) == 2  # both years computed the first time
    assert await figures_cache.refresh_recent(now) == 0
    await rq.acknowledge(isp, refs[0], ANALYST)
    assert await figures_cache.refresh_recent(now) == 1
    async with system_transaction():
        assert await execute("SELECT recipient FROM annual_report_takedown_change") == []
        row = (await execute("SELECT figures FROM annual_report_takedown_figures WHERE year = {}", now.year))[0]
    assert '"acknowledged": 1' in row["figures"]


async def test_figures_computed_for_a_later_moment_are_not_served_to_an_earlier_one(world, hotline):
    refs = await issue(hotline, [world.isp["slug"]], 1)
    isp = world.isp["id"]
    await set_times(refs[0], isp, sent=T0, due=T0 + hours(24))
    assert (await figures_cache.all_figures(YEAR, now=T0 + hours(30)))[isp].open_overdue == 1
    assert (await figures_cache.all_figures(YEAR, now=T0 + hours(2)))[isp].open_overdue == 0
    assert (await figures_cache.isp_figures(isp, YEAR, now=T0 + hours(2))).open_overdue == 0
