"""Code of Conduct pages: versions and signing, measures, the regulators' registry, the public list and API.

Tenant pages live under /t/{tenant_slug}/: ``code-of-conduct`` (the Code, drafting, signing),
``code-measures`` (an organisation's measures), ``code-registry`` and ``signatory-measures``
(regulators). ``/code-of-conduct/...`` and ``/api/v1/code-of-conduct/...`` need no sign-in.
"""

from __future__ import annotations

from datetime import date

from litestar import Request, Response, Router, get, post
from litestar.di import Provide

from portal.code_of_conduct import exports, forms, measures, services, template_globals
from portal.code_of_conduct.files import download_response, evidence_limit
from portal.code_of_conduct.measures import MeasureFilters, MeasureInput, format_number
from portal.code_of_conduct.services import SIGNING_KINDS, RegistryFilters
from portal.code_of_conduct.text import canonical_text
from portal.core.errors import Conflict, ValidationFailed
from portal.core.i18n import _
from portal.core.pagination import Pager
from portal.core.permissions import can
from portal.core.web import TenantContext, flash, form_data, page, provide_tenant_context, redirect

template_globals.register()

MEASURES_PER_PAGE = 25


def _code(ctx: TenantContext, suffix: str = "") -> str:
    return f"/t/{ctx.tenant['slug']}/code-of-conduct{suffix}"


def _measures(ctx: TenantContext, suffix: str = "") -> str:
    return f"/t/{ctx.tenant['slug']}/code-measures{suffix}"


def _registry(ctx: TenantContext, suffix: str = "") -> str:
    return f"/t/{ctx.tenant['slug']}/code-registry{suffix}"


def _oversight(ctx: TenantContext, suffix: str = "") -> str:
    return f"/t/{ctx.tenant['slug']}/signatory-measures{suffix}"


def _max_mb() -> str:
    return format_number(round(evidence_limit() / 1048576, 1))


# --- the Code and its versions -----------------------------------------------------------------


@get("/code-of-conduct", include_in_schema=False)
async def code_overview(request: Request, ctx: TenantContext) -> Response:
    ctx.require("code.view")
    is_regulator = can(ctx.access, "code.registry")
    versions = await services.list_versions(include_drafts=is_regulator)
    current = await services.current_version()
    state = await services.signing_state(ctx.tenant_id) if ctx.tenant["kind"] in SIGNING_KINDS else None
    figures = None
    if is_regulator:
        rows = await services.registry(RegistryFilters())
        figures = {status: sum(1 for r in rows if r["status"] == status) for status in services.SIGNING_STATUSES}
        figures["isps"] = sum(1 for r in rows if r["kind"] == "isp")
        figures["isps_current"] = sum(1 for r in rows if r["kind"] == "isp" and r["status"] == "signed_current")
    return await page(
        request, "code_of_conduct.CodePage", current=current, versions=versions, state=state, figures=figures,
        base=_code(ctx), can_sign=can(ctx.access, "code.sign"), can_manage=can(ctx.access, "code.manage_versions"),
        is_regulator=is_regulator,
    )


@get("/code-of-conduct/versions/{version_id:int}", include_in_schema=False)
async def version_detail(request: Request, ctx: TenantContext, version_id: int) -> Response:
    ctx.require("code.view")
    version = await services.get_version(version_id, include_drafts=can(ctx.access, "code.registry"))
    return await page(
        request, "code_of_conduct.VersionPage", version=version, base=_code(ctx),
        can_manage=can(ctx.access, "code.manage_versions"),
    )


@get("/code-of-conduct/versions/new", include_in_schema=False)
async def draft_form(request: Request, ctx: TenantContext) -> Response:
    ctx.require("code.manage_versions")
    current = await services.current_version()
    values = {name: current[name] for name in services.VERSION_TEXT_FIELDS} if current else {}
    values["copy_commitments"] = "on"
    existing = await services.draft_version()
    return await page(
        request, "code_of_conduct.VersionForm", values=values, errors={}, base=_code(ctx), version=None,
        current=current, existing_draft=existing,
    )


@post("/code-of-conduct/versions/new", include_in_schema=False)
async def draft_create(request: Request, ctx: TenantContext) -> Response:
    ctx.require("code.manage_versions")
    data = await form_data(request)
    try:
        version = await services.create_draft(
            ctx.tenant, data, ctx.actor, copy_current=data.get("copy_commitments") == "on"
        )
    except ValidationFailed as exc:
        current = await services.current_version()
        return await page(
            request, "code_of_conduct.VersionForm", status_code=422, values=data, errors=exc.errors,
            base=_code(ctx), version=None, current=current, existing_draft=await services.draft_version(),
        )
    await flash(request, _("Draft version %(label)s created.", label=version["label"]))
    return redirect(_code(ctx, f"/versions/{version['id']}"))


@get("/code-of-conduct/versions/{version_id:int}/edit", include_in_schema=False)
async def draft_edit_form(request: Request, ctx: TenantContext, version_id: int) -> Response:
    ctx.require("code.manage_versions")
    version = await services.get_draft(version_id)
    values = {name: version[name] for name in ("label", *services.VERSION_TEXT_FIELDS)}
    return await page(
        request, "code_of_conduct.VersionForm", values=values, errors={}, base=_code(ctx), version=version,
        current=None, existing_draft=None,
    )


@post("/code-of-conduct/versions/{version_id:int}/edit", include_in_schema=False)
async def draft_update(request: Request, ctx: TenantContext, version_id: int) -> Response:
    ctx.require("code.manage_versions")
    version = await services.get_draft(version_id)
    data = await form_data(request)
    try:
        await services.update_draft(ctx.tenant, version_id, data, ctx.actor)
    except ValidationFailed as exc:
        return await page(
            request, "code_of_conduct.VersionForm", status_code=422, values=data, errors=exc.errors,
            base=_code(ctx), version=version, current=None, existing_draft=None,
        )
    await flash(request, _("The draft has been saved."))
    return redirect(_code(ctx, f"/versions/{version_id}"))


@get("/code-of-conduct/versions/{version_id:int}/commitments/new", include_in_schema=False)
async def commitment_form(request: Request, ctx: TenantContext, version_id: int) -> Response:
    ctx.require("code.manage_versions")
    version = await services.get_draft(version_id)
    return await page(
        request, "code_of_conduct.CommitmentForm", version=version, commitment=None, values={}, errors={},
        base=_code(ctx),
    )


@post("/code-of-conduct/versions/{version_id:int}/commitments/new", include_in_schema=False)
async def commitment_create(request: Request, ctx: TenantContext, version_id: int) -> Response:
    ctx.require("code.manage_versions")
    version = await services.get_draft(version_id)
    data = await form_data(request)
    try:
        commitment = await services.add_commitment(ctx.tenant, version_id, data, ctx.actor)
    except ValidationFailed as exc:
        return await page(
            request, "code_of_conduct.CommitmentForm", status_code=422, version=version, commitment=None,
            values=data, errors=exc.errors, base=_code(ctx),
        )
    await flash(request, _("Commitment %(code)s added.", code=commitment["code"]))
    return redirect(_code(ctx, f"/versions/{version_id}#commitment-{commitment['id']}"))


@get("/code-of-conduct/versions/{version_id:int}/commitments/{commitment_id:int}/edit", include_in_schema=False)
async def commitment_edit_form(request: Request, ctx: TenantContext, version_id: int, commitment_id: int) -> Response:
    ctx.require("code.manage_versions")
    version, commitment = await services.get_draft_commitment(version_id, commitment_id)
    values = {name: str(commitment[name]) for name in ("code", "position", "title_sq", "title_en", "text_sq", "text_en")}
    return await page(
        request, "code_of_conduct.CommitmentForm", version=version, commitment=commitment, values=values, errors={},
        base=_code(ctx),
    )


@post("/code-of-conduct/versions/{version_id:int}/commitments/{commitment_id:int}/edit", include_in_schema=False)
async def commitment_update(request: Request, ctx: TenantContext, version_id: int, commitment_id: int) -> Response:
    ctx.require("code.manage_versions")
    version, commitment = await services.get_draft_commitment(version_id, commitment_id)
    data = await form_data(request)
    try:
        await services.update_commitment(ctx.tenant, version_id, commitment_id, data, ctx.actor)
    except ValidationFailed as exc:
        return await page(
            request, "code_of_conduct.CommitmentForm", status_code=422, version=version, commitment=commitment,
            values=data, errors=exc.errors, base=_code(ctx),
        )
    await flash(request, _("Commitment %(code)s saved.", code=data.get("code", "").strip()))
    return redirect(_code(ctx, f"/versions/{version_id}#commitment-{commitment_id}"))


@post("/code-of-conduct/versions/{version_id:int}/commitments/{commitment_id:int}/remove", include_in_schema=False)
async def commitment_remove(request: Request, ctx: TenantContext, version_id: int, commitment_id: int) -> Response:
    ctx.require("code.manage_versions")
    _version, commitment = await services.get_draft_commitment(version_id, commitment_id)
    await services.remove_commitment(ctx.tenant, version_id, commitment_id, ctx.actor)
    await flash(request, _("Commitment %(code)s removed from the draft.", code=commitment["code"]))
    return redirect(_code(ctx, f"/versions/{version_id}"))


async def _changes_page(request: Request, ctx: TenantContext, version_id: int, *, status_code: int = 200,
                        values: dict | None = None, errors: dict | None = None) -> Response:
    version = await services.get_draft(version_id)
    diff = await services.diff_against_current(version["id"])
    return await page(
        request, "code_of_conduct.ChangesPage", status_code=status_code, diff=diff, base=_code(ctx),
        can_manage=can(ctx.access, "code.manage_versions"), values=values or {}, errors=errors or {},
    )


@get("/code-of-conduct/versions/{version_id:int}/changes", include_in_schema=False)
async def version_changes(request: Request, ctx: TenantContext, version_id: int) -> Response:
    ctx.require("code.registry")
    return await _changes_page(request, ctx, version_id)


@post("/code-of-conduct/versions/{version_id:int}/publish", include_in_schema=False)
async def version_publish(request: Request, ctx: TenantContext, version_id: int) -> Response:
    ctx.require("code.manage_versions")
    data = await form_data(request)
    try:
        version = await services.publish_version(ctx.tenant, version_id, ctx.actor, confirmed=data.get("confirm") == "on")
    except ValidationFailed as exc:
        return await _changes_page(request, ctx, version_id, status_code=422, values=data, errors=exc.errors)
    await flash(
        request,
        _("Version %(label)s is now in force. Its fingerprint (SHA-256) is %(hash)s.",
          label=version["label"], hash=version["content_hash"]),
    )
    return redirect(_code(ctx, f"/versions/{version_id}"))


@post("/code-of-conduct/versions/{version_id:int}/discard", include_in_schema=False)
async def version_discard(request: Request, ctx: TenantContext, version_id: int) -> Response:
    ctx.require("code.manage_versions")
    version = await services.get_draft(version_id)
    await services.discard_draft(ctx.tenant, version_id, ctx.actor)
    await flash(request, _("Draft version %(label)s discarded.", label=version["label"]))
    return redirect(_code(ctx))


# --- signing -----------------------------------------------------------------------------------


async def _sign_page(request: Request, ctx: TenantContext, *, values: dict, errors: dict, status_code: int = 200) -> Response:
    state = await services.signing_state(ctx.tenant_id)
    return await page(
        request, "code_of_conduct.SignPage", status_code=status_code, state=state, version=state.current,
        values=values, errors=errors, base=_code(ctx), max_mb=_max_mb(),
    )


@get("/code-of-conduct/sign", include_in_schema=False)
async def sign_form(request: Request, ctx: TenantContext) -> Response:
    ctx.require("code.sign")
    values = {"signatory_name": ctx.signed_in.user.get("full_name", ""), "signatory_title": ""}
    return await _sign_page(request, ctx, values=values, errors={})


@post("/code-of-conduct/sign", include_in_schema=False)
async def sign(request: Request, ctx: TenantContext) -> Response:
    ctx.require("code.sign")
    values, pdf = await forms.read_sign_form(request)
    try:
        signature = await services.sign_version(
            ctx.tenant, version_id=values["version_id"], shown_hash=values["content_hash"],
            signatory_name=values["signatory_name"], signatory_title=values["signatory_title"],
            confirmed=values["confirm"] == "on", signed_pdf=pdf, actor=ctx.actor,
        )
    except ValidationFailed as exc:
        if "version" in exc.errors:
            # The confirmation was given for another text: it must be given again for the one shown now.
            values["confirm"] = ""
        return await _sign_page(request, ctx, values=values, errors=exc.errors, status_code=422)
    await flash(
        request,
        _("Your organisation has signed the Code of Conduct. Fingerprint of the signed text: %(hash)s",
          hash=signature["signed_hash"]),
    )
    return redirect(_code(ctx))


@get("/code-of-conduct/signatures/{signature_id:int}/withdraw", include_in_schema=False)
async def withdraw_form(request: Request, ctx: TenantContext, signature_id: int) -> Response:
    ctx.require("code.sign")
    signature = await services.get_signature(ctx.tenant_id, signature_id)
    return await page(
        request, "code_of_conduct.WithdrawPage", signature=signature, values={}, errors={}, base=_code(ctx),
    )


@post("/code-of-conduct/signatures/{signature_id:int}/withdraw", include_in_schema=False)
async def withdraw(request: Request, ctx: TenantContext, signature_id: int) -> Response:
    ctx.require("code.sign")
    signature = await services.get_signature(ctx.tenant_id, signature_id)
    data = await form_data(request)
    try:
        await services.withdraw_signature(ctx.tenant, signature_id, data.get("reason", ""), ctx.actor)
    except ValidationFailed as exc:
        return await page(
            request, "code_of_conduct.WithdrawPage", status_code=422, signature=signature, values=data,
            errors=exc.errors, base=_code(ctx),
        )
    await flash(request, _("The signature of version %(label)s has been withdrawn.", label=signature["version_label"]))
    return redirect(_code(ctx))


@get("/code-of-conduct/signatures/{signature_id:int}/signed-copy", include_in_schema=False)
async def signed_copy(ctx: TenantContext, signature_id: int) -> Response:
    ctx.require("code.view")
    signature = await services.get_signature(ctx.tenant_id, signature_id)
    file_row = await services.signed_pdf_file(signature)
    await services.record_download(ctx.actor, ctx.tenant_id, signature["tenant"], "signed_pdf", file_row, signature["id"])
    return download_response(file_row)


# --- measures of one organisation ---------------------------------------------------------------


@get("/code-measures", include_in_schema=False)
async def measure_list(request: Request, ctx: TenantContext) -> Response:
    ctx.require("measures.view")
    filters = MeasureFilters.from_query(dict(request.query_params))
    rows = await measures.tenant_measures(ctx.tenant_id, filters)
    everything = await measures.tenant_measures(ctx.tenant_id, MeasureFilters())
    pager = Pager.from_query(request.query_params.get("page"), len(rows), per_page=MEASURES_PER_PAGE)
    state = await services.signing_state(ctx.tenant_id)
    return await page(
        request, "code_of_conduct.MeasuresPage", rows=rows[pager.offset : pager.offset + pager.per_page], pager=pager,
        summary=measures.summary_by_commitment(everything), filters=filters,
        commitments=await measures.commitments_for_filter(ctx.tenant_id), state=state, base=_measures(ctx),
        code_base=_code(ctx), can_log=can(ctx.access, "measures.log"),
        years=sorted({y for r in everything for y in measures.years_of(r)} | {date.today().year}, reverse=True),
    )


async def _measure_form(
    request: Request, ctx: TenantContext, *, data: MeasureInput, errors: dict, measure: dict | None,
    status_code: int = 200,
) -> Response:
    if measure is None:
        version, commitments = await measures.signed_version_for_measures(ctx.tenant_id)
    else:
        version = {"id": measure["version"], "label": measure["version_label"]}
        commitments = await services.commitments_of(measure["version"])
    return await page(
        request, "code_of_conduct.MeasureForm", status_code=status_code, measure=measure, version=version,
        commitments=commitments, values=data.values(), selected=set(data.commitment_ids),
        indicators=forms.indicator_rows(data), errors=errors, base=_measures(ctx), code_base=_code(ctx),
        max_mb=_max_mb(), can_sign=can(ctx.access, "code.sign"),
    )


@get("/code-measures/new", include_in_schema=False)
async def measure_new(request: Request, ctx: TenantContext) -> Response:
    ctx.require("measures.log")
    data = MeasureInput(start_date=date.today().isoformat())
    return await _measure_form(request, ctx, data=data, errors={}, measure=None)


@post("/code-measures/new", include_in_schema=False)
async def measure_create(request: Request, ctx: TenantContext) -> Response:
    ctx.require("measures.log")
    data, evidence = await forms.read_measure_form(request)
    try:
        created = await measures.create_measure(ctx.tenant, data, evidence, ctx.actor)
    except ValidationFailed as exc:
        return await _measure_form(request, ctx, data=data, errors=exc.errors, measure=None, status_code=422)
    await flash(request, _("The measure “%(title)s” has been logged.", title=created["title"]))
    return redirect(_measures(ctx, f"/{created['id']}"))


async def _measure_page(request: Request, ctx: TenantContext, measure_id: int, *, errors: dict | None = None,
                        status_code: int = 200) -> Response:
    measure = await measures.get_measure(ctx.tenant_id, measure_id)
    return await page(
        request, "code_of_conduct.MeasurePage", status_code=status_code, measure=measure, base=_measures(ctx),
        evidence_base=_measures(ctx, f"/{measure['id']}/evidence"), regulator=False,
        can_log=can(ctx.access, "measures.log"), errors=errors or {}, max_mb=_max_mb(),
    )


@get("/code-measures/{measure_id:int}", include_in_schema=False)
async def measure_detail(request: Request, ctx: TenantContext, measure_id: int) -> Response:
    ctx.require("measures.view")
    return await _measure_page(request, ctx, measure_id)


@get("/code-measures/{measure_id:int}/edit", include_in_schema=False)
async def measure_edit_form(request: Request, ctx: TenantContext, measure_id: int) -> Response:
    ctx.require("measures.log")
    measure = await measures.get_measure(ctx.tenant_id, measure_id, with_history=False)
    if measure["deleted_at"] is not None:
        raise Conflict(_("A deleted measure cannot be changed."))
    return await _measure_form(request, ctx, data=MeasureInput.from_measure(measure), errors={}, measure=measure)


@post("/code-measures/{measure_id:int}/edit", include_in_schema=False)
async def measure_update(request: Request, ctx: TenantContext, measure_id: int) -> Response:
    ctx.require("measures.log")
    measure = await measures.get_measure(ctx.tenant_id, measure_id, with_history=False)
    data, _files = await forms.read_measure_form(request)
    try:
        changes = await measures.update_measure(ctx.tenant, measure_id, data, ctx.actor)
    except ValidationFailed as exc:
        return await _measure_form(request, ctx, data=data, errors=exc.errors, measure=measure, status_code=422)
    await flash(request, _("The measure has been saved.") if changes else _("Nothing was changed."))
    return redirect(_measures(ctx, f"/{measure_id}"))


@post("/code-measures/{measure_id:int}/evidence", include_in_schema=False)
async def measure_add_evidence(request: Request, ctx: TenantContext, measure_id: int) -> Response:
    ctx.require("measures.log")
    await measures.get_measure(ctx.tenant_id, measure_id, with_history=False)
    form = await request.form()
    uploads = await forms.read_uploads(form, "evidence")
    try:
        stored = await measures.add_evidence(ctx.tenant, measure_id, uploads, ctx.actor)
    except ValidationFailed as exc:
        return await _measure_page(request, ctx, measure_id, errors=exc.errors, status_code=422)
    await flash(request, _("Evidence added: %(files)s", files=", ".join(f["filename"] for f in stored)))
    return redirect(_measures(ctx, f"/{measure_id}#evidence"))


@get("/code-measures/{measure_id:int}/evidence/{evidence_id:int}", include_in_schema=False)
async def measure_evidence(ctx: TenantContext, measure_id: int, evidence_id: int) -> Response:
    ctx.require("measures.view")
    measure, file_row = await measures.evidence_file(ctx.tenant_id, measure_id, evidence_id)
    await services.record_download(ctx.actor, ctx.tenant_id, measure["tenant"], "evidence", file_row, measure["id"])
    return download_response(file_row)


@get("/code-measures/{measure_id:int}/delete", include_in_schema=False)
async def measure_delete_form(request: Request, ctx: TenantContext, measure_id: int) -> Response:
    ctx.require("measures.log")
    measure = await measures.get_measure(ctx.tenant_id, measure_id, with_history=False)
    return await page(
        request, "code_of_conduct.DeleteMeasurePage", measure=measure, values={}, errors={}, base=_measures(ctx),
    )


@post("/code-measures/{measure_id:int}/delete", include_in_schema=False)
async def measure_delete(request: Request, ctx: TenantContext, measure_id: int) -> Response:
    ctx.require("measures.log")
    measure = await measures.get_measure(ctx.tenant_id, measure_id, with_history=False)
    data = await form_data(request)
    try:
        await measures.delete_measure(ctx.tenant, measure_id, data.get("reason", ""), ctx.actor)
    except ValidationFailed as exc:
        return await page(
            request, "code_of_conduct.DeleteMeasurePage", status_code=422, measure=measure, values=data,
            errors=exc.errors, base=_measures(ctx),
        )
    await flash(request, _("The measure “%(title)s” has been deleted.", title=measure["title"]))
    return redirect(_measures(ctx))


# --- regulators: registry and every signatory's measures ------------------------------------------


@get("/code-registry", include_in_schema=False)
async def registry_page(request: Request, ctx: TenantContext) -> Response:
    ctx.require("code.registry")
    filters = RegistryFilters.from_query(dict(request.query_params))
    rows = await services.registry(filters)
    return await page(
        request, "code_of_conduct.RegistryPage", rows=rows, filters=filters, base=_registry(ctx),
        versions=await services.list_versions(include_drafts=False), oversight=_oversight(ctx),
        current=await services.current_version(with_commitments=False),
    )


def _export_name(extension: str) -> str:
    return f"code-of-conduct-signatories-{date.today().isoformat()}.{extension}"


@get("/code-registry/export.csv", include_in_schema=False)
async def registry_csv(request: Request, ctx: TenantContext) -> Response:
    ctx.require("code.registry")
    filters = RegistryFilters.from_query(dict(request.query_params))
    rows = await services.registry(filters)
    await services.record_export(ctx.tenant, ctx.actor, "csv", filters, len(rows))
    return Response(
        content=exports.registry_csv(rows), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{_export_name("csv")}"', "Cache-Control": "private, no-store"},
    )


@get("/code-registry/export.xlsx", include_in_schema=False)
async def registry_xlsx(request: Request, ctx: TenantContext) -> Response:
    ctx.require("code.registry")
    filters = RegistryFilters.from_query(dict(request.query_params))
    rows = await services.registry(filters)
    await services.record_export(ctx.tenant, ctx.actor, "xlsx", filters, len(rows))
    return Response(
        content=exports.registry_xlsx(rows),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{_export_name("xlsx")}"', "Cache-Control": "private, no-store"},
    )


@get("/code-registry/organisations/{organisation_id:int}", include_in_schema=False)
async def registry_organisation(request: Request, ctx: TenantContext, organisation_id: int) -> Response:
    ctx.require("code.registry")
    rows = [r for r in await services.registry(RegistryFilters()) if r["tenant_id"] == organisation_id]
    if not rows:
        raise services.not_found()
    history = await services.signature_history(organisation_id)
    return await page(
        request, "code_of_conduct.RegistryOrganisationPage", row=rows[0], history=history, base=_registry(ctx),
        oversight=_oversight(ctx),
    )


@get("/code-registry/signatures/{signature_id:int}/signed-copy", include_in_schema=False)
async def registry_signed_copy(ctx: TenantContext, signature_id: int) -> Response:
    ctx.require("code.registry")
    signature = await services.registry_signature(signature_id)
    file_row = await services.signed_pdf_file(signature)
    await services.record_download(ctx.actor, ctx.tenant_id, signature["tenant"], "signed_pdf", file_row, signature["id"])
    return download_response(file_row)


@get("/signatory-measures", include_in_schema=False)
async def oversight_list(request: Request, ctx: TenantContext) -> Response:
    ctx.require("code.registry")
    filters = MeasureFilters.from_query(dict(request.query_params))
    rows = await measures.all_measures(filters)
    pager = Pager.from_query(request.query_params.get("page"), len(rows), per_page=MEASURES_PER_PAGE)
    this_year = date.today().year
    return await page(
        request, "code_of_conduct.OversightPage", rows=rows[pager.offset : pager.offset + pager.per_page], pager=pager,
        filters=filters, codes=await measures.all_commitment_codes(), organisations=await measures.signatory_tenants(),
        years=list(range(this_year, this_year - 8, -1)), base=_oversight(ctx),
    )


@get("/signatory-measures/{measure_id:int}", include_in_schema=False)
async def oversight_detail(request: Request, ctx: TenantContext, measure_id: int) -> Response:
    ctx.require("code.registry")
    measure = await measures.get_measure(None, measure_id)
    return await page(
        request, "code_of_conduct.MeasurePage", measure=measure, base=_oversight(ctx),
        evidence_base=_oversight(ctx, f"/{measure['id']}/evidence"), regulator=True, can_log=False, errors={},
        max_mb=_max_mb(),
    )


@get("/signatory-measures/{measure_id:int}/evidence/{evidence_id:int}", include_in_schema=False)
async def oversight_evidence(ctx: TenantContext, measure_id: int, evidence_id: int) -> Response:
    ctx.require("code.registry")
    measure, file_row = await measures.evidence_file(None, measure_id, evidence_id)
    await services.record_download(ctx.actor, ctx.tenant_id, measure["tenant"], "evidence", file_row, measure["id"])
    return download_response(file_row)


router = Router(
    path="/t/{tenant_slug:str}",
    route_handlers=[
        code_overview, version_detail, draft_form, draft_create, draft_edit_form, draft_update, commitment_form,
        commitment_create, commitment_edit_form, commitment_update, commitment_remove, version_changes,
        version_publish, version_discard, sign_form, sign, withdraw_form, withdraw, signed_copy,
        measure_list, measure_new, measure_create, measure_detail, measure_edit_form, measure_update,
        measure_add_evidence, measure_evidence, measure_delete_form, measure_delete,
        registry_page, registry_csv, registry_xlsx, registry_organisation, registry_signed_copy,
        oversight_list, oversight_detail, oversight_evidence,
    ],
    dependencies={"ctx": Provide(provide_tenant_context)},
)


# --- public: no sign-in ---------------------------------------------------------------------------


@get("/signatories", include_in_schema=False)
async def public_signatories(request: Request) -> Response:
    return await page(
        request, "code_of_conduct.PublicSignatoriesPage", rows=await services.public_signatories(),
        current=await services.current_version(with_commitments=False),
    )


@get("/versions/{label:str}", include_in_schema=False)
async def public_version(request: Request, label: str) -> Response:
    version = await services.published_version_by_label(label)
    return await page(request, "code_of_conduct.PublicVersionPage", version=version)


@get("/versions/{label:str}/canonical.json", include_in_schema=False)
async def public_canonical(label: str) -> Response:
    """The exact bytes whose SHA-256 is the version's fingerprint, so anyone can check it."""
    version = await services.published_version_by_label(label)
    return Response(
        content=canonical_text(version, version["commitments"]).encode("utf-8"),
        media_type="application/json; charset=utf-8",
        headers={"Content-Disposition": f'inline; filename="code-of-conduct-{label}.json"'},
    )


public_router = Router(path="/code-of-conduct", route_handlers=[public_signatories, public_version, public_canonical])


@get(
    "/signatories",
    summary="Organisations that have signed the Code of Conduct for Internet Safety",
    description="Public: no API key needed. Lists each organisation whose signature is in effect, the version "
    "label it signed, the SHA-256 fingerprint of that version's canonical text and when it signed.",
    tags=["Code of Conduct"],
)
async def api_signatories() -> dict:
    current = await services.current_version(with_commitments=False)
    rows = await services.public_signatories()
    return {
        "version_in_force": (
            {"label": current["label"], "hash": current["content_hash"],
             "published_at": current["published_at"].isoformat() if current["published_at"] else None}
            if current else None
        ),
        "signatories": [
            {
                "organisation": row["organisation"], "kind": row["kind"], "nipt": row["nipt"] or None,
                "version": row["version"], "hash": row["hash"], "signed_at": row["signed_at"].isoformat(),
                "current_version": row["current_version"],
            }
            for row in rows
        ],
    }


# Separate from portal.api's router, whose every route asks for an API key.
public_api_router = Router(path="/api/v1/code-of-conduct", route_handlers=[api_signatories])

# What portal/app.py registers.
routers = [router, public_router, public_api_router]
