"""Per-ISP figures of a year's requests for the annual compliance report: counts and response times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from statistics import median

from portal.core.db import execute, system_transaction, tenant_transaction


@dataclass(frozen=True)
class IspFigures:
    received: int
    acknowledged: int
    actioned: int
    blocked: int
    removed: int
    disputed: int
    withdrawn: int
    open_overdue: int
    actioned_late: int
    median_hours_to_acknowledge: float | None
    median_hours_to_action: float | None
    mean_hours_to_action: float | None


def _aware(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.fromisoformat(str(value))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _hours(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds() / 3600


def figures(rows: list[dict], now: datetime | None = None) -> IspFigures:
    now = now or datetime.now(UTC)
    to_ack = [h for r in rows if (h := _hours(_aware(r["sent_at"]), _aware(r["acknowledged_at"]))) is not None]
    to_act = [h for r in rows if (h := _hours(_aware(r["sent_at"]), _aware(r["actioned_at"]))) is not None]
    return IspFigures(
        received=len(rows),
        acknowledged=sum(1 for r in rows if r["acknowledged_at"] is not None),
        actioned=sum(1 for r in rows if r["actioned_at"] is not None and r["outcome"]),
        blocked=sum(1 for r in rows if r["outcome"] == "blocked"),
        removed=sum(1 for r in rows if r["outcome"] == "removed"),
        disputed=sum(1 for r in rows if r["disputed_at"] is not None),
        withdrawn=sum(1 for r in rows if r["status"] == "withdrawn"),
        open_overdue=sum(1 for r in rows if r["status"] in ("sent", "acknowledged") and _aware(r["due_at"]) < now),
        actioned_late=sum(1 for r in rows if r["actioned_at"] is not None and _aware(r["actioned_at"]) > _aware(r["due_at"])),
        median_hours_to_acknowledge=round(median(to_ack), 2) if to_ack else None,
        median_hours_to_action=round(median(to_act), 2) if to_act else None,
        mean_hours_to_action=round(sum(to_act) / len(to_act), 2) if to_act else None,
    )


SQL = (
    "SELECT a.recipient, a.status, a.outcome, a.sent_at, a.acknowledged_at, a.actioned_at, a.disputed_at, a.due_at"
    " FROM takedown_assignment a WHERE a.sent_at >= {} AND a.sent_at < {}"
)


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


async def isp_figures(recipient_id: int, year: int) -> IspFigures:
    """One ISP's own figures for ``year`` (the ISP's annual report is pre-filled from these)."""
    start, end = _year_bounds(year)
    async with tenant_transaction(recipient_id):
        rows = await execute(SQL + " AND a.recipient = {}", start, end, recipient_id)
    return figures([dict(r) for r in rows])


async def figures_by_isp(year: int) -> dict[int, IspFigures]:
    """Every ISP's figures for ``year``, for the regulators' annual Code-of-Conduct report."""
    start, end = _year_bounds(year)
    async with system_transaction():
        rows = [dict(r) for r in await execute(SQL, start, end)]
    grouped: dict[int, list[dict]] = {}
    for row in rows:
        grouped.setdefault(row["recipient"], []).append(row)
    return {recipient: figures(items) for recipient, items in grouped.items()}
