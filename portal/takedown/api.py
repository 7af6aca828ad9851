"""Takedown endpoints of the machine API (/api/v1): ISPs work their requests, analysts file reports and requests.

Authentication is the portal's bearer API key (``provide_principal``); reading needs the ``read``
scope, anything that changes state the ``write`` scope. Errors are RFC 9457 problem details: a
body that does not match the schema is a 400, a rule that refuses the input a 422, a step the
lifecycle does not allow a 409, another organisation's request a 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.di import Provide
from litestar.params import Parameter

from portal.api import provide_principal, require_scope
from portal.core.actor import Actor
from portal.core.db import system_transaction
from portal.core.errors import Forbidden, ValidationFailed
from portal.core.i18n import _
from portal.core.permissions import analyst_allowed
from portal.takedown import feeds, idempotency, reports
from portal.takedown import requests as takedown_requests
from portal.tenants.api_keys import ApiPrincipal
from portal.tenants.tables import Tenant


class ActionBody(msgspec.Struct, forbid_unknown_fields=True):
    outcome: str
    note: str = ""


class DisputeBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: str


class ReportBody(msgspec.Struct, forbid_unknown_fields=True):
    url: str
    category: str
    description: str = ""
    source_reference: str = ""
    contact: str = ""


class RequestBody(msgspec.Struct, forbid_unknown_fields=True):
    kind: str
    recipients: list[str] | str
    legal_basis: str
    urls: list[str] = []
    report_ids: list[int] = []
    category: str = ""
    priority: str = ""
    note: str = ""


def _actor(principal: ApiPrincipal, request: Request) -> Actor:
    return Actor(user_id=None, label=f"api-key:{principal.key_id}@{principal.tenant_slug}",
                 ip=request.client.host if request.client else "")


def _iso(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _require_isp(principal: ApiPrincipal) -> None:
    if principal.tenant_kind != "isp":
        raise Forbidden(_("Only internet service providers receive takedown and blocking requests."))


async def _require_analyst_tenant(principal: ApiPrincipal) -> dict:
    async with system_transaction():
        tenant = await Tenant.select(Tenant.id, Tenant.slug, Tenant.kind, Tenant.name, Tenant.is_hotline).where(
            Tenant.id == principal.tenant_id
        ).first()
    if tenant is None or not analyst_allowed(tenant["kind"], tenant["is_hotline"]):
        raise Forbidden(_("Only hotlines, state agencies and regulators can file reports and issue requests."))
    return tenant


def _summary(row: dict) -> dict:
    return {
        "reference": row["reference"],
        "kind": row["kind"],
        "priority": row["priority"],
        "status": row["status"],
        "overdue": takedown_requests.is_overdue(row["status"], takedown_requests._aware(row["due_at"])),
        "outcome": row["outcome"] or None,
        "due_at": _iso(row["due_at"]),
        "issued_at": _iso(row["issued_at"]),
        "acknowledged_at": _iso(row["acknowledged_at"]),
        "actioned_at": _iso(row["actioned_at"]),
        "issuer": row.get("issuer") or row.get("issuer_name"),
        "url_count": row["url_count"],
    }


def _recipient_detail(detail: dict) -> dict:
    return {
        **_summary(detail),
        "legal_basis": detail["legal_basis"],
        "note": detail["note"],
        "action_note": detail["action_note"],
        "dispute_reason": detail["dispute_reason"],
        "disputed_at": _iso(detail["disputed_at"]),
        "closed_at": _iso(detail["closed_at"]),
        "withdrawn_at": _iso(detail["withdrawn_at"]),
        "urls": [{"url": u["url"], "host": u["host"], "domain": u["registrable_domain"], "category": u["category"]}
                 for u in detail["urls"]],
        "timeline": [{"event": e["kind"], "at": _iso(e["at"]), "by": e["actor_label"], "note": e["note"]}
                     for e in detail["events"]],
    }


def _issuer_detail(detail: dict) -> dict:
    return {
        "reference": detail["reference"],
        "kind": detail["kind"],
        "priority": detail["priority"],
        "status": detail["status"],
        "due_at": _iso(detail["due_at"]),
        "issued_at": _iso(detail["created_at"]),
        "legal_basis": detail["legal_basis"],
        "urls": [{"url": u["url"], "category": u["category"], "report_id": u["item"]} for u in detail["urls"]],
        "recipients": [
            {"tenant": a["recipient_slug"], "status": a["status"], "overdue": a["overdue"], "outcome": a["outcome"] or None,
             "acknowledged_at": _iso(a["acknowledged_at"]), "actioned_at": _iso(a["actioned_at"]),
             "dispute_reason": a["dispute_reason"] or None}
            for a in detail["assignments"]
        ],
    }


def _json(status_code: int, body: dict, replayed: bool = False) -> Response:
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    return Response(content=body, status_code=status_code, headers=headers)


@get("/takedown/requests", summary="Requests addressed to the calling ISP, oldest deadline first")
async def list_requests(
    request: Request,
    principal: ApiPrincipal,
    status: Annotated[str, Parameter(default="", description="sent, acknowledged, actioned, disputed, closed, "
                                                             "withdrawn, open or overdue")] = "",
    page: Annotated[int, Parameter(ge=1, default=1)] = 1,
) -> Response:
    require_scope(principal, "read")
    _require_isp(principal)
    rows, more = await takedown_requests.api_list_for_recipient(principal.tenant_id, status, page)
    next_page = None
    if more:
        next_page = f"/api/v1/takedown/requests?page={page + 1}" + (f"&status={status}" if status else "")
    return Response(content={
        "items": [_summary(row) for row in rows], "page": page, "per_page": takedown_requests.API_PER_PAGE,
        "next": next_page,
    })


@get("/takedown/requests/{reference:str}", summary="One request: for an ISP its own copy, for the issuer every ISP's")
async def get_request(principal: ApiPrincipal, reference: str) -> dict:
    require_scope(principal, "read")
    if principal.tenant_kind == "isp":
        return _recipient_detail(await takedown_requests.request_for_recipient(principal.tenant_id, reference))
    return _issuer_detail(await takedown_requests.request_for_issuer(principal.tenant_id, reference))


async def _transition(request: Request, principal: ApiPrincipal, reference: str, step) -> Response:
    require_scope(principal, "write")
    _require_isp(principal)
    body = await request.body()

    async def act() -> tuple[int, dict]:
        _assignment, changed = await step()
        detail = await takedown_requests.request_for_recipient(principal.tenant_id, reference)
        return 200, {**_recipient_detail(detail), "changed": changed}

    reply = await idempotency.run_once(
        principal.tenant_id, request.headers.get("idempotency-key"),
        idempotency.fingerprint("POST", request.url.path, body), act,
    )
    return _json(reply.status_code, reply.body, reply.replayed)


@post("/takedown/requests/{reference:str}/acknowledge", summary="Confirm receipt (repeating it is harmless)")
async def acknowledge(request: Request, principal: ApiPrincipal, reference: str) -> Response:
    actor = _actor(principal, request)
    return await _transition(request, principal, reference,
                             lambda: takedown_requests.acknowledge(principal.tenant_id, reference, actor))


@post("/takedown/requests/{reference:str}/action", summary="Mark as blocked or removed (implies acknowledgement)")
async def action(request: Request, principal: ApiPrincipal, reference: str, data: ActionBody) -> Response:
    actor = _actor(principal, request)
    return await _transition(request, principal, reference, lambda: takedown_requests.mark_actioned(
        principal.tenant_id, reference, data.outcome, data.note, actor))


@post("/takedown/requests/{reference:str}/dispute", summary="Dispute the request, with a reason")
async def dispute(request: Request, principal: ApiPrincipal, reference: str, data: DisputeBody) -> Response:
    actor = _actor(principal, request)
    return await _transition(request, principal, reference, lambda: takedown_requests.dispute(
        principal.tenant_id, reference, data.reason, actor))


@post("/reports", summary="File a URL report into the calling organisation's queue")
async def create_report(request: Request, principal: ApiPrincipal, data: ReportBody) -> Response:
    require_scope(principal, "write")
    tenant = await _require_analyst_tenant(principal)
    actor = _actor(principal, request)

    async def act() -> tuple[int, dict]:
        receipt = await reports.record_report(
            tenant["id"],
            reports.ReportInput(url=data.url, category=data.category, description=data.description,
                                source_reference=data.source_reference, contact=data.contact),
            channel="api", actor=actor,
        )
        return 201, {"receipt": receipt.receipt, "report_id": receipt.item_id, "repeat": receipt.repeat,
                     "report_count": receipt.report_count}

    reply = await idempotency.run_once(
        tenant["id"], request.headers.get("idempotency-key"),
        idempotency.fingerprint("POST", request.url.path, await request.body()), act,
    )
    return _json(reply.status_code, reply.body, reply.replayed)


@post("/takedown/requests", summary="Issue a block or takedown request (analyst organisations)")
async def create_request(request: Request, principal: ApiPrincipal, data: RequestBody) -> Response:
    require_scope(principal, "write")
    tenant = await _require_analyst_tenant(principal)
    actor = _actor(principal, request)
    recipients = [data.recipients] if isinstance(data.recipients, str) else list(data.recipients)

    async def act() -> tuple[int, dict]:
        issued = await takedown_requests.issue_request(
            tenant,
            takedown_requests.RequestInput(
                kind=data.kind, recipients=recipients, legal_basis=data.legal_basis, item_ids=data.report_ids,
                urls=data.urls, category=data.category, priority=data.priority, note=data.note,
            ),
            actor,
        )
        return 201, {"reference": issued["reference"], "due_at": _iso(issued["due_at"]),
                     "priority": issued["priority"], "recipients": issued["recipients"]}

    reply = await idempotency.run_once(
        tenant["id"], request.headers.get("idempotency-key"),
        idempotency.fingerprint("POST", request.url.path, await request.body()), act,
    )
    return _json(reply.status_code, reply.body, reply.replayed)


# ---------------------------------------------------------------------------------------------
# Block-list feeds

FEED_MEDIA_TYPES = {
    "txt": "text/plain; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "rpz": "text/dns; charset=utf-8",
    "sha256": "text/plain; charset=utf-8",
}


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = [part.strip() for part in if_none_match.split(",")]
    return "*" in candidates or etag in candidates  # strong comparison: a W/ tag never matches


async def _feed(request: Request, principal: ApiPrincipal, fmt: str, since: int | None) -> Response:
    require_scope(principal, "read")
    _require_isp(principal)
    recipient = principal.tenant_id
    if fmt == "rpz":
        since = None  # a zone is always served whole; its SOA serial is the cursor
    cursor = await feeds.current_cursor(recipient)
    if since is not None and since > cursor:
        raise ValidationFailed({"since": _("This cursor is newer than the list; fetch the whole list again.")})
    etag = feeds.etag_for(fmt, recipient, cursor, since)
    headers = {"ETag": etag, "Cache-Control": "private, no-cache", "X-Blocklist-Cursor": str(cursor)}
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(content=b"", status_code=304, headers=headers)
    # txt and csv deltas need only the changed values; the hash feed's removals check every current entry.
    cursor, entries, changes = await feeds.snapshot(recipient, since, whole=since is None or fmt == "sha256")
    headers["ETag"] = feeds.etag_for(fmt, recipient, cursor, since)
    headers["X-Blocklist-Cursor"] = str(cursor)
    delta = changes if since is not None else None
    if fmt == "txt":
        text = feeds.render_txt(entries, delta)
    elif fmt == "csv":
        text = feeds.render_csv(entries, delta)
    elif fmt == "rpz":
        text = feeds.render_rpz(entries, cursor)
    else:
        text = feeds.render_sha256(entries, delta)
    return Response(content=text.encode("utf-8"), media_type=FEED_MEDIA_TYPES[fmt], headers=headers)


SINCE = Parameter(ge=0, required=False, description="the X-Blocklist-Cursor of a previous fetch: only changes after it")


@get("/blocklist.txt", summary="Addresses and domains to block, one per line (with since: +added / -removed)")
async def blocklist_txt(request: Request, principal: ApiPrincipal, since: Annotated[int | None, SINCE] = None) -> Response:
    return await _feed(request, principal, "txt", since)


@get("/blocklist.csv", summary="The block list as CSV: type,value (with since: op,type,value)")
async def blocklist_csv(request: Request, principal: ApiPrincipal, since: Annotated[int | None, SINCE] = None) -> Response:
    return await _feed(request, principal, "csv", since)


@get("/blocklist.rpz", summary="The domain entries as a DNS Response Policy Zone (always whole)")
async def blocklist_rpz(request: Request, principal: ApiPrincipal, since: Annotated[int | None, SINCE] = None) -> Response:
    return await _feed(request, principal, "rpz", since)


@get("/blocklist.sha256", summary="SHA-256 of each blocked address and its common spellings")
async def blocklist_sha256(request: Request, principal: ApiPrincipal,
                           since: Annotated[int | None, SINCE] = None) -> Response:
    return await _feed(request, principal, "sha256", since)


router = Router(
    path="/api/v1",
    route_handlers=[
        list_requests, get_request, acknowledge, action, dispute, create_report, create_request,
        blocklist_txt, blocklist_csv, blocklist_rpz, blocklist_sha256,
    ],
    dependencies={"principal": Provide(provide_principal)},
    tags=["takedown"],
)
