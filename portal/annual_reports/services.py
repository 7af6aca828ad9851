"""Rules of the annual compliance report: pre-filling, drafting, submitting, revising and reviewing.

Reports belong to the reporting organisation and are written inside its tenant transaction;
regulators read and decide inside ``system_transaction`` (reviews carry the reporting
organisation as their tenant, and the regulator as ``reviewer_tenant``). Every write records an
audit entry in the same transaction.

State machine (``TRANSITIONS``): draft → submitted → under_review → returned | accepted, and a
decision may also be taken straight from submitted; returned → draft opens the next revision.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, date, datetime

from portal.annual_reports import figures
from portal.annual_reports.tables import (
    AnnualReport,
    AnnualReportAttachment,
    AnnualReportDeadline,
    AnnualReportReview,
    AnnualReportRevision,
)
from portal.audit import services as audit
from portal.code_of_conduct import files as coc_files
from portal.code_of_conduct.measures import active_in_year
from portal.code_of_conduct.tables import Commitment, Measure, MeasureCommitment, Signature
from portal.core.actor import Actor
from portal.core.db import execute, is_postgres, system_transaction, tenant_transaction
from portal.core.storage import get_storage
from portal.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from portal.core.i18n import _
from portal.files.tables import StoredFile
from portal.tenants.tables import Tenant

log = logging.getLogger(__name__)

TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"submitted"}),
    "submitted": frozenset({"under_review", "returned", "accepted"}),
    "under_review": frozenset({"returned", "accepted"}),
    "returned": frozenset({"draft"}),
    "accepted": frozenset(),
}
NARRATIVE_FIELDS = ("done", "results", "difficulties", "plans")
FIXED_SECTIONS = ("general", "takedown")
MAX_TEXT = 10000
FIRST_YEAR = 2018
REPORTING_KINDS = ("isp",)
ATTACHMENT_PURPOSE = "annual_report_attachment"


def now() -> datetime:
    return datetime.now(UTC)


def not_found() -> NotFound:
    return NotFound(_("This page does not exist or you do not have access to it."))


def default_deadline(year: int) -> date:
    """Unless a regulator admin set another date, reports for a year are due on 31 March of the next year."""
    return date(year + 1, 3, 31)


async def deadlines(years: list[int] | set[int]) -> dict[int, date]:
    """The submission deadline of each year: the one set by a regulator admin, or the default."""
    years = sorted(set(years))
    if not years:
        return {}
    async with system_transaction():
        rows = await AnnualReportDeadline.select(AnnualReportDeadline.year, AnnualReportDeadline.deadline).where(
            AnnualReportDeadline.year.is_in(years)
        )
    chosen = {r["year"]: _as_date(r["deadline"]) for r in rows}
    return {year: chosen.get(year) or default_deadline(year) for year in years}


async def deadline_of(year: int) -> date:
    return (await deadlines([year]))[year]


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _require_regulator_admin(regulator: dict, role: str) -> None:
    if regulator.get("kind") != "regulator" or role != "admin":
        raise Forbidden(_("Only administrators of a regulator set the submission deadline."))


async def set_deadline(regulator: dict, role: str, year: int | str, value: str, actor: Actor) -> date:
    """Set a year's submission deadline (audited in the regulator's log); the year's reports carry it too."""
    _require_regulator_admin(regulator, role)
    year = valid_year(year)
    try:
        chosen = date.fromisoformat((value or "").strip())
    except ValueError:
        raise ValidationFailed({"deadline": _("Enter the deadline as a date.")}) from None
    if not date(year + 1, 1, 1) <= chosen <= date(year + 1, 12, 31):
        raise ValidationFailed({"deadline": _("The deadline must fall in %(next)s, the year after the reporting year.",
                                              next=year + 1)})
    async with system_transaction():
        before = await AnnualReportDeadline.select().where(AnnualReportDeadline.year == year).first()
        previous = _as_date(before["deadline"]) if before else default_deadline(year)
        if before:
            await AnnualReportDeadline.update({
                AnnualReportDeadline.deadline: chosen, AnnualReportDeadline.set_by: actor.user_id,
                AnnualReportDeadline.set_by_tenant: regulator["id"], AnnualReportDeadline.set_at: now(),
            }).where(AnnualReportDeadline.year == year)
        else:
            await AnnualReportDeadline.insert(AnnualReportDeadline(
                year=year, deadline=chosen, set_by=actor.user_id, set_by_tenant=regulator["id"], set_at=now(),
            ))
        await AnnualReport.update({AnnualReport.deadline: chosen}).where(AnnualReport.year == year)
        await audit.record("annual_report.deadline_set", actor=actor, tenant_id=regulator["id"],
                           object_type="annual_report_deadline", object_id=str(year),
                           detail={"year": year, "before": previous.isoformat(), "after": chosen.isoformat()})
    return chosen


def check_transition(current: str, target: str) -> None:
    if target not in TRANSITIONS.get(current, frozenset()):
        raise Conflict(_("A report that is %(current)s cannot become %(target)s.", current=_status_text(current),
                         target=_status_text(target)))


def _status_text(status: str) -> str:
    from portal.annual_reports.labels import label

    return label("status", status)


def valid_year(year: int | str) -> int:
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise not_found() from None
    if not FIRST_YEAR <= year <= now().year:
        raise not_found()
    return year


def as_json(value: object, default: object) -> object:
    if value is None:
        return default
    return json.loads(value) if isinstance(value, str) else value


def canonical(document: dict) -> str:
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def content_hash(document: dict) -> str:
    return hashlib.sha256(canonical(document).encode("utf-8")).hexdigest()


# --- pre-filled figures --------------------------------------------------------------------------


def _iso(value: object) -> str | None:
    return value.isoformat() if isinstance(value, (date, datetime)) else (str(value) if value else None)


def _aware(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.fromisoformat(str(value))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def build_figures(tenant_id: int, year: int) -> dict:
    """What the portal knows about the organisation's year: signatures, commitments and measures, takedowns."""
    start, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    async with tenant_transaction(tenant_id):
        tenant = await Tenant.select().where(Tenant.id == tenant_id).first()
        signatures = await Signature.select(
            Signature.version, Signature.signed_hash, Signature.signatory_name, Signature.signatory_title,
            Signature.signed_at, Signature.withdrawn_at, Signature.version.label.as_alias("version_label"),
        ).where(Signature.tenant == tenant_id).order_by(Signature.signed_at)
        in_year = [
            s for s in signatures
            if _aware(s["signed_at"]) < end and (s["withdrawn_at"] is None or _aware(s["withdrawn_at"]) >= start)
        ]
        version_ids = sorted({s["version"] for s in in_year})
        commitments = (
            await Commitment.select(
                Commitment.id, Commitment.code, Commitment.position, Commitment.title_sq, Commitment.title_en,
                Commitment.version.label.as_alias("version_label"),
            ).where(Commitment.version.is_in(version_ids)) if version_ids else []
        )
        measures = await Measure.select(
            Measure.id, Measure.title, Measure.category, Measure.status, Measure.start_date, Measure.end_date,
            Measure.indicators,
        ).where((Measure.tenant == tenant_id) & Measure.deleted_at.is_null())
        links = await MeasureCommitment.select(
            MeasureCommitment.measure, MeasureCommitment.commitment.code.as_alias("code"),
        ).where(MeasureCommitment.tenant == tenant_id)
    takedown = await figures.for_isp(tenant_id, year)
    codes_of: dict[int, set[str]] = {}
    for link in links:
        codes_of.setdefault(link["measure"], set()).add(link["code"])
    # one section per commitment code; the wording of the newest version signed in the year
    by_code: dict[str, dict] = {}
    newest_label = in_year[-1]["version_label"] if in_year else None
    for c in sorted(commitments, key=lambda c: (c["version_label"] != newest_label, c["position"])):
        by_code.setdefault(c["code"], {
            "code": c["code"], "position": c["position"], "title_sq": c["title_sq"], "title_en": c["title_en"],
            "version_label": c["version_label"], "measures": [],
        })
    for measure in sorted(measures, key=lambda m: (m["start_date"], m["id"])):
        if not active_in_year(measure, year):
            continue
        for code in sorted(codes_of.get(measure["id"], ())):
            if code in by_code:
                by_code[code]["measures"].append({
                    "title": measure["title"], "category": measure["category"], "status": measure["status"],
                    "start_date": _iso(measure["start_date"]), "end_date": _iso(measure["end_date"]),
                    "indicators": as_json(measure["indicators"], []),
                })
    return {
        "year": year,
        "organisation": {"id": tenant_id, "name": tenant["name"], "legal_name": tenant["legal_name"],
                         "nipt": tenant.get("nipt") or ""},
        "contact_point": {key: tenant.get(f"contact_point_{key}") or "" for key in ("name", "title", "email", "phone")},
        "signatures": [
            {"version": s["version_label"], "hash": s["signed_hash"], "signatory": s["signatory_name"],
             "signatory_title": s["signatory_title"], "signed_at": _iso(s["signed_at"]),
             "withdrawn_at": _iso(s["withdrawn_at"])}
            for s in in_year
        ],
        "commitments": sorted(by_code.values(), key=lambda c: (c["position"], c["code"])),
        "takedown": takedown,
    }


def sections_of(document_figures: dict) -> list[str]:
    return [*FIXED_SECTIONS, *(c["code"] for c in document_figures["commitments"])]


# --- reading --------------------------------------------------------------------------------------


async def _report(tenant_id: int | None, year: int) -> dict | None:
    query = AnnualReport.select().where(AnnualReport.year == year)
    if tenant_id is not None:
        query = query.where(AnnualReport.tenant == tenant_id)
    return await query.first()


def _revision_columns():
    return (
        *AnnualReportRevision.all_columns(),
        AnnualReportRevision.saved_by.email.as_alias("saved_by_email"),
        AnnualReportRevision.submitted_by.email.as_alias("submitted_by_email"),
    )


def _review_columns():
    return (
        *AnnualReportReview.all_columns(),
        AnnualReportReview.reviewer.email.as_alias("reviewer_email"),
        AnnualReportReview.reviewer.full_name.as_alias("reviewer_name"),
        AnnualReportReview.reviewer_tenant.name.as_alias("reviewer_organisation"),
        AnnualReportReview.revision.number.as_alias("revision_number"),
    )


def _decode_revision(row: dict) -> dict:
    row["narratives"] = as_json(row["narratives"], {})
    row["snapshot"] = as_json(row["snapshot"], {})
    return row


def _decode_review(row: dict) -> dict:
    row["comments"] = as_json(row["comments"], {})
    return row


async def _load(report: dict) -> dict:
    revisions = await AnnualReportRevision.select(*_revision_columns()).where(
        AnnualReportRevision.report == report["id"]
    ).order_by(AnnualReportRevision.number)
    reviews = await AnnualReportReview.select(*_review_columns()).where(
        AnnualReportReview.report == report["id"]
    ).order_by(AnnualReportReview.decided_at).order_by(AnnualReportReview.id)
    report["revisions"] = [_decode_revision(r) for r in revisions]
    attached = await _attachments([r["id"] for r in report["revisions"]])
    for revision in report["revisions"]:
        revision["attachments"] = attached.get(revision["id"], {})
    report["reviews"] = [_decode_review(r) for r in reviews]
    report["current"] = next(r for r in report["revisions"] if r["number"] == report["revision"])
    report["last_review"] = report["reviews"][-1] if report["reviews"] else None
    return report


async def _attachments(revision_ids: list[int]) -> dict[int, dict[str, list[dict]]]:
    """Attachments per revision and section, oldest first (call inside a transaction)."""
    if not revision_ids:
        return {}
    rows = await AnnualReportAttachment.select(
        AnnualReportAttachment.id, AnnualReportAttachment.revision, AnnualReportAttachment.section,
        AnnualReportAttachment.file, AnnualReportAttachment.added_at,
        AnnualReportAttachment.file.filename.as_alias("filename"),
        AnnualReportAttachment.file.size_bytes.as_alias("size_bytes"),
        AnnualReportAttachment.file.sha256.as_alias("sha256"),
        AnnualReportAttachment.file.content_type.as_alias("content_type"),
    ).where(AnnualReportAttachment.revision.is_in(revision_ids)).order_by(AnnualReportAttachment.id)
    found: dict[int, dict[str, list[dict]]] = {}
    for row in rows:
        found.setdefault(row["revision"], {}).setdefault(row["section"], []).append(row)
    return found


async def organisation_report(tenant_id: int, year: int | str) -> dict | None:
    """The organisation's own report for the year with revisions and reviews, or None if not started."""
    year = valid_year(year)
    async with tenant_transaction(tenant_id):
        report = await _report(tenant_id, year)
        return await _load(report) if report else None


async def organisation_reports(tenant_id: int) -> list[dict]:
    async with tenant_transaction(tenant_id):
        return await AnnualReport.select().where(AnnualReport.tenant == tenant_id).order_by(
            AnnualReport.year, ascending=False
        )


async def any_report(report_id: int | str) -> dict:
    """Any organisation's report, for regulators."""
    try:
        report_id = int(report_id)
    except (TypeError, ValueError):
        raise not_found() from None
    async with system_transaction():
        report = await AnnualReport.select(
            *AnnualReport.all_columns(), AnnualReport.tenant.name.as_alias("tenant_name"),
            AnnualReport.tenant.slug.as_alias("tenant_slug"),
        ).where(AnnualReport.id == report_id).first()
        if report is None:
            raise not_found()
        return await _load(report)


def revision_of(report: dict, number: int | str) -> dict:
    try:
        number = int(number)
    except (TypeError, ValueError):
        raise not_found() from None
    for revision in report["revisions"]:
        if revision["number"] == number:
            return revision
    raise not_found()


def review_of_revision(report: dict, revision: dict) -> dict | None:
    found = [r for r in report["reviews"] if r["revision"] == revision["id"]]
    return found[-1] if found else None


def editable(report: dict | None) -> bool:
    return report is None or report["status"] in ("draft", "returned")


# --- drafting ------------------------------------------------------------------------------------


def clean_narratives(data: dict, codes: list[str]) -> tuple[dict, dict[str, str]]:
    """Narratives from form fields named ``<code>__<field>``; fields of unknown sections are ignored."""
    narratives: dict[str, dict[str, str]] = {}
    errors: dict[str, str] = {}
    for code in codes:
        entry = {}
        for name in NARRATIVE_FIELDS:
            text = (data.get(f"{code}__{name}") or "").replace("\r\n", "\n").strip()
            if len(text) > MAX_TEXT:
                errors[f"{code}__{name}"] = _("Keep this text under %(n)s characters.", n=MAX_TEXT)
            entry[name] = text
        narratives[code] = entry
    return narratives, errors


def missing_narratives(narratives: dict, codes: list[str]) -> dict[str, str]:
    return {
        f"{code}__done": _("Describe what was done for commitment %(code)s.", code=code)
        for code in codes if not (narratives.get(code) or {}).get("done", "").strip()
    }


async def _lock(report_id: int) -> None:
    if is_postgres():
        await execute("SELECT id FROM annual_report WHERE id = {} FOR UPDATE", report_id)


def check_attachments(uploads: dict[str, list[coc_files.Upload]], codes: list[str]) -> dict[str, list]:
    """Each commitment's new files checked by content; uploads for unknown sections are ignored."""
    checked: dict[str, list] = {}
    errors: dict[str, str] = {}
    for code in codes:
        field = f"{code}__attachments"
        try:
            files = coc_files.check_evidence(uploads.get(code) or [], field=field)
        except ValidationFailed as exc:
            errors.update(exc.errors)
            continue
        if files:
            checked[code] = files
    if errors:
        raise ValidationFailed(errors)
    return checked


async def _attach(tenant_id: int, report_id: int, revision_id: int, stored: list[tuple[str, dict]],
                  actor: Actor) -> None:
    for code, file_row in stored:
        await AnnualReportAttachment.insert(AnnualReportAttachment(
            tenant=tenant_id, report=report_id, revision=revision_id, section=code, file=file_row["id"],
            added_by=actor.user_id,
        ))


async def _carry_attachments(tenant_id: int, report_id: int, from_revision: int, to_revision: int) -> None:
    """A new revision starts with the files of the one it replaces (same stored files, new rows)."""
    rows = await AnnualReportAttachment.select().where(AnnualReportAttachment.revision == from_revision).order_by(
        AnnualReportAttachment.id
    )
    for row in rows:
        await AnnualReportAttachment.insert(AnnualReportAttachment(
            tenant=tenant_id, report=report_id, revision=to_revision, section=row["section"], file=row["file"],
            added_by=row["added_by"], added_at=row["added_at"],
        ))


async def save_draft(tenant: dict, year: int | str, data: dict, actor: Actor,
                     uploads: dict[str, list[coc_files.Upload]] | None = None) -> dict:
    """Save the narratives and new attachments of the current revision; a returned report gets its next revision here.

    New files go to storage before the transaction and are removed again if it fails.
    """
    year = valid_year(year)
    current_figures = await build_figures(tenant["id"], year)
    codes = [c["code"] for c in current_figures["commitments"]]
    narratives, errors = clean_narratives(data, codes)
    try:
        checked = check_attachments(uploads or {}, codes)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    deadline = await deadline_of(year)
    sections = [code for code, files in checked.items() for _file in files]
    new_files = [f for files in checked.values() for f in files]
    async with coc_files.staged(tenant["id"], ATTACHMENT_PURPOSE, new_files) as stage:
        async with tenant_transaction(tenant["id"]):
            report = await _report(tenant["id"], year)
            action = "annual_report.draft_saved"
            if report is None:
                [report] = await AnnualReport.insert(AnnualReport(
                    tenant=tenant["id"], year=year, status="draft", revision=1, deadline=deadline,
                    created_by=actor.user_id,
                )).returning(*AnnualReport.all_columns())
                [revision] = await AnnualReportRevision.insert(AnnualReportRevision(
                    tenant=tenant["id"], report=report["id"], number=1, narratives=narratives, saved_by=actor.user_id,
                )).returning(AnnualReportRevision.id)
                action = "annual_report.started"
            else:
                await _lock(report["id"])
                report = await _report(tenant["id"], year)
                if report["status"] == "returned":
                    check_transition("returned", "draft")
                    number = report["revision"] + 1
                    previous = await AnnualReportRevision.select(AnnualReportRevision.id).where(
                        (AnnualReportRevision.report == report["id"])
                        & (AnnualReportRevision.number == report["revision"])
                    ).first()
                    [revision] = await AnnualReportRevision.insert(AnnualReportRevision(
                        tenant=tenant["id"], report=report["id"], number=number, narratives=narratives,
                        saved_by=actor.user_id,
                    )).returning(AnnualReportRevision.id)
                    await _carry_attachments(tenant["id"], report["id"], previous["id"], revision["id"])
                    await AnnualReport.update({AnnualReport.status: "draft", AnnualReport.revision: number,
                                               AnnualReport.updated_at: now()}).where(AnnualReport.id == report["id"])
                    action = "annual_report.revision_started"
                elif report["status"] == "draft":
                    [revision] = await AnnualReportRevision.update({
                        AnnualReportRevision.narratives: narratives, AnnualReportRevision.saved_by: actor.user_id,
                        AnnualReportRevision.saved_at: now(),
                    }).where((AnnualReportRevision.report == report["id"])
                             & (AnnualReportRevision.number == report["revision"])).returning(AnnualReportRevision.id)
                    await AnnualReport.update({AnnualReport.updated_at: now()}).where(AnnualReport.id == report["id"])
                else:
                    raise Conflict(_("This report has been submitted and can no longer be edited."))
            stored = await stage.record(actor)
            await _attach(tenant["id"], report["id"], revision["id"], list(zip(sections, stored, strict=True)), actor)
            detail: dict = {"year": year}
            if stored:
                detail["attachments"] = [{"section": code, "name": f["filename"], "sha256": f["sha256"]}
                                         for code, f in zip(sections, stored, strict=True)]
            await audit.record(action, actor=actor, tenant_id=tenant["id"], object_type="annual_report",
                               object_id=report["id"], detail=detail)
            return await _load(await _report(tenant["id"], year))


async def remove_attachment(tenant: dict, year: int | str, attachment_id: int | str, actor: Actor) -> dict:
    """Take a file off the draft revision; files of a submitted revision stay. The bytes go once nothing uses them."""
    year = valid_year(year)
    try:
        attachment_id = int(attachment_id)
    except (TypeError, ValueError):
        raise not_found() from None
    orphan_key = None
    async with tenant_transaction(tenant["id"]):
        report = await _report(tenant["id"], year)
        if report is None:
            raise not_found()
        await _lock(report["id"])
        report = await _report(tenant["id"], year)
        row = await AnnualReportAttachment.select(
            *AnnualReportAttachment.all_columns(),
            AnnualReportAttachment.revision.number.as_alias("revision_number"),
            AnnualReportAttachment.revision.submitted_at.as_alias("submitted_at"),
            AnnualReportAttachment.file.filename.as_alias("filename"),
            AnnualReportAttachment.file.sha256.as_alias("sha256"),
            AnnualReportAttachment.file.storage_key.as_alias("storage_key"),
        ).where((AnnualReportAttachment.id == attachment_id) & (AnnualReportAttachment.report == report["id"])).first()
        if row is None:
            raise not_found()
        if (row["submitted_at"] is not None or report["status"] != "draft"
                or row["revision_number"] != report["revision"]):
            raise Conflict(_("This file belongs to a submitted revision and cannot be removed."))
        await AnnualReportAttachment.delete().where(AnnualReportAttachment.id == attachment_id)
        if not await AnnualReportAttachment.exists().where(AnnualReportAttachment.file == row["file"]):
            await StoredFile.update({StoredFile.deleted_at: now()}).where(StoredFile.id == row["file"])
            orphan_key = row["storage_key"]
        await audit.record("annual_report.attachment_removed", actor=actor, tenant_id=tenant["id"],
                           object_type="annual_report", object_id=report["id"],
                           detail={"year": year, "section": row["section"], "name": row["filename"],
                                   "sha256": row["sha256"]})
    if orphan_key:
        try:
            await get_storage().delete(orphan_key)
        except Exception:  # the row is marked deleted and still names the object for a later clean-up
            log.exception("could not remove the stored object %s of a removed attachment", orphan_key)
    return row


async def attachment_file(tenant_id: int | None, report_id: int, attachment_id: int | str) -> tuple[dict, dict]:
    """The attachment and its stored file; ``tenant_id=None`` reads as a regulator (submitted revisions only)."""
    try:
        attachment_id = int(attachment_id)
    except (TypeError, ValueError):
        raise not_found() from None
    scope = system_transaction() if tenant_id is None else tenant_transaction(tenant_id)
    async with scope:
        query = AnnualReportAttachment.select(
            AnnualReportAttachment.id, AnnualReportAttachment.tenant, AnnualReportAttachment.file,
            AnnualReportAttachment.revision.submitted_at.as_alias("submitted_at"),
        ).where((AnnualReportAttachment.id == attachment_id) & (AnnualReportAttachment.report == report_id))
        if tenant_id is not None:
            query = query.where(AnnualReportAttachment.tenant == tenant_id)
        row = await query.first()
        if row is None or (tenant_id is None and row["submitted_at"] is None):
            raise not_found()
        file_row = await StoredFile.select().where(
            (StoredFile.id == row["file"]) & (StoredFile.tenant == row["tenant"])
        ).first()
    if file_row is None:
        raise not_found()
    return row, file_row


async def record_attachment_download(actor: Actor, acting_tenant_id: int, owner_tenant_id: int, file_row: dict,
                                     report_id: int) -> None:
    """Audit who opened which attachment, in the acting organisation's log, naming the owner."""
    async with tenant_transaction(acting_tenant_id):
        await audit.record("annual_report.attachment_downloaded", actor=actor, tenant_id=acting_tenant_id,
                           object_type="stored_file", object_id=file_row["id"],
                           detail={"owner_tenant": owner_tenant_id, "filename": file_row["filename"],
                                   "sha256": file_row["sha256"], "report": report_id})


async def submit(tenant: dict, year: int | str, revision_number: int | str, actor: Actor) -> dict:
    """Freeze the current revision: figures and narratives as they are now, with their SHA-256."""
    year = valid_year(year)
    try:
        revision_number = int(revision_number)
    except (TypeError, ValueError):
        revision_number = -1
    current_figures = await build_figures(tenant["id"], year)
    async with tenant_transaction(tenant["id"]):
        report = await _report(tenant["id"], year)
        if report is None:
            raise ValidationFailed({"report": _("Save the report as a draft before submitting it.")})
        await _lock(report["id"])
        report = await _report(tenant["id"], year)
        if report["status"] != "draft" or report["revision"] != revision_number:
            raise Conflict(_("This revision has already been submitted; it cannot be submitted again."))
        report = await _load(report)
        narratives = report["current"]["narratives"]
        codes = [c["code"] for c in current_figures["commitments"]]
        if not codes:
            raise ValidationFailed({"report": _(
                "Your organisation had no signature of the Code of Conduct in effect in %(year)s, so there "
                "are no commitments to report on.", year=year)})
        if missing := missing_narratives(narratives, codes):
            raise ValidationFailed(missing, _("Describe what was done for every commitment before submitting."))
        check_transition("draft", "submitted")
        document = {
            "figures": current_figures,
            "narratives": {code: narratives.get(code, {}) for code in codes},
            "attachments": {
                code: [{"name": a["filename"], "size": a["size_bytes"], "sha256": a["sha256"],
                        "content_type": a["content_type"]} for a in report["current"]["attachments"][code]]
                for code in codes if report["current"]["attachments"].get(code)
            },
            "revision": report["revision"],
        }
        digest = content_hash(document)
        submitted_at = now()
        await AnnualReportRevision.update({
            AnnualReportRevision.snapshot: document, AnnualReportRevision.content_hash: digest,
            AnnualReportRevision.submitted_by: actor.user_id, AnnualReportRevision.submitted_at: submitted_at,
        }).where(AnnualReportRevision.id == report["current"]["id"])
        await AnnualReport.update({AnnualReport.status: "submitted", AnnualReport.updated_at: submitted_at}).where(
            AnnualReport.id == report["id"]
        )
        await audit.record("annual_report.submitted", actor=actor, tenant_id=tenant["id"], object_type="annual_report",
                           object_id=report["id"], detail={"year": year, "revision": report["revision"],
                                                           "content_hash": digest})
        return await _load(await _report(tenant["id"], year))


# --- reviewing -----------------------------------------------------------------------------------


def _require_regulator(regulator: dict) -> None:
    if regulator.get("kind") != "regulator":
        raise Forbidden(_("Only regulators review annual reports."))


async def start_review(regulator: dict, report_id: int | str, actor: Actor) -> dict:
    _require_regulator(regulator)
    report = await any_report(report_id)
    async with system_transaction():
        await _lock(report["id"])
        fresh = await AnnualReport.select().where(AnnualReport.id == report["id"]).first()
        check_transition(fresh["status"], "under_review")
        await AnnualReport.update({AnnualReport.status: "under_review", AnnualReport.updated_at: now()}).where(
            AnnualReport.id == report["id"]
        )
        detail = {"year": report["year"], "revision": report["revision"], "regulator": regulator["slug"]}
        for tenant_id in (report["tenant"], regulator["id"]):
            await audit.record("annual_report.review_started", actor=actor, tenant_id=tenant_id,
                               object_type="annual_report", object_id=report["id"], detail=detail)
    return await any_report(report["id"])


async def decide(regulator: dict, report_id: int | str, data: dict, actor: Actor) -> dict:
    """Record a decision on the current submitted revision with comments per section."""
    _require_regulator(regulator)
    report = await any_report(report_id)
    if report["status"] not in ("submitted", "under_review"):
        raise Conflict(_("This revision has already been decided or replaced; reload the report."))
    revision = report["current"]
    sections = sections_of(revision["snapshot"]["figures"]) if revision["snapshot"] else []
    errors: dict[str, str] = {}
    comments: dict[str, str] = {}
    for key, value in data.items():
        if not key.startswith("comment__"):
            continue
        section = key.removeprefix("comment__")
        text = (value or "").replace("\r\n", "\n").strip()
        if section not in sections:
            errors[key] = _("This report has no section “%(section)s”.", section=section[:40])
        elif len(text) > MAX_TEXT:
            errors[key] = _("Keep this text under %(n)s characters.", n=MAX_TEXT)
        elif text:
            comments[section] = text
    decision = data.get("decision") or ""
    note = (data.get("note") or "").strip()
    if decision not in ("return", "accept"):
        errors["decision"] = _("Choose whether to return the report for changes or accept it.")
    if decision == "return" and not note and not comments:
        errors["note"] = _("Say what must change: write a note or a comment on a section.")
    if len(note) > MAX_TEXT:
        errors["note"] = _("Keep this text under %(n)s characters.", n=MAX_TEXT)
    try:
        shown_revision = int(data.get("revision") or 0)
    except ValueError:
        shown_revision = 0
    if errors:
        raise ValidationFailed(errors)
    target = "returned" if decision == "return" else "accepted"
    async with system_transaction():
        await _lock(report["id"])
        fresh = await AnnualReport.select().where(AnnualReport.id == report["id"]).first()
        if fresh["revision"] != shown_revision or fresh["status"] not in ("submitted", "under_review"):
            raise Conflict(_("This revision has already been decided or replaced; reload the report."))
        check_transition(fresh["status"], target)
        await AnnualReportReview.insert(AnnualReportReview(
            tenant=report["tenant"], report=report["id"], revision=revision["id"], reviewer_tenant=regulator["id"],
            reviewer=actor.user_id, decision=decision, note=note, comments=comments,
        ))
        await AnnualReport.update({AnnualReport.status: target, AnnualReport.updated_at: now()}).where(
            AnnualReport.id == report["id"]
        )
        detail = {"year": report["year"], "revision": revision["number"], "decision": decision,
                  "regulator": regulator["slug"], "sections_commented": sorted(comments),
                  "content_hash": revision["content_hash"]}
        for tenant_id in (report["tenant"], regulator["id"]):
            await audit.record(f"annual_report.{target}", actor=actor, tenant_id=tenant_id,
                               object_type="annual_report", object_id=report["id"], detail=detail)
    return await any_report(report["id"])


# --- the regulators' queue -----------------------------------------------------------------------


def queue_status(report: dict | None) -> str:
    """What the queue shows: a first draft has not been submitted; a returned report being revised stays returned."""
    if report is None or (report["status"] == "draft" and report["revision"] == 1):
        return "not_submitted"
    if report["status"] == "draft":
        return "returned"
    return report["status"]


async def queue(year: int | str, today: date | None = None) -> list[dict]:
    """Every reporting organisation with its report's state for the year."""
    year = valid_year(year)
    today = today or date.today()
    async with system_transaction():
        tenants = await Tenant.select(Tenant.id, Tenant.name, Tenant.slug, Tenant.kind).where(
            Tenant.kind.is_in(list(REPORTING_KINDS))
        ).order_by(Tenant.name)
        reports = {r["tenant"]: r for r in await AnnualReport.select().where(AnnualReport.year == year)}
        reviews = await AnnualReportReview.select(*_review_columns()).where(
            AnnualReportReview.report.is_in([r["id"] for r in reports.values()] or [0])
        ).order_by(AnnualReportReview.decided_at)
        submitted = await AnnualReportRevision.select(
            AnnualReportRevision.report, AnnualReportRevision.submitted_at,
        ).where(AnnualReportRevision.report.is_in([r["id"] for r in reports.values()] or [0])
                & AnnualReportRevision.submitted_at.is_not_null())
    last_review: dict[int, dict] = {}
    for review in reviews:
        last_review[review["report"]] = review
    first_submitted: dict[int, datetime] = {}
    for row in submitted:
        first_submitted[row["report"]] = min(first_submitted.get(row["report"], row["submitted_at"]), row["submitted_at"])
    deadline = await deadline_of(year)
    rows = []
    for tenant in tenants:
        report = reports.get(tenant["id"])
        status = queue_status(report)
        rows.append({
            "tenant": tenant, "report": report, "status": status,
            "overdue": status == "not_submitted" and today > deadline,
            "revision": report["revision"] if report else None,
            "first_submitted_at": first_submitted.get(report["id"]) if report else None,
            "last_review": last_review.get(report["id"]) if report else None,
        })
    return rows


QUEUE_STATUSES = ("submitted", "under_review", "returned", "accepted", "not_submitted")


def queue_counts(rows: list[dict]) -> dict[str, int]:
    counts = {status: sum(1 for r in rows if r["status"] == status) for status in QUEUE_STATUSES}
    counts["overdue"] = sum(1 for r in rows if r["overdue"])
    return counts


async def reports_of_year(year: int) -> list[dict]:
    """Every organisation's report for the year with revisions and reviews (regulators' export)."""
    async with system_transaction():
        reports = await AnnualReport.select(
            *AnnualReport.all_columns(), AnnualReport.tenant.name.as_alias("tenant_name"),
        ).where(AnnualReport.year == year).order_by(AnnualReport.id)
        return [await _load(report) for report in reports]


def last_submitted(report: dict) -> dict | None:
    submitted = [r for r in report["revisions"] if r["submitted_at"] is not None]
    return submitted[-1] if submitted else None
