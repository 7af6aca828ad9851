"""Rules of the Code of Conduct: drafting and publishing versions, signing and withdrawing, the registry.

Versions and commitments are global rows written by regulator administrators. Signatures belong
to the signing organisation and are written inside its tenant transaction; regulators and the
public list read across organisations inside ``system_transaction``. Every write records an
audit entry in the same transaction. Measures are in ``measures.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from portal.audit import services as audit
from portal.code_of_conduct import files as coc_files
from portal.code_of_conduct.tables import CodeVersion, Commitment, MeasureCommitment, Signature
from portal.code_of_conduct.text import (
    COMMITMENT_TEXT_FIELDS,
    Segment,
    content_hash,
    normalise_text,
    ordered_commitments,
    word_diff,
)
from portal.core import i18n
from portal.core.actor import Actor
from portal.core.db import execute, is_postgres, system_transaction, tenant_transaction
from portal.core.errors import Conflict, NotFound, ValidationFailed
from portal.core.i18n import _
from portal.core.settings import get_settings
from portal.files.tables import StoredFile
from portal.outbox.services import enqueue_mail
from portal.tenants.tables import Membership, Tenant

LABEL_PATTERN = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.\-]{0,19}$")
CODE_PATTERN = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.\-]{0,15}$")
VERSION_TEXT_FIELDS = ("title_sq", "title_en", "body_sq", "body_en")
SIGNING_KINDS = ("isp", "ngo", "agency")
SIGNING_STATUSES = ("signed_current", "signed_old_version", "withdrawn", "not_signed")


def now() -> datetime:
    return datetime.now(UTC)


def not_found() -> NotFound:
    return NotFound(_("This page does not exist or you do not have access to it."))


async def _lock_version(version_id: int) -> None:
    """Serialise publishing and signing of one version (SQLite already serialises all writers)."""
    if is_postgres():
        await execute("SELECT id FROM coc_version WHERE id = {} FOR UPDATE", version_id)


# --- reading versions ---------------------------------------------------------------------------


async def commitments_of(version_id: int) -> list[dict]:
    rows = await Commitment.select().where(Commitment.version == version_id)
    return ordered_commitments(rows)


async def get_version(version_id: int | str, *, include_drafts: bool) -> dict:
    """A version with its commitments; drafts exist only for those allowed to see them."""
    try:
        version_id = int(version_id)
    except (TypeError, ValueError):
        raise not_found() from None
    version = await CodeVersion.select().where(CodeVersion.id == version_id).first()
    if version is None or (version["status"] == "draft" and not include_drafts):
        raise not_found()
    version["commitments"] = await commitments_of(version_id)
    return version


async def published_version_by_label(label: str) -> dict:
    version = await CodeVersion.select().where(
        (CodeVersion.label == label) & (CodeVersion.status != "draft")
    ).first()
    if version is None:
        raise not_found()
    version["commitments"] = await commitments_of(version["id"])
    return version


async def current_version(with_commitments: bool = True) -> dict | None:
    version = await CodeVersion.select().where(CodeVersion.status == "published").first()
    if version is not None and with_commitments:
        version["commitments"] = await commitments_of(version["id"])
    return version


async def draft_version() -> dict | None:
    return await CodeVersion.select().where(CodeVersion.status == "draft").first()


async def list_versions(*, include_drafts: bool) -> list[dict]:
    query = CodeVersion.select(
        CodeVersion.id, CodeVersion.label, CodeVersion.title_sq, CodeVersion.title_en, CodeVersion.status,
        CodeVersion.content_hash, CodeVersion.published_at, CodeVersion.superseded_at, CodeVersion.created_at,
    )
    if not include_drafts:
        query = query.where(CodeVersion.status != "draft")
    rows = await query
    order = {"draft": 0, "published": 1, "superseded": 2}
    return sorted(rows, key=lambda v: (order[v["status"]], -(v["published_at"] or v["created_at"]).timestamp()))


# --- drafting ----------------------------------------------------------------------------------


def clean_version_input(data: dict) -> tuple[dict, dict[str, str]]:
    clean = {"label": (data.get("label") or "").strip()}
    for name in VERSION_TEXT_FIELDS:
        clean[name] = normalise_text(data.get(name))
    errors: dict[str, str] = {}
    if not clean["label"]:
        errors["label"] = _("Enter a version label, for example 2026.1.")
    elif not LABEL_PATTERN.match(clean["label"]):
        errors["label"] = _("Use up to 20 letters, digits, dots or hyphens, for example 2026.1.")
    if not clean["title_sq"]:
        errors["title_sq"] = _("Enter the title in Albanian.")
    if not clean["title_en"]:
        errors["title_en"] = _("Enter the title in English.")
    for name in ("title_sq", "title_en"):
        if len(clean[name]) > 300 and name not in errors:
            errors[name] = _("Keep the title under 300 characters.")
    return clean, errors


async def _label_taken(label: str, except_id: int | None = None) -> bool:
    query = CodeVersion.exists().where(CodeVersion.label == label)
    if except_id is not None:
        query = CodeVersion.exists().where((CodeVersion.label == label) & (CodeVersion.id != except_id))
    return await query


async def create_draft(regulator: dict, data: dict, actor: Actor, *, copy_current: bool = True) -> dict:
    """Start the next version, by default as a copy of the commitments in force."""
    clean, errors = clean_version_input(data)
    if errors:
        raise ValidationFailed(errors)
    async with tenant_transaction(regulator["id"]):
        existing = await draft_version()
        if existing is not None:
            raise ValidationFailed(
                {"form": _("Version %(label)s is already being drafted: finish or discard it first.", label=existing["label"])}
            )
        if await _label_taken(clean["label"]):
            raise ValidationFailed({"label": _("A version with this label already exists.")})
        rows = await CodeVersion.insert(
            CodeVersion(**clean, status="draft", created_by=actor.user_id)
        ).returning(*CodeVersion.all_columns())
        version = rows[0]
        copied = 0
        current = await current_version() if copy_current else None
        if current is not None:
            for commitment in current["commitments"]:
                await Commitment.insert(
                    Commitment(
                        version=version["id"], position=commitment["position"], code=commitment["code"],
                        **{name: commitment[name] for name in COMMITMENT_TEXT_FIELDS},
                    )
                )
                copied += 1
        await audit.record(
            "coc.version_drafted", actor=actor, tenant_id=regulator["id"], object_type="coc_version",
            object_id=version["id"], detail={"label": clean["label"], "copied_commitments": copied},
        )
    return version


async def get_draft(version_id: int | str) -> dict:
    version = await get_version(version_id, include_drafts=True)
    if version["status"] != "draft":
        raise Conflict(_("A published version cannot be changed; draft a new version instead."))
    return version


async def update_draft(regulator: dict, version_id: int | str, data: dict, actor: Actor) -> dict:
    clean, errors = clean_version_input(data)
    if errors:
        raise ValidationFailed(errors)
    async with tenant_transaction(regulator["id"]):
        version = await get_draft(version_id)
        await _lock_version(version["id"])
        if await _label_taken(clean["label"], except_id=version["id"]):
            raise ValidationFailed({"label": _("A version with this label already exists.")})
        changed = [name for name in clean if clean[name] != version[name]]
        if changed:
            await CodeVersion.update({**{getattr(CodeVersion, k): v for k, v in clean.items()}, CodeVersion.updated_at: now()}).where(
                CodeVersion.id == version["id"]
            )
            await audit.record(
                "coc.version_updated", actor=actor, tenant_id=regulator["id"], object_type="coc_version",
                object_id=version["id"], detail={"label": clean["label"], "fields": changed},
            )
    return version | clean


def clean_commitment_input(data: dict) -> tuple[dict, dict[str, str]]:
    clean = {"code": (data.get("code") or "").strip()}
    for name in COMMITMENT_TEXT_FIELDS:
        clean[name] = normalise_text(data.get(name))
    errors: dict[str, str] = {}
    if not clean["code"]:
        errors["code"] = _("Enter the commitment's number, for example Z1.")
    elif not CODE_PATTERN.match(clean["code"]):
        errors["code"] = _("Use up to 16 letters, digits, dots or hyphens, for example Z1.")
    required = {
        "title_sq": _("Enter the short title in Albanian."),
        "title_en": _("Enter the short title in English."),
        "text_sq": _("Enter the commitment's text in Albanian."),
        "text_en": _("Enter the commitment's text in English."),
    }
    for name, message in required.items():
        if not clean[name]:
            errors[name] = message
    for name in ("title_sq", "title_en"):
        if len(clean[name]) > 200 and name not in errors:
            errors[name] = _("Keep the short title under 200 characters.")
    raw_position = (data.get("position") or "").strip()
    clean["position"] = None
    if raw_position:
        try:
            clean["position"] = int(raw_position)
            if not 0 <= clean["position"] <= 999:
                raise ValueError
        except ValueError:
            errors["position"] = _("Enter a whole number between 0 and 999.")
    return clean, errors


async def _commitment_in(version_id: int, commitment_id: int | str) -> dict:
    try:
        commitment_id = int(commitment_id)
    except (TypeError, ValueError):
        raise not_found() from None
    commitment = await Commitment.select().where(
        (Commitment.id == commitment_id) & (Commitment.version == version_id)
    ).first()
    if commitment is None:
        raise not_found()
    return commitment


async def add_commitment(regulator: dict, version_id: int | str, data: dict, actor: Actor) -> dict:
    clean, errors = clean_commitment_input(data)
    if errors:
        raise ValidationFailed(errors)
    async with tenant_transaction(regulator["id"]):
        version = await get_draft(version_id)
        await _lock_version(version["id"])
        if any(c["code"] == clean["code"] for c in version["commitments"]):
            raise ValidationFailed({"code": _("This version already has a commitment %(code)s.", code=clean["code"])})
        if clean["position"] is None:
            clean["position"] = max((c["position"] for c in version["commitments"]), default=0) + 1
        rows = await Commitment.insert(Commitment(version=version["id"], **clean)).returning(*Commitment.all_columns())
        await CodeVersion.update({CodeVersion.updated_at: now()}).where(CodeVersion.id == version["id"])
        await audit.record(
            "coc.commitment_added", actor=actor, tenant_id=regulator["id"], object_type="coc_commitment",
            object_id=rows[0]["id"], detail={"version": version["label"], "code": clean["code"]},
        )
    return rows[0]


async def get_draft_commitment(version_id: int | str, commitment_id: int | str) -> tuple[dict, dict]:
    version = await get_draft(version_id)
    return version, await _commitment_in(version["id"], commitment_id)


async def update_commitment(
    regulator: dict, version_id: int | str, commitment_id: int | str, data: dict, actor: Actor
) -> dict:
    clean, errors = clean_commitment_input(data)
    if errors:
        raise ValidationFailed(errors)
    async with tenant_transaction(regulator["id"]):
        version = await get_draft(version_id)
        await _lock_version(version["id"])
        commitment = await _commitment_in(version["id"], commitment_id)
        if any(c["code"] == clean["code"] and c["id"] != commitment["id"] for c in version["commitments"]):
            raise ValidationFailed({"code": _("This version already has a commitment %(code)s.", code=clean["code"])})
        if clean["position"] is None:
            clean["position"] = commitment["position"]
        changed = [name for name in clean if clean[name] != commitment[name]]
        if changed:
            await Commitment.update({getattr(Commitment, k): v for k, v in clean.items()}).where(
                Commitment.id == commitment["id"]
            )
            await CodeVersion.update({CodeVersion.updated_at: now()}).where(CodeVersion.id == version["id"])
            await audit.record(
                "coc.commitment_updated", actor=actor, tenant_id=regulator["id"], object_type="coc_commitment",
                object_id=commitment["id"], detail={"version": version["label"], "code": clean["code"], "fields": changed},
            )
    return commitment | clean


async def remove_commitment(regulator: dict, version_id: int | str, commitment_id: int | str, actor: Actor) -> None:
    async with tenant_transaction(regulator["id"]):
        version = await get_draft(version_id)
        await _lock_version(version["id"])
        commitment = await _commitment_in(version["id"], commitment_id)
        # Drafts cannot be signed, so no measure points at a draft's commitment.
        await Commitment.delete().where(Commitment.id == commitment["id"])
        await CodeVersion.update({CodeVersion.updated_at: now()}).where(CodeVersion.id == version["id"])
        await audit.record(
            "coc.commitment_removed", actor=actor, tenant_id=regulator["id"], object_type="coc_commitment",
            object_id=commitment["id"], detail={"version": version["label"], "code": commitment["code"]},
        )


async def discard_draft(regulator: dict, version_id: int | str, actor: Actor) -> None:
    async with tenant_transaction(regulator["id"]):
        version = await get_draft(version_id)
        await _lock_version(version["id"])
        await Commitment.delete().where(Commitment.version == version["id"])
        await CodeVersion.delete().where(CodeVersion.id == version["id"])
        await audit.record(
            "coc.version_discarded", actor=actor, tenant_id=regulator["id"], object_type="coc_version",
            object_id=version["id"], detail={"label": version["label"]},
        )


# --- publishing --------------------------------------------------------------------------------


async def publish_version(regulator: dict, version_id: int | str, actor: Actor, *, confirmed: bool) -> dict:
    """Freeze a draft: hash its canonical text, put it in force and supersede the previous version.

    Administrators of organisations whose signature is live are told by mail that re-signing is needed.
    """
    if not confirmed:
        raise ValidationFailed({"confirm": _("Confirm that the text is final: a published version cannot be changed.")})
    async with system_transaction():
        version = await get_draft(version_id)
        await _lock_version(version["id"])
        if not version["commitments"]:
            raise ValidationFailed({"form": _("Add at least one commitment before publishing.")})
        digest = content_hash(version, version["commitments"])
        at = now()
        previous = await current_version(with_commitments=False)
        if previous is not None:
            await _lock_version(previous["id"])
            await CodeVersion.update({CodeVersion.status: "superseded", CodeVersion.superseded_at: at}).where(
                CodeVersion.id == previous["id"]
            )
        await CodeVersion.update(
            {
                CodeVersion.status: "published", CodeVersion.content_hash: digest, CodeVersion.published_at: at,
                CodeVersion.published_by: actor.user_id, CodeVersion.updated_at: at,
            }
        ).where(CodeVersion.id == version["id"])
        notified = await _notify_resigning(version["label"]) if previous is not None else 0
        await audit.record(
            "coc.version_published", actor=actor, tenant_id=regulator["id"], object_type="coc_version",
            object_id=version["id"],
            detail={
                "label": version["label"], "content_hash": digest,
                "superseded": previous["label"] if previous else None, "notified": notified,
            },
        )
    return version | {"status": "published", "content_hash": digest, "published_at": at}


async def _notify_resigning(label: str) -> int:
    """Queue a mail, in each person's language, to the admins of organisations with a live signature."""
    states = await _latest_signatures()
    tenant_ids = [row["tenant"] for row in states.values() if row["withdrawn_at"] is None]
    if not tenant_ids:
        return 0
    admins = await Membership.select(
        Membership.tenant.id.as_alias("tenant_id"), Membership.tenant.slug.as_alias("slug"),
        Membership.user.email.as_alias("email"), Membership.user.language.as_alias("language"),
    ).where(
        Membership.tenant.is_in(tenant_ids) & (Membership.role == "admin") & (Membership.active == True)  # noqa: E712
        & (Membership.user.is_active == True)  # noqa: E712
    )
    base_url = get_settings().base_url.rstrip("/")
    for admin in admins:
        token = i18n.current_language.set(i18n.normalise_language(admin["language"]))
        try:
            subject = _("Code of Conduct version %(label)s published: re-signing needed", label=label)
            body = _(
                "A new version (%(label)s) of the Code of Conduct for Internet Safety is in force. "
                "Your organisation's signature covers an earlier version. An administrator can read the "
                "new text and sign it here:\n\n%(link)s\n",
                label=label, link=f"{base_url}/t/{admin['slug']}/code-of-conduct",
            )
        finally:
            i18n.current_language.reset(token)
        await enqueue_mail(to_address=admin["email"], subject=subject, body_text=body, tenant_id=admin["tenant_id"])
    return len(admins)


# --- what changes in a draft -------------------------------------------------------------------


@dataclass
class FieldChange:
    name: str
    segments: list[Segment]


@dataclass
class CommitmentChange:
    code: str
    change: str  # added / removed / reworded / unchanged
    old: dict | None
    new: dict | None
    fields: list[FieldChange] = field(default_factory=list)
    moved: bool = False


@dataclass
class VersionDiff:
    base: dict | None
    version: dict
    header: list[FieldChange]
    commitments: list[CommitmentChange]
    affected_measures: list[dict]

    @property
    def changed_count(self) -> int:
        return sum(1 for c in self.commitments if c.change != "unchanged")


def _field_changes(old: dict, new: dict, names: tuple[str, ...]) -> list[FieldChange]:
    return [
        FieldChange(name, word_diff(old[name], new[name]))
        for name in names
        if normalise_text(old[name]) != normalise_text(new[name])
    ]


def compare_commitments(old: list[dict], new: list[dict]) -> list[CommitmentChange]:
    """Commitments matched by their code, in the new version's order; removed ones are listed last."""
    old_by_code = {c["code"]: c for c in old}
    new_codes = {c["code"] for c in new}
    old_order = [c["code"] for c in ordered_commitments(old) if c["code"] in new_codes]
    new_order = [c["code"] for c in ordered_commitments(new) if c["code"] in old_by_code]
    changes = []
    for commitment in ordered_commitments(new):
        before = old_by_code.get(commitment["code"])
        if before is None:
            changes.append(CommitmentChange(commitment["code"], "added", None, commitment))
            continue
        fields = _field_changes(before, commitment, COMMITMENT_TEXT_FIELDS)
        moved = old_order.index(commitment["code"]) != new_order.index(commitment["code"])
        changes.append(
            CommitmentChange(commitment["code"], "reworded" if fields else "unchanged", before, commitment, fields, moved)
        )
    for commitment in ordered_commitments(old):
        if commitment["code"] not in new_codes:
            changes.append(CommitmentChange(commitment["code"], "removed", commitment, None))
    return changes


async def diff_against_current(version_id: int | str) -> VersionDiff:
    """What a draft changes in the Code in force, and which signatories' measures rest on changed commitments."""
    version = await get_version(version_id, include_drafts=True)
    base = await current_version()
    if base is not None and base["id"] == version["id"]:
        base = None
    header = _field_changes(base, version, VERSION_TEXT_FIELDS) if base else []
    commitments = compare_commitments(base["commitments"] if base else [], version["commitments"])
    changed_ids = [c.old["id"] for c in commitments if c.old is not None and c.change in {"removed", "reworded"}]
    affected: list[dict] = []
    if changed_ids:
        async with system_transaction():
            affected = await MeasureCommitment.select(
                MeasureCommitment.measure.id.as_alias("measure_id"),
                MeasureCommitment.measure.title.as_alias("title"),
                MeasureCommitment.measure.status.as_alias("status"),
                MeasureCommitment.commitment.code.as_alias("code"),
                MeasureCommitment.tenant.name.as_alias("tenant_name"),
                MeasureCommitment.tenant.kind.as_alias("tenant_kind"),
            ).where(
                MeasureCommitment.commitment.is_in(changed_ids) & MeasureCommitment.measure.deleted_at.is_null()
            )
        affected.sort(key=lambda r: (r["tenant_name"], r["code"], r["title"]))
    return VersionDiff(base, version, header, commitments, affected)


# --- signing -----------------------------------------------------------------------------------


@dataclass
class SigningState:
    status: str  # one of SIGNING_STATUSES
    current: dict | None
    latest: dict | None
    history: list[dict]

    @property
    def active(self) -> dict | None:
        """The signature that makes the organisation a signatory now, if any."""
        if self.latest is not None and self.latest["withdrawn_at"] is None:
            return self.latest
        return None


def _signature_columns():
    return (
        *Signature.all_columns(),
        Signature.version.label.as_alias("version_label"),
        Signature.version.status.as_alias("version_status"),
        Signature.signed_by.email.as_alias("signed_by_email"),
        Signature.withdrawn_by.email.as_alias("withdrawn_by_email"),
        Signature.signed_pdf.filename.as_alias("pdf_filename"),
    )


def status_of(latest: dict | None, current_id: int | None) -> str:
    if latest is None:
        return "not_signed"
    if latest["withdrawn_at"] is not None:
        return "withdrawn"
    return "signed_current" if latest["version"] == current_id else "signed_old_version"


async def signing_state(tenant_id: int) -> SigningState:
    current = await current_version()
    async with tenant_transaction(tenant_id):
        history = await Signature.select(*_signature_columns()).where(Signature.tenant == tenant_id).order_by(
            Signature.signed_at, ascending=False
        ).order_by(Signature.id, ascending=False)
    latest = history[0] if history else None
    return SigningState(status_of(latest, current["id"] if current else None), current, latest, history)


def _version_problem(version: dict | None, shown_hash: str) -> str | None:
    if version is None or version["status"] == "draft":
        return _("Only the version of the Code in force can be signed; this version is not published.")
    if version["status"] == "superseded":
        return _(
            "Version %(label)s has been replaced by a newer version. Read the version in force and sign that one.",
            label=version["label"],
        )
    if (shown_hash or "").strip().lower() != version["content_hash"]:
        return _(
            "The text of the Code changed after you opened this page. Read the version shown now and confirm again."
        )
    return None


async def _has_live_signature(tenant_id: int, version_id: int) -> bool:
    async with tenant_transaction(tenant_id):
        return await Signature.exists().where(
            (Signature.tenant == tenant_id) & (Signature.version == version_id) & Signature.withdrawn_at.is_null()
        )


async def sign_version(
    tenant: dict,
    *,
    version_id: int | str,
    shown_hash: str,
    signatory_name: str,
    signatory_title: str,
    confirmed: bool,
    signed_pdf: coc_files.Upload | None,
    actor: Actor,
) -> dict:
    """Record that ``tenant`` signs exactly the text whose hash the signatory was shown."""
    name = " ".join((signatory_name or "").split())
    title = " ".join((signatory_title or "").split())
    errors: dict[str, str] = {}
    if not name:
        errors["signatory_name"] = _("Enter the full name of the person signing.")
    elif len(name) > 200:
        errors["signatory_name"] = _("Keep the name under 200 characters.")
    if len(title) > 200:
        errors["signatory_title"] = _("Keep the title under 200 characters.")
    if not confirmed:
        errors["confirm"] = _("Confirm that you have read the version whose fingerprint is shown.")
    try:
        version = await CodeVersion.select().where(CodeVersion.id == int(version_id)).first()
    except (TypeError, ValueError):
        version = None
    if problem := _version_problem(version, shown_hash):
        errors["version"] = problem
    elif await _has_live_signature(tenant["id"], version["id"]):
        errors["version"] = _("Your organisation has already signed version %(label)s.", label=version["label"])
    try:
        checked_pdf = coc_files.check_signed_pdf(signed_pdf)
    except ValidationFailed as exc:
        errors.update(exc.errors)
        checked_pdf = None
    if errors:
        raise ValidationFailed(errors)
    async with coc_files.staged(tenant["id"], coc_files.PURPOSE_SIGNED_PDF, [checked_pdf] if checked_pdf else []) as stage:
        async with tenant_transaction(tenant["id"]):
            await _lock_version(version["id"])
            fresh = await CodeVersion.select().where(CodeVersion.id == version["id"]).first()
            if problem := _version_problem(fresh, shown_hash):
                raise ValidationFailed({"version": problem})
            if await _has_live_signature(tenant["id"], version["id"]):
                raise ValidationFailed(
                    {"version": _("Your organisation has already signed version %(label)s.", label=version["label"])}
                )
            stored = await stage.record(actor)
            rows = await Signature.insert(
                Signature(
                    tenant=tenant["id"], version=version["id"], signed_hash=fresh["content_hash"], signatory_name=name,
                    signatory_title=title, signed_by=actor.user_id, signed_at=now(), signed_ip=actor.ip,
                    signed_pdf=stored[0]["id"] if stored else None,
                )
            ).returning(*Signature.all_columns())
            signature = rows[0]
            await audit.record(
                "coc.signed", actor=actor, tenant_id=tenant["id"], object_type="coc_signature", object_id=signature["id"],
                detail={
                    "version": fresh["label"], "hash": fresh["content_hash"], "signatory": name, "title": title,
                    "signed_pdf": stored[0]["sha256"] if stored else None,
                },
            )
    return signature


async def get_signature(tenant_id: int, signature_id: int | str) -> dict:
    try:
        signature_id = int(signature_id)
    except (TypeError, ValueError):
        raise not_found() from None
    async with tenant_transaction(tenant_id):
        signature = await Signature.select(*_signature_columns()).where(
            (Signature.id == signature_id) & (Signature.tenant == tenant_id)
        ).first()
    if signature is None:
        raise not_found()
    return signature


async def withdraw_signature(tenant: dict, signature_id: int | str, reason: str, actor: Actor) -> dict:
    """End the organisation's live signature; the row stays, with who withdrew it, when and why."""
    reason = normalise_text(reason)
    if not reason:
        raise ValidationFailed({"reason": _("Give the reason for withdrawing the signature.")})
    if len(reason) > 2000:
        raise ValidationFailed({"reason": _("Keep the reason under 2000 characters.")})
    async with tenant_transaction(tenant["id"]):
        signature = await get_signature(tenant["id"], signature_id)
        state = await signing_state(tenant["id"])
        if state.active is None or state.active["id"] != signature["id"]:
            raise ValidationFailed({"form": _("Only the organisation's signature in effect can be withdrawn.")})
        at = now()
        await Signature.update(
            {Signature.withdrawn_at: at, Signature.withdrawn_by: actor.user_id, Signature.withdrawal_reason: reason}
        ).where((Signature.id == signature["id"]) & (Signature.tenant == tenant["id"]))
        await audit.record(
            "coc.signature_withdrawn", actor=actor, tenant_id=tenant["id"], object_type="coc_signature",
            object_id=signature["id"], detail={"version": signature["version_label"], "reason": reason},
        )
    return signature | {"withdrawn_at": at, "withdrawal_reason": reason}


async def signed_pdf_file(signature: dict) -> dict:
    if not signature.get("signed_pdf"):
        raise not_found()
    async with tenant_transaction(signature["tenant"]):
        row = await StoredFile.select().where(
            (StoredFile.id == signature["signed_pdf"]) & (StoredFile.tenant == signature["tenant"])
        ).first()
    if row is None:
        raise not_found()
    return row


async def record_download(actor: Actor, acting_tenant_id: int, owner_tenant_id: int, kind: str, file_row: dict, object_id: object) -> None:
    """Audit who opened which file; recorded in the acting organisation's log, naming the owner."""
    async with tenant_transaction(acting_tenant_id):
        await audit.record(
            f"coc.{kind}_downloaded", actor=actor, tenant_id=acting_tenant_id, object_type="stored_file",
            object_id=file_row["id"],
            detail={"owner_tenant": owner_tenant_id, "filename": file_row["filename"], "sha256": file_row["sha256"],
                    "of": str(object_id)},
        )


# --- across organisations: public list and regulators' registry ---------------------------------


async def _latest_signatures() -> dict[int, dict]:
    """Each organisation's latest signature (call inside a system transaction)."""
    rows = await Signature.select(
        *_signature_columns(),
        Signature.version.content_hash.as_alias("version_hash"),
    ).order_by(Signature.signed_at, ascending=False).order_by(Signature.id, ascending=False)
    latest: dict[int, dict] = {}
    for row in rows:
        latest.setdefault(row["tenant"], row)
    return latest


async def public_signatories() -> list[dict]:
    """Organisations whose signature is in effect: what the regulators publish."""
    current = await current_version(with_commitments=False)
    async with system_transaction():
        latest = await _latest_signatures()
        tenants = {
            t["id"]: t for t in await Tenant.select(Tenant.id, Tenant.name, Tenant.kind, Tenant.nipt, Tenant.active)
        }
    result = []
    for tenant_id, signature in latest.items():
        tenant = tenants.get(tenant_id)
        if tenant is None or not tenant["active"] or signature["withdrawn_at"] is not None:
            continue
        result.append(
            {
                "organisation": tenant["name"],
                "kind": tenant["kind"],
                "nipt": tenant["nipt"],
                "version": signature["version_label"],
                "hash": signature["signed_hash"],
                "signed_at": signature["signed_at"],
                "current_version": current is not None and signature["version"] == current["id"],
            }
        )
    result.sort(key=lambda r: (not r["current_version"], r["organisation"].lower()))
    return result


@dataclass
class RegistryFilters:
    kind: str = ""
    version: str = ""  # version id
    status: str = ""

    @classmethod
    def from_query(cls, query: dict) -> RegistryFilters:
        kind = query.get("kind") or ""
        status = query.get("status") or ""
        version = query.get("version") or ""
        return cls(
            kind=kind if kind in SIGNING_KINDS else "",
            version=version if version.isdigit() else "",
            status=status if status in SIGNING_STATUSES else "",
        )

    def as_query(self) -> dict:
        return {k: v for k, v in {"kind": self.kind, "version": self.version, "status": self.status}.items() if v}


async def registry(filters: RegistryFilters) -> list[dict]:
    """Every ISP, and every other organisation that has ever signed, with its standing today."""
    current = await current_version(with_commitments=False)
    current_id = current["id"] if current else None
    async with system_transaction():
        latest = await _latest_signatures()
        tenants = await Tenant.select(
            Tenant.id, Tenant.slug, Tenant.name, Tenant.kind, Tenant.nipt, Tenant.contact_email
        ).where(Tenant.active == True).order_by(Tenant.name)  # noqa: E712
        counts = {
            row["tenant"]: row["n"]
            for row in await execute("SELECT tenant, COUNT(*) AS n FROM coc_measure WHERE deleted_at IS NULL GROUP BY tenant")
        }
    rows = []
    for tenant in tenants:
        signature = latest.get(tenant["id"])
        if tenant["kind"] not in SIGNING_KINDS or (signature is None and tenant["kind"] != "isp"):
            continue
        status = status_of(signature, current_id)
        row = {
            "tenant_id": tenant["id"], "slug": tenant["slug"], "organisation": tenant["name"], "kind": tenant["kind"],
            "nipt": tenant["nipt"], "status": status, "signature": signature,
            "version_id": signature["version"] if signature else None,
            "version_label": signature["version_label"] if signature else "",
            "measures": counts.get(tenant["id"], 0),
        }
        if filters.kind and row["kind"] != filters.kind:
            continue
        if filters.status and row["status"] != filters.status:
            continue
        if filters.version and str(row["version_id"]) != filters.version:
            continue
        rows.append(row)
    return rows


async def registry_signature(signature_id: int | str) -> dict:
    """Any organisation's signature, for regulators."""
    try:
        signature_id = int(signature_id)
    except (TypeError, ValueError):
        raise not_found() from None
    async with system_transaction():
        signature = await Signature.select(*_signature_columns()).where(Signature.id == signature_id).first()
    if signature is None:
        raise not_found()
    return signature


async def signature_history(tenant_id: int) -> list[dict]:
    async with system_transaction():
        return await Signature.select(*_signature_columns()).where(Signature.tenant == tenant_id).order_by(
            Signature.signed_at, ascending=False
        )


async def record_export(regulator: dict, actor: Actor, file_format: str, filters: RegistryFilters, count: int) -> None:
    async with tenant_transaction(regulator["id"]):
        await audit.record(
            "coc.registry_exported", actor=actor, tenant_id=regulator["id"], object_type="coc_registry",
            object_id=file_format, detail={"filters": filters.as_query(), "rows": count},
        )
