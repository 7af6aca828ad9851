"""The one place that decides who may do what; every route asks it through ``require``."""

from __future__ import annotations

from dataclasses import dataclass

from portal.core.errors import Forbidden
from portal.core.i18n import _

ALL_ROLES = frozenset({"admin", "officer", "analyst", "viewer"})
WORKERS = frozenset({"admin", "officer", "analyst"})
ADMIN = frozenset({"admin"})

# permission -> roles that hold it inside their own tenant
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "tenant.view": ALL_ROLES,
    "tenant.edit_profile": ADMIN,
    "members.view": ALL_ROLES,
    "members.manage": ADMIN,
    "api_keys.manage": ADMIN,
    "sso.manage": ADMIN,
    "files.view": ALL_ROLES,
    "files.upload": WORKERS,
    "files.delete": frozenset({"admin", "officer"}),
    "audit.view": ADMIN,
    "organisations.view": ALL_ROLES,
    "takedown.triage": frozenset({"analyst"}),
    "takedown.requests": frozenset({"analyst"}),
    "takedown.inbox": ALL_ROLES,
    "takedown.respond": frozenset({"admin", "officer"}),
    "takedown.webhook": ADMIN,
    "takedown.figures": ALL_ROLES,
    "code.view": ALL_ROLES,
    "code.manage_versions": ADMIN,
    "code.sign": ADMIN,
    "code.registry": ALL_ROLES,
    "measures.view": ALL_ROLES,
    "measures.log": frozenset({"admin", "officer"}),
    "annual_report.view": ALL_ROLES,
    "annual_report.edit": frozenset({"admin", "officer"}),
    "annual_report.submit": ADMIN,
    "annual_report.oversee": ALL_ROLES,
    "annual_report.review": frozenset({"admin", "officer"}),
}

# permissions that also depend on the kind of organisation
KIND_RESTRICTED: dict[str, frozenset[str]] = {
    "organisations.view": frozenset({"regulator"}),
    "takedown.triage": frozenset({"ngo", "agency", "regulator"}),
    "takedown.requests": frozenset({"ngo", "agency", "regulator"}),
    "takedown.inbox": frozenset({"isp"}),
    "takedown.respond": frozenset({"isp"}),
    "takedown.webhook": frozenset({"isp"}),
    "takedown.figures": frozenset({"ngo", "agency", "regulator"}),
    "code.manage_versions": frozenset({"regulator"}),
    "code.sign": frozenset({"isp", "ngo", "agency"}),
    "code.registry": frozenset({"regulator"}),
    "measures.view": frozenset({"isp", "ngo", "agency"}),
    "measures.log": frozenset({"isp", "ngo", "agency"}),
    "annual_report.view": frozenset({"isp"}),
    "annual_report.edit": frozenset({"isp"}),
    "annual_report.submit": frozenset({"isp"}),
    "annual_report.oversee": frozenset({"regulator"}),
    "annual_report.review": frozenset({"regulator"}),
}


def analyst_allowed(kind: str, is_hotline: bool) -> bool:
    """Analysts triage reports: only hotline NGOs, agencies and regulators have them."""
    return kind in {"agency", "regulator"} or (kind == "ngo" and is_hotline)


@dataclass(frozen=True)
class Access:
    """A person's standing in one tenant, as the permission check sees it."""

    role: str
    tenant_kind: str


def can(access: Access, permission: str) -> bool:
    if permission not in ROLE_PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    kinds = KIND_RESTRICTED.get(permission)
    if kinds is not None and access.tenant_kind not in kinds:
        return False
    return access.role in ROLE_PERMISSIONS[permission]


def require(access: Access, permission: str) -> None:
    if not can(access, permission):
        raise Forbidden(_("Your role in this organisation does not allow this action."))
