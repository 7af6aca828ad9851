"""Row-level security as the second wall: unfiltered queries, run as an ordinary role, see only what they may."""

import pytest

from portal.core.db import execute, get_engine, rls_bypassed
from portal.takedown import reports
from portal.takedown import requests as rq
from tests.takedown.conftest import ANALYST

pytestmark = pytest.mark.postgres
ROLE = "portal_takedown_rls_probe"


async def _as_tenant(tenant_id: int, sql: str) -> list[dict]:
    """Run ``sql`` with no tenant filter as a role without superuser rights, scoped to ``tenant_id``."""
    engine = get_engine()
    async with engine.transaction():
        if await rls_bypassed():
            await execute(f"SET LOCAL ROLE {ROLE}")
        await execute("SELECT set_config('app.tenant_id', {}, true), set_config('app.all_tenants', 'off', true)",
                      str(tenant_id))
        return [dict(row) for row in await execute(sql)]


@pytest.fixture
async def probe_role():
    """Only needed when the tests connect as a superuser, which row-level security never binds."""
    if not await rls_bypassed():
        yield
        return
    exists = await execute("SELECT 1 FROM pg_roles WHERE rolname = {}", ROLE)
    if not exists:
        await execute(f"CREATE ROLE {ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS")
    await execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {ROLE}")
    yield


async def test_unfiltered_queries_see_only_what_the_tenant_may(probe_role, hotline, agency, isps):
    receipt = await reports.record_report(
        hotline["id"], reports.ReportInput("http://rls.test/a", "csam", contact="x@y.z"), channel="analyst", actor=ANALYST
    )
    await reports.record_report(agency["id"], reports.ReportInput("http://police.test/", "grooming"), channel="api",
                                actor=ANALYST)
    ref = (await rq.issue_request(hotline, rq.RequestInput(
        kind="block", recipients=["isp-1"], legal_basis="Ligji", item_ids=[receipt.item_id], urls=[],
    ), ANALYST))["reference"]
    one, two, _three = isps

    # The addressed ISP sees its copy, the request and its URLs, but no item and no report.
    assert [r["reference"] for r in await _as_tenant(one["id"], "SELECT reference FROM takedown_request")] == [ref]
    assert len(await _as_tenant(one["id"], "SELECT id FROM takedown_request_url")) == 1
    assert len(await _as_tenant(one["id"], "SELECT id FROM takedown_assignment")) == 1
    assert await _as_tenant(one["id"], "SELECT id FROM takedown_item") == []
    assert await _as_tenant(one["id"], "SELECT id FROM takedown_report") == []
    assert len(await _as_tenant(one["id"], "SELECT id FROM takedown_feed_entry")) == 1
    # Another ISP sees nothing at all.
    for table in ("takedown_request", "takedown_request_url", "takedown_assignment", "takedown_event",
                  "takedown_item", "takedown_report", "takedown_feed_entry", "takedown_feed_change"):
        assert await _as_tenant(two["id"], f"SELECT id FROM {table}") == [], table
    # The agency sees its own item only; the hotline its own item, report, request and assignment.
    assert [r["url"] for r in await _as_tenant(agency["id"], "SELECT url FROM takedown_item")] == ["http://police.test/"]
    assert await _as_tenant(agency["id"], "SELECT id FROM takedown_request") == []
    assert [r["url"] for r in await _as_tenant(hotline["id"], "SELECT url FROM takedown_item")] == ["http://rls.test/a"]
    assert len(await _as_tenant(hotline["id"], "SELECT id FROM takedown_assignment")) == 1
