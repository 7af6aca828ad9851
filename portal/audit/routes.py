"""The organisation's audit log page: who did what to which object, newest first."""

from __future__ import annotations

from datetime import datetime

from litestar import Request, Response, Router, get
from litestar.di import Provide

from portal.audit import services as audit
from portal.core.i18n import gettext, lazy, local_datetime
from portal.core.labels import kind_label, role_label
from portal.core.pagination import DEFAULT_PER_PAGE, Pager
from portal.core.web import TenantContext, page, provide_tenant_context
from portal.takedown import labels as takedown_labels

ACTION_LABELS: dict[str, str] = {
    "tenant.created": lazy("Organisation created"),
    "tenant.profile_updated": lazy("Organisation profile changed"),
    "membership.added": lazy("Member added"),
    "membership.role_changed": lazy("Member's role changed"),
    "membership.deactivated": lazy("Member deactivated"),
    "membership.reactivated": lazy("Member reactivated"),
    "invitation.created": lazy("Invitation sent"),
    "invitation.revoked": lazy("Invitation withdrawn"),
    "invitation.accepted": lazy("Invitation accepted"),
    "api_key.created": lazy("API key created"),
    "api_key.revoked": lazy("API key revoked"),
    "user.created": lazy("Account created"),
    "user.password_set": lazy("Password set"),
    "auth.login": lazy("Signed in"),
    "auth.logout": lazy("Signed out"),
    "auth.password_changed": lazy("Password changed"),
    "file.uploaded": lazy("Document uploaded"),
    "file.downloaded": lazy("Document downloaded"),
    "file.deleted": lazy("Document deleted"),
    "annual_report.started": lazy("Annual report started"),
    "annual_report.draft_saved": lazy("Annual report draft saved"),
    "annual_report.revision_started": lazy("Annual report revision started"),
    "annual_report.submitted": lazy("Annual report submitted"),
    "annual_report.review_started": lazy("Annual report review started"),
    "annual_report.returned": lazy("Annual report returned for changes"),
    "annual_report.accepted": lazy("Annual report accepted"),
    "annual_report.exported": lazy("Annual Code-of-Conduct report exported"),
    "coc.version_drafted": lazy("Code of Conduct version drafted"),
    "coc.version_updated": lazy("Code of Conduct draft edited"),
    "coc.version_published": lazy("Code of Conduct version published"),
    "coc.version_discarded": lazy("Code of Conduct draft discarded"),
    "coc.commitment_added": lazy("Commitment added to the Code"),
    "coc.commitment_updated": lazy("Commitment of the Code edited"),
    "coc.commitment_removed": lazy("Commitment removed from the Code"),
    "coc.signed": lazy("Code of Conduct signed"),
    "coc.signature_withdrawn": lazy("Signature of the Code withdrawn"),
    "coc.registry_exported": lazy("Register of signatories exported"),
    "coc.measure_created": lazy("Measure recorded"),
    "coc.measure_updated": lazy("Measure edited"),
    "coc.measure_deleted": lazy("Measure deleted"),
    "coc.evidence_added": lazy("Evidence added to a measure"),
    "takedown.report_received": lazy("URL report received"),
    "takedown.item_viewed": lazy("Reported URL viewed"),
    "takedown.item_assessed": lazy("Reported URL assessed"),
    "takedown.request_issued": lazy("Takedown or blocking request issued"),
    "takedown.acknowledged": lazy("Receipt of a request acknowledged"),
    "takedown.actioned": lazy("Request marked as actioned"),
    "takedown.disputed": lazy("Request disputed"),
    "takedown.overdue": lazy("Request deadline passed without action"),
    "annual_report.attachment_downloaded": lazy("Annual report attachment downloaded"),
    "annual_report.attachment_removed": lazy("Annual report attachment removed"),
    "annual_report.deadline_set": lazy("Annual report deadline changed"),
    "annual_report.export_requested": lazy("Annual report export requested"),
    "annual_report.export_downloaded": lazy("Annual report export downloaded"),
    "auth.login_failed": lazy("Failed sign-in"),
    "auth.password_reset": lazy("Password reset"),
    "auth.password_reset_requested": lazy("Password reset requested"),
    "auth.sso_provider_saved": lazy("Single sign-on settings saved"),
    "auth.sso_provider_removed": lazy("Single sign-on removed"),
    "takedown.reports_imported": lazy("URL reports imported from CSV"),
    "takedown.figures_exported": lazy("Takedown figures by category exported"),
    "takedown.webhook_saved": lazy("Webhook saved"),
    "takedown.webhook_removed": lazy("Webhook removed"),
    "takedown.webhook_secret_rotated": lazy("Webhook secret replaced"),
}

OBJECT_LABELS: dict[str, str] = {
    "tenant": lazy("Organisation"),
    "membership": lazy("Membership"),
    "invitation": lazy("Invitation"),
    "api_key": lazy("API key"),
    "user": lazy("Account"),
    "file": lazy("Document"),
    "stored_file": lazy("Document"),
    "coc_version": lazy("Code of Conduct version"),
    "coc_commitment": lazy("Commitment"),
    "coc_signature": lazy("Signature"),
    "coc_measure": lazy("Measure"),
    "coc_registry": lazy("Register of signatories"),
    "takedown_item": lazy("Reported URL"),
    "takedown_request": lazy("Takedown request"),
    "takedown_figures": lazy("Takedown figures by category"),
    "annual_report": lazy("Annual report"),
}

DETAIL_LABELS: dict[str, str] = {
    "legal_name": lazy("Legal name"),
    "nipt": lazy("NIPT"),
    "address": lazy("Address"),
    "contact_email": lazy("Contact email"),
    "contact_point_name": lazy("Contact point: name"),
    "contact_point_title": lazy("Contact point: title"),
    "contact_point_email": lazy("Contact point: email"),
    "contact_point_phone": lazy("Contact point: phone"),
    "role": lazy("Role"),
    "user": lazy("Person"),
    "email": lazy("Email"),
    "name": lazy("Name"),
    "scopes": lazy("Permissions"),
    "prefix": lazy("Prefix"),
    "expires_at": lazy("Expires"),
    "reason": lazy("Reason"),
    "slug": lazy("Short name"),
    "kind": lazy("Type"),
    "filename": lazy("File name"),
    "content_type": lazy("File type"),
    "size_bytes": lazy("Size in bytes"),
    "sha256": lazy("SHA-256 fingerprint"),
    "purpose": lazy("Purpose"),
    "via": lazy("Through"),
    "title": lazy("Title"),
    "version": lazy("Version"),
    "commitments": lazy("Commitments"),
    "evidence": lazy("Evidence"),
    "signatory": lazy("Signatory"),
    "hash": lazy("Fingerprint"),
    "category": lazy("Category"),
    "channel": lazy("Channel"),
    "receipt": lazy("Receipt number"),
    "year": lazy("Year"),
    "format": lazy("Format"),
    "revision": lazy("Revision"),
    "decision": lazy("Decision"),
    "regulator": lazy("Regulator"),
    "sections_commented": lazy("Sections commented"),
    "content_hash": lazy("Fingerprint"),
    "label": lazy("Version"),
    "code": lazy("Commitment"),
    "copied_commitments": lazy("Commitments copied"),
    "superseded": lazy("Replaces version"),
    "notified": lazy("Organisations notified"),
    "contact_details_shown": lazy("Contact details shown"),
    "due_at": lazy("Deadline"),
    "duplicate_of": lazy("Duplicate of"),
    "from": lazy("From"),
    "to": lazy("To"),
    "note": lazy("Note"),
    "outcome": lazy("Outcome"),
    "previous": lazy("Previous status"),
    "priority": lazy("Priority"),
    "recipient": lazy("Recipient"),
    "recipients": lazy("Recipients"),
    "repeat": lazy("Repeated report"),
    "signed_pdf": lazy("Signed copy"),
    "urls": lazy("Addresses"),
}

# Codes recorded by the services, shown in words (key of the detail -> code -> label).
VALUE_LABELS: dict[str, dict[str, str]] = {
    "decision": {"return": lazy("returned for changes"), "accept": lazy("accepted")},
    "priority": takedown_labels.PRIORITIES,
    "from": takedown_labels.ASSIGNMENT_STATUSES,
    "to": takedown_labels.ASSIGNMENT_STATUSES,
    "previous": takedown_labels.ITEM_STATUSES,
    "outcome": takedown_labels.ITEM_STATUSES | takedown_labels.OUTCOMES,
}

# Reasons recorded as codes by the services, shown in words.
REASON_LABELS: dict[str, str] = {
    "superseded": lazy("replaced by a newer invitation"),
}


def action_label(action: str) -> str:
    return gettext(ACTION_LABELS[action]) if action in ACTION_LABELS else action


def object_label(object_type: str) -> str:
    return gettext(OBJECT_LABELS[object_type]) if object_type in OBJECT_LABELS else object_type


def _value(key: str, value: object) -> str:
    if value in ("", None):
        return "—"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if key == "role" and isinstance(value, str):
        return role_label(value)
    if key == "kind" and isinstance(value, str):
        return kind_label(value)
    if key == "via" and isinstance(value, str):
        return object_label(value)
    if key == "reason" and isinstance(value, str) and value in REASON_LABELS:
        return gettext(REASON_LABELS[value])
    if isinstance(value, str) and value in VALUE_LABELS.get(key, {}):
        return gettext(VALUE_LABELS[key][value])
    if key == "category" and isinstance(value, str):
        return takedown_labels.category_label(value)
    if key.endswith("_at") and isinstance(value, str):
        try:
            return local_datetime(datetime.fromisoformat(value), "short")
        except ValueError:
            return value
    if isinstance(value, list):
        return ", ".join(_value(key, item) for item in value)
    return str(value)


def describe_detail(detail: dict) -> list[tuple[str, str]]:
    """Readable (label, text) lines: changes as "old → new", everything else as it was recorded."""
    lines: list[tuple[str, str]] = []
    for key, value in detail.items():
        if key == "changes" and isinstance(value, dict):
            for field, change in value.items():
                label = gettext(DETAIL_LABELS[field]) if field in DETAIL_LABELS else field
                if isinstance(change, list) and len(change) == 2:
                    lines.append((label, f"{_value(field, change[0])} → {_value(field, change[1])}"))
                else:
                    lines.append((label, _value(field, change)))
            continue
        label = gettext(DETAIL_LABELS[key]) if key in DETAIL_LABELS else key
        if key == "role" and isinstance(value, list) and len(value) == 2:
            lines.append((label, f"{_value(key, value[0])} → {_value(key, value[1])}"))
        else:
            lines.append((label, _value(key, value)))
    return lines


@get("/audit", include_in_schema=False)
async def audit_log(request: Request, ctx: TenantContext) -> Response:
    ctx.require("audit.view")
    requested = Pager.from_query(request.query_params.get("page"), total=10**9)
    entries, total = await audit.entries_for_tenant(ctx.tenant_id, limit=DEFAULT_PER_PAGE, offset=requested.offset)
    pager = Pager.from_query(requested.page, total=total)
    if pager.page != requested.page:
        # Asked for a page past the end: show the last one.
        entries, total = await audit.entries_for_tenant(ctx.tenant_id, limit=DEFAULT_PER_PAGE, offset=pager.offset)
    rows = [
        entry | {"action_label": action_label(entry["action"]), "object_label": object_label(entry["object_type"]),
                 "detail_lines": describe_detail(entry["detail"])}
        for entry in entries
    ]
    return await page(request, "audit.AuditPage", entries=rows, pager=pager)


router = Router(
    path="/t/{tenant_slug:str}",
    route_handlers=[audit_log],
    dependencies={"ctx": Provide(provide_tenant_context)},
)
