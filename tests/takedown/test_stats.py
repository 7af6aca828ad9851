"""Per-ISP counts and response times for the annual report."""

import random
from datetime import UTC, datetime, timedelta

from portal.core.db import execute, system_transaction
from portal.takedown import requests as rq
from portal.takedown import stats
from tests.takedown.conftest import ANALYST


async def test_counts_and_times_per_isp(hotline, isps):
    refs = []
    for n in range(3):
        refs.append((await rq.issue_request(hotline, rq.RequestInput(
            kind="block", recipients=["isp-1", "isp-2"], legal_basis="Ligji", item_ids=[], urls=[f"http://s{n}.test/"],
            category="csam"), ANALYST))["reference"])
    sent = datetime.now(UTC) - timedelta(hours=30)
    async with system_transaction():
        await execute("UPDATE takedown_assignment SET sent_at = {}", sent)
    await rq.acknowledge(isps[0]["id"], refs[0], ANALYST)
    await rq.mark_actioned(isps[0]["id"], refs[0], "blocked", "", ANALYST)
    await rq.mark_actioned(isps[0]["id"], refs[1], "removed", "", ANALYST)
    await rq.dispute(isps[0]["id"], refs[2], "Gabim", ANALYST)
    year = datetime.now(UTC).year
    mine = await stats.isp_figures(isps[0]["id"], year)
    assert (mine.received, mine.acknowledged, mine.actioned, mine.blocked, mine.removed, mine.disputed) == (3, 3, 2, 1, 1, 1)
    assert 29.9 < mine.median_hours_to_action < 30.1
    assert mine.actioned_late == 0  # the deadline is 24 h after issuing, not after the back-dated sending
    everyone = await stats.figures_by_isp(year)
    assert everyone[isps[1]["id"]].received == 3 and everyone[isps[1]["id"]].actioned == 0
    assert everyone[isps[1]["id"]].median_hours_to_action is None
    assert (await stats.isp_figures(isps[2]["id"], year)).received == 0
    assert (await stats.isp_figures(isps[0]["id"], year - 1)).received == 0


async def test_postgresql_aggregate_and_python_give_the_same_figures(hotline, isps):
    """The SQL path (PostgreSQL) and the Python path (SQLite, hand checks) agree to the last digit."""
    refs = []
    for n in range(24):
        refs.append((await rq.issue_request(hotline, rq.RequestInput(
            kind="block", recipients=["isp-1", "isp-2"] if n % 3 else ["isp-1"], legal_basis="Ligji", item_ids=[],
            urls=[f"http://a{n}.test/"], category="csam"), ANALYST))["reference"])
    rng = random.Random(5)
    now = datetime.now(UTC)
    start = datetime(now.year, 1, 2, tzinfo=UTC)
    async with system_transaction():
        for row in await execute("SELECT id FROM takedown_assignment ORDER BY id"):
            sent = start + timedelta(minutes=rng.randrange(0, 20000), microseconds=rng.choice((0, 500000, 123)))
            ack = sent + timedelta(minutes=rng.randrange(1, 600)) if rng.random() < 0.8 else None
            act = ack + timedelta(seconds=rng.randrange(60, 200000)) if ack and rng.random() < 0.7 else None
            status = rng.choice(("closed", "actioned")) if act else "withdrawn" if rng.random() < 0.1 else \
                "acknowledged" if ack else "sent"
            await execute(
                "UPDATE takedown_assignment SET sent_at = {}, due_at = {}, acknowledged_at = {}, actioned_at = {},"
                " status = {}, outcome = {}, disputed_at = {} WHERE id = {}",
                sent, sent + timedelta(hours=rng.choice((24, 48, 72))), ack, act, status,
                rng.choice(("blocked", "removed")) if act else "", ack if status == "sent" and rng.random() < 0.3
                else None, row["id"],
            )
        rows = await execute(stats.SQL, *stats.year_bounds(now.year))
        computed = await stats.compute(now.year, now=now)
    grouped: dict[int, list[dict]] = {}
    for row in rows:
        grouped.setdefault(row["recipient"], []).append(row)
    assert computed == {recipient: stats.figures(items, now) for recipient, items in grouped.items()}
    assert computed[isps[0]["id"]].received == 24 and computed[isps[0]["id"]].median_hours_to_action is not None
