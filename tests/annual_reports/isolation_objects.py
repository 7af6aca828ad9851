"""Annual report objects of tenant A for tests/test_isolation_all_routes.py (see its docstring)."""

from __future__ import annotations

from datetime import UTC, datetime

from portal.annual_reports import services
from portal.code_of_conduct.files import Upload
from portal.core.db import execute, system_transaction
from tests.code_of_conduct.conftest import actor_of

NARRATIVE_SECRET = "Narrativa sekrete e raportit vjetor të A"
ATTACHMENT_SECRET = "Shtojca sekrete e raportit vjetor te A"


async def _report_year(world) -> object:
    """A signs the Code (Code of Conduct builder), then drafts and submits this year's report."""
    await world.ensure("signature_id")
    year = datetime.now(UTC).year
    codes = [c["code"] for c in (await services.build_figures(world.tenant["id"], year))["commitments"]]
    data = {f"{code}__done": f"{NARRATIVE_SECRET} {code}" for code in codes}
    uploads = {codes[0]: [Upload(filename="shtojca-sekrete-e-A.txt", data=f"{ATTACHMENT_SECRET}\n".encode())]}
    await services.save_draft(world.tenant, year, data, actor_of(world.admin), uploads)
    report = await services.submit(world.tenant, year, 1, actor_of(world.admin))
    world.object_ids["_annual_report"] = report
    world.secrets.extend([NARRATIVE_SECRET, ATTACHMENT_SECRET, "shtojca-sekrete-e-A.txt"])
    return year


async def _report_id(world) -> object:
    await world.ensure("report_year")
    return world.object_ids["_annual_report"]["id"]


async def _revision(world) -> object:
    await world.ensure("report_year")
    return 1


async def _attachment(world) -> object:
    await world.ensure("report_year")
    [attachment] = world.object_ids["_annual_report"]["current"]["attachments"].values()
    return attachment[0]["id"]


async def _export_job(world) -> object:
    """An export job (regulator-wide) recorded as requested from A; its id must open nothing under A's slug for B."""
    async with system_transaction():
        [job] = await execute(
            "INSERT INTO annual_report_export (year, file_format, status, progress, step, data_version, storage_key,"
            " filename, size_bytes, error, requested_tenant, requested_by_label, created_at, updated_at)"
            " VALUES ({}, 'pdf', 'queued', 0, 'queued', '', '', 'eksport-sekret-i-A.pdf', 0, '', {}, {}, {}, {})"
            " RETURNING id",
            datetime.now(UTC).year, world.tenant["id"], world.admin.email, datetime.now(UTC), datetime.now(UTC),
        )
    world.secrets.append("eksport-sekret-i-A.pdf")
    return job["id"]


OBJECT_BUILDERS = {
    "report_year": _report_year, "report_id": _report_id, "revision_number": _revision,
    "attachment_id": _attachment, "job_id": _export_job,
}
