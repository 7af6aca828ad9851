"""The overview's "to do" figures: each organisation sees its own work, linked to the page that does it."""

import re
from datetime import UTC, datetime, timedelta

from portal.core.db import execute, system_transaction
from portal.takedown import reports
from portal.takedown import requests as rq
from tests.takedown.conftest import ANALYST, hotline, isps  # noqa: F401  (fixtures)


def figure(html: str, path: str) -> int:
    match = re.search(r'href="[^"]*/' + re.escape(path) + r'">\s*<span class="value">(\d+)</span>', html)
    assert match, f"no figure linked to {path}"
    return int(match.group(1))


async def test_each_side_sees_its_own_work(factory, client_factory, hotline, isps):  # noqa: F811
    for n in range(3):
        await reports.record_report(hotline["id"], reports.ReportInput(f"http://bad-{n}.test/", "csam"),
                                    channel="analyst", actor=ANALYST)
    first = await rq.issue_request(hotline, rq.RequestInput(
        kind="block", recipients=["isp-1"], legal_basis="Ligji nr. 9918", item_ids=[], urls=["http://x.test/1"],
        category="csam"), ANALYST)
    await rq.issue_request(hotline, rq.RequestInput(
        kind="block", recipients=["isp-1"], legal_basis="Ligji nr. 9918", item_ids=[], urls=["http://x.test/2"],
        category="csam"), ANALYST)
    async with system_transaction():
        await execute("UPDATE takedown_assignment SET due_at = {} WHERE reference = {}",
                      datetime.now(UTC) - timedelta(hours=1), first["reference"])

    isp_page = (await (await client_factory(await factory.member(isps[0], "officer"))).get("/t/isp-1/")).text
    assert figure(isp_page, "takedown/inbox?status=open") == 2
    assert figure(isp_page, "takedown/inbox?status=overdue") == 1
    assert "stat-urgent" in isp_page

    other_page = (await (await client_factory(await factory.member(isps[1], "officer"))).get("/t/isp-2/")).text
    assert figure(other_page, "takedown/inbox?status=open") == 0
    assert "stat-urgent" not in other_page

    analyst_page = (await (await client_factory(await factory.member(hotline, "analyst"))).get("/t/hotline/")).text
    assert figure(analyst_page, "takedown/reports?status=new") == 3
    assert figure(analyst_page, "takedown/requests?status=overdue") == 1

    # An NGO officer without triage rights has nothing to do here.
    officer_page = (await (await client_factory(await factory.member(hotline, "officer"))).get("/t/hotline/")).text
    assert "work-items" not in officer_page


async def test_regulators_see_reports_waiting_for_review(factory, client_factory):
    regulator = await factory.tenant("regulator", slug="akcesk", name="AKCESK")
    page = (await (await client_factory(await factory.member(regulator, "officer"))).get("/t/akcesk/")).text
    year = datetime.now(UTC).year - 1
    assert figure(page, f"annual-report-reviews?year={year}") == 0
