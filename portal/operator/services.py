"""What the platform operator does: see every organisation and open new ones with a first admin."""

from __future__ import annotations

from portal.core.actor import Actor
from portal.core.db import execute, system_transaction
from portal.core.errors import ValidationFailed
from portal.core.i18n import _
from portal.tenants import services as tenants
from portal.tenants.tables import Tenant


async def list_tenants() -> list[dict]:
    """All organisations, active or not, with their member and pending invitation counts."""
    async with system_transaction():
        rows = await Tenant.select().order_by(Tenant.name)
        members = await execute("SELECT tenant, COUNT(*) AS n FROM membership WHERE active = {} GROUP BY tenant", True)
        pending = await execute(
            "SELECT tenant, COUNT(*) AS n FROM invitation WHERE accepted_at IS NULL AND revoked_at IS NULL "
            "AND expires_at > {} GROUP BY tenant",
            tenants.now(),
        )
    member_counts = {row["tenant"]: row["n"] for row in members}
    pending_counts = {row["tenant"]: row["n"] for row in pending}
    for row in rows:
        row["member_count"] = member_counts.get(row["id"], 0)
        row["pending_invitations"] = pending_counts.get(row["id"], 0)
    return rows


async def create_tenant_with_first_admin(
    *, kind: str, slug: str, name: str, nipt: str, is_hotline: bool, admin_email: str, actor: Actor
) -> tuple[dict, dict]:
    """Open an organisation and invite its first administrator; both happen or neither does."""
    slug = (slug or "").strip().lower()
    name = (name or "").strip()
    nipt = tenants.normalise_nipt(nipt)
    admin_email = tenants.normalise_email(admin_email)
    errors = tenants.tenant_errors(kind=kind, slug=slug, name=name, nipt=nipt)
    if not tenants.valid_email(admin_email):
        errors["admin_email"] = _("Enter a valid email address.")
    if errors:
        raise ValidationFailed(errors)
    async with system_transaction():
        tenant = await tenants.create_tenant(kind=kind, slug=slug, name=name, nipt=nipt, is_hotline=is_hotline, actor=actor)
        invitation = await tenants.invite_member(tenant, admin_email, "admin", actor)
    return tenant, invitation
