"""Yearly exports built in the background: requested from the regulators' page or API, built by the worker.

A request reuses what exists: a finished file that is still fresh is served at once, a job already
queued or running for the same year and format is shared (a partial unique index allows one at a
time), otherwise a new job is queued. The worker (``portal/worker.py``) looks for queued jobs on
every turn of its loop, about every two seconds when idle, claims one with ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, and records each step with a percentage so the page can show progress.
A job left ``running`` with no progress for ``LEASE`` (its worker died) is claimed again.

Freshness: ``data_version`` fingerprints the year's reports (count and last change), reviews
(count and last decision), submission deadline and per-ISP takedown figures (the cache of
``figures_cache``: when its rows were computed, changes logged since, rows whose open requests
have passed a deadline). The worker brings the figures up to date, then takes the fingerprint, then
builds; a finished file whose fingerprint differs from the current one is stale and the next
request builds a new one. Measures are not part of the fingerprint: a file built while they still
change is rebuilt only when something above changes too, or on an explicit new request.

Jobs are regulator-wide documents: every regulator sees and downloads every job; other kinds of
organisation never reach them (pages and API keys alike are refused). Files are built in the
portal's default language, Albanian, so one file serves everybody.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, timedelta

from portal.annual_reports import exports, figures_cache, services
from portal.annual_reports.labels import label
from portal.annual_reports.tables import AnnualReportExport
from portal.audit import services as audit
from portal.core import i18n
from portal.core.actor import Actor
from portal.core.db import execute, is_postgres, system_transaction, tenant_transaction
from portal.core.errors import Forbidden, ValidationFailed
from portal.core.i18n import _
from portal.tenants.tables import Tenant

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
RETRY_AFTER_SECONDS = 2
LIST_LIMIT = 30


def require_regulator(tenant: dict | None) -> None:
    if tenant is None or tenant.get("kind") != "regulator":
        raise Forbidden(_("Only regulators can fetch the annual report exports."))


def _now() -> datetime:
    return datetime.now(UTC)


async def data_version(year: int) -> str:
    """Fingerprint of what the export of ``year`` is built from (see the module docstring)."""
    async with system_transaction():
        reports = await execute(
            "SELECT COUNT(*) AS n, MAX(updated_at) AS last FROM annual_report WHERE year = {}", year
        )
        reviews = await execute(
            "SELECT COUNT(*) AS n, MAX(r.decided_at) AS last FROM annual_report_review r"
            " JOIN annual_report a ON a.id = r.report WHERE a.year = {}", year,
        )
        deadline = await execute("SELECT deadline, set_at FROM annual_report_deadline WHERE year = {}", year)
        takedown = await execute(
            "SELECT COUNT(*) AS n, MAX(computed_at) AS last,"
            " SUM(CASE WHEN open_until <= {} THEN 1 ELSE 0 END) AS overdue_since,"
            " (SELECT COUNT(*) FROM annual_report_takedown_change WHERE year = {}) AS pending"
            " FROM annual_report_takedown_figures WHERE year = {}", _now(), year, year,
        )
    parts = [year, reports[0]["n"], reports[0]["last"], reviews[0]["n"], reviews[0]["last"],
             *(deadline[0].values() if deadline else ()), *takedown[0].values()]
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:32]


async def has_data(year: int) -> bool:
    """A quick look for anything to export (reports, signatures in effect, takedown requests) before queuing a job.

    The build itself decides finally: a year that passes here but has nothing to show fails with a message.
    """
    start, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    async with system_transaction():
        rows = await execute(
            "SELECT 1 AS found WHERE EXISTS (SELECT 1 FROM annual_report WHERE year = {})"
            " OR EXISTS (SELECT 1 FROM coc_signature WHERE signed_at < {}"
            " AND (withdrawn_at IS NULL OR withdrawn_at >= {}))"
            " OR EXISTS (SELECT 1 FROM takedown_assignment WHERE sent_at >= {} AND sent_at < {})",
            year, end, start, start, end,
        )
    return bool(rows)


def _columns():
    return (*AnnualReportExport.all_columns(), AnnualReportExport.requested_by.email.as_alias("requested_by_email"),
            AnnualReportExport.requested_tenant.name.as_alias("requested_tenant_name"))


async def get_job(job_id: int | str) -> dict:
    try:
        job_id = int(job_id)
    except (TypeError, ValueError):
        raise services.not_found() from None
    async with system_transaction():
        job = await AnnualReportExport.select(*_columns()).where(AnnualReportExport.id == job_id).first()
    if job is None:
        raise services.not_found()
    return job


async def request_export(regulator: dict, year: int | str, file_format: str, actor: Actor) -> tuple[dict, bool]:
    """The job to answer with and whether its file is ready and fresh; queues a new job when needed."""
    require_regulator(regulator)
    if file_format not in exports.FORMATS:
        raise services.not_found()
    year = services.valid_year(year)
    version = await data_version(year)
    same = (AnnualReportExport.year == year) & (AnnualReportExport.file_format == file_format)
    async with system_transaction():
        fresh = await AnnualReportExport.select(*_columns()).where(
            same & (AnnualReportExport.status == "done") & (AnnualReportExport.data_version == version)
        ).order_by(AnnualReportExport.id, ascending=False).first()
        if fresh is not None:
            return fresh, True
        active = await AnnualReportExport.select(*_columns()).where(
            same & AnnualReportExport.status.is_in(["queued", "running"])
        ).first()
        if active is not None:
            return active, False
    if not await has_data(year):
        raise ValidationFailed({"year": _("There is no data for %(year)s to export yet.", year=year)})
    async with system_transaction():
        created = await execute(
            "INSERT INTO annual_report_export (year, file_format, status, progress, step, data_version, storage_key,"
            " filename, size_bytes, error, requested_tenant, requested_by, requested_by_label, created_at, updated_at)"
            " VALUES ({}, {}, 'queued', 0, 'queued', '', '', {}, 0, '', {}, {}, {}, {}, {})"
            " ON CONFLICT DO NOTHING RETURNING id",
            year, file_format, exports.filename_for(year, file_format), regulator["id"], actor.user_id,
            actor.label[:255], _now(), _now(),
        )
        if created:
            await audit.record("annual_report.export_requested", actor=actor, tenant_id=regulator["id"],
                               object_type="annual_report_export", object_id=created[0]["id"],
                               detail={"year": year, "format": file_format})
        job = await AnnualReportExport.select(*_columns()).where(
            same & AnnualReportExport.status.is_in(["queued", "running", "done"])
        ).order_by(AnnualReportExport.id, ascending=False).first()
    return job, False


async def list_jobs(limit: int = LIST_LIMIT) -> list[dict]:
    """The latest jobs, newest first, each marked ``stale`` when its year's data changed since it was built."""
    async with system_transaction():
        jobs = await AnnualReportExport.select(*_columns()).order_by(
            AnnualReportExport.id, ascending=False
        ).limit(limit)
    versions = {year: await data_version(year) for year in {j["year"] for j in jobs if j["status"] == "done"}}
    for job in jobs:
        job["stale"] = job["status"] == "done" and job["data_version"] != versions[job["year"]]
    return jobs


async def is_fresh(job: dict) -> bool:
    return job["status"] == "done" and job["data_version"] == await data_version(job["year"])


def _iso(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def describe(job: dict) -> dict:
    """The job as the API shows it (texts in the request's language)."""
    return {
        "id": job["id"], "year": job["year"], "format": job["file_format"], "status": job["status"],
        "status_label": label("export_status", job["status"]), "progress": job["progress"],
        "step": label("export_step", job["step"]),
        "error": label("export_error", job["error"]) if job["error"] else None,
        "filename": job["filename"], "size_bytes": job["size_bytes"] or None,
        "created_at": _iso(job["created_at"]), "finished_at": _iso(job["finished_at"]),
    }


async def record_download(job: dict, acting_tenant: dict, actor: Actor) -> None:
    """Check the job's file can be handed out and audit the download in the acting regulator's log."""
    require_regulator(acting_tenant)
    if job["status"] != "done" or not job["storage_key"]:
        raise services.not_found()
    async with tenant_transaction(acting_tenant["id"]):
        await audit.record("annual_report.export_downloaded", actor=actor, tenant_id=acting_tenant["id"],
                           object_type="annual_report_export", object_id=job["id"],
                           detail={"year": job["year"], "format": job["file_format"],
                                   "storage_key": job["storage_key"]})


# --- the worker's side ---------------------------------------------------------------------------


async def _claim() -> dict | None:
    lock = " FOR UPDATE SKIP LOCKED" if is_postgres() else ""
    now = _now()
    async with system_transaction():
        rows = await execute(
            "SELECT id FROM annual_report_export WHERE status = 'queued' OR (status = 'running' AND updated_at < {})"
            " ORDER BY id LIMIT 1" + lock, now - LEASE,
        )
        if not rows:
            return None
        await execute(
            "UPDATE annual_report_export SET status = 'running', progress = 5, step = 'gathering', started_at = {},"
            " updated_at = {} WHERE id = {}", now, now, rows[0]["id"],
        )
        return await AnnualReportExport.select().where(AnnualReportExport.id == rows[0]["id"]).first()


async def _update(job_id: int, values: dict) -> None:
    async with system_transaction():
        await AnnualReportExport.update({**values, AnnualReportExport.updated_at: _now()}).where(
            AnnualReportExport.id == job_id
        )


async def _build(job: dict) -> None:
    await figures_cache.all_figures(job["year"])  # up to date first, so the fingerprint matches what is built
    version = await data_version(job["year"])
    async with system_transaction():
        regulator = await Tenant.select().where(Tenant.id == job["requested_tenant"]).first()
    actor = Actor(user_id=job["requested_by"], label=job["requested_by_label"] or "worker")

    async def progress(step: str, percent: int) -> None:
        await _update(job["id"], {AnnualReportExport.step: step, AnnualReportExport.progress: percent})

    token = i18n.current_language.set(i18n.DEFAULT_LANGUAGE)
    try:
        built = await exports.build(regulator, job["year"], job["file_format"], actor, progress)
    except ValidationFailed:
        await _fail(job, "no_data")
    except Exception:
        log.exception("annual report export %s failed", job["id"])
        await _fail(job, "failed")
    else:
        await _update(job["id"], {
            AnnualReportExport.status: "done", AnnualReportExport.progress: 100, AnnualReportExport.step: "done",
            AnnualReportExport.storage_key: built.storage_key, AnnualReportExport.filename: built.filename,
            AnnualReportExport.size_bytes: len(built.data), AnnualReportExport.data_version: version,
            AnnualReportExport.finished_at: _now(),
        })
    finally:
        i18n.current_language.reset(token)


async def _fail(job: dict, error: str) -> None:
    await _update(job["id"], {AnnualReportExport.status: "failed", AnnualReportExport.step: "failed",
                              AnnualReportExport.error: error, AnnualReportExport.finished_at: _now()})


async def run_export_jobs(limit: int = 1) -> int:
    """Build up to ``limit`` queued exports, one after the other; returns how many were built or failed."""
    handled = 0
    while handled < limit:
        job = await _claim()
        if job is None:
            break
        await _build(job)
        handled += 1
    return handled
