"""The takedown figures of a report year: counts from portal.takedown.stats plus p90 and the on-time share.

Percentiles use the nearest-rank method (the smallest value with at least p% of the values at or
below it), so a reader can check them by hand against a sorted list; medians are the usual
midpoint of the two middle values. ``overdue`` counts requests not actioned by their deadline:
still open past it, or actioned after it. The on-time share is the actioned-by-the-deadline
requests over all requests received that were not withdrawn.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from portal.core.db import execute, system_transaction, tenant_transaction
from portal.takedown import stats


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return round(ordered[rank - 1], 2)


def takedown_figures(rows: list[dict], now: datetime | None = None) -> dict:
    """Figures of one organisation's assignments (rows as stats.SQL returns them)."""
    now = now or datetime.now(UTC)
    base = stats.figures(rows, now)
    to_ack, to_act, on_time, counted = [], [], 0, 0
    for row in rows:
        sent, due = stats._aware(row["sent_at"]), stats._aware(row["due_at"])
        acknowledged, actioned = stats._aware(row["acknowledged_at"]), stats._aware(row["actioned_at"])
        if acknowledged is not None:
            to_ack.append(stats._hours(sent, acknowledged))
        if actioned is not None:
            to_act.append(stats._hours(sent, actioned))
        if row["status"] == "withdrawn":
            continue
        counted += 1
        if actioned is not None and row["outcome"] and actioned <= due:
            on_time += 1
    return {
        "received": base.received,
        "acknowledged": base.acknowledged,
        "actioned": base.actioned,
        "disputed": base.disputed,
        "overdue": base.open_overdue + base.actioned_late,
        "median_hours_to_acknowledge": base.median_hours_to_acknowledge,
        "p90_hours_to_acknowledge": percentile(to_ack, 0.9),
        "median_hours_to_action": base.median_hours_to_action,
        "p90_hours_to_action": percentile(to_act, 0.9),
        "share_within_deadline": round(on_time / counted, 4) if counted else None,
    }


def _bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


async def for_isp(tenant_id: int, year: int) -> dict:
    start, end = _bounds(year)
    async with tenant_transaction(tenant_id):
        rows = await execute(stats.SQL + " AND a.recipient = {}", start, end, tenant_id)
    return takedown_figures(rows)


async def by_isp(year: int) -> dict[int, dict]:
    """Every recipient's figures for the year (regulators' dashboard and export)."""
    start, end = _bounds(year)
    async with system_transaction():
        rows = await execute(stats.SQL, start, end)
    grouped: dict[int, list[dict]] = {}
    for row in rows:
        grouped.setdefault(row["recipient"], []).append(row)
    return {recipient: takedown_figures(items) for recipient, items in grouped.items()}
