"""Per-ISP counts and response times for the annual report."""

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
