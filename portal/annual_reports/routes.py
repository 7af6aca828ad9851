"""Annual report pages under /t/{tenant_slug}/.

``annual-reports`` is the reporting organisation's side (draft, submit, read revisions);
``annual-report-reviews`` is the regulators' queue and review.
"""

from __future__ import annotations

from datetime import date

from babel.dates import get_month_names
from litestar import Request, Response, Router, get, post
from litestar.di import Provide

from portal.annual_reports import charts, dashboard, export_jobs, exports, services, template_globals
from portal.annual_reports.labels import label
from portal.api import provide_principal, require_scope
from portal.code_of_conduct.files import download_response
from portal.code_of_conduct.forms import read_uploads
from portal.core.actor import Actor
from portal.core.db import system_transaction
from portal.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from portal.core.i18n import _, current_language, local_date
from portal.core.permissions import can
from portal.core.settings import get_settings
from portal.core.web import TenantContext, client_ip, flash, form_data, page, provide_tenant_context, redirect
from portal.files.services import size_label
from portal.tenants.api_keys import ApiPrincipal
from portal.tenants.tables import Tenant

template_globals.register()


def _mine(ctx: TenantContext, suffix: str = "") -> str:
    return f"/t/{ctx.tenant['slug']}/annual-reports{suffix}"


def _reviews(ctx: TenantContext, suffix: str = "") -> str:
    return f"/t/{ctx.tenant['slug']}/annual-report-reviews{suffix}"


def _default_year() -> int:
    return date.today().year - 1 if date.today().year - 1 >= services.FIRST_YEAR else date.today().year


def _dashboard(ctx: TenantContext, suffix: str = "") -> str:
    return f"/t/{ctx.tenant['slug']}/annual-report-dashboard{suffix}"


def _exports(ctx: TenantContext, suffix: str = "") -> str:
    return f"/t/{ctx.tenant['slug']}/annual-report-exports{suffix}"


def _max_upload() -> str:
    return size_label(get_settings().max_upload_bytes)


def _year_param(request: Request) -> int:
    raw = request.query_params.get("year") or ""
    return int(raw) if raw.isdigit() and services.FIRST_YEAR <= int(raw) <= date.today().year else _default_year()


def _narrative_values(revision: dict | None) -> dict:
    values: dict[str, str] = {}
    for code, entry in ((revision or {}).get("narratives") or {}).items():
        for name, text in entry.items():
            values[f"{code}__{name}"] = text
    return values


# --- the reporting organisation ------------------------------------------------------------------


@get("/annual-reports", include_in_schema=False)
async def report_list(request: Request, ctx: TenantContext) -> Response:
    ctx.require("annual_report.view")
    reports = await services.organisation_reports(ctx.tenant_id)
    this_year = date.today().year
    years = list(range(this_year, max(services.FIRST_YEAR, this_year - 5) - 1, -1))
    return await page(
        request, "annual_reports.ReportsPage", reports=reports, years=years, default_year=_default_year(),
        base=_mine(ctx),
    )


async def _report_page(request: Request, ctx: TenantContext, year: int, *, values: dict | None = None,
                       errors: dict | None = None, status_code: int = 200) -> Response:
    report = await services.organisation_report(ctx.tenant_id, year)
    figures = await services.build_figures(ctx.tenant_id, year) if services.editable(report) else None
    current = report["current"] if report else None
    deadline = await services.deadline_of(year)
    return await page(
        request, "annual_reports.ReportPage", status_code=status_code, year=year, report=report, figures=figures,
        values=values if values is not None else _narrative_values(current), errors=errors or {},
        comments=(report["last_review"]["comments"] if report and report["last_review"] else {}),
        deadline=deadline, base=_mine(ctx), editable=services.editable(report),
        overdue=services.queue_status(report) == "not_submitted" and date.today() > deadline,
        can_edit=can(ctx.access, "annual_report.edit"), can_submit=can(ctx.access, "annual_report.submit"),
        attachments=current["attachments"] if current else {},
        can_remove=bool(report and report["status"] == "draft" and can(ctx.access, "annual_report.edit")),
        max_upload=_max_upload(),
    )


@get("/annual-reports/{report_year:int}", include_in_schema=False)
async def report_detail(request: Request, ctx: TenantContext, report_year: int) -> Response:
    ctx.require("annual_report.view")
    year = services.valid_year(report_year)
    return await _report_page(request, ctx, year)


@post("/annual-reports/{report_year:int}", include_in_schema=False)
async def report_save(request: Request, ctx: TenantContext, report_year: int) -> Response:
    ctx.require("annual_report.edit")
    year = services.valid_year(report_year)
    form = await request.form()
    data = await form_data(request)
    uploads = {key.removesuffix("__attachments"): await read_uploads(form, key)
               for key in set(form.keys()) if key.endswith("__attachments")}
    try:
        await services.save_draft(ctx.tenant, year, data, ctx.actor, uploads)
    except ValidationFailed as exc:
        return await _report_page(request, ctx, year, values=data, errors=exc.errors, status_code=422)
    except Conflict as exc:
        await flash(request, exc.message, "error")
        return redirect(_mine(ctx, f"/{year}"))
    await flash(request, _("The draft has been saved."))
    return redirect(_mine(ctx, f"/{year}"))


@post("/annual-reports/{report_year:int}/submit", include_in_schema=False)
async def report_submit(request: Request, ctx: TenantContext, report_year: int) -> Response:
    ctx.require("annual_report.submit")
    year = services.valid_year(report_year)
    data = await form_data(request)
    try:
        report = await services.submit(ctx.tenant, year, data.get("revision"), ctx.actor)
    except ValidationFailed as exc:
        return await _report_page(request, ctx, year, errors=exc.errors | {"_summary": exc.message}, status_code=422)
    except Conflict as exc:
        await flash(request, exc.message, "error")
        return redirect(_mine(ctx, f"/{year}"))
    await flash(request, _("Revision %(n)s of the report has been submitted.", n=report["revision"]))
    return redirect(_mine(ctx, f"/{year}"))


@get("/annual-reports/{report_year:int}/revisions/{revision_number:int}", include_in_schema=False)
async def report_revision(request: Request, ctx: TenantContext, report_year: int, revision_number: int) -> Response:
    ctx.require("annual_report.view")
    report = await services.organisation_report(ctx.tenant_id, report_year)
    if report is None:
        raise services.not_found()
    shown = services.revision_of(report, revision_number)
    return await page(
        request, "annual_reports.RevisionPage", report=report, revision=shown,
        review=services.review_of_revision(report, shown), back=_mine(ctx, f"/{report['year']}"),
        organisation=ctx.tenant["name"], attachment_base=_mine(ctx, f"/{report['year']}/attachments"),
    )


@post("/annual-reports/{report_year:int}/attachments/{attachment_id:int}/remove", include_in_schema=False)
async def attachment_remove(request: Request, ctx: TenantContext, report_year: int, attachment_id: int) -> Response:
    ctx.require("annual_report.edit")
    try:
        removed = await services.remove_attachment(ctx.tenant, report_year, attachment_id, ctx.actor)
    except Conflict as exc:
        await flash(request, exc.message, "error")
        return redirect(_mine(ctx, f"/{report_year}"))
    await flash(request, _("The file “%(name)s” has been removed from the report.", name=removed["filename"]))
    return redirect(_mine(ctx, f"/{report_year}"))


@get("/annual-reports/{report_year:int}/attachments/{attachment_id:int}", include_in_schema=False)
async def attachment_download(ctx: TenantContext, report_year: int, attachment_id: int) -> Response:
    ctx.require("annual_report.view")
    report = await services.organisation_report(ctx.tenant_id, report_year)
    if report is None:
        raise services.not_found()
    _row, file_row = await services.attachment_file(ctx.tenant_id, report["id"], attachment_id)
    await services.record_attachment_download(ctx.actor, ctx.tenant_id, ctx.tenant_id, file_row, report["id"])
    return download_response(file_row)


# --- regulators ------------------------------------------------------------------------------------


@get("/annual-report-reviews", include_in_schema=False)
async def review_queue(request: Request, ctx: TenantContext) -> Response:
    ctx.require("annual_report.oversee")
    return await _queue_page(request, ctx, _year_param(request), request.query_params.get("status") or "")


async def _queue_page(request: Request, ctx: TenantContext, year: int, status: str, *, values: dict | None = None,
                      errors: dict | None = None, status_code: int = 200) -> Response:
    rows = await services.queue(year)
    counts = services.queue_counts(rows)
    if status == "overdue":
        rows = [r for r in rows if r["overdue"]]
    elif status in services.QUEUE_STATUSES:
        rows = [r for r in rows if r["status"] == status]
    else:
        status = ""
    this_year = date.today().year
    deadline = await services.deadline_of(year)
    return await page(
        request, "annual_reports.QueuePage", status_code=status_code, rows=rows, counts=counts, year=year,
        status=status, years=list(range(this_year, services.FIRST_YEAR - 1, -1)), deadline=deadline,
        default_deadline=services.default_deadline(year), base=_reviews(ctx), statuses=services.QUEUE_STATUSES,
        can_set_deadline=ctx.role == "admin", values=values or {"deadline": deadline.isoformat()},
        errors=errors or {}, exports=_exports(ctx),
    )


@post("/annual-report-reviews/deadline", include_in_schema=False)
async def deadline_set(request: Request, ctx: TenantContext) -> Response:
    ctx.require("annual_report.oversee")
    data = await form_data(request)
    year = services.valid_year(data.get("year"))
    try:
        chosen = await services.set_deadline(ctx.tenant, ctx.role, year, data.get("deadline") or "", ctx.actor)
    except ValidationFailed as exc:
        return await _queue_page(request, ctx, year, "", values=data, errors=exc.errors, status_code=422)
    await flash(request, _("Reports for %(year)s are now due by %(date)s.", year=year,
                           date=local_date(chosen)))
    return redirect(_reviews(ctx, f"?year={year}"))


async def _review_page(request: Request, ctx: TenantContext, report: dict, *, values: dict | None = None,
                       errors: dict | None = None, status_code: int = 200) -> Response:
    submitted = [r for r in report["revisions"] if r["submitted_at"] is not None]
    if not submitted:
        raise services.not_found()  # a first draft is the organisation's own until it is submitted
    return await page(
        request, "annual_reports.ReviewPage", status_code=status_code, report=report, revision=submitted[-1],
        submitted=submitted,
        values=values or {}, errors=errors or {}, base=_reviews(ctx),
        can_review=can(ctx.access, "annual_report.review") and report["status"] in ("submitted", "under_review"),
        decisions=[(key, label("decision", key)) for key in ("return", "accept")],
    )


@get("/annual-report-reviews/{report_id:int}", include_in_schema=False)
async def review_detail(request: Request, ctx: TenantContext, report_id: int) -> Response:
    ctx.require("annual_report.oversee")
    return await _review_page(request, ctx, await services.any_report(report_id))


@post("/annual-report-reviews/{report_id:int}/start", include_in_schema=False)
async def review_start(request: Request, ctx: TenantContext, report_id: int) -> Response:
    ctx.require("annual_report.review")
    try:
        await services.start_review(ctx.tenant, report_id, ctx.actor)
    except Conflict as exc:
        await flash(request, exc.message, "error")
        return redirect(_reviews(ctx, f"/{report_id}"))
    await flash(request, _("The report is now under review."))
    return redirect(_reviews(ctx, f"/{report_id}"))


@post("/annual-report-reviews/{report_id:int}/decision", include_in_schema=False)
async def review_decide(request: Request, ctx: TenantContext, report_id: int) -> Response:
    ctx.require("annual_report.review")
    data = await form_data(request)
    try:
        report = await services.decide(ctx.tenant, report_id, data, ctx.actor)
    except ValidationFailed as exc:
        return await _review_page(request, ctx, await services.any_report(report_id), values=data, errors=exc.errors,
                                  status_code=422)
    except Conflict as exc:
        await flash(request, exc.message, "error")
        return redirect(_reviews(ctx, f"/{report_id}"))
    message = (_("The report has been accepted.") if report["status"] == "accepted"
               else _("The report has been returned for changes."))
    await flash(request, message)
    return redirect(_reviews(ctx, f"/{report_id}"))


@get("/annual-report-reviews/{report_id:int}/attachments/{attachment_id:int}", include_in_schema=False)
async def review_attachment(ctx: TenantContext, report_id: int, attachment_id: int) -> Response:
    ctx.require("annual_report.oversee")
    row, file_row = await services.attachment_file(None, report_id, attachment_id)
    await services.record_attachment_download(ctx.actor, ctx.tenant_id, row["tenant"], file_row, report_id)
    return download_response(file_row)


@get("/annual-report-reviews/{report_id:int}/revisions/{revision_number:int}", include_in_schema=False)
async def review_revision(request: Request, ctx: TenantContext, report_id: int, revision_number: int) -> Response:
    ctx.require("annual_report.oversee")
    report = await services.any_report(report_id)
    shown = services.revision_of(report, revision_number)
    if shown["submitted_at"] is None:
        raise services.not_found()
    return await page(
        request, "annual_reports.RevisionPage", report=report, revision=shown,
        review=services.review_of_revision(report, shown), back=_reviews(ctx, f"/{report['id']}"),
        organisation=report["tenant_name"], attachment_base=_reviews(ctx, f"/{report['id']}/attachments"),
    )


@get("/annual-report-dashboard", include_in_schema=False)
async def compliance_dashboard(request: Request, ctx: TenantContext) -> Response:
    ctx.require("annual_report.oversee")
    year = _year_param(request)
    data = await dashboard.year_data(year)
    months = get_month_names("abbreviated", locale=current_language.get())
    signatories = charts.columns(
        _("Organisations with a signature in effect at the end of each month, %(year)s", year=year),
        [(months[p["month"]], p["count"]) for p in data.signatories],
    )
    statuses = charts.columns(
        _("Annual reports for %(year)s by status", year=year),
        [(label("status", s), data.counts[s]) for s in services.QUEUE_STATUSES],
    )
    time_to_action = charts.hbar(
        _("Hours to action per provider, %(year)s, against the deadlines", year=year),
        [(t["tenant"]["name"], t["median_hours_to_action"], t["p90_hours_to_action"]) for t in data.takedown],
        legend=(label("figure", "median_hours_to_action"), label("figure", "p90_hours_to_action")),
        references=[(_("%(priority)s: %(hours)s h", priority=label("priority", p), hours=h), h)
                    for p, h in sorted(data.deadlines.items(), key=lambda item: item[1])],
    )
    measures = charts.hbar(
        _("Measures per commitment active in %(year)s", year=year),
        [(m["code"], m["count"], None) for m in data.measures], label_width=80,
    )
    this_year = date.today().year
    return await page(
        request, "annual_reports.DashboardPage", data=data, year=year, months=months,
        years=list(range(this_year, services.FIRST_YEAR - 1, -1)), base=_dashboard(ctx), reviews=_reviews(ctx),
        exports=_exports(ctx),
        charts={"signatories": signatories, "statuses": statuses, "time_to_action": time_to_action,
                "measures": measures},
        statuses=services.QUEUE_STATUSES,
    )


# --- regulators' exports, built in the background ----------------------------------------------------


async def _exports_page(request: Request, ctx: TenantContext, *, values: dict | None = None,
                        errors: dict | None = None, status_code: int = 200) -> Response:
    this_year = date.today().year
    return await page(
        request, "annual_reports.ExportsPage", status_code=status_code, jobs=await export_jobs.list_jobs(),
        year_options=[(str(y), str(y)) for y in range(this_year, services.FIRST_YEAR - 1, -1)],
        format_options=[(f, label("format", f)) for f in exports.FORMATS],
        values=values or {"year": str(_year_param(request)), "file_format": "pdf"}, errors=errors or {},
        base=_exports(ctx),
    )


@get("/annual-report-exports", include_in_schema=False)
async def export_list(request: Request, ctx: TenantContext) -> Response:
    ctx.require("annual_report.oversee")
    return await _exports_page(request, ctx)


@post("/annual-report-exports", include_in_schema=False)
async def export_request(request: Request, ctx: TenantContext) -> Response:
    ctx.require("annual_report.oversee")
    data = await form_data(request)
    file_format = data.get("file_format") or ""
    if file_format not in exports.FORMATS:
        return await _exports_page(request, ctx, values=data, status_code=422,
                                   errors={"file_format": _("Choose the kind of file.")})
    try:
        year = services.valid_year(data.get("year"))
    except NotFound:
        return await _exports_page(request, ctx, values=data, status_code=422,
                                   errors={"year": _("Choose a reporting year.")})
    try:
        job, fresh = await export_jobs.request_export(ctx.tenant, year, file_format, ctx.actor)
    except ValidationFailed as exc:
        return await _exports_page(request, ctx, values=data, errors=exc.errors, status_code=422)
    await flash(request, _("An up-to-date file already exists: download it below.") if fresh
                else _("The export is being prepared. This page shows its progress."))
    return redirect(_exports(ctx, f"?year={year}#export-{job['id']}"))


@get("/annual-report-exports/{job_id:int}/progress", include_in_schema=False)
async def export_progress(request: Request, ctx: TenantContext, job_id: int) -> Response:
    """The small fragment htmx polls while a job is queued or running."""
    ctx.require("annual_report.oversee")
    job = await export_jobs.get_job(job_id)
    job["stale"] = job["status"] == "done" and not await export_jobs.is_fresh(job)
    return await page(request, "annual_reports.ExportProgress", job=job, base=_exports(ctx))


@get("/annual-report-exports/{job_id:int}/download", include_in_schema=False)
async def export_download(ctx: TenantContext, job_id: int) -> Response:
    ctx.require("annual_report.oversee")
    job = await export_jobs.get_job(job_id)
    await export_jobs.record_download(job, ctx.tenant, ctx.actor)
    return _job_file(job)


def _job_file(job: dict) -> Response:
    return download_response({"filename": job["filename"], "storage_key": job["storage_key"],
                              "content_type": exports.FORMATS[job["file_format"]], "size_bytes": job["size_bytes"]})


router = Router(
    path="/t/{tenant_slug:str}",
    route_handlers=[
        report_list, report_detail, report_save, report_submit, report_revision,
        attachment_remove, attachment_download,
        review_queue, deadline_set, review_detail, review_start, review_decide, review_attachment, review_revision,
        compliance_dashboard, export_list, export_request, export_progress, export_download,
    ],
    dependencies={"ctx": Provide(provide_tenant_context)},
)

# --- machine API: regulators' keys fetch the yearly export ------------------------------------------


API_DESCRIPTION = (
    "Regulator API keys with the 'read' scope only. Answers 200 with the file when an up-to-date one has been "
    "built; otherwise queues a background build (or joins the one running) and answers 202 with a Location "
    "header to poll (/api/v1/annual-reports/exports/{job_id}) and Retry-After. 422 when the year has no data; "
    "403 for other organisations' keys."
)


async def _regulator(request: Request, principal: ApiPrincipal) -> tuple[dict, Actor]:
    require_scope(principal, "read")
    if principal.tenant_kind != "regulator":
        raise Forbidden(_("Only regulators' API keys can fetch the annual report exports."))
    async with system_transaction():
        regulator = await Tenant.select().where(Tenant.id == principal.tenant_id).first()
    return regulator, Actor(user_id=None, label=f"api-key:{principal.key_id}@{principal.tenant_slug}",
                            ip=client_ip(request))


def _job_location(job: dict) -> str:
    return f"/api/v1/annual-reports/exports/{job['id']}"


def _job_status(job: dict, status_code: int = 200) -> Response:
    body = export_jobs.describe(job)
    body["status_url"] = _job_location(job)
    if job["status"] == "done":
        body["download_url"] = _job_location(job) + "/file"
    headers = {"Cache-Control": "no-store"}
    if job["status"] in ("queued", "running"):
        headers["Retry-After"] = str(export_jobs.RETRY_AFTER_SECONDS)
    if status_code == 202:
        headers["Location"] = _job_location(job)
    return Response(content=body, status_code=status_code, headers=headers, media_type="application/json")


async def _api_export(request: Request, principal: ApiPrincipal, year: int, export_format: str) -> Response:
    regulator, actor = await _regulator(request, principal)
    job, fresh = await export_jobs.request_export(regulator, year, export_format, actor)
    if fresh:
        await export_jobs.record_download(job, regulator, actor)
        return _job_file(job)
    return _job_status(job, 202)


@get("/exports/{job_id:int}", summary="Progress of a yearly export being built",
     description="Regulator API keys only. Status (queued, running, done, failed), progress 0-100 and the current "
                 "step; when done, download_url gives the file. Poll while the status is queued or running.",
     tags=["Annual reports"])
async def api_export_status(request: Request, principal: ApiPrincipal, job_id: int) -> Response:
    await _regulator(request, principal)
    return _job_status(await export_jobs.get_job(job_id))


@get("/exports/{job_id:int}/file", summary="The file of a finished yearly export",
     description="Regulator API keys only. 404 until the job is done.", tags=["Annual reports"])
async def api_export_file(request: Request, principal: ApiPrincipal, job_id: int) -> Response:
    regulator, actor = await _regulator(request, principal)
    job = await export_jobs.get_job(job_id)
    await export_jobs.record_download(job, regulator, actor)
    return _job_file(job)


@get("/{year:int}/export.xlsx", summary="The annual Code-of-Conduct report of a year as an XLSX workbook",
     description=API_DESCRIPTION + " One sheet per table.", tags=["Annual reports"])
async def api_export_xlsx(request: Request, principal: ApiPrincipal, year: int) -> Response:
    return await _api_export(request, principal, year, "xlsx")


@get("/{year:int}/export.zip", summary="The annual Code-of-Conduct report of a year as CSV files in a zip",
     description=API_DESCRIPTION + " One CSV file (UTF-8) per table.", tags=["Annual reports"])
async def api_export_zip(request: Request, principal: ApiPrincipal, year: int) -> Response:
    return await _api_export(request, principal, year, "zip")


@get("/{year:int}/export.pdf", summary="The annual Code-of-Conduct report of a year as a PDF document",
     description=API_DESCRIPTION + " Cover, summary figures, charts, one section per signatory, review outcome.",
     tags=["Annual reports"])
async def api_export_pdf(request: Request, principal: ApiPrincipal, year: int) -> Response:
    return await _api_export(request, principal, year, "pdf")


api_router = Router(path="/api/v1/annual-reports",
                    route_handlers=[api_export_xlsx, api_export_zip, api_export_pdf, api_export_status,
                                    api_export_file],
                    dependencies={"principal": Provide(provide_principal)})

routers = [router, api_router]
