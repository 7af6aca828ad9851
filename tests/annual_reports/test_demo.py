"""The demo annual reports: one reviewed (returned, then accepted), one awaiting review; loading twice adds nothing."""

from portal.annual_reports import demo, services
from portal.core.db import execute, system_transaction
from portal.demo import load_demo


async def _counts() -> dict[str, int]:
    async with system_transaction():
        return {t: (await execute(f"SELECT COUNT(*) AS n FROM {t}"))[0]["n"]
                for t in ("annual_report", "annual_report_revision", "annual_report_review", "audit_entry")}


async def test_demo_reports():
    await load_demo()
    first = await _counts()
    await demo.load()
    assert await _counts() == first
    rows = {r["tenant"]["slug"]: r for r in await services.queue(demo.YEAR)}
    assert rows["albanet"]["status"] == "accepted" and rows["albanet"]["revision"] == 2
    assert rows["adriatik"]["status"] == "submitted"
    assert rows["shqiponja"]["status"] == "not_submitted"
    report = await services.any_report(rows["albanet"]["report"]["id"])
    assert [(r["decision"], r["reviewer_organisation"][:5]) for r in report["reviews"]] == [("return", "AKCES"), ("accept", "AKEP ")]
    assert "1 243 URL" in services.revision_of(report, 2)["snapshot"]["narratives"]["Z1"]["done"]
