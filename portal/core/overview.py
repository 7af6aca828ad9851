"""The overview page's "to do" figures: each feature adds what its users must act on, by permission.

Like the navigation, this is where features meet; each provider reads only the organisation's own
rows (its tenant scope) and returns ``WorkItem``s, shown as linked figures at the top of the page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from portal.core.db import execute, tenant_transaction
from portal.core.i18n import _
from portal.core.permissions import Access, can


@dataclass(frozen=True)
class WorkItem:
    count: int
    label: str
    path: str  # relative to /t/{slug}/
    urgent: bool = False  # shown in the warning colour when count > 0


async def _isp_requests(tenant: dict) -> list[WorkItem]:
    now = datetime.now(UTC)
    async with tenant_transaction(tenant["id"]):
        row = (await execute(
            "SELECT SUM(CASE WHEN status IN ('sent', 'acknowledged') THEN 1 ELSE 0 END) AS open,"
            " SUM(CASE WHEN status IN ('sent', 'acknowledged') AND due_at < {} THEN 1 ELSE 0 END) AS overdue"
            " FROM takedown_assignment WHERE recipient = {}", now, tenant["id"],
        ))[0]
    return [
        WorkItem(int(row["open"] or 0), _("Requests to act on"), "takedown/inbox?status=open"),
        WorkItem(int(row["overdue"] or 0), _("Requests past their deadline"), "takedown/inbox?status=overdue", True),
    ]


async def _triage(tenant: dict) -> list[WorkItem]:
    now = datetime.now(UTC)
    async with tenant_transaction(tenant["id"]):
        new = (await execute("SELECT COUNT(*) AS n FROM takedown_item WHERE tenant = {} AND status = 'new'",
                             tenant["id"]))[0]["n"]
        overdue = (await execute(
            "SELECT COUNT(DISTINCT request) AS n FROM takedown_assignment WHERE issuer = {}"
            " AND status IN ('sent', 'acknowledged') AND due_at < {}", tenant["id"], now,
        ))[0]["n"]
    return [
        WorkItem(int(new), _("Reports waiting for assessment"), "takedown/reports?status=new"),
        WorkItem(int(overdue), _("Your requests overdue at an ISP"), "takedown/requests?status=overdue", True),
    ]


async def _reviews(tenant: dict) -> list[WorkItem]:
    from portal.annual_reports import services as annual_reports

    year = date.today().year - 1
    counts = annual_reports.queue_counts(await annual_reports.queue(year))
    waiting = counts.get("submitted", 0) + counts.get("under_review", 0)
    return [WorkItem(waiting, _("Annual reports %(year)s waiting for review", year=year),
                     f"annual-report-reviews?year={year}")]


PROVIDERS: list[tuple[str, Callable[[dict], Awaitable[list[WorkItem]]]]] = [
    ("takedown.inbox", _isp_requests),
    ("takedown.triage", _triage),
    ("annual_report.review", _reviews),
]


async def work_items(tenant: dict, access: Access) -> list[WorkItem]:
    items: list[WorkItem] = []
    for permission, provider in PROVIDERS:
        if can(access, permission):
            items.extend(await provider(tenant))
    return items
