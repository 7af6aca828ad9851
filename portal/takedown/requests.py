"""Block and takedown requests: issuing them, and each addressed ISP's lifecycle.

Per addressed ISP (an *assignment*): sent → acknowledged → actioned (blocked / removed) or
disputed → closed by the issuer; the issuer may withdraw the whole request at any time. Acting
without a prior acknowledgement is allowed and implies it; repeating a transition already made is
harmless (nothing changes, nothing is logged twice); anything else is a ``Conflict`` with a message
saying why. An assignment is overdue while it is sent or acknowledged past its deadline.

Every step runs in one transaction that also writes its timeline event, its audit entry, the
change to the ISP's block list (for block requests) and the mail to the ISP's contact point, so a
step is either wholly recorded or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from portal.audit import services as audit
from portal.core.actor import Actor
from portal.core.db import execute, is_postgres, system_transaction, tenant_transaction
from portal.core.errors import Conflict, NotFound, ValidationFailed
from portal.core.i18n import _
from portal.core.pagination import Pager
from portal.core.permissions import analyst_allowed
from portal.core.settings import get_settings
from portal.outbox.services import enqueue_mail
from portal.takedown import feeds, webhooks
from portal.takedown.config import get_takedown_settings
from portal.takedown.labels import CATEGORIES, PRIORITIES, REQUEST_KINDS, priority_for
from portal.takedown.tables import Assignment, RequestEvent, RequestUrl, TakedownItem, TakedownRequest
from portal.takedown.urls import InvalidUrl, normalise_url
from portal.tenants.tables import Tenant

ALL_ISPS = "all-isps"
MAX_URLS = 1000
MAX_TEXT = 5000
OPEN_STATES = ("sent", "acknowledged")


def _not_found() -> NotFound:
    return NotFound(_("This page does not exist or you do not have access to it."))


@dataclass(frozen=True)
class RequestInput:
    """A request as typed in the form or sent to the API, before validation."""

    kind: str
    recipients: list[str]  # tenant slugs, or ["all-isps"]
    legal_basis: str
    item_ids: list[int]
    urls: list[str]
    category: str = ""  # for URLs given directly (not from the queue)
    priority: str = ""  # empty: from the most urgent category
    note: str = ""


def deadline_for(priority: str, start: datetime) -> datetime:
    return start + timedelta(hours=get_takedown_settings().deadline_hours[priority])


async def next_reference(year: int) -> tuple[int, str]:
    """The next number of ``year``: gapless, because the counter row is locked until commit.

    A concurrent issuer waits on the row; a rolled-back request gives its number back.
    """
    rows = await execute(
        "INSERT INTO takedown_reference_counter (year, last_value) VALUES ({}, 1) "
        "ON CONFLICT (year) DO UPDATE SET last_value = takedown_reference_counter.last_value + 1 "
        "RETURNING last_value",
        year,
    )
    sequence = rows[0]["last_value"]
    return sequence, f"TD-{year}-{sequence:06d}"


async def _resolve_recipients(kind: str, recipients: list[str]) -> tuple[list[dict], dict[str, str]]:
    wanted = [slug.strip() for slug in recipients if slug and slug.strip()]
    async with system_transaction():
        isps = await Tenant.select(
            Tenant.id, Tenant.slug, Tenant.name, Tenant.contact_point_email, Tenant.contact_email
        ).where((Tenant.kind == "isp") & (Tenant.active == True)).order_by(Tenant.name)
    if not wanted:
        return [], {"recipients": _("Choose the providers the request is addressed to.")}
    if ALL_ISPS in wanted:
        if kind != "block":
            return [], {"recipients": _("A takedown request goes to the one company hosting the content.")}
        if not isps:
            return [], {"recipients": _("There are no internet service providers in the portal yet.")}
        return isps, {}
    by_slug = {isp["slug"]: isp for isp in isps}
    unknown = sorted({slug for slug in wanted if slug not in by_slug})
    if unknown:
        return [], {"recipients": _("Not a provider in the portal: %(slugs)s", slugs=", ".join(unknown))}
    chosen = [by_slug[slug] for slug in dict.fromkeys(wanted)]
    if kind == "takedown" and len(chosen) != 1:
        return [], {"recipients": _("A takedown request goes to the one company hosting the content.")}
    return chosen, {}


async def _collect_urls(tenant_id: int, data: RequestInput, errors: dict[str, str], now: datetime) -> list[dict]:
    """The request's URLs: from queue items (which must not be assessed negatively) or typed in."""
    urls: dict[str, dict] = {}
    if data.item_ids:
        items = await TakedownItem.select(
            TakedownItem.id, TakedownItem.url, TakedownItem.url_hash, TakedownItem.host,
            TakedownItem.registrable_domain, TakedownItem.category, TakedownItem.status,
        ).where(TakedownItem.tenant == tenant_id).where(TakedownItem.id.is_in(list(set(data.item_ids))))
        found = {item["id"] for item in items}
        missing = sorted(set(data.item_ids) - found)
        if missing:
            errors["items"] = _("Not in your queue: %(ids)s", ids=", ".join(str(i) for i in missing))
        refused = [str(item["id"]) for item in items if item["status"] not in ("new", "valid")]
        if refused:
            errors["items"] = _("Assessed as not to be acted on: %(ids)s", ids=", ".join(refused))
        for item in items:
            urls.setdefault(item["url_hash"], {**item, "item": item["id"]})
    bad: list[str] = []
    for raw in data.urls:
        if not raw.strip():
            continue
        try:
            normalised = normalise_url(raw)
        except InvalidUrl as exc:
            bad.append(f"{raw.strip()[:80]}: {exc.message}")
            continue
        if not data.category:
            errors["category"] = _("Choose the category of the addresses you typed in.")
        urls.setdefault(normalised.url_hash, {
            "url": normalised.url, "url_hash": normalised.url_hash, "host": normalised.host,
            "registrable_domain": normalised.registrable_domain, "category": data.category, "item": None,
        })
    if bad:
        errors["urls"] = "; ".join(bad[:5])
    if data.category and data.category not in CATEGORIES:
        errors["category"] = _("Choose what kind of content this is.")
    if not urls and "items" not in errors and "urls" not in errors:
        errors["urls"] = _("Name at least one address.")
    if len(urls) > MAX_URLS:
        errors["urls"] = _("One request can name at most %(max)s addresses.", max=MAX_URLS)
    return list(urls.values())


async def _link_typed_urls_to_items(tenant_id: int, entries: list[dict], now: datetime) -> None:
    """A typed-in URL becomes (or joins) an item of the issuer's queue, so history stays in one place.

    A new one enters as ``new``: issuing then assesses it as valid with the analyst and time, like
    any other item still waiting for an assessment.
    """
    for entry in entries:
        if entry["item"] is not None:
            continue
        rows = await execute(
            "INSERT INTO takedown_item (tenant, url, url_hash, host, registrable_domain, category, status,"
            " report_count, first_reported_at, last_reported_at, assessment_note) "
            "VALUES ({}, {}, {}, {}, {}, {}, 'new', 0, {}, {}, '') "
            "ON CONFLICT (tenant, url_hash) DO UPDATE SET last_reported_at = takedown_item.last_reported_at "
            "RETURNING id, status",
            tenant_id, entry["url"], entry["url_hash"], entry["host"], entry["registrable_domain"], entry["category"],
            now, now,
        )
        entry["item"] = rows[0]["id"]


async def issue_request(issuer: dict, data: RequestInput, actor: Actor) -> dict:
    """Validate and issue a request; returns its id, reference and deadline."""
    if not analyst_allowed(issuer["kind"], issuer.get("is_hotline", False)):
        raise _not_found()
    errors: dict[str, str] = {}
    if data.kind not in REQUEST_KINDS:
        errors["kind"] = _("Choose blocking or takedown.")
    legal_basis = (data.legal_basis or "").strip()
    if not legal_basis:
        errors["legal_basis"] = _("State the legal basis of the request.")
    elif len(legal_basis) > MAX_TEXT:
        errors["legal_basis"] = _("Keep the legal basis under %(max)s characters.", max=MAX_TEXT)
    if data.priority and data.priority not in PRIORITIES:
        errors["priority"] = _("Choose a priority.")
    note = (data.note or "").strip()
    if len(note) > MAX_TEXT:
        errors["note"] = _("Keep the note under %(max)s characters.", max=MAX_TEXT)
    recipients, recipient_errors = await _resolve_recipients(data.kind, data.recipients)
    errors.update(recipient_errors)
    now = datetime.now(UTC)
    async with tenant_transaction(issuer["id"]):
        entries = await _collect_urls(issuer["id"], data, errors, now)
        if errors:
            raise ValidationFailed(errors)
        await _link_typed_urls_to_items(issuer["id"], entries, now)
        # Issuing is the assessment of items still waiting for one.
        await TakedownItem.update({
            TakedownItem.status: "valid", TakedownItem.assessed_at: now, TakedownItem.assessed_by: actor.user_id,
        }).where(TakedownItem.tenant == issuer["id"]).where(
            TakedownItem.id.is_in([e["item"] for e in entries])
        ).where(TakedownItem.status == "new")
        priority = data.priority or priority_for([e["category"] for e in entries])
        due_at = deadline_for(priority, now)
        sequence, reference = await next_reference(now.year)
        request_rows = await TakedownRequest.insert(TakedownRequest(
            tenant=issuer["id"], reference=reference, year=now.year, sequence=sequence, kind=data.kind,
            legal_basis=legal_basis, priority=priority, note=note, due_at=due_at, status="open",
            created_by=actor.user_id, created_at=now,
        )).returning(TakedownRequest.id)
        request_id = request_rows[0]["id"]
        await RequestUrl.insert(*[
            RequestUrl(
                tenant=issuer["id"], request=request_id, item=e["item"], url=e["url"], url_hash=e["url_hash"],
                host=e["host"], registrable_domain=e["registrable_domain"], category=e["category"],
            )
            for e in entries
        ])
        for recipient in recipients:
            await Assignment.insert(Assignment(
                request=request_id, recipient=recipient["id"], issuer=issuer["id"], status="sent", due_at=due_at,
                sent_at=now, updated_at=now, reference=reference, kind=data.kind, priority=priority, issued_at=now,
                url_count=len(entries),
            ))
        await _event(request_id, issuer["id"], None, None, "issued", note, actor, issuer["id"], now)
        if data.kind == "block":
            await feeds.lock_lists([r["id"] for r in recipients])
            for recipient in recipients:
                await feeds.apply(recipient["id"], issuer["id"], entries, +1, now)
        await audit.record(
            "takedown.request_issued", actor=actor, tenant_id=issuer["id"], object_type="takedown_request",
            object_id=reference,
            detail={
                "kind": data.kind, "priority": priority, "urls": len(entries),
                "recipients": [r["slug"] for r in recipients], "due_at": due_at.isoformat(),
            },
        )
        for recipient in recipients:
            await _mail_new_request(recipient, issuer, reference, data.kind, priority, due_at, len(entries))
            await webhooks.enqueue_request_event(
                recipient, "request.created", reference=reference, kind=data.kind, priority=priority, due_at=due_at,
                urls=[e["url"] for e in entries], now=now,
            )
    return {"id": request_id, "reference": reference, "due_at": due_at, "priority": priority,
            "recipients": [r["slug"] for r in recipients]}


async def _mail_new_request(
    recipient: dict, issuer: dict, reference: str, kind: str, priority: str, due_at: datetime, count: int
) -> None:
    to = recipient.get("contact_point_email") or recipient.get("contact_email")
    if not to:
        return
    # Addresses are never put in mail: the recipient reads them in the portal or through the API.
    link = f"{get_settings().base_url}/t/{recipient['slug']}/takedown/inbox/{reference}"
    subject = f"[{reference}] " + ("Kërkesë për bllokim" if kind == "block" else "Kërkesë për heqje")
    body = (
        f"{issuer['name']} ju ka dërguar kërkesën {reference} ({count} adresa, prioriteti {priority}).\n"
        f"Afati: {due_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC.\n\n"
        f"Shihni kërkesën dhe konfirmoni marrjen: {link}\n\n"
        f"{issuer['name']} sent you request {reference} ({count} addresses, priority {priority}).\n"
        f"Deadline: {due_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC. Open it in the portal: {link}\n"
    )
    await enqueue_mail(to_address=to, subject=subject, body_text=body, tenant_id=recipient["id"])


async def _event(
    request_id: int, issuer_id: int, recipient_id: int | None, assignment_id: int | None, kind: str, note: str,
    actor: Actor, actor_tenant_id: int, at: datetime,
) -> None:
    await RequestEvent.insert(RequestEvent(
        request=request_id, tenant=issuer_id, recipient=recipient_id, assignment=assignment_id, kind=kind,
        note=note, actor_user_id=actor.user_id, actor_label=actor.label, actor_tenant_id=actor_tenant_id, at=at,
    ))


# ---------------------------------------------------------------------------------------------
# The lifecycle of one addressed ISP's copy


def in_block_list(status: str, outcome: str) -> bool:
    """Whether an assignment's URLs belong in the ISP's block list in this state.

    Pending and actioned requests are blocked; a disputed one is not (the ISP contests it), a
    withdrawn one no longer is, and a closed one keeps the state it was closed in.
    """
    return status in ("sent", "acknowledged", "actioned") or (status == "closed" and bool(outcome))


async def _lock_assignment(reference: str, *, recipient_id: int | None = None, issuer_id: int | None = None,
                           recipient_slug: str | None = None, assignment_id: int | None = None) -> dict:
    """Load one assignment with its request, locked until commit so concurrent steps queue up."""
    conditions = ["a.reference = {}"]
    args: list[object] = [reference]
    if recipient_id is not None:
        conditions.append("a.recipient = {}")
        args.append(recipient_id)
    if issuer_id is not None:
        conditions.append("a.issuer = {}")
        args.append(issuer_id)
    if recipient_slug is not None:
        conditions.append("t.slug = {}")
        args.append(recipient_slug)
    if assignment_id is not None:
        conditions.append("a.id = {}")
        args.append(assignment_id)
    lock = " FOR UPDATE OF a" if is_postgres() else ""
    rows = await execute(
        "SELECT a.id, a.request, a.recipient, a.issuer, a.status, a.outcome, a.acknowledged_at, a.due_at,"
        " r.reference, r.kind, r.status AS request_status, t.slug AS recipient_slug, t.name AS recipient_name"
        " FROM takedown_assignment a JOIN takedown_request r ON r.id = a.request"
        " JOIN tenant t ON t.id = a.recipient WHERE " + " AND ".join(conditions) + lock,
        *args,
    )
    if not rows:
        raise _not_found()
    return dict(rows[0])


async def _request_urls(request_id: int) -> list[dict]:
    rows = await execute("SELECT url, url_hash, host FROM takedown_request_url WHERE request = {}", request_id)
    return [dict(row) for row in rows]


async def _move(
    assignment: dict, status: str, changes: dict, event: str, note: str, actor: Actor, actor_tenant_id: int,
    now: datetime,
) -> None:
    """Apply a transition: the row, the block list, the timeline and the audit log together."""
    before = in_block_list(assignment["status"], assignment["outcome"])
    outcome = changes.get(Assignment.outcome, assignment["outcome"])
    after = in_block_list(status, outcome)
    await Assignment.update({Assignment.status: status, Assignment.updated_at: now, **changes}).where(
        Assignment.id == assignment["id"]
    )
    if assignment["kind"] == "block" and before != after:
        entries = await _request_urls(assignment["request"])
        await feeds.apply(assignment["recipient"], assignment["issuer"], entries, +1 if after else -1, now)
    await _event(assignment["request"], assignment["issuer"], assignment["recipient"], assignment["id"], event, note,
                 actor, actor_tenant_id, now)
    await audit.record(
        f"takedown.{event}", actor=actor, tenant_id=actor_tenant_id, object_type="takedown_request",
        object_id=assignment["reference"],
        detail={"recipient": assignment["recipient_slug"], "from": assignment["status"], "to": status,
                **({"note": note[:500]} if note else {})},
    )


def _closed_conflict(assignment: dict) -> Conflict:
    if assignment["status"] == "withdrawn":
        return Conflict(_("Request %(ref)s was withdrawn by the issuer: there is nothing more to do.",
                          ref=assignment["reference"]))
    return Conflict(_("Request %(ref)s is closed: it can no longer be changed.", ref=assignment["reference"]))


async def acknowledge(recipient_id: int, reference: str, actor: Actor) -> tuple[dict, bool]:
    """The ISP confirms it received the request. Returns the assignment and whether anything changed."""
    now = datetime.now(UTC)
    async with tenant_transaction(recipient_id):
        assignment = await _lock_assignment(reference, recipient_id=recipient_id)
        if assignment["status"] in ("closed", "withdrawn"):
            raise _closed_conflict(assignment)
        if assignment["status"] != "sent":
            return assignment, False  # already acknowledged, actioned or disputed: harmless repeat
        await _move(assignment, "acknowledged", {Assignment.acknowledged_at: now}, "acknowledged", "", actor,
                    recipient_id, now)
    return {**assignment, "status": "acknowledged"}, True


async def mark_actioned(recipient_id: int, reference: str, outcome: str, note: str, actor: Actor) -> tuple[dict, bool]:
    """The ISP blocked or removed the content; acting without an acknowledgement implies one."""
    outcome = (outcome or "").strip()
    note = (note or "").strip()
    if outcome not in ("blocked", "removed"):
        raise ValidationFailed({"outcome": _("Say whether the content was blocked or removed.")})
    if len(note) > MAX_TEXT:
        raise ValidationFailed({"note": _("Keep the note under %(max)s characters.", max=MAX_TEXT)})
    now = datetime.now(UTC)
    async with tenant_transaction(recipient_id):
        assignment = await _lock_assignment(reference, recipient_id=recipient_id)
        status = assignment["status"]
        if status in ("closed", "withdrawn"):
            raise _closed_conflict(assignment)
        if status == "actioned":
            if assignment["outcome"] == outcome:
                return assignment, False
            raise Conflict(_("Request %(ref)s is already marked as %(outcome)s.", ref=reference,
                             outcome=_("blocked") if assignment["outcome"] == "blocked" else _("removed")))
        changes = {Assignment.actioned_at: now, Assignment.outcome: outcome, Assignment.action_note: note}
        if assignment["acknowledged_at"] is None:
            changes[Assignment.acknowledged_at] = now
            await _event(assignment["request"], assignment["issuer"], assignment["recipient"], assignment["id"],
                         "acknowledged", "", actor, recipient_id, now)
        await _move(assignment, "actioned", changes, "actioned", note, actor, recipient_id, now)
    return {**assignment, "status": "actioned", "outcome": outcome}, True


async def dispute(recipient_id: int, reference: str, reason: str, actor: Actor) -> tuple[dict, bool]:
    """The ISP contests the request (wrong address, not its customer, no legal ground...)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": _("Say why the request is disputed.")})
    if len(reason) > MAX_TEXT:
        raise ValidationFailed({"reason": _("Keep the reason under %(max)s characters.", max=MAX_TEXT)})
    now = datetime.now(UTC)
    async with tenant_transaction(recipient_id):
        assignment = await _lock_assignment(reference, recipient_id=recipient_id)
        status = assignment["status"]
        if status in ("closed", "withdrawn"):
            raise _closed_conflict(assignment)
        if status == "disputed":
            return assignment, False
        if status == "actioned":
            raise Conflict(_("Request %(ref)s was already actioned: it can no longer be disputed.", ref=reference))
        changes = {Assignment.disputed_at: now, Assignment.dispute_reason: reason}
        if assignment["acknowledged_at"] is None:
            changes[Assignment.acknowledged_at] = now
        await _move(assignment, "disputed", changes, "disputed", reason, actor, recipient_id, now)
    return {**assignment, "status": "disputed"}, True


async def close_assignment(issuer_id: int, reference: str, recipient_slug: str, note: str, actor: Actor) -> bool:
    """The issuer closes one ISP's copy once it was actioned or disputed; the request closes with its last copy."""
    note = (note or "").strip()[:MAX_TEXT]
    now = datetime.now(UTC)
    async with tenant_transaction(issuer_id):
        assignment = await _lock_assignment(reference, issuer_id=issuer_id, recipient_slug=recipient_slug)
        status = assignment["status"]
        if status == "closed":
            return False
        if status == "withdrawn":
            raise _closed_conflict(assignment)
        if status in OPEN_STATES:
            raise Conflict(_("%(isp)s has not acted on or disputed request %(ref)s yet; withdraw the request instead "
                             "if it is no longer needed.", isp=assignment["recipient_name"], ref=reference))
        await _move(assignment, "closed", {Assignment.closed_at: now}, "closed", note, actor, issuer_id, now)
        remaining = await Assignment.count().where(
            (Assignment.request == assignment["request"]) & Assignment.status.not_in(["closed", "withdrawn"])
        )
        if remaining == 0:
            await TakedownRequest.update({TakedownRequest.status: "closed", TakedownRequest.closed_at: now}).where(
                TakedownRequest.id == assignment["request"]
            )
    return True


async def withdraw_request(issuer_id: int, reference: str, reason: str, actor: Actor) -> bool:
    """The issuer withdraws the request from every ISP that has not had its copy closed."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": _("Say why the request is withdrawn.")})
    now = datetime.now(UTC)
    async with tenant_transaction(issuer_id):
        lock = " FOR UPDATE" if is_postgres() else ""
        rows = await execute(
            "SELECT id, status FROM takedown_request WHERE reference = {} AND tenant = {}" + lock, reference, issuer_id
        )
        if not rows:
            raise _not_found()
        request = rows[0]
        if request["status"] == "withdrawn":
            return False
        if request["status"] == "closed":
            raise Conflict(_("Request %(ref)s is closed: it can no longer be changed.", ref=reference))
        # Lock every open copy first, then the block lists, then (in _move) the audit chain: the
        # same order as a single ISP's step, so the two can never deadlock.
        open_rows = await execute(
            "SELECT id, recipient FROM takedown_assignment WHERE request = {} AND status NOT IN ('closed', 'withdrawn')"
            " ORDER BY id" + lock, request["id"],
        )
        await feeds.lock_lists([row["recipient"] for row in open_rows])
        for assignment_id in [row["id"] for row in open_rows]:
            assignment = await _lock_assignment(reference, issuer_id=issuer_id, assignment_id=assignment_id)
            await _move(assignment, "withdrawn", {Assignment.withdrawn_at: now}, "withdrawn", reason, actor,
                        issuer_id, now)
        await TakedownRequest.update({
            TakedownRequest.status: "withdrawn", TakedownRequest.withdrawn_at: now,
            TakedownRequest.withdraw_reason: reason,
        }).where(TakedownRequest.id == request["id"])
    return True


# ---------------------------------------------------------------------------------------------
# Reading requests


def is_overdue(status: str, due_at: datetime, now: datetime | None = None) -> bool:
    return status in OPEN_STATES and due_at < (now or datetime.now(UTC))


INBOX_STATUSES = ("sent", "acknowledged", "actioned", "disputed", "closed", "withdrawn", "overdue", "open")


def _inbox_filter(status: str) -> tuple[str, list[object]]:
    if status == "overdue":
        return " AND a.status IN ('sent', 'acknowledged') AND a.due_at < {}", [datetime.now(UTC)]
    if status == "open":
        return " AND a.status IN ('sent', 'acknowledged')", []
    if status in INBOX_STATUSES:
        return " AND a.status = {}", [status]
    return "", []


INBOX_COLUMNS = (
    "a.reference, a.kind, a.priority, r.legal_basis, a.issued_at, a.due_at, a.status, a.outcome,"
    " a.acknowledged_at, a.actioned_at, a.disputed_at, a.closed_at, a.withdrawn_at, it.name AS issuer_name,"
    " a.url_count"
)


async def inbox(recipient_id: int, status: str, page: str | int | None) -> tuple[list[dict], Pager, int]:
    """Requests addressed to an ISP, overdue first, then by deadline; also the number overdue."""
    now = datetime.now(UTC)
    condition, args = _inbox_filter(status)
    async with tenant_transaction(recipient_id):
        total = (await execute(
            "SELECT COUNT(*) AS n FROM takedown_assignment a WHERE a.recipient = {}" + condition, recipient_id, *args
        ))[0]["n"]
        overdue = (await execute(
            "SELECT COUNT(*) AS n FROM takedown_assignment a WHERE a.recipient = {}"
            " AND a.status IN ('sent', 'acknowledged') AND a.due_at < {}", recipient_id, now,
        ))[0]["n"]
        pager = Pager.from_query(page, total)
        rows = await execute(
            "SELECT " + INBOX_COLUMNS + " FROM takedown_assignment a JOIN takedown_request r ON r.id = a.request"
            " JOIN tenant it ON it.id = a.issuer WHERE a.recipient = {}" + condition +
            " ORDER BY CASE WHEN a.status IN ('sent', 'acknowledged') AND a.due_at < {} THEN 0"
            " WHEN a.status IN ('sent', 'acknowledged') THEN 1 ELSE 2 END, a.due_at, a.id"
            " LIMIT {} OFFSET {}",
            recipient_id, *args, now, pager.per_page, pager.offset,
        )
    result = []
    for row in rows:
        row = dict(row)
        row["overdue"] = is_overdue(row["status"], _aware(row["due_at"]), now)
        result.append(row)
    return result, pager, overdue


def _aware(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def request_for_recipient(recipient_id: int, reference: str) -> dict:
    """One request as the addressed ISP sees it: its own copy, the URLs, its own timeline; no reporter."""
    async with tenant_transaction(recipient_id):
        rows = await execute(
            "SELECT a.id AS assignment_id, " + INBOX_COLUMNS + ", r.id AS request_id, r.note, a.action_note,"
            " a.dispute_reason FROM takedown_assignment a JOIN takedown_request r ON r.id = a.request"
            " JOIN tenant it ON it.id = a.issuer WHERE a.recipient = {} AND a.reference = {}",
            recipient_id, reference,
        )
        if not rows:
            raise _not_found()
        request = dict(rows[0])
        request["urls"] = [dict(r) for r in await execute(
            "SELECT url, host, registrable_domain, category FROM takedown_request_url WHERE request = {} ORDER BY id",
            request["request_id"],
        )]
        events = [dict(r) for r in await execute(
            "SELECT kind, note, actor_label, actor_tenant_id, at FROM takedown_event WHERE request = {} AND"
            " (recipient = {} OR recipient IS NULL) ORDER BY id",
            request["request_id"], recipient_id,
        )]
        for event in events:
            # The provider learns which organisation acted, not which of its analysts.
            if event.pop("actor_tenant_id") not in (recipient_id, None):
                event["actor_label"] = request["issuer_name"]
        request["events"] = events
    request["overdue"] = is_overdue(request["status"], _aware(request["due_at"]))
    return request


async def request_for_issuer(issuer_id: int, reference: str) -> dict:
    """One request as its issuer sees it: every addressed ISP's copy and the full timeline."""
    async with tenant_transaction(issuer_id):
        request = await TakedownRequest.select(
            *TakedownRequest.all_columns(), TakedownRequest.created_by.email.as_alias("created_by_email")
        ).where((TakedownRequest.reference == reference) & (TakedownRequest.tenant == issuer_id)).first()
        if request is None:
            raise _not_found()
        request["urls"] = await RequestUrl.select(
            RequestUrl.url, RequestUrl.host, RequestUrl.registrable_domain, RequestUrl.category, RequestUrl.item
        ).where(RequestUrl.request == request["id"]).order_by(RequestUrl.id)
        assignments = await Assignment.select(
            *Assignment.all_columns(), Assignment.recipient.name.as_alias("recipient_name"),
            Assignment.recipient.slug.as_alias("recipient_slug"),
        ).where(Assignment.request == request["id"]).order_by(Assignment.recipient.name)
        events = await RequestEvent.select(
            RequestEvent.kind, RequestEvent.note, RequestEvent.actor_label, RequestEvent.at,
            RequestEvent.recipient.name.as_alias("recipient_name"),
        ).where(RequestEvent.request == request["id"]).order_by(RequestEvent.id)
    now = datetime.now(UTC)
    for assignment in assignments:
        assignment["overdue"] = is_overdue(assignment["status"], assignment["due_at"], now)
    request["assignments"] = assignments
    request["events"] = events
    request["overdue_count"] = sum(1 for a in assignments if a["overdue"])
    return request


async def list_issued(issuer_id: int, status: str, page: str | int | None) -> tuple[list[dict], Pager]:
    """The issuer's requests, newest first, with per-request counts of where the ISPs stand."""
    now = datetime.now(UTC)
    where = " WHERE r.tenant = {}"
    args: list[object] = [issuer_id]
    if status in ("open", "closed", "withdrawn"):
        where += " AND r.status = {}"
        args.append(status)
    elif status == "overdue":
        where += (" AND EXISTS (SELECT 1 FROM takedown_assignment o WHERE o.request = r.id"
                  " AND o.status IN ('sent', 'acknowledged') AND o.due_at < {})")
        args.append(now)
    async with tenant_transaction(issuer_id):
        total = (await execute("SELECT COUNT(*) AS n FROM takedown_request r" + where, *args))[0]["n"]
        pager = Pager.from_query(page, total)
        rows = await execute(
            "SELECT r.reference, r.kind, r.priority, r.status, r.due_at, r.created_at,"
            " (SELECT COUNT(*) FROM takedown_request_url u WHERE u.request = r.id) AS url_count,"
            " COUNT(a.id) AS recipients,"
            " SUM(CASE WHEN a.status IN ('actioned') OR (a.status = 'closed' AND a.outcome <> '') THEN 1 ELSE 0 END)"
            " AS actioned,"
            " SUM(CASE WHEN a.status = 'disputed' THEN 1 ELSE 0 END) AS disputed,"
            " SUM(CASE WHEN a.status IN ('sent', 'acknowledged') AND a.due_at < {} THEN 1 ELSE 0 END) AS overdue"
            " FROM takedown_request r LEFT JOIN takedown_assignment a ON a.request = r.id" + where +
            " GROUP BY r.id, r.reference, r.kind, r.priority, r.status, r.due_at, r.created_at"
            " ORDER BY r.id DESC LIMIT {} OFFSET {}",
            now, *args, pager.per_page, pager.offset,
        )
    return [dict(row) for row in rows], pager


async def isp_choices() -> list[dict]:
    async with system_transaction():
        return await Tenant.select(Tenant.slug, Tenant.name).where(
            (Tenant.kind == "isp") & (Tenant.active == True)
        ).order_by(Tenant.name)


async def items_for_request_form(issuer_id: int, item_ids: list[int]) -> list[dict]:
    if not item_ids:
        return []
    async with tenant_transaction(issuer_id):
        return await TakedownItem.select(
            TakedownItem.id, TakedownItem.url, TakedownItem.category, TakedownItem.status
        ).where((TakedownItem.tenant == issuer_id) & TakedownItem.id.is_in(item_ids)).order_by(TakedownItem.id)


# ---------------------------------------------------------------------------------------------
# The API's list of requests for an ISP: the busiest read, so raw SQL straight on the pool.

API_PER_PAGE = 50
# Reads the ISP's assignments alone (see ``Assignment``): the one table whose row policy is a plain match.
API_LIST_SQL = (
    "SELECT a.reference, a.kind, a.priority, a.status, a.outcome, a.due_at, a.issued_at,"
    " a.acknowledged_at, a.actioned_at, a.disputed_at, a.closed_at, a.withdrawn_at, it.slug AS issuer, a.url_count"
    " FROM takedown_assignment a JOIN tenant it ON it.id = a.issuer"
    " WHERE a.recipient = {}"
)


def _numbered(sql: str) -> str:
    """``{}`` placeholders as asyncpg's ``$1, $2, ...``."""
    parts = sql.split("{}")
    return "".join(part + (f"${index + 1}" if index < len(parts) - 1 else "") for index, part in enumerate(parts))


async def api_list_for_recipient(recipient_id: int, status: str, page: int) -> tuple[list[dict], bool]:
    """One page (oldest deadline first) and whether another follows.

    On PostgreSQL this takes a pooled connection directly: the tenant setting and BEGIN go in one
    round trip, the page (one more row than asked, instead of a COUNT) in a second, COMMIT in a
    third. The query also filters on the recipient itself, so the index serves it and SQLite gets
    the same rows.
    """
    from piccolo.engine.postgres import PostgresEngine

    from portal.core.db import get_engine

    condition, args = _inbox_filter(status)
    sql = API_LIST_SQL + condition + " ORDER BY a.due_at, a.id LIMIT {} OFFSET {}"
    params = [recipient_id, *args, API_PER_PAGE + 1, (page - 1) * API_PER_PAGE]
    engine = get_engine()
    if isinstance(engine, PostgresEngine) and engine.pool is not None:
        tenant = int(recipient_id)  # an integer from the key lookup, safe to inline in the setting
        async with engine.pool.acquire() as connection:
            await connection.execute(
                f"BEGIN READ ONLY; SELECT set_config('app.tenant_id', '{tenant}', true),"
                " set_config('app.all_tenants', 'off', true)"
            )
            try:
                records = await connection.fetch(_numbered(sql), *params)
            finally:
                await connection.execute("COMMIT")
        rows = [dict(record) for record in records]
    else:
        async with tenant_transaction(recipient_id):
            rows = [dict(row) for row in await execute(sql, *params)]
    return rows[:API_PER_PAGE], len(rows) > API_PER_PAGE
