"""Background exports: 202 then 200 once the worker built the file, progress, staleness, failures, access."""

import asyncio
import io
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook

from portal import worker
from portal.annual_reports import export_jobs, exports, services
from portal.core.db import execute, system_transaction
from portal.tenants.api_keys import create_api_key
from portal.takedown import requests as takedown_requests
from tests.annual_reports.conftest import YEAR, issue, submitted_report
from tests.takedown.conftest import ANALYST
from tests.code_of_conduct.conftest import actor_of, stored_objects
from tests.isolation import assert_outsider_gets_nothing


@pytest.fixture
async def keys(world):
    regulator, _row = await create_api_key(world.akcesk, name="Eksport", scopes=["read"], actor=actor_of(world.akcesk_admin))
    isp, _row = await create_api_key(world.isp, name="ISP", scopes=["read"], actor=actor_of(world.isp_admin))
    return {"regulator": {"Authorization": f"Bearer {regulator}"}, "isp": {"Authorization": f"Bearer {isp}"}}


async def job_row(job_id: int) -> dict:
    async with system_transaction():
        [row] = await execute("SELECT * FROM annual_report_export WHERE id = {}", job_id)
    return row


async def test_api_answers_202_then_200_once_the_worker_built_the_file(world, keys, client, storage_root, monkeypatch):
    await submitted_report(world)
    url = f"/api/v1/annual-reports/{YEAR}/export.xlsx"
    first = await client.get(url, headers=keys["regulator"])
    assert first.status_code == 202 and first.headers["retry-after"] == "2"
    location = first.headers["location"]
    job_id = first.json()["id"]
    assert location == f"/api/v1/annual-reports/exports/{job_id}"
    assert first.json()["status"] == "queued" and first.json()["progress"] == 0
    again = await client.get(url, headers=keys["regulator"])
    assert again.status_code == 202 and again.json()["id"] == job_id  # the queued job is shared
    polled = await client.get(location, headers=keys["regulator"])
    assert polled.status_code == 200 and polled.json()["status"] == "queued" and "download_url" not in polled.json()
    assert (await client.get(location + "/file", headers=keys["regulator"])).status_code == 404

    states = []
    original_update = export_jobs._update

    async def recording(job_id_: int, values: dict) -> None:
        await original_update(job_id_, values)
        states.append(await job_row(job_id_))

    monkeypatch.setattr(export_jobs, "_update", recording)
    assert await worker.run_exports() == 1
    assert [(s["status"], s["step"], s["progress"]) for s in states] == [
        ("running", "gathering", 10), ("running", "tables", 40), ("running", "rendering", 60),
        ("running", "storing", 90), ("done", "done", 100),
    ]
    assert await worker.run_exports() == 0  # nothing left

    done = (await client.get(location, headers=keys["regulator"])).json()
    assert done["status"] == "done" and done["progress"] == 100 and done["download_url"] == location + "/file"
    assert done["filename"] == f"kodi-i-sjelljes-raporti-vjetor-{YEAR}.xlsx"
    ready = await client.get(url, headers=keys["regulator"])
    assert ready.status_code == 200 and ready.content.startswith(b"PK")
    assert "Përmbledhje" in load_workbook(io.BytesIO(ready.content)).sheetnames
    assert (await client.get(location + "/file", headers=keys["regulator"])).content == ready.content
    assert any(p.name == done["filename"] for p in stored_objects(storage_root))
    async with system_transaction():
        actions = [r["action"] for r in await execute(
            "SELECT action FROM audit_entry WHERE tenant_id = {} AND action LIKE 'annual_report.export%' ORDER BY id",
            world.akcesk["id"])]
    assert actions == ["annual_report.export_requested", "annual_report.exported", "annual_report.export_downloaded",
                       "annual_report.export_downloaded"]


async def test_a_finished_export_is_rebuilt_when_the_years_reports_change(world, keys, client, storage_root):
    report = await submitted_report(world)
    url = f"/api/v1/annual-reports/{YEAR}/export.zip"
    first = (await client.get(url, headers=keys["regulator"])).json()["id"]
    await worker.run_exports()
    assert (await client.get(url, headers=keys["regulator"])).status_code == 200
    await services.decide(world.akep, report["id"], {"revision": "1", "decision": "accept"}, actor_of(world.akep_officer))
    stale = await client.get(url, headers=keys["regulator"])
    assert stale.status_code == 202 and stale.json()["id"] != first
    [old] = [j for j in await export_jobs.list_jobs() if j["id"] == first]
    assert old["stale"] is True
    await worker.run_exports()
    fresh = await client.get(url, headers=keys["regulator"])
    assert fresh.status_code == 200 and fresh.content.startswith(b"PK")
    # a changed deadline changes the overdue column, so it counts as a change too
    await services.set_deadline(world.akcesk, "admin", YEAR, f"{YEAR + 1}-04-30", actor_of(world.akcesk_admin))
    assert (await client.get(url, headers=keys["regulator"])).status_code == 202


async def test_a_finished_export_is_rebuilt_when_the_years_takedown_figures_change(world, keys, client, storage_root):
    await submitted_report(world)
    url = f"/api/v1/annual-reports/{YEAR}/export.xlsx"
    first = (await client.get(url, headers=keys["regulator"])).json()["id"]
    await worker.run_exports()
    assert (await client.get(url, headers=keys["regulator"])).status_code == 200
    # The worker's own refresh of unchanged figures leaves the file fresh.
    await worker.run_figures_refresh()
    assert (await client.get(url, headers=keys["regulator"])).status_code == 200

    [reference] = await issue(world.ngo, ["albanet"], 1)
    stale = await client.get(url, headers=keys["regulator"])
    assert stale.status_code == 202 and stale.json()["id"] != first
    await worker.run_exports()
    rebuilt = await client.get(url, headers=keys["regulator"])
    assert rebuilt.status_code == 200
    takedown = load_workbook(io.BytesIO(rebuilt.content))["Heqje"]
    received = {row[0]: row[1] for row in takedown.iter_rows(min_row=2, values_only=True)}
    assert received["AlbaNet sh.p.k."] == 1
    await takedown_requests.acknowledge(world.isp["id"], reference, ANALYST)
    assert (await client.get(url, headers=keys["regulator"])).status_code == 202


async def test_failed_job_shows_a_translated_error(world, client_factory, storage_root, monkeypatch):
    await submitted_report(world)

    async def broken(*args, **kwargs):
        raise RuntimeError("typst crashed")

    monkeypatch.setattr(exports, "to_pdf", broken)
    job, fresh = await export_jobs.request_export(world.akcesk, YEAR, "pdf", actor_of(world.akcesk_admin))
    assert not fresh
    await worker.run_exports()
    row = await job_row(job["id"])
    assert (row["status"], row["error"], row["step"]) == ("failed", "failed", "failed") and row["finished_at"]
    regulator = await client_factory(world.akcesk_viewer)
    page = await regulator.get("/t/akcesk/annual-report-exports")
    assert "Eksporti nuk mund të ndërtohej" in page.text
    fragment = await regulator.get(f"/t/akcesk/annual-report-exports/{job['id']}/progress")
    assert "Eksporti nuk mund të ndërtohej" in fragment.text and "hx-trigger" not in fragment.text
    # a failed job does not block a new attempt
    monkeypatch.undo()
    retry, _fresh = await export_jobs.request_export(world.akcesk, YEAR, "pdf", actor_of(world.akcesk_admin))
    assert retry["id"] != job["id"] and retry["status"] == "queued"


async def test_a_year_that_turns_out_empty_fails_with_a_message(world, storage_root, monkeypatch):
    async def looks_full(year):
        return True

    monkeypatch.setattr(export_jobs, "has_data", looks_full)
    job, _fresh = await export_jobs.request_export(world.akcesk, YEAR - 5, "xlsx", actor_of(world.akcesk_admin))
    await worker.run_exports()
    row = await job_row(job["id"])
    assert (row["status"], row["error"]) == ("failed", "no_data")
    assert export_jobs.describe(row)["error"] == "Nuk kishte të dhëna për t'u eksportuar për këtë vit."
    assert stored_objects(storage_root) == []


async def test_api_refuses_other_organisations_and_empty_years(world, keys, client, storage_root):
    await submitted_report(world)
    url = f"/api/v1/annual-reports/{YEAR}/export.pdf"
    refused = await client.get(url, headers=keys["isp"])
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/problem+json")
    empty = await client.get(f"/api/v1/annual-reports/{YEAR - 5}/export.pdf", headers=keys["regulator"])
    assert empty.status_code == 422 and empty.headers["content-type"].startswith("application/problem+json")
    assert str(YEAR - 5) in empty.json()["errors"]["year"]
    job = (await client.get(url, headers=keys["regulator"])).json()
    await worker.run_exports()
    for path in (f"/api/v1/annual-reports/exports/{job['id']}", f"/api/v1/annual-reports/exports/{job['id']}/file"):
        response = await client.get(path, headers=keys["isp"])
        assert response.status_code == 403 and b"%PDF" not in response.content
        assert (await client.get(path)).status_code == 401
    missing = await client.get("/api/v1/annual-reports/exports/999999", headers=keys["regulator"])
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem+json")
    async with system_transaction():
        assert (await execute("SELECT COUNT(*) AS n FROM annual_report_export"))[0]["n"] == 1


async def test_export_page_request_progress_and_download(world, client_factory, storage_root):
    await submitted_report(world)
    regulator = await client_factory(world.akcesk_viewer)
    other_regulator = await client_factory(world.akep_officer)
    base = "/t/akcesk/annual-report-exports"
    bad = await regulator.post(base, {"year": str(YEAR), "file_format": "docx"})
    assert bad.status_code == 422 and "Zgjidhni llojin e skedarit." in bad.text
    empty = await regulator.post(base, {"year": str(YEAR - 5), "file_format": "pdf"})
    assert empty.status_code == 422 and str(YEAR - 5) in empty.text
    requested = await regulator.post(base, {"year": str(YEAR), "file_format": "xlsx"})
    assert requested.status_code == 303
    [job] = await export_jobs.list_jobs()
    page = await regulator.get(base)
    assert f'hx-get="{base}/{job["id"]}/progress"' in page.text and 'hx-trigger="every 2s"' in page.text
    assert "Në pritje të punëtorit në sfond" in page.text
    fragment = await regulator.get(f"{base}/{job['id']}/progress", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text and "<progress" in fragment.text
    assert (await regulator.get(f"{base}/{job['id']}/download")).status_code == 404
    await worker.run_exports()
    fragment = await regulator.get(f"{base}/{job['id']}/progress", headers={"HX-Request": "true"})
    assert f'href="{base}/{job["id"]}/download"' in fragment.text and "hx-trigger" not in fragment.text
    download = await regulator.get(f"{base}/{job['id']}/download")
    assert download.status_code == 200 and download.content.startswith(b"PK")
    assert "attachment" in download.headers["content-disposition"]
    # regulator-wide: AKEP sees and downloads AKCESK's export; asking again reuses the fresh file
    listed = await other_regulator.get("/t/akep/annual-report-exports")
    assert f"/t/akep/annual-report-exports/{job['id']}/download" in listed.text
    assert (await other_regulator.get(f"/t/akep/annual-report-exports/{job['id']}/download")).status_code == 200
    again = await other_regulator.post("/t/akep/annual-report-exports", {"year": str(YEAR), "file_format": "xlsx"},
                                       follow_redirects=True)
    assert "ekziston tashmë" in again.text and len(await export_jobs.list_jobs()) == 1


async def test_isps_never_reach_the_exports(world, client_factory, storage_root):
    await submitted_report(world)
    job, _fresh = await export_jobs.request_export(world.akcesk, YEAR, "xlsx", actor_of(world.akcesk_admin))
    await worker.run_exports()
    isp = await client_factory(world.isp_admin)
    for path in ("/t/albanet/annual-report-exports", f"/t/albanet/annual-report-exports/{job['id']}/progress",
                 f"/t/albanet/annual-report-exports/{job['id']}/download"):
        assert (await isp.get(path)).status_code == 403
    assert (await isp.post("/t/albanet/annual-report-exports", {"year": str(YEAR), "file_format": "pdf"})).status_code == 403
    for path in ("/t/akcesk/annual-report-exports", f"/t/akcesk/annual-report-exports/{job['id']}/download"):
        await assert_outsider_gets_nothing(isp, "GET", path, ["kodi-i-sjelljes"])
    with pytest.raises(Exception) as refused:
        await export_jobs.request_export(world.isp, YEAR, "xlsx", actor_of(world.isp_admin))
    assert refused.value.status_code == 403


async def test_two_workers_never_build_the_same_job(world, storage_root):
    await submitted_report(world)
    for file_format in ("xlsx", "zip", "pdf"):
        await export_jobs.request_export(world.akcesk, YEAR, file_format, actor_of(world.akcesk_admin))
    results = await asyncio.gather(worker.run_exports(), worker.run_exports(), worker.run_exports())
    assert sorted(results) == [1, 1, 1]
    async with system_transaction():
        built = await execute("SELECT COUNT(*) AS n FROM audit_entry WHERE action = 'annual_report.exported'")
        statuses = {r["status"] for r in await execute("SELECT status FROM annual_report_export")}
    assert built[0]["n"] == 3 and statuses == {"done"}


async def test_a_job_whose_worker_died_is_claimed_again(world, storage_root):
    await submitted_report(world)
    job, _fresh = await export_jobs.request_export(world.akcesk, YEAR, "zip", actor_of(world.akcesk_admin))
    async with system_transaction():
        await execute("UPDATE annual_report_export SET status = 'running', updated_at = {} WHERE id = {}",
                      datetime.now(UTC) - timedelta(minutes=5), job["id"])
    assert await worker.run_exports() == 0  # still within its lease
    async with system_transaction():
        await execute("UPDATE annual_report_export SET updated_at = {} WHERE id = {}",
                      datetime.now(UTC) - export_jobs.LEASE - timedelta(minutes=1), job["id"])
    assert await worker.run_exports() == 1
    assert (await job_row(job["id"]))["status"] == "done"
