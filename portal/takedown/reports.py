"""Receiving URL reports, de-duplicating them into items, and the analysts' triage.

Routing of public reports: the public form has no organisation of its own, so its reports go to
one intake queue: the organisation named by ``PORTAL_REPORT_INTAKE_TENANT``, else the active
hotline NGO (the national reporting platform's operator; the oldest if there are several), else
the oldest active agency. Reports from analysts and from partner APIs go to the submitting
organisation's own queue. Items and reports are owned by that queue's organisation and protected
by row-level security on ``tenant``: no other organisation (and never an ISP) can read them.
De-duplication is per queue for the same reason.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from portal.audit import services as audit
from portal.core.actor import Actor
from portal.core.db import execute, system_transaction, tenant_transaction
from portal.core.errors import NotFound, PortalError, TooManyAttempts, ValidationFailed
from portal.core.i18n import _
from portal.core.pagination import Pager
from portal.core.permissions import analyst_allowed
from portal.takedown.config import get_takedown_settings
from portal.takedown.contact import UnreadableContact, decrypt_contact, encrypt_contact
from portal.takedown.labels import AGES, ASSESSMENTS, CATEGORIES, CHANNELS, ITEM_STATUSES
from portal.takedown.tables import TakedownItem, TakedownReport
from portal.takedown.urls import InvalidUrl, NormalisedUrl, normalise_url
from portal.tenants.tables import Tenant

MAX_DESCRIPTION = 5000
MAX_CONTACT = 500
MAX_SOURCE_REFERENCE = 200
MAX_NOTE = 5000
RECEIPT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O or 1/I to misread over the phone


class IntakeUnavailable(PortalError):
    status_code = 503
    title = "Service unavailable"


@dataclass(frozen=True)
class ReportInput:
    """One report as received from a form, the API or an import row, before validation."""

    url: str
    category: str
    description: str = ""
    source_reference: str = ""
    contact: str = ""


@dataclass(frozen=True)
class ReportReceipt:
    receipt: str
    item_id: int
    repeat: bool
    report_count: int


def new_receipt() -> str:
    chars = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(10))
    return f"R-{chars[:4]}-{chars[4:8]}-{chars[8:]}"


def validate_report(data: ReportInput) -> tuple[NormalisedUrl, dict[str, str]]:
    """Check one report; returns the normalised URL (if valid) and field errors."""
    errors: dict[str, str] = {}
    normalised = None
    try:
        normalised = normalise_url(data.url)
    except InvalidUrl as exc:
        errors["url"] = exc.message
    if data.category not in CATEGORIES:
        errors["category"] = _("Choose what kind of content this is.")
    if len(data.description) > MAX_DESCRIPTION:
        errors["description"] = _("Keep the description under %(max)s characters.", max=MAX_DESCRIPTION)
    if len(data.contact) > MAX_CONTACT:
        errors["contact"] = _("Keep the contact details under %(max)s characters.", max=MAX_CONTACT)
    if len(data.source_reference) > MAX_SOURCE_REFERENCE:
        errors["source_reference"] = _("Keep the reference under %(max)s characters.", max=MAX_SOURCE_REFERENCE)
    return normalised, errors  # type: ignore[return-value]


async def _upsert_item(tenant_id: int, normalised: NormalisedUrl, category: str, now: datetime, count: int) -> dict:
    """Insert the item or, if its normalised URL is already in this queue, add to its count."""
    rows = await execute(
        "INSERT INTO takedown_item (tenant, url, url_hash, host, registrable_domain, category, status, report_count,"
        " first_reported_at, last_reported_at, assessment_note) VALUES ({}, {}, {}, {}, {}, {}, 'new', {}, {}, {}, '')"
        " ON CONFLICT (tenant, url_hash) DO UPDATE SET report_count = takedown_item.report_count + excluded.report_count,"
        " last_reported_at = excluded.last_reported_at"
        " RETURNING id, report_count",
        tenant_id, normalised.url, normalised.url_hash, normalised.host, normalised.registrable_domain, category,
        count, now, now,
    )
    return rows[0]


async def record_report(
    tenant_id: int, data: ReportInput, *, channel: str, actor: Actor, submitted_by: int | None = None,
    submitter: str = "",
) -> ReportReceipt:
    """Store one report in ``tenant_id``'s queue; a repeat of a known URL attaches to its item."""
    normalised, errors = validate_report(data)
    if errors:
        raise ValidationFailed(errors)
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    now = datetime.now(UTC)
    receipt = new_receipt()
    async with tenant_transaction(tenant_id):
        item = await _upsert_item(tenant_id, normalised, data.category, now, 1)
        await TakedownReport.insert(
            TakedownReport(
                tenant=tenant_id, item=item["id"], receipt=receipt, channel=channel, category=data.category,
                description=data.description.strip(), source_reference=data.source_reference.strip(),
                contact_encrypted=encrypt_contact(data.contact), submitted_by=submitted_by,
                submitter_key=submitter, created_at=now,
            )
        )
        await audit.record(
            "takedown.report_received", actor=actor, tenant_id=tenant_id, object_type="takedown_item",
            object_id=item["id"],
            detail={"receipt": receipt, "channel": channel, "category": data.category, "repeat": item["report_count"] > 1},
        )
    return ReportReceipt(receipt, item["id"], item["report_count"] > 1, item["report_count"])


async def intake_tenant() -> dict:
    """The organisation whose queue receives public reports (see the module docstring)."""
    slug = get_takedown_settings().intake_tenant
    async with system_transaction():
        candidates = await Tenant.select(Tenant.id, Tenant.slug, Tenant.kind, Tenant.is_hotline).where(
            Tenant.active == True
        ).order_by(Tenant.id)
    for tenant in candidates:
        if slug and tenant["slug"] == slug and analyst_allowed(tenant["kind"], tenant["is_hotline"]):
            return tenant
    if not slug:
        for wanted in ("ngo", "agency"):
            for tenant in candidates:
                if tenant["kind"] == wanted and analyst_allowed(tenant["kind"], tenant["is_hotline"]):
                    return tenant
    raise IntakeUnavailable(_("Reporting is not available at the moment. Please try again later or contact the State Police."))


async def submit_public_report(data: ReportInput, *, submitter: str, ip: str) -> ReportReceipt:
    """The public form: anonymous, rate-limited per address, routed to the intake queue."""
    _normalised, errors = validate_report(data)
    if errors:
        raise ValidationFailed(errors)
    limit = get_takedown_settings().public_reports_per_hour
    async with system_transaction():
        rows = await execute(
            "SELECT COUNT(*) AS n FROM takedown_report WHERE submitter_key = {} AND created_at > {}",
            submitter, datetime.now(UTC) - timedelta(hours=1),
        )
    if rows[0]["n"] >= limit:
        raise TooManyAttempts(_("You have sent many reports in a short time. Please wait an hour and try again."))
    tenant = await intake_tenant()
    return await record_report(
        tenant["id"], data, channel="public", actor=Actor(user_id=None, label="public report form", ip=ip),
        submitter=submitter,
    )


# ---------------------------------------------------------------------------------------------
# The analysts' queue


@dataclass(frozen=True)
class QueueFilters:
    category: str = ""
    status: str = ""
    domain: str = ""
    age: str = ""

    @classmethod
    def from_query(cls, params: dict) -> QueueFilters:
        """Unknown values are dropped rather than refused: a filter link must never error."""
        category = params.get("category") or ""
        status = params.get("status") or ""
        age = params.get("age") or ""
        domain = (params.get("domain") or "").strip().lower()[:255]
        return cls(
            category=category if category in CATEGORIES else "",
            status=status if status in ITEM_STATUSES else "",
            domain=domain,
            age=age if age in AGES else "",
        )

    def as_dict(self) -> dict:
        return {"category": self.category, "status": self.status, "domain": self.domain, "age": self.age}


def _domain_filter(domain: str) -> str:
    """Accept a pasted URL or host in the domain filter; compare on the registrable domain."""
    try:
        return normalise_url(domain).registrable_domain
    except InvalidUrl:
        return domain


async def list_queue(tenant_id: int, filters: QueueFilters, page: str | int | None) -> tuple[list[dict], Pager]:
    where = TakedownItem.tenant == tenant_id
    if filters.category:
        where &= TakedownItem.category == filters.category
    if filters.status:
        where &= TakedownItem.status == filters.status
    if filters.domain:
        where &= TakedownItem.registrable_domain == _domain_filter(filters.domain)
    now = datetime.now(UTC)
    if filters.age in {"1d", "7d", "30d"}:
        where &= TakedownItem.last_reported_at >= now - timedelta(days=int(filters.age[:-1]))
    elif filters.age == "older":
        where &= TakedownItem.last_reported_at < now - timedelta(days=30)
    async with tenant_transaction(tenant_id):
        total = await TakedownItem.count().where(where)
        pager = Pager.from_query(page, total)
        rows = await (
            TakedownItem.select(
                TakedownItem.id, TakedownItem.url, TakedownItem.host, TakedownItem.registrable_domain,
                TakedownItem.category, TakedownItem.status, TakedownItem.report_count,
                TakedownItem.first_reported_at, TakedownItem.last_reported_at,
            )
            .where(where)
            .order_by(TakedownItem.last_reported_at, ascending=False)
            .order_by(TakedownItem.id, ascending=False)
            .limit(pager.per_page)
            .offset(pager.offset)
        )
    return rows, pager


async def queue_counts(tenant_id: int) -> dict[str, int]:
    async with tenant_transaction(tenant_id):
        rows = await execute(
            "SELECT status, COUNT(*) AS n FROM takedown_item WHERE tenant = {} GROUP BY status", tenant_id
        )
    return {row["status"]: row["n"] for row in rows}


async def _load_item(tenant_id: int, item_id: int) -> dict:
    item = await TakedownItem.select().where((TakedownItem.id == item_id) & (TakedownItem.tenant == tenant_id)).first()
    if item is None:
        raise NotFound(_("This page does not exist or you do not have access to it."))
    return item


async def view_item(tenant_id: int, item_id: int, actor: Actor) -> dict:
    """An item with its reports (contact details decrypted) and the requests that name it.

    Opening a CSAM item, or any item whose reports carry contact details, is written to the audit
    log: both are confidential records under the portal's rules.
    """
    async with tenant_transaction(tenant_id):
        item = await _load_item(tenant_id, item_id)
        reports = await (
            TakedownReport.select(
                TakedownReport.id, TakedownReport.receipt, TakedownReport.channel, TakedownReport.category,
                TakedownReport.description, TakedownReport.source_reference, TakedownReport.contact_encrypted,
                TakedownReport.created_at, TakedownReport.submitted_by.email.as_alias("submitted_by_email"),
            )
            .where(TakedownReport.item == item_id)
            .order_by(TakedownReport.id)
        )
        requests = await execute(
            "SELECT DISTINCT r.id, r.reference, r.kind, r.status, r.due_at, r.created_at FROM takedown_request r"
            " JOIN takedown_request_url u ON u.request = r.id WHERE u.item = {} AND r.tenant = {} ORDER BY r.id",
            item_id, tenant_id,
        )
        contact_shown = False
        for report in reports:
            try:
                report["contact"] = decrypt_contact(report.pop("contact_encrypted"))
            except UnreadableContact:
                report["contact"] = None  # shown as "cannot be decrypted", never as the token
            contact_shown = contact_shown or bool(report["contact"])
        if item["category"] == "csam" or contact_shown:
            await audit.record(
                "takedown.item_viewed", actor=actor, tenant_id=tenant_id, object_type="takedown_item",
                object_id=item_id, detail={"category": item["category"], "contact_details_shown": contact_shown},
            )
    return {"item": item, "reports": reports, "requests": requests}


async def assess_item(
    tenant_id: int, item_id: int, *, outcome: str, note: str, duplicate_of: str = "", category: str = "",
    actor: Actor,
) -> dict:
    """Record the analyst's assessment of an item; a duplicate names the item it repeats."""
    errors: dict[str, str] = {}
    if outcome not in ASSESSMENTS:
        errors["outcome"] = _("Choose an assessment.")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        errors["note"] = _("Keep the note under %(max)s characters.", max=MAX_NOTE)
    if outcome in {"not_valid", "out_of_jurisdiction"} and not note:
        errors["note"] = _("Say briefly why, for the record.")
    if category and category not in CATEGORIES:
        errors["category"] = _("Choose what kind of content this is.")
    original_id = None
    if outcome == "duplicate":
        try:
            original_id = int(str(duplicate_of).strip().lstrip("#"))
        except ValueError:
            errors["duplicate_of"] = _("Enter the number of the item this one repeats.")
        else:
            if original_id == item_id:
                errors["duplicate_of"] = _("An item cannot be a duplicate of itself.")
    if errors:
        raise ValidationFailed(errors)
    async with tenant_transaction(tenant_id):
        item = await _load_item(tenant_id, item_id)
        if original_id is not None:
            exists = await TakedownItem.exists().where(
                (TakedownItem.id == original_id) & (TakedownItem.tenant == tenant_id)
            )
            if not exists:
                raise ValidationFailed({"duplicate_of": _("There is no item with that number in your queue.")})
        changes = {
            TakedownItem.status: outcome,
            TakedownItem.assessment_note: note,
            TakedownItem.assessed_at: datetime.now(UTC),
            TakedownItem.assessed_by: actor.user_id,
            TakedownItem.duplicate_of: original_id,
        }
        if category:
            changes[TakedownItem.category] = category
        await TakedownItem.update(changes).where(TakedownItem.id == item_id)
        await audit.record(
            "takedown.item_assessed", actor=actor, tenant_id=tenant_id, object_type="takedown_item", object_id=item_id,
            detail={
                "outcome": outcome, "previous": item["status"], "category": category or item["category"],
                "duplicate_of": original_id,
            },
        )
    return {**item, "status": outcome}
