"""The tenant navigation: each feature adds its entries here, shown only to those allowed to use them."""

from __future__ import annotations

from dataclasses import dataclass

from portal.core.i18n import gettext, lazy
from portal.core.permissions import Access, can


@dataclass(frozen=True)
class NavItem:
    label: str
    path: str  # relative to /t/{slug}/
    permission: str

    def translated(self) -> str:
        return gettext(self.label)


NAV_ITEMS: list[NavItem] = [
    NavItem(lazy("Overview"), "", "tenant.view"),
    NavItem(lazy("Organisations"), "organisations", "organisations.view"),
    NavItem(lazy("Organisation profile"), "profile", "tenant.view"),
    NavItem(lazy("Members"), "members", "members.view"),
    NavItem(lazy("Documents"), "files", "files.view"),
    NavItem(lazy("API keys"), "api-keys", "api_keys.manage"),
    NavItem(lazy("Audit log"), "audit", "audit.view"),
]


def nav_for(role: str, tenant_kind: str) -> list[NavItem]:
    access = Access(role=role, tenant_kind=tenant_kind)
    return [item for item in NAV_ITEMS if can(access, item.permission)]
