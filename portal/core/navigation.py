"""The tenant navigation: each feature adds its entries here, shown only to those allowed to use them."""

from __future__ import annotations

from dataclasses import dataclass

from portal.core.i18n import gettext, lazy
from portal.core.permissions import Access, can
from portal.annual_reports import labels as annual_report_labels
from portal.auth.oidc import NAV_SSO
from portal.code_of_conduct import labels as coc_labels
from portal.takedown import labels as takedown_labels
from portal.takedown.webhooks import NAV_WEBHOOK


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
    NavItem(takedown_labels.NAV_QUEUE, "takedown/reports", "takedown.triage"),
    NavItem(takedown_labels.NAV_REQUESTS, "takedown/requests", "takedown.requests"),
    NavItem(takedown_labels.NAV_INBOX, "takedown/inbox", "takedown.inbox"),
    NavItem(takedown_labels.NAV_FIGURES, "takedown/figures", "takedown.figures"),
    NavItem(NAV_WEBHOOK, "takedown/webhook", "takedown.webhook"),
    NavItem(coc_labels.NAV_CODE, "code-of-conduct", "code.view"),
    NavItem(coc_labels.NAV_MEASURES, "code-measures", "measures.view"),
    NavItem(coc_labels.NAV_REGISTRY, "code-registry", "code.registry"),
    NavItem(coc_labels.NAV_SIGNATORY_MEASURES, "signatory-measures", "code.registry"),
    NavItem(annual_report_labels.NAV_REPORTS, "annual-reports", "annual_report.view"),
    NavItem(annual_report_labels.NAV_REVIEWS, "annual-report-reviews", "annual_report.oversee"),
    NavItem(annual_report_labels.NAV_DASHBOARD, "annual-report-dashboard", "annual_report.oversee"),
    NavItem(lazy("API keys"), "api-keys", "api_keys.manage"),
    NavItem(NAV_SSO, "single-sign-on", "sso.manage"),
    NavItem(lazy("Audit log"), "audit", "audit.view"),
]


def nav_for(role: str, tenant_kind: str) -> list[NavItem]:
    access = Access(role=role, tenant_kind=tenant_kind)
    return [item for item in NAV_ITEMS if can(access, item.permission)]
