"""Measures signatories take to implement the Code: logging, editing with history, evidence, soft delete.

A measure points at commitments of one version: the version the organisation had signed when
the measure was logged. Every change writes a ``MeasureRevision`` (who, when, which fields from
what to what) and an audit entry in the same transaction. Regulators read every organisation's
measures, deleted ones included, inside ``system_transaction``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from portal.audit import services as audit
from portal.code_of_conduct import files as coc_files
from portal.code_of_conduct.services import commitments_of, not_found, now, signing_state
from portal.code_of_conduct.tables import (
    CodeVersion,
    Commitment,
    Measure,
    MeasureCategory,
    MeasureCommitment,
    MeasureEvidence,
    MeasureRevision,
    MeasureStatus,
)
from portal.code_of_conduct.text import normalise_text
from portal.core.actor import Actor
from portal.core.db import system_transaction, tenant_transaction
from portal.core.errors import ValidationFailed
from portal.core.i18n import _
from portal.files.tables import StoredFile
from portal.tenants.tables import Tenant, User

CATEGORIES = tuple(c.value for c in MeasureCategory)
STATUSES = tuple(s.value for s in MeasureStatus)
MAX_INDICATORS = 20
MAX_INDICATOR_VALUE = 10**15
TRACKED_FIELDS = ("title", "description", "category", "status", "start_date", "end_date", "indicators", "commitments")


@dataclass
class MeasureInput:
    """A measure as typed in the form (all strings), so it can be shown back unchanged on an error."""

    title: str = ""
    description: str = ""
    category: str = ""
    status: str = "planned"
    start_date: str = ""
    end_date: str = ""
    commitment_ids: list[str] = field(default_factory=list)
    indicators: list[tuple[str, str]] = field(default_factory=list)

    def values(self) -> dict:
        return {
            "title": self.title, "description": self.description, "category": self.category, "status": self.status,
            "start_date": self.start_date, "end_date": self.end_date,
        }

    @classmethod
    def from_measure(cls, measure: dict) -> MeasureInput:
        return cls(
            title=measure["title"], description=measure["description"], category=measure["category"],
            status=measure["status"], start_date=measure["start_date"].isoformat(),
            end_date=measure["end_date"].isoformat() if measure["end_date"] else "",
            commitment_ids=[str(c["id"]) for c in measure["commitments"]],
            indicators=[(i["name"], format_number(i["value"])) for i in measure["indicators"]],
        )


def format_number(value: float | int) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def parse_number(text: str) -> int | float | None:
    """Accept 1234, 1 234, 12.5 and the Albanian 12,5; None if it is not a number."""
    cleaned = text.replace("\u00a0", "").replace(" ", "")
    if "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    return int(number) if number == number.to_integral_value() else float(number)


def _parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        return None


def clean_measure_input(data: MeasureInput, allowed: dict[int, dict], version_label: str) -> tuple[dict, dict[str, str]]:
    """Check a measure against the commitments of ``version_label``; returns clean values and errors."""
    errors: dict[str, str] = {}
    title = " ".join(data.title.split())
    if not title:
        errors["title"] = _("Enter a title for the measure.")
    elif len(title) > 200:
        errors["title"] = _("Keep the title under 200 characters.")
    description = normalise_text(data.description)
    if len(description) > 10000:
        errors["description"] = _("Keep the description under 10,000 characters.")
    if data.category not in CATEGORIES:
        errors["category"] = _("Choose a category.")
    if data.status not in STATUSES:
        errors["status"] = _("Choose a status.")
    start = _parse_date(data.start_date)
    end = _parse_date(data.end_date) if data.end_date.strip() else None
    if start is None:
        errors["start_date"] = (
            _("Enter the start date.") if not data.start_date.strip() else _("Enter the date as YYYY-MM-DD.")
        )
    if data.end_date.strip() and end is None:
        errors["end_date"] = _("Enter the date as YYYY-MM-DD.")
    elif start is not None and end is not None and end < start:
        errors["end_date"] = _("The end date cannot be before the start date.")
    commitment_ids: list[int] = []
    for raw in data.commitment_ids:
        try:
            commitment_ids.append(int(raw))
        except ValueError:
            commitment_ids.append(-1)
    if not commitment_ids:
        errors["commitments"] = _("Choose at least one commitment the measure implements.")
    elif any(cid not in allowed for cid in commitment_ids):
        errors["commitments"] = _(
            "Choose commitments of version %(label)s, the version your organisation signed.", label=version_label
        )
    indicators: list[dict] = []
    names: set[str] = set()
    rows = [(" ".join(n.split()), v.strip()) for n, v in data.indicators if n.strip() or v.strip()]
    if len(rows) > MAX_INDICATORS:
        errors["indicators"] = _("Enter at most %(count)s indicator values.", count=MAX_INDICATORS)
    for name, raw_value in rows:
        if "indicators" in errors:
            break
        if not name:
            errors["indicators"] = _("Give every indicator value a name.")
        elif not raw_value:
            errors["indicators"] = _("Enter a number for the indicator '%(name)s'.", name=name)
        elif len(name) > 120:
            errors["indicators"] = _("Keep indicator names under 120 characters.")
        elif name.lower() in names:
            errors["indicators"] = _("The indicator '%(name)s' appears twice.", name=name)
        else:
            value = parse_number(raw_value)
            if value is None:
                errors["indicators"] = _("'%(value)s' is not a number (indicator '%(name)s').", value=raw_value, name=name)
            elif value < 0:
                errors["indicators"] = _("Indicator values cannot be negative ('%(name)s').", name=name)
            elif value > MAX_INDICATOR_VALUE:
                errors["indicators"] = _("The value of '%(name)s' is too large.", name=name)
            else:
                names.add(name.lower())
                indicators.append({"name": name, "value": value})
    clean = {
        "title": title, "description": description, "category": data.category, "status": data.status,
        "start_date": start, "end_date": end, "indicators": indicators,
        "commitments": sorted(set(commitment_ids)),
    }
    return clean, errors


def _indicators(value: object) -> list[dict]:
    return json.loads(value) if isinstance(value, str) else list(value or [])


def _changes_json(value: object) -> list[dict]:
    return json.loads(value) if isinstance(value, str) else list(value or [])


def _describe(name: str, value: object, codes: dict[int, str]) -> str:
    """A field's value as the history shows it."""
    if value is None:
        return ""
    if name == "commitments":
        return ", ".join(codes.get(cid, str(cid)) for cid in value)
    if name == "indicators":
        return "; ".join(f"{i['name']}: {format_number(i['value'])}" for i in value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _field_changes(before: dict, after: dict, codes: dict[int, str]) -> list[dict]:
    changes = []
    for name in TRACKED_FIELDS:
        if before.get(name) != after.get(name):
            changes.append(
                {"field": name, "before": _describe(name, before.get(name), codes), "after": _describe(name, after.get(name), codes)}
            )
    return changes


async def signed_version_for_measures(tenant_id: int) -> tuple[dict | None, list[dict]]:
    """The version (and its commitments) new measures of ``tenant_id`` point at: the one it signed."""
    state = await signing_state(tenant_id)
    if state.active is None:
        return None, []
    version = await CodeVersion.select().where(CodeVersion.id == state.active["version"]).first()
    return version, await commitments_of(version["id"])


async def create_measure(tenant: dict, data: MeasureInput, evidence: list[coc_files.Upload], actor: Actor) -> dict:
    version, commitments = await signed_version_for_measures(tenant["id"])
    if version is None:
        raise ValidationFailed({"form": _("Your organisation must sign the Code of Conduct before it logs measures.")})
    clean, errors = clean_measure_input(data, {c["id"]: c for c in commitments}, version["label"])
    try:
        checked = coc_files.check_evidence(evidence)
    except ValidationFailed as exc:
        errors.update(exc.errors)
        checked = []
    if errors:
        raise ValidationFailed(errors)
    codes = {c["id"]: c["code"] for c in commitments}
    async with coc_files.staged(tenant["id"], coc_files.PURPOSE_EVIDENCE, checked) as stage:
        async with tenant_transaction(tenant["id"]):
            at = now()
            rows = await Measure.insert(
                Measure(
                    tenant=tenant["id"], version=version["id"], title=clean["title"], description=clean["description"],
                    category=clean["category"], status=clean["status"], start_date=clean["start_date"],
                    end_date=clean["end_date"], indicators=clean["indicators"], created_by=actor.user_id, created_at=at,
                    updated_by=actor.user_id, updated_at=at,
                )
            ).returning(Measure.id)
            measure_id = rows[0]["id"]
            for commitment_id in clean["commitments"]:
                await MeasureCommitment.insert(
                    MeasureCommitment(tenant=tenant["id"], measure=measure_id, commitment=commitment_id)
                )
            stored = await stage.record(actor)
            for file_row in stored:
                await MeasureEvidence.insert(
                    MeasureEvidence(tenant=tenant["id"], measure=measure_id, file=file_row["id"], added_by=actor.user_id)
                )
            changes = _field_changes({}, clean, codes) + [
                {"field": "evidence", "before": "", "after": f["filename"]} for f in stored
            ]
            await MeasureRevision.insert(
                MeasureRevision(
                    tenant=tenant["id"], measure=measure_id, action="created", changes=changes,
                    changed_by=actor.user_id, changed_at=at,
                )
            )
            await audit.record(
                "coc.measure_created", actor=actor, tenant_id=tenant["id"], object_type="coc_measure",
                object_id=measure_id,
                detail={"title": clean["title"], "version": version["label"],
                        "commitments": [codes[c] for c in clean["commitments"]], "evidence": [f["sha256"] for f in stored]},
            )
    return {"id": measure_id, **clean}


async def _load_measure(tenant_id: int | None, measure_id: int | str) -> dict:
    """The measure row with version label and commitments; inside the caller's transaction."""
    try:
        measure_id = int(measure_id)
    except (TypeError, ValueError):
        raise not_found() from None
    query = Measure.select(
        *Measure.all_columns(),
        Measure.version.label.as_alias("version_label"),
        Measure.tenant.name.as_alias("tenant_name"),
        Measure.tenant.slug.as_alias("tenant_slug"),
        Measure.tenant.kind.as_alias("tenant_kind"),
    ).where(Measure.id == measure_id)
    if tenant_id is not None:
        query = query.where(Measure.tenant == tenant_id)
    measure = await query.first()
    if measure is None:
        raise not_found()
    measure["indicators"] = _indicators(measure["indicators"])
    links = await MeasureCommitment.select(
        MeasureCommitment.commitment.id.as_alias("id"),
        MeasureCommitment.commitment.code.as_alias("code"),
        MeasureCommitment.commitment.position.as_alias("position"),
        MeasureCommitment.commitment.title_sq.as_alias("title_sq"),
        MeasureCommitment.commitment.title_en.as_alias("title_en"),
    ).where(MeasureCommitment.measure == measure_id)
    measure["commitments"] = sorted(links, key=lambda c: (c["position"], c["code"]))
    return measure


async def get_measure(tenant_id: int | None, measure_id: int | str, *, with_history: bool = True) -> dict:
    """One measure with commitments, evidence and history; ``tenant_id=None`` reads as a regulator."""
    scope = system_transaction() if tenant_id is None else tenant_transaction(tenant_id)
    async with scope:
        measure = await _load_measure(tenant_id, measure_id)
        measure["evidence"] = await MeasureEvidence.select(
            MeasureEvidence.id, MeasureEvidence.added_at,
            MeasureEvidence.file.filename.as_alias("filename"),
            MeasureEvidence.file.content_type.as_alias("content_type"),
            MeasureEvidence.file.size_bytes.as_alias("size_bytes"),
            MeasureEvidence.file.sha256.as_alias("sha256"),
            MeasureEvidence.added_by.email.as_alias("added_by_email"),
        ).where(MeasureEvidence.measure == measure["id"]).order_by(MeasureEvidence.id)
        measure["history"] = []
        if with_history:
            history = await MeasureRevision.select(
                MeasureRevision.id, MeasureRevision.action, MeasureRevision.changes, MeasureRevision.changed_at,
                MeasureRevision.changed_by.email.as_alias("changed_by_email"),
                MeasureRevision.changed_by.full_name.as_alias("changed_by_name"),
            ).where(MeasureRevision.measure == measure["id"]).order_by(MeasureRevision.id, ascending=False)
            for entry in history:
                entry["changes"] = _changes_json(entry["changes"])
            measure["history"] = history
        if measure["deleted_by"]:
            user = await User.select(User.email, User.full_name).where(User.id == measure["deleted_by"]).first()
            measure["deleted_by_name"] = (user["full_name"] or user["email"]) if user else ""
    return measure


async def update_measure(tenant: dict, measure_id: int | str, data: MeasureInput, actor: Actor) -> list[dict]:
    """Save an edit; returns the field changes recorded (empty if nothing changed)."""
    async with tenant_transaction(tenant["id"]):
        measure = await _load_measure(tenant["id"], measure_id)
        if measure["deleted_at"] is not None:
            raise ValidationFailed({"form": _("A deleted measure cannot be changed.")})
        commitments = await commitments_of(measure["version"])
        clean, errors = clean_measure_input(data, {c["id"]: c for c in commitments}, measure["version_label"])
        if errors:
            raise ValidationFailed(errors)
        codes = {c["id"]: c["code"] for c in commitments}
        before = {name: measure[name] for name in TRACKED_FIELDS if name != "commitments"}
        before["commitments"] = sorted(c["id"] for c in measure["commitments"])
        changes = _field_changes(before, clean, codes)
        if not changes:
            return []
        at = now()
        await Measure.update(
            {
                Measure.title: clean["title"], Measure.description: clean["description"],
                Measure.category: clean["category"], Measure.status: clean["status"],
                Measure.start_date: clean["start_date"], Measure.end_date: clean["end_date"],
                Measure.indicators: clean["indicators"], Measure.updated_by: actor.user_id, Measure.updated_at: at,
            }
        ).where((Measure.id == measure["id"]) & (Measure.tenant == tenant["id"]))
        if before["commitments"] != clean["commitments"]:
            await MeasureCommitment.delete().where(
                (MeasureCommitment.measure == measure["id"]) & (MeasureCommitment.tenant == tenant["id"])
            )
            for commitment_id in clean["commitments"]:
                await MeasureCommitment.insert(
                    MeasureCommitment(tenant=tenant["id"], measure=measure["id"], commitment=commitment_id)
                )
        await MeasureRevision.insert(
            MeasureRevision(
                tenant=tenant["id"], measure=measure["id"], action="edited", changes=changes,
                changed_by=actor.user_id, changed_at=at,
            )
        )
        await audit.record(
            "coc.measure_updated", actor=actor, tenant_id=tenant["id"], object_type="coc_measure",
            object_id=measure["id"], detail={"changes": changes},
        )
    return changes


async def add_evidence(tenant: dict, measure_id: int | str, evidence: list[coc_files.Upload], actor: Actor) -> list[dict]:
    checked = coc_files.check_evidence(evidence)
    if not checked:
        raise ValidationFailed({"evidence": _("Choose a file to upload.")})
    async with tenant_transaction(tenant["id"]):
        measure = await _load_measure(tenant["id"], measure_id)
        if measure["deleted_at"] is not None:
            raise ValidationFailed({"evidence": _("A deleted measure cannot be changed.")})
    async with coc_files.staged(tenant["id"], coc_files.PURPOSE_EVIDENCE, checked) as stage:
        async with tenant_transaction(tenant["id"]):
            measure = await _load_measure(tenant["id"], measure_id)
            if measure["deleted_at"] is not None:
                raise ValidationFailed({"evidence": _("A deleted measure cannot be changed.")})
            stored = await stage.record(actor)
            at = now()
            for file_row in stored:
                await MeasureEvidence.insert(
                    MeasureEvidence(tenant=tenant["id"], measure=measure["id"], file=file_row["id"], added_by=actor.user_id)
                )
            await Measure.update({Measure.updated_by: actor.user_id, Measure.updated_at: at}).where(
                (Measure.id == measure["id"]) & (Measure.tenant == tenant["id"])
            )
            await MeasureRevision.insert(
                MeasureRevision(
                    tenant=tenant["id"], measure=measure["id"], action="evidence_added",
                    changes=[{"field": "evidence", "before": "", "after": f["filename"]} for f in stored],
                    changed_by=actor.user_id, changed_at=at,
                )
            )
            await audit.record(
                "coc.evidence_added", actor=actor, tenant_id=tenant["id"], object_type="coc_measure",
                object_id=measure["id"], detail={"files": [{"name": f["filename"], "sha256": f["sha256"]} for f in stored]},
            )
    return stored


async def delete_measure(tenant: dict, measure_id: int | str, reason: str, actor: Actor) -> None:
    """Soft delete: the measure disappears from the organisation's lists but regulators still see it and why."""
    reason = normalise_text(reason)
    if not reason:
        raise ValidationFailed({"reason": _("Give the reason for deleting the measure.")})
    if len(reason) > 2000:
        raise ValidationFailed({"reason": _("Keep the reason under 2000 characters.")})
    async with tenant_transaction(tenant["id"]):
        measure = await _load_measure(tenant["id"], measure_id)
        if measure["deleted_at"] is not None:
            raise ValidationFailed({"reason": _("This measure has already been deleted.")})
        at = now()
        await Measure.update(
            {Measure.deleted_at: at, Measure.deleted_by: actor.user_id, Measure.deletion_reason: reason}
        ).where((Measure.id == measure["id"]) & (Measure.tenant == tenant["id"]))
        await MeasureRevision.insert(
            MeasureRevision(
                tenant=tenant["id"], measure=measure["id"], action="deleted",
                changes=[{"field": "reason", "before": "", "after": reason}], changed_by=actor.user_id, changed_at=at,
            )
        )
        await audit.record(
            "coc.measure_deleted", actor=actor, tenant_id=tenant["id"], object_type="coc_measure",
            object_id=measure["id"], detail={"title": measure["title"], "reason": reason},
        )


async def evidence_file(tenant_id: int | None, measure_id: int | str, evidence_id: int | str) -> tuple[dict, dict]:
    """The measure and the stored file of one of its evidence entries (``tenant_id=None``: any organisation)."""
    try:
        evidence_id = int(evidence_id)
    except (TypeError, ValueError):
        raise not_found() from None
    scope = system_transaction() if tenant_id is None else tenant_transaction(tenant_id)
    async with scope:
        measure = await _load_measure(tenant_id, measure_id)
        evidence = await MeasureEvidence.select(MeasureEvidence.file).where(
            (MeasureEvidence.id == evidence_id) & (MeasureEvidence.measure == measure["id"])
        ).first()
        if evidence is None:
            raise not_found()
        file_row = await StoredFile.select().where(
            (StoredFile.id == evidence["file"]) & (StoredFile.tenant == measure["tenant"])
        ).first()
    if file_row is None:
        raise not_found()
    return measure, file_row


# --- lists -------------------------------------------------------------------------------------


@dataclass
class MeasureFilters:
    year: int | None = None
    commitment: str = ""  # a commitment id for an organisation, a commitment code for regulators
    category: str = ""
    status: str = ""  # a measure status, or "deleted" (regulators)
    tenant: int | None = None

    @classmethod
    def from_query(cls, query: dict) -> MeasureFilters:
        def as_int(value: str | None) -> int | None:
            return int(value) if value and value.isdigit() else None

        year = as_int(query.get("year"))
        status = query.get("status") or ""
        category = query.get("category") or ""
        return cls(
            year=year if year and 2000 <= year <= 2100 else None,
            commitment=(query.get("commitment") or "").strip()[:16],
            category=category if category in CATEGORIES else "",
            status=status if status in (*STATUSES, "deleted") else "",
            tenant=as_int(query.get("tenant")),
        )


def active_in_year(measure: dict, year: int) -> bool:
    """A measure counts in every year it runs in (an open-ended one runs until today)."""
    end = measure["end_date"] or max(measure["start_date"], date.today())
    return measure["start_date"].year <= year <= end.year


def years_of(measure: dict) -> range:
    end = measure["end_date"] or max(measure["start_date"], date.today())
    return range(measure["start_date"].year, end.year + 1)


async def _measure_rows(tenant_id: int | None) -> list[dict]:
    query = Measure.select(
        Measure.id, Measure.tenant, Measure.title, Measure.category, Measure.status, Measure.start_date,
        Measure.end_date, Measure.indicators, Measure.deleted_at, Measure.deletion_reason, Measure.updated_at,
        Measure.version.label.as_alias("version_label"),
        Measure.tenant.name.as_alias("tenant_name"),
    ).order_by(Measure.start_date, ascending=False).order_by(Measure.id, ascending=False)
    if tenant_id is not None:
        query = query.where(Measure.tenant == tenant_id)
    rows = await query
    link_query = MeasureCommitment.select(
        MeasureCommitment.measure, MeasureCommitment.commitment,
        MeasureCommitment.commitment.code.as_alias("code"),
        MeasureCommitment.commitment.position.as_alias("position"),
        MeasureCommitment.commitment.title_sq.as_alias("title_sq"),
        MeasureCommitment.commitment.title_en.as_alias("title_en"),
    )
    if tenant_id is not None:
        link_query = link_query.where(MeasureCommitment.tenant == tenant_id)
    links: dict[int, list[dict]] = {}
    for link in await link_query:
        links.setdefault(link["measure"], []).append(
            {"id": link["commitment"], "code": link["code"], "position": link["position"],
             "title_sq": link["title_sq"], "title_en": link["title_en"]}
        )
    for row in rows:
        row["indicators"] = _indicators(row["indicators"])
        row["commitments"] = sorted(links.get(row["id"], []), key=lambda c: (c["position"], c["code"]))
    return rows


def _matches(row: dict, filters: MeasureFilters, *, regulator: bool) -> bool:
    """Regulators see deleted measures among the others; an organisation only when it asks for them."""
    if filters.status == "deleted":
        if row["deleted_at"] is None:
            return False
    elif row["deleted_at"] is not None and not regulator:
        return False
    elif filters.status and row["status"] != filters.status:
        return False
    if filters.category and row["category"] != filters.category:
        return False
    if filters.year and not active_in_year(row, filters.year):
        return False
    if filters.tenant and row["tenant"] != filters.tenant:
        return False
    if filters.commitment:
        key = "code" if regulator else "id"
        if not any(str(c[key]) == filters.commitment for c in row["commitments"]):
            return False
    return True


async def tenant_measures(tenant_id: int, filters: MeasureFilters) -> list[dict]:
    """The organisation's own measures (deleted ones only when asked for)."""
    async with tenant_transaction(tenant_id):
        rows = await _measure_rows(tenant_id)
    return [row for row in rows if _matches(row, filters, regulator=False)]


async def all_measures(filters: MeasureFilters) -> list[dict]:
    """Every signatory's measures for regulators, deleted ones included (with their reason)."""
    async with system_transaction():
        rows = await _measure_rows(None)
    return [row for row in rows if _matches(row, filters, regulator=True)]


def summary_by_commitment(rows: list[dict]) -> dict:
    """Counts of live measures per commitment and year, for the organisation's overview table."""
    years: set[int] = set()
    table: dict[int, dict] = {}
    for row in rows:
        if row["deleted_at"] is not None:
            continue
        for commitment in row["commitments"]:
            entry = table.setdefault(
                commitment["id"], {"commitment": commitment, "version_label": row["version_label"], "years": {}, "total": 0}
            )
            entry["total"] += 1
            for year in years_of(row):
                years.add(year)
                entry["years"][year] = entry["years"].get(year, 0) + 1
    ordered = sorted(table.values(), key=lambda e: (e["version_label"], e["commitment"]["position"], e["commitment"]["code"]))
    return {"years": sorted(years), "rows": ordered}


async def commitments_for_filter(tenant_id: int) -> list[dict]:
    """Commitments the organisation's measures point at, plus those of the version it signed."""
    version, commitments = await signed_version_for_measures(tenant_id)
    async with tenant_transaction(tenant_id):
        used = await MeasureCommitment.select(
            MeasureCommitment.commitment.id.as_alias("id"),
            MeasureCommitment.commitment.code.as_alias("code"),
            MeasureCommitment.commitment.position.as_alias("position"),
            MeasureCommitment.commitment.title_sq.as_alias("title_sq"),
            MeasureCommitment.commitment.title_en.as_alias("title_en"),
            MeasureCommitment.commitment.version.label.as_alias("version_label"),
        ).where(MeasureCommitment.tenant == tenant_id)
    seen: dict[int, dict] = {}
    for commitment in commitments:
        seen[commitment["id"]] = commitment | {"version_label": version["label"]}
    for commitment in used:
        seen.setdefault(commitment["id"], commitment)
    return sorted(seen.values(), key=lambda c: (c["version_label"], c["position"], c["code"]))


async def all_commitment_codes() -> list[dict]:
    """Commitment codes of every published version, newest wording first, for regulators' filters."""
    rows = await Commitment.select(
        Commitment.code, Commitment.position, Commitment.title_sq, Commitment.title_en,
        Commitment.version.status.as_alias("status"), Commitment.version.published_at.as_alias("published_at"),
    ).where(Commitment.version.status != "draft")
    rows.sort(key=lambda r: r["published_at"], reverse=True)
    seen: dict[str, dict] = {}
    for row in rows:
        seen.setdefault(row["code"], row)
    return sorted(seen.values(), key=lambda r: (r["position"], r["code"]))


async def signatory_tenants() -> list[dict]:
    """Organisations that have logged measures, for regulators' filter."""
    async with system_transaction():
        ids = {row["tenant"] for row in await Measure.select(Measure.tenant)}
        if not ids:
            return []
        return await Tenant.select(Tenant.id, Tenant.name).where(Tenant.id.is_in(list(ids))).order_by(Tenant.name)
