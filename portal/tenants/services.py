"""Rules for organisations, people and memberships; the only code that writes these tables."""

from __future__ import annotations

import re

from portal.audit import services as audit
from portal.core.actor import Actor
from portal.core.db import system_transaction, tenant_transaction
from portal.core.errors import Conflict, NotFound, ValidationFailed
from portal.core.i18n import _
from portal.core.permissions import analyst_allowed
from portal.core.security import hash_password
from portal.tenants.tables import Membership, Role, Tenant, TenantKind, User

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
# NIPT: a letter for the registration period, eight digits, a check letter (e.g. K91234567A).
NIPT_PATTERN = re.compile(r"^[A-Z][0-9]{8}[A-Z]$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_nipt(value: str) -> str:
    return re.sub(r"\s+", "", value or "").upper()


def validate_nipt(value: str) -> str | None:
    """Return a translated error for a malformed NIPT, or None; an empty NIPT is allowed."""
    if value and not NIPT_PATTERN.match(value):
        return _("The NIPT must be a letter, eight digits and a letter, for example K91234567A.")
    return None


def valid_email(value: str) -> bool:
    return bool(EMAIL_PATTERN.match(value or "")) and len(value) <= 254


async def create_tenant(
    *, kind: str, slug: str, name: str, actor: Actor, is_hotline: bool = False, **profile: str
) -> dict:
    """Create an organisation (platform operators and the command line only)."""
    slug = (slug or "").strip().lower()
    name = (name or "").strip()
    errors: dict[str, str] = {}
    if kind not in {k.value for k in TenantKind}:
        errors["kind"] = _("Choose the type of organisation.")
    if not SLUG_PATTERN.match(slug):
        errors["slug"] = _("Use lowercase letters, digits and hyphens, up to 64 characters.")
    if not name:
        errors["name"] = _("Enter the organisation's name.")
    nipt = normalise_nipt(profile.get("nipt", ""))
    if nipt_error := validate_nipt(nipt):
        errors["nipt"] = nipt_error
    if errors:
        raise ValidationFailed(errors)
    async with system_transaction():
        if await Tenant.exists().where(Tenant.slug == slug):
            raise ValidationFailed({"slug": _("An organisation with this short name already exists.")})
        rows = await Tenant.insert(
            Tenant(kind=kind, slug=slug, name=name, is_hotline=is_hotline and kind == "ngo", **(profile | {"nipt": nipt}))
        ).returning(*Tenant.all_columns())
        tenant = rows[0]
        await audit.record(
            "tenant.created", actor=actor, tenant_id=tenant["id"], object_type="tenant", object_id=tenant["id"],
            detail={"slug": slug, "kind": kind, "name": name},
        )
    return tenant


async def get_tenant_by_slug(slug: str) -> dict:
    tenant = await Tenant.select().where(Tenant.slug == slug).first()
    if tenant is None:
        raise NotFound(_("No organisation has the short name %(slug)s.", slug=slug))
    return tenant


async def get_or_create_user(email: str, full_name: str, actor: Actor, password: str | None = None) -> tuple[dict, bool]:
    """Find a person by email or create the account; ``password`` is set only on creation."""
    email = email.strip().lower()
    if not valid_email(email):
        raise ValidationFailed({"email": _("Enter a valid email address.")})
    async with system_transaction():
        existing = await User.select().where(User.email == email).first()
        if existing is not None:
            return existing, False
        rows = await User.insert(
            User(email=email, full_name=full_name.strip(), password_hash=hash_password(password) if password else "")
        ).returning(*User.all_columns())
        await audit.record("user.created", actor=actor, object_type="user", object_id=rows[0]["id"], detail={"email": email})
    return rows[0], True


async def set_password(user_id: int, password: str, actor: Actor) -> None:
    async with system_transaction():
        await User.update({User.password_hash: hash_password(password)}).where(User.id == user_id)
        await audit.record("user.password_set", actor=actor, object_type="user", object_id=user_id)


def check_role_for_tenant(role: str, tenant: dict) -> str | None:
    if role not in {r.value for r in Role}:
        return _("Choose a role.")
    if role == "analyst" and not analyst_allowed(tenant["kind"], tenant["is_hotline"]):
        return _("Only hotline NGOs, state agencies and regulators have analysts.")
    return None


async def add_member(tenant: dict, user: dict, role: str, actor: Actor) -> dict:
    """Give a person a role in an organisation, reactivating an earlier membership if there is one."""
    if error := check_role_for_tenant(role, tenant):
        raise ValidationFailed({"role": error})
    async with tenant_transaction(tenant["id"]):
        existing = await Membership.select().where(
            (Membership.tenant == tenant["id"]) & (Membership.user == user["id"])
        ).first()
        if existing is not None:
            if existing["active"] and existing["role"] == role:
                raise Conflict(_("This person is already a member with that role."))
            await Membership.update({Membership.role: role, Membership.active: True}).where(
                Membership.id == existing["id"]
            )
            membership_id = existing["id"]
        else:
            rows = await Membership.insert(Membership(tenant=tenant["id"], user=user["id"], role=role)).returning(
                Membership.id
            )
            membership_id = rows[0]["id"]
        await audit.record(
            "membership.added", actor=actor, tenant_id=tenant["id"], object_type="membership", object_id=membership_id,
            detail={"user": user["email"], "role": role},
        )
    return {"id": membership_id, "tenant": tenant["id"], "user": user["id"], "role": role}


async def tenant_summary(tenant: dict) -> dict:
    """Figures for the organisation's overview page."""
    async with tenant_transaction(tenant["id"]):
        members = await Membership.count().where((Membership.tenant == tenant["id"]) & (Membership.active == True))  # noqa: E712
    profile_fields = ("legal_name", "nipt", "address", "contact_email", "contact_point_name", "contact_point_email")
    missing = [name for name in profile_fields if not tenant.get(name)]
    return {"members": members, "profile_missing": missing}
