"""Annual report objects of tenant A for tests/test_isolation_all_routes.py (see its docstring)."""

from __future__ import annotations

from datetime import UTC, datetime

from portal.annual_reports import services
from tests.code_of_conduct.conftest import actor_of

NARRATIVE_SECRET = "Narrativa sekrete e raportit vjetor të A"


async def _report_year(world) -> object:
    """A signs the Code (Code of Conduct builder), then drafts and submits this year's report."""
    await world.ensure("signature_id")
    year = datetime.now(UTC).year
    codes = [c["code"] for c in (await services.build_figures(world.tenant["id"], year))["commitments"]]
    data = {f"{code}__done": f"{NARRATIVE_SECRET} {code}" for code in codes}
    await services.save_draft(world.tenant, year, data, actor_of(world.admin))
    report = await services.submit(world.tenant, year, 1, actor_of(world.admin))
    world.object_ids["_annual_report"] = report
    world.secrets.append(NARRATIVE_SECRET)
    return year


async def _report_id(world) -> object:
    await world.ensure("report_year")
    return world.object_ids["_annual_report"]["id"]


async def _revision(world) -> object:
    await world.ensure("report_year")
    return 1


OBJECT_BUILDERS = {
    "report_year": _report_year, "report_id": _report_id, "revision_number": _revision,
}
