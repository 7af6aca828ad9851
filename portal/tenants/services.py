"""Rules for organisations, people and memberships; the only code that writes these tables."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from portal.audit import services as audit
from portal.auth.services import check_new_password
from portal.core import i18n
from portal.core.actor import Actor
from portal.core.db import execute, is_postgres, system_transaction, tenant_transaction
from portal.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from portal.core.i18n import _
from portal.core.labels import role_label
from portal.core.permissions import analyst_allowed
from portal.core.security import hash_password, new_token, token_hash
from portal.core.settings import get_settings
from portal.outbox.services import enqueue_mail
from portal.tenants.tables import Invitation, Membership, Role, Tenant, TenantKind, User

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
# NIPT: a letter for the registration period, eight digits, a check letter (e.g. K91234567A).
NIPT_PATTERN = re.compile(r"^[A-Z][0-9]{8}[A-Z]$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 ()/.-]{4,38}$")

INVITATION_LIFETIME = timedelta(days=7)
NAME_MAX_LENGTH = 200

# The editable profile and the longest value each field holds (the table's column sizes).
PROFILE_FIELDS: dict[str, int] = {
    "legal_name": 300,
    "nipt": 10,
    "address": 1000,
    "contact_email": 254,
    "contact_point_name": 200,
    "contact_point_title": 200,
    "contact_point_email": 254,
    "contact_point_phone": 40,
}



def now() -> datetime:
    return datetime.now(UTC)


def invalid_invitation() -> NotFound:
    return NotFound(_(
        "This invitation link is not valid: it has expired, was withdrawn or has already been used. "
        "Ask the organisation's administrator for a new invitation."
    ))


def normalise_nipt(value: str) -> str:
    return re.sub(r"\s+", "", value or "").upper()


def validate_nipt(value: str) -> str | None:
    """Return a translated error for a malformed NIPT, or None; an empty NIPT is allowed."""
    if value and not NIPT_PATTERN.match(value):
        return _("The NIPT must be a letter, eight digits and a letter, for example K91234567A.")
    return None


def valid_email(value: str) -> bool:
    return bool(EMAIL_PATTERN.match(value or "")) and len(value) <= 254


def normalise_email(value: str) -> str:
    return (value or "").strip().lower()


@contextmanager
def albanian() -> Iterator[None]:
    """Mail to people outside the portal goes out in Albanian, whatever language the sender uses."""
    token = i18n.current_language.set("sq")
    try:
        yield
    finally:
        i18n.current_language.reset(token)


# --- organisations -------------------------------------------------------------------------


def tenant_errors(*, kind: str, slug: str, name: str, nipt: str) -> dict[str, str]:
    """Field errors of a new organisation (before the database is asked whether the slug is free)."""
    errors: dict[str, str] = {}
    if kind not in {k.value for k in TenantKind}:
        errors["kind"] = _("Choose the type of organisation.")
    if not SLUG_PATTERN.match(slug):
        errors["slug"] = _("Use lowercase letters, digits and hyphens, up to 64 characters.")
    if not name:
        errors["name"] = _("Enter the organisation's name.")
    elif len(name) > NAME_MAX_LENGTH:
        errors["name"] = _("This field can hold at most %(n)s characters.", n=NAME_MAX_LENGTH)
    if nipt_error := validate_nipt(nipt):
        errors["nipt"] = nipt_error
    return errors


async def create_tenant(
    *, kind: str, slug: str, name: str, actor: Actor, is_hotline: bool = False, **profile: str
) -> dict:
    """Create an organisation (platform operators and the command line only)."""
    slug = (slug or "").strip().lower()
    name = (name or "").strip()
    nipt = normalise_nipt(profile.get("nipt", ""))
    if errors := tenant_errors(kind=kind, slug=slug, name=name, nipt=nipt):
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


def profile_values(tenant: dict) -> dict[str, str]:
    return {name: tenant.get(name) or "" for name in PROFILE_FIELDS}


def clean_profile(data: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Normalise a submitted profile; returns the values to store and the field errors."""
    values = {name: (data.get(name) or "").strip() for name in PROFILE_FIELDS}
    values["nipt"] = normalise_nipt(values["nipt"])
    values["contact_email"] = values["contact_email"].lower()
    values["contact_point_email"] = values["contact_point_email"].lower()
    errors: dict[str, str] = {}
    for name, limit in PROFILE_FIELDS.items():
        if len(values[name]) > limit:
            errors[name] = _("This field can hold at most %(n)s characters.", n=limit)
    if "nipt" not in errors and (nipt_error := validate_nipt(values["nipt"])):
        errors["nipt"] = nipt_error
    for name in ("contact_email", "contact_point_email"):
        if values[name] and name not in errors and not valid_email(values[name]):
            errors[name] = _("Enter a valid email address.")
    phone = values["contact_point_phone"]
    if phone and "contact_point_phone" not in errors and not PHONE_PATTERN.match(phone):
        errors["contact_point_phone"] = _("Enter a phone number with digits, for example +355 4 222 0001.")
    return values, errors


async def update_profile(tenant: dict, data: dict[str, str], actor: Actor) -> dict[str, list[str]]:
    """Save the organisation profile; returns the changed fields as ``{field: [old, new]}``."""
    values, errors = clean_profile(data)
    if errors:
        raise ValidationFailed(errors)
    async with tenant_transaction(tenant["id"]):
        current = await Tenant.select(*[getattr(Tenant, name) for name in PROFILE_FIELDS]).where(
            Tenant.id == tenant["id"]
        ).first()
        if current is None:
            raise NotFound(_("This page does not exist or you do not have access to it."))
        changes = {
            name: [current[name] or "", value] for name, value in values.items() if (current[name] or "") != value
        }
        if changes:
            await Tenant.update({getattr(Tenant, name): new for name, (_old, new) in changes.items()}).where(
                Tenant.id == tenant["id"]
            )
            await audit.record(
                "tenant.profile_updated", actor=actor, tenant_id=tenant["id"], object_type="tenant",
                object_id=tenant["id"], detail={"changes": changes},
            )
    return changes


async def list_organisations(kind: str | None = None) -> list[dict]:
    """Every active organisation with its active member count: the regulators' read-only directory."""
    async with system_transaction():
        query = Tenant.select().where(Tenant.active == True)  # noqa: E712
        if kind:
            query = query.where(Tenant.kind == kind)
        tenants = await query.order_by(Tenant.name)
        counts = await _member_counts()
    for tenant in tenants:
        tenant["member_count"] = counts.get(tenant["id"], 0)
    return tenants


async def get_organisation(slug: str) -> dict:
    async with system_transaction():
        tenant = await Tenant.select().where((Tenant.slug == slug) & (Tenant.active == True)).first()  # noqa: E712
        if tenant is None:
            raise NotFound(_("This page does not exist or you do not have access to it."))
        tenant["member_count"] = (await _member_counts(tenant["id"])).get(tenant["id"], 0)
    return tenant


async def _member_counts(tenant_id: int | None = None) -> dict[int, int]:
    sql = "SELECT tenant, COUNT(*) AS members FROM membership WHERE active = {}"
    args: list[object] = [True]
    if tenant_id is not None:
        sql += " AND tenant = {}"
        args.append(tenant_id)
    rows = await execute(sql + " GROUP BY tenant", *args)
    return {row["tenant"]: row["members"] for row in rows}


# --- people and memberships ----------------------------------------------------------------


async def get_or_create_user(email: str, full_name: str, actor: Actor, password: str | None = None) -> tuple[dict, bool]:
    """Find a person by email or create the account; ``password`` is set only on creation."""
    email = normalise_email(email)
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


def roles_for_tenant(tenant: dict) -> list[str]:
    """The roles this organisation may give, most powerful first."""
    return [role.value for role in Role if check_role_for_tenant(role.value, tenant) is None]


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


async def list_members(tenant: dict) -> list[dict]:
    """Everyone who belongs or belonged to the organisation: active first, then by name."""
    async with tenant_transaction(tenant["id"]):
        return (
            await Membership.select(
                Membership.id,
                Membership.role,
                Membership.active,
                Membership.created_at,
                Membership.user.id.as_alias("user_id"),
                Membership.user.email.as_alias("email"),
                Membership.user.full_name.as_alias("full_name"),
            )
            .where(Membership.tenant == tenant["id"])
            .order_by(Membership.active, ascending=False)
            .order_by(Membership.user.full_name, Membership.user.email)
        )


async def _membership_in_tenant(tenant: dict, membership_id: int) -> dict:
    row = (
        await Membership.select(
            Membership.id, Membership.role, Membership.active, Membership.user.id.as_alias("user_id"),
            Membership.user.email.as_alias("email"),
        )
        .where((Membership.id == membership_id) & (Membership.tenant == tenant["id"]))
        .first()
    )
    if row is None:
        raise NotFound(_("This page does not exist or you do not have access to it."))
    return row


async def _ensure_another_admin_remains(tenant: dict, member: dict, actor: Actor, change: str) -> None:
    """Refuse a change that would leave the organisation without an active administrator.

    On PostgreSQL the active admin rows are locked first, so two admins demoting each other at
    the same moment cannot both succeed.
    """
    lock = " FOR UPDATE" if is_postgres() else ""
    admins = await execute(
        "SELECT id FROM membership WHERE tenant = {} AND role = 'admin' AND active = {} ORDER BY id" + lock,
        tenant["id"], True,
    )
    if any(row["id"] != member["id"] for row in admins):
        return
    if member["user_id"] == actor.user_id:
        if change == "deactivate":
            raise Conflict(_(
                "You are the last active administrator of this organisation. Make another member an "
                "administrator before you deactivate your own membership."
            ))
        raise Conflict(_(
            "You are the last active administrator of this organisation. Make another member an "
            "administrator before you change your own role."
        ))
    raise Conflict(_("The organisation must keep at least one active administrator."))


async def change_member_role(tenant: dict, membership_id: int, role: str, actor: Actor) -> bool:
    """Give a member another role; returns False when the role was already that."""
    if error := check_role_for_tenant(role, tenant):
        raise ValidationFailed({"role": error})
    async with tenant_transaction(tenant["id"]):
        member = await _membership_in_tenant(tenant, membership_id)
        if member["role"] == role:
            return False
        if member["role"] == "admin" and member["active"]:
            await _ensure_another_admin_remains(tenant, member, actor, "role")
        await Membership.update({Membership.role: role}).where(Membership.id == membership_id)
        await audit.record(
            "membership.role_changed", actor=actor, tenant_id=tenant["id"], object_type="membership",
            object_id=membership_id, detail={"user": member["email"], "role": [member["role"], role]},
        )
    return True


async def set_member_active(tenant: dict, membership_id: int, active: bool, actor: Actor) -> dict:
    """Deactivate (the person loses access at once) or reactivate a membership; returns the member."""
    async with tenant_transaction(tenant["id"]):
        member = await _membership_in_tenant(tenant, membership_id)
        if member["active"] == active:
            return member
        if not active and member["role"] == "admin":
            await _ensure_another_admin_remains(tenant, member, actor, "deactivate")
        if active and (error := check_role_for_tenant(member["role"], tenant)):
            raise ValidationFailed({"role": error})
        await Membership.update({Membership.active: active}).where(Membership.id == membership_id)
        await audit.record(
            "membership.reactivated" if active else "membership.deactivated", actor=actor, tenant_id=tenant["id"],
            object_type="membership", object_id=membership_id, detail={"user": member["email"], "role": member["role"]},
        )
    return member


# --- invitations ---------------------------------------------------------------------------


def invitation_link(token: str) -> str:
    return f"{get_settings().base_url}/invitations/{token}"


async def invite_member(tenant: dict, email: str, role: str, actor: Actor) -> dict:
    """Record an invitation and queue its mail in the same transaction; the token exists only in the mail.

    A new invitation to the same address replaces a pending one, so an admin can simply send again
    when the first mail was lost.
    """
    email = normalise_email(email)
    errors: dict[str, str] = {}
    if not valid_email(email):
        errors["email"] = _("Enter a valid email address.")
    if role_error := check_role_for_tenant(role, tenant):
        errors["role"] = role_error
    if errors:
        raise ValidationFailed(errors)
    token = new_token()
    expires_at = now() + INVITATION_LIFETIME
    async with tenant_transaction(tenant["id"]):
        already = await Membership.exists().where(
            (Membership.tenant == tenant["id"]) & (Membership.active == True) & (Membership.user.email == email)  # noqa: E712
        )
        if already:
            raise ValidationFailed({"email": _("This person is already a member of the organisation.")})
        superseded = await Invitation.select(Invitation.id).where(
            (Invitation.tenant == tenant["id"]) & (Invitation.email == email)
            & Invitation.accepted_at.is_null() & Invitation.revoked_at.is_null()
        )
        for row in superseded:
            await Invitation.update({Invitation.revoked_at: now()}).where(Invitation.id == row["id"])
            await audit.record(
                "invitation.revoked", actor=actor, tenant_id=tenant["id"], object_type="invitation",
                object_id=row["id"], detail={"email": email, "reason": "superseded"},
            )
        rows = await Invitation.insert(
            Invitation(
                tenant=tenant["id"], email=email, role=role, token_hash=token_hash(token), invited_by=actor.user_id,
                expires_at=expires_at,
            )
        ).returning(Invitation.id, Invitation.email, Invitation.role, Invitation.expires_at)
        invitation = rows[0]
        with albanian():
            subject = _("Invitation to join %(organisation)s on the partner portal", organisation=tenant["name"])
            body = _(
                "%(inviter)s has invited you to join %(organisation)s on the Child Online Safety Partner Portal "
                "with the role %(role)s.\n\n"
                "Open this link to accept the invitation. It can be used once, until %(expires)s:\n%(link)s\n\n"
                "If you did not expect this invitation, ignore this message; nothing happens without you.",
                inviter=actor.label, organisation=tenant["name"], role=role_label(role),
                expires=i18n.local_datetime(expires_at, "short"), link=invitation_link(token),
            )
        await enqueue_mail(to_address=email, subject=subject, body_text=body, tenant_id=tenant["id"])
        await audit.record(
            "invitation.created", actor=actor, tenant_id=tenant["id"], object_type="invitation",
            object_id=invitation["id"], detail={"email": email, "role": role, "expires_at": expires_at.isoformat()},
        )
    return invitation


async def list_pending_invitations(tenant: dict) -> list[dict]:
    """Invitations not yet accepted or withdrawn, newest first (expired ones are shown as such)."""
    async with tenant_transaction(tenant["id"]):
        rows = (
            await Invitation.select(
                Invitation.id, Invitation.email, Invitation.role, Invitation.created_at, Invitation.expires_at,
                Invitation.invited_by.email.as_alias("invited_by_email"),
            )
            .where(
                (Invitation.tenant == tenant["id"]) & Invitation.accepted_at.is_null() & Invitation.revoked_at.is_null()
            )
            .order_by(Invitation.id, ascending=False)
        )
    for row in rows:
        row["expired"] = row["expires_at"] <= now()
    return rows


async def revoke_invitation(tenant: dict, invitation_id: int, actor: Actor) -> None:
    async with tenant_transaction(tenant["id"]):
        row = await Invitation.select(Invitation.id, Invitation.email, Invitation.accepted_at, Invitation.revoked_at).where(
            (Invitation.id == invitation_id) & (Invitation.tenant == tenant["id"])
        ).first()
        if row is None:
            raise NotFound(_("This page does not exist or you do not have access to it."))
        if row["accepted_at"] is not None:
            raise Conflict(_("This invitation has already been accepted; deactivate the member instead."))
        if row["revoked_at"] is not None:
            return
        await Invitation.update({Invitation.revoked_at: now()}).where(Invitation.id == invitation_id)
        await audit.record(
            "invitation.revoked", actor=actor, tenant_id=tenant["id"], object_type="invitation", object_id=invitation_id,
            detail={"email": row["email"]},
        )


async def find_invitation(token: str) -> dict:
    """The usable invitation behind a link, with its organisation; anything else is a 404."""
    async with system_transaction():
        row = (
            await Invitation.select(
                *Invitation.all_columns(),
                Invitation.tenant.slug.as_alias("tenant_slug"),
                Invitation.tenant.name.as_alias("tenant_name"),
                Invitation.tenant.active.as_alias("tenant_active"),
            )
            .where(Invitation.token_hash == token_hash(token or ""))
            .first()
        )
    if (
        row is None or row["accepted_at"] is not None or row["revoked_at"] is not None
        or row["expires_at"] <= now() or not row["tenant_active"]
    ):
        raise invalid_invitation()
    return row


async def account_exists(email: str) -> bool:
    return await User.exists().where(User.email == normalise_email(email))


async def _claim_and_join(invitation: dict, user: dict, actor: Actor) -> dict:
    """Inside the caller's transaction: use up the invitation once and give the person the role."""
    claimed = await Invitation.update({Invitation.accepted_at: now()}).where(
        (Invitation.id == invitation["id"]) & Invitation.accepted_at.is_null() & Invitation.revoked_at.is_null()
        & (Invitation.expires_at > now())
    ).returning(Invitation.id)
    if not claimed:
        raise invalid_invitation()
    tenant = await Tenant.select().where(Tenant.id == invitation["tenant"]).first()
    existing = await Membership.select(Membership.role, Membership.active).where(
        (Membership.tenant == tenant["id"]) & (Membership.user == user["id"])
    ).first()
    if existing is None or not existing["active"] or existing["role"] != invitation["role"]:
        await add_member(tenant, user, invitation["role"], actor)
    await audit.record(
        "invitation.accepted", actor=actor, tenant_id=tenant["id"], object_type="invitation", object_id=invitation["id"],
        detail={"email": user["email"], "role": invitation["role"]},
    )
    return tenant


async def accept_invitation(token: str, user: dict, ip: str) -> dict:
    """A signed-in person joins; the invitation must have been sent to their own address."""
    invitation = await find_invitation(token)
    if normalise_email(user["email"]) != invitation["email"]:
        raise Forbidden(_(
            "This invitation was sent to %(email)s, but you are signed in as %(current)s. Sign out and open the "
            "link again with the invited account.", email=invitation["email"], current=user["email"],
        ))
    actor = Actor(user_id=user["id"], label=user["email"], ip=ip)
    async with system_transaction():
        return await _claim_and_join(invitation, user, actor)


async def accept_invitation_with_new_account(
    token: str, *, full_name: str, password: str, confirm: str, ip: str
) -> tuple[dict, dict]:
    """Create the invited person's account and join in one transaction; returns (user, tenant)."""
    invitation = await find_invitation(token)
    full_name = (full_name or "").strip()
    errors: dict[str, str] = {}
    if not full_name:
        errors["full_name"] = _("Enter your full name.")
    elif len(full_name) > NAME_MAX_LENGTH:
        errors["full_name"] = _("This field can hold at most %(n)s characters.", n=NAME_MAX_LENGTH)
    errors |= check_new_password(password, confirm, field="password")
    if errors:
        raise ValidationFailed(errors)
    if await account_exists(invitation["email"]):
        raise Conflict(_("An account with this email address already exists. Sign in to accept the invitation."))
    actor = Actor(user_id=None, label=invitation["email"], ip=ip)
    async with system_transaction():
        rows = await User.insert(
            User(email=invitation["email"], full_name=full_name, password_hash=hash_password(password))
        ).returning(*User.all_columns())
        user = rows[0]
        actor = Actor(user_id=user["id"], label=user["email"], ip=ip)
        await audit.record(
            "user.created", actor=actor, object_type="user", object_id=user["id"],
            detail={"email": user["email"], "via": "invitation"},
        )
        tenant = await _claim_and_join(invitation, user, actor)
    return user, tenant
