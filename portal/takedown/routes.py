"""Takedown pages: the public report form, the analysts' queue and requests, the ISPs' inbox."""

from __future__ import annotations

from litestar import Request, Response, Router, get, post
from litestar.di import Provide
from litestar.response import Stream

from portal.core.errors import Conflict, NotFound, TooManyAttempts, ValidationFailed
from portal.core.i18n import _, gettext, ngettext
from portal.core.storage import get_storage
from portal.core.templating import catalog
from portal.core.web import TenantContext, client_ip, flash, form_data, page, provide_tenant_context, redirect
from portal.takedown import category_figures, imports, labels, reports
from portal.takedown import requests as takedown_requests
from portal.takedown.contact import submitter_key
from portal.takedown.labels import AGES, ASSESSMENTS, ASSIGNMENT_STATUSES, CATEGORIES, ITEM_STATUSES, PRIORITIES

# Label helpers for this feature's components, registered once on the shared environment.
catalog.jinja_env.globals.update(
    category_label=labels.category_label,
    category_codes=lambda: list(labels.CATEGORIES),
    item_status_label=lambda code: labels.label(labels.ITEM_STATUSES, code),
    channel_label=lambda code: labels.label(labels.CHANNELS, code),
    request_kind_label=lambda code: labels.label(labels.REQUEST_KINDS, code),
    request_status_label=lambda code: labels.label(labels.REQUEST_STATUSES, code),
    assignment_status_label=lambda code: labels.label(labels.ASSIGNMENT_STATUSES, code),
    priority_label=lambda code: labels.label(labels.PRIORITIES, code),
    outcome_label=lambda code: labels.label(labels.OUTCOMES, code),
    event_label=lambda code: labels.label(labels.EVENT_KINDS, code),
    dsa_category=lambda code: labels.CATEGORIES[code].dsa_category if code in labels.CATEGORIES else "",
    dsa_keyword=lambda code: labels.CATEGORIES[code].dsa_keyword if code in labels.CATEGORIES else "",
    figure_column_label=category_figures.column_label,
)


def category_options(blank: bool = True) -> list[tuple[str, str]]:
    options = [("", _("Choose…"))] if blank else []
    return options + [(code, gettext(category.label)) for code, category in CATEGORIES.items()]


def assessment_options() -> list[tuple[str, str]]:
    return [("", _("Choose…"))] + [(code, gettext(ITEM_STATUSES[code])) for code in ASSESSMENTS]


def _report_input(data: dict) -> reports.ReportInput:
    return reports.ReportInput(
        url=data.get("url", ""),
        category=data.get("category", ""),
        description=data.get("description", ""),
        source_reference=data.get("source_reference", ""),
        contact=data.get("contact", ""),
    )


# ---------------------------------------------------------------------------------------------
# Public report form (no sign-in)


@get("/report", include_in_schema=False)
async def public_report_form(request: Request) -> Response:
    return await page(request, "takedown.ReportPage", values={}, errors={}, categories=category_options())


@post("/report", include_in_schema=False)
async def public_report(request: Request) -> Response:
    data = await form_data(request)
    values = {key: data.get(key, "") for key in ("url", "category", "description", "contact")}
    try:
        receipt = await reports.submit_public_report(
            _report_input(data), submitter=submitter_key(client_ip(request)), ip=client_ip(request)
        )
    except ValidationFailed as exc:
        return await page(
            request, "takedown.ReportPage", status_code=422, values=values, errors=exc.errors,
            categories=category_options(),
        )
    except TooManyAttempts as exc:
        return await page(
            request, "takedown.ReportPage", status_code=429, values=values, errors={"url": exc.message},
            categories=category_options(),
        )
    return await page(request, "takedown.ReportReceivedPage", status_code=201, receipt=receipt.receipt)


public_router = Router(path="/", route_handlers=[public_report_form, public_report])


# ---------------------------------------------------------------------------------------------
# Analysts: the queue of reported URLs


@get("/reports", include_in_schema=False)
async def queue(request: Request, ctx: TenantContext) -> Response:
    ctx.require("takedown.triage")
    filters = reports.QueueFilters.from_query(dict(request.query_params))
    rows, pager = await reports.list_queue(ctx.tenant_id, filters, request.query_params.get("page"))
    counts = await reports.queue_counts(ctx.tenant_id)
    return await page(
        request, "takedown.QueuePage", rows=rows, pager=pager, filters=filters.as_dict(), counts=counts,
        categories=category_options(), statuses=list(ITEM_STATUSES.items()), ages=list(AGES.items()),
    )


@get("/reports/new", include_in_schema=False)
async def new_report_form(request: Request, ctx: TenantContext) -> Response:
    ctx.require("takedown.triage")
    return await page(request, "takedown.NewReportPage", values={}, errors={}, categories=category_options())


@post("/reports/new", include_in_schema=False)
async def new_report(request: Request, ctx: TenantContext) -> Response:
    ctx.require("takedown.triage")
    data = await form_data(request)
    try:
        receipt = await reports.record_report(
            ctx.tenant_id, _report_input(data), channel="analyst", actor=ctx.actor, submitted_by=ctx.actor.user_id
        )
    except ValidationFailed as exc:
        return await page(
            request, "takedown.NewReportPage", status_code=422, values=data, errors=exc.errors,
            categories=category_options(),
        )
    if receipt.repeat:
        message = _("This address was already in the queue: the report was added to it (%(count)s reports).",
                    count=receipt.report_count)
    else:
        message = _("Report %(receipt)s added to the queue.", receipt=receipt.receipt)
    await flash(request, message)
    return redirect(f"/t/{ctx.tenant['slug']}/takedown/reports/{receipt.item_id}")


@get("/reports/import", include_in_schema=False)
async def import_form(request: Request, ctx: TenantContext) -> Response:
    ctx.require("takedown.triage")
    return await page(request, "takedown.ImportPage", errors={}, imports=await imports.list_imports(ctx.tenant_id))


@post("/reports/import", include_in_schema=False)
async def import_file(request: Request, ctx: TenantContext) -> Response:
    """Start the import in the background; a small file is done before the redirect, a large one shows progress."""
    ctx.require("takedown.triage")
    form = await request.form()
    upload = form.get("file")
    if upload is None or isinstance(upload, str) or not upload.filename:
        errors = {"file": _("Choose a CSV file to import.")}
        return await page(request, "takedown.ImportPage", status_code=422, errors=errors,
                          imports=await imports.list_imports(ctx.tenant_id))
    try:
        import_id = await imports.start_import(ctx.tenant_id, upload.file, upload.filename, ctx.actor)
    except ValidationFailed as exc:
        return await page(request, "takedown.ImportPage", status_code=422, errors=exc.errors,
                          imports=await imports.list_imports(ctx.tenant_id))
    finally:
        await upload.close()
    await imports.wait(import_id, imports.WAIT_BEFORE_REDIRECT_SECONDS)
    return redirect(f"/t/{ctx.tenant['slug']}/takedown/imports/{import_id}")


@get("/imports/{import_id:int}", include_in_schema=False)
async def import_result(request: Request, ctx: TenantContext, import_id: int) -> Response:
    ctx.require("takedown.triage")
    result = await imports.get_import(ctx.tenant_id, import_id)
    return await page(request, "takedown.ImportResultPage", result=result, progress=imports.progress_view(result))


@get("/imports/{import_id:int}/progress", include_in_schema=False)
async def import_progress(request: Request, ctx: TenantContext, import_id: int) -> Response:
    """The fragment htmx polls while an import runs; once it has ended, the whole page is reloaded."""
    ctx.require("takedown.triage")
    result = await imports.get_import(ctx.tenant_id, import_id)
    response = await page(request, "takedown.ImportProgress", result=result, progress=imports.progress_view(result))
    if result["status"] != "running":
        response.headers["HX-Refresh"] = "true"
    return response


@get("/imports/{import_id:int}/errors.csv", include_in_schema=False)
async def import_errors(request: Request, ctx: TenantContext, import_id: int) -> Stream:
    ctx.require("takedown.triage")
    result = await imports.get_import(ctx.tenant_id, import_id)
    if not result["error_report_key"]:
        raise NotFound(_("This page does not exist or you do not have access to it."))
    return Stream(
        get_storage().open(result["error_report_key"]), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="import-{import_id}-errors.csv"'},
    )


@get("/reports/{item_id:int}", include_in_schema=False)
async def item_detail(request: Request, ctx: TenantContext, item_id: int) -> Response:
    ctx.require("takedown.triage")
    view = await reports.view_item(ctx.tenant_id, item_id, ctx.actor)
    return await page(
        request, "takedown.ItemPage", view=view, values={"category": view["item"]["category"]}, errors={},
        categories=category_options(blank=False), assessments=assessment_options(),
    )


@post("/reports/{item_id:int}/assess", include_in_schema=False)
async def assess(request: Request, ctx: TenantContext, item_id: int) -> Response:
    ctx.require("takedown.triage")
    data = await form_data(request)
    try:
        await reports.assess_item(
            ctx.tenant_id, item_id, outcome=data.get("outcome", ""), note=data.get("note", ""),
            duplicate_of=data.get("duplicate_of", ""), category=data.get("category", ""), actor=ctx.actor,
        )
    except ValidationFailed as exc:
        view = await reports.view_item(ctx.tenant_id, item_id, ctx.actor)
        return await page(
            request, "takedown.ItemPage", status_code=422, view=view, values=data, errors=exc.errors,
            categories=category_options(blank=False), assessments=assessment_options(),
        )
    await flash(request, _("Assessment saved."))
    return redirect(f"/t/{ctx.tenant['slug']}/takedown/reports/{item_id}")


# ---------------------------------------------------------------------------------------------
# Analysts: issuing and following requests


def _ints(values: list[str]) -> list[int]:
    result = []
    for value in values:
        try:
            result.append(int(value))
        except (TypeError, ValueError):
            continue
    return result


async def _request_form(request: Request, ctx: TenantContext, values: dict, errors: dict, item_ids: list[int],
                        status_code: int = 200) -> Response:
    items = await takedown_requests.items_for_request_form(ctx.tenant_id, item_ids)
    return await page(
        request, "takedown.NewRequestPage", status_code=status_code, values=values, errors=errors, items=items,
        isps=await takedown_requests.isp_choices(), categories=category_options(),
        priorities=[("", _("From the categories (24 h CSAM, 48 h other illegal, 72 h harmful)"))]
        + [(code, gettext(text)) for code, text in PRIORITIES.items()],
        kinds=[("block", _("Blocking (to internet service providers)")), ("takedown", _("Takedown (to the hosting company)"))],
    )


@get("/requests", include_in_schema=False)
async def issued_requests(request: Request, ctx: TenantContext) -> Response:
    ctx.require("takedown.requests")
    status = request.query_params.get("status") or ""
    rows, pager = await takedown_requests.list_issued(ctx.tenant_id, status, request.query_params.get("page"))
    return await page(request, "takedown.RequestsPage", rows=rows, pager=pager, status=status)


@get("/requests/new", include_in_schema=False)
async def new_request_form(request: Request, ctx: TenantContext) -> Response:
    ctx.require("takedown.requests")
    item_ids = _ints(request.query_params.getall("item", []))
    return await _request_form(request, ctx, {"kind": "block"}, {}, item_ids)


@post("/requests/new", include_in_schema=False)
async def new_request(request: Request, ctx: TenantContext) -> Response:
    ctx.require("takedown.requests")
    form = await request.form()
    data = await form_data(request)
    item_ids = _ints(form.getall("item", []))
    recipients = [v for v in form.getall("recipient", []) if isinstance(v, str)]
    typed = [line for line in data.get("urls", "").splitlines() if line.strip()]
    try:
        issued = await takedown_requests.issue_request(
            ctx.tenant,
            takedown_requests.RequestInput(
                kind=data.get("kind", ""), recipients=recipients, legal_basis=data.get("legal_basis", ""),
                item_ids=item_ids, urls=typed, category=data.get("category", ""), priority=data.get("priority", ""),
                note=data.get("note", ""),
            ),
            ctx.actor,
        )
    except ValidationFailed as exc:
        values = {**data, "recipients": recipients}
        return await _request_form(request, ctx, values, exc.errors, item_ids, status_code=422)
    await flash(request, _("Request %(ref)s was sent.", ref=issued["reference"]))
    return redirect(f"/t/{ctx.tenant['slug']}/takedown/requests/{issued['reference']}")


@get("/requests/{reference:str}", include_in_schema=False)
async def issued_request(request: Request, ctx: TenantContext, reference: str) -> Response:
    ctx.require("takedown.requests")
    detail = await takedown_requests.request_for_issuer(ctx.tenant_id, reference)
    return await page(request, "takedown.IssuedRequestPage", request_detail=detail)


@post("/requests/{reference:str}/withdraw", include_in_schema=False)
async def withdraw(request: Request, ctx: TenantContext, reference: str) -> Response:
    ctx.require("takedown.requests")
    data = await form_data(request)
    try:
        changed = await takedown_requests.withdraw_request(ctx.tenant_id, reference, data.get("reason", ""), ctx.actor)
    except (ValidationFailed, Conflict) as exc:
        return await _issued_page(request, ctx, reference, exc)
    if changed:
        await flash(request, _("Request %(ref)s was withdrawn.", ref=reference))
    return redirect(f"/t/{ctx.tenant['slug']}/takedown/requests/{reference}")


async def _issued_page(request: Request, ctx: TenantContext, reference: str, exc: ValidationFailed | Conflict) -> Response:
    """Show the refusal where the person acted, with the request as it still is."""
    detail = await takedown_requests.request_for_issuer(ctx.tenant_id, reference)
    return await page(request, "takedown.IssuedRequestPage", status_code=exc.status_code, request_detail=detail,
                      alerts=[("error", exc.message)])


@post("/requests/{reference:str}/close/{recipient:str}", include_in_schema=False)
async def close(request: Request, ctx: TenantContext, reference: str, recipient: str) -> Response:
    ctx.require("takedown.requests")
    data = await form_data(request)
    try:
        changed = await takedown_requests.close_assignment(
            ctx.tenant_id, reference, recipient, data.get("note", ""), ctx.actor
        )
    except Conflict as exc:
        return await _issued_page(request, ctx, reference, exc)
    if changed:
        await flash(request, _("Closed."))
    return redirect(f"/t/{ctx.tenant['slug']}/takedown/requests/{reference}")


# ---------------------------------------------------------------------------------------------
# ISPs: the requests addressed to them


@get("/inbox", include_in_schema=False)
async def inbox(request: Request, ctx: TenantContext) -> Response:
    ctx.require("takedown.inbox")
    status = request.query_params.get("status") or ""
    return await _inbox_page(request, ctx, status, [], 200)


async def _inbox_page(request: Request, ctx: TenantContext, status: str, alerts: list, status_code: int,
                      entered: dict | None = None) -> Response:
    """The inbox; ``entered`` is a refused bulk form (ticked references, action, outcome, note) shown again."""
    if status not in takedown_requests.INBOX_STATUSES:
        status = ""
    rows, pager, overdue = await takedown_requests.inbox(ctx.tenant_id, status, request.query_params.get("page"))
    return await page(
        request, "takedown.InboxPage", status_code=status_code, rows=rows, pager=pager, status=status, overdue=overdue,
        statuses=[("open", _("To do")), ("overdue", _("Overdue"))] + [(k, gettext(v)) for k, v in ASSIGNMENT_STATUSES.items()],
        can_respond=_can(ctx, "takedown.respond"), alerts=alerts,
        entered=entered or {"selected": [], "action": "", "outcome": "", "note": ""},
    )


def _can(ctx: TenantContext, permission: str) -> bool:
    from portal.core.permissions import can

    return can(ctx.access, permission)


@get("/inbox/{reference:str}", include_in_schema=False)
async def inbox_request(request: Request, ctx: TenantContext, reference: str) -> Response:
    ctx.require("takedown.inbox")
    detail = await takedown_requests.request_for_recipient(ctx.tenant_id, reference)
    return await page(request, "takedown.InboxRequestPage", request_detail=detail, can_respond=_can(ctx, "takedown.respond"),
                      values={}, errors={})


async def _respond(ctx: TenantContext, action: str, reference: str, data: dict):
    if action == "acknowledge":
        return await takedown_requests.acknowledge(ctx.tenant_id, reference, ctx.actor)
    if action == "action":
        return await takedown_requests.mark_actioned(
            ctx.tenant_id, reference, data.get("outcome", ""), data.get("note", ""), ctx.actor
        )
    if action == "dispute":
        return await takedown_requests.dispute(ctx.tenant_id, reference, data.get("reason", ""), ctx.actor)
    raise ValidationFailed({"action": _("Choose what to do.")})


@post("/inbox/{reference:str}/{action:str}", include_in_schema=False)
async def respond(request: Request, ctx: TenantContext, reference: str, action: str) -> Response:
    ctx.require("takedown.respond")
    data = await form_data(request)
    if action not in ("acknowledge", "action", "dispute"):
        raise ValidationFailed({"action": _("Choose what to do.")})
    try:
        await _respond(ctx, action, reference, data)
    except (ValidationFailed, Conflict) as exc:
        detail = await takedown_requests.request_for_recipient(ctx.tenant_id, reference)
        return await page(request, "takedown.InboxRequestPage", status_code=exc.status_code, request_detail=detail,
                          can_respond=True, values=data, errors=getattr(exc, "errors", {}),
                          alerts=[("error", exc.message)])
    await flash(request, _("Saved."))
    return redirect(f"/t/{ctx.tenant['slug']}/takedown/inbox/{reference}")


@post("/inbox/bulk", include_in_schema=False)
async def respond_in_bulk(request: Request, ctx: TenantContext) -> Response:
    """Acknowledge, action or dispute several requests at once; each is its own step, reported back."""
    ctx.require("takedown.respond")
    form = await request.form()
    data = await form_data(request)
    references = [v for v in form.getall("reference", []) if isinstance(v, str) and v]
    action = data.get("action", "")
    entered = {"selected": references, "action": action, "outcome": data.get("outcome", ""),
               "note": data.get("note", "")}
    if not references:
        return await _inbox_page(request, ctx, "", [("error", _("Select at least one request."))], 422, entered)
    if action not in ("acknowledge", "action", "dispute"):
        return await _inbox_page(request, ctx, "", [("error", _("Choose what to do."))], 422, entered)
    if action == "dispute":
        data["reason"] = data.get("note", "")  # the bulk form has one text field for both
    done = 0
    problems: list[str] = []
    refused: list[str] = []
    for reference in references:
        try:
            _assignment, changed = await _respond(ctx, action, reference, data)
        except (ValidationFailed, Conflict) as exc:
            problems.append(f"{reference}: {exc.message}")
            refused.append(reference)
        else:
            done += 1 if changed else 0
    alerts = [("success", ngettext("%(num)s request updated.", "%(num)s requests updated.", done))] if done else []
    alerts += [("error", problem) for problem in problems]
    if not alerts:
        alerts = [("info", _("Nothing changed: the selected requests were already in that state."))]
    # The refused requests stay ticked with the action and note, ready to correct and apply again.
    return await _inbox_page(request, ctx, "", alerts, 200 if done or not problems else 409,
                             {**entered, "selected": refused} if refused else None)


# ---------------------------------------------------------------------------------------------
# Figures per category, beside the EU DSA categories


@get("/figures", include_in_schema=False)
async def figures(request: Request, ctx: TenantContext) -> Response:
    ctx.require("takedown.figures")
    years = category_figures.year_choices()
    try:
        year = category_figures.valid_year(request.query_params.get("year"))
    except ValidationFailed as exc:
        return await page(request, "takedown.FiguresPage", status_code=422, year=None, rows=[], years=years,
                          errors=exc.errors)
    rows = await category_figures.for_organisation(ctx.tenant_id, year)
    return await page(request, "takedown.FiguresPage", year=year, rows=rows, years=years, errors={})


@get(["/figures.csv", "/figures.xlsx"], include_in_schema=False)
async def figures_export(request: Request, ctx: TenantContext) -> Response:
    ctx.require("takedown.figures")
    year = category_figures.valid_year(request.query_params.get("year"))
    file_format = "csv" if request.url.path.endswith(".csv") else "xlsx"
    filename, content_type, content = await category_figures.export(ctx.tenant_id, year, file_format, ctx.actor)
    return Response(content=content, media_type=content_type, headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "private, no-store"})


router = Router(
    path="/t/{tenant_slug:str}/takedown",
    route_handlers=[
        queue, new_report_form, new_report, import_form, import_file, import_result, import_progress, import_errors,
        item_detail, assess,
        issued_requests, new_request_form, new_request, issued_request, withdraw, close,
        inbox, inbox_request, respond_in_bulk, respond, figures, figures_export,
    ],
    dependencies={"ctx": Provide(provide_tenant_context)},
)
