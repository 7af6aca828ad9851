"""Per-ISP figures of a year's requests: counts and response times (takedown pages, annual reports).

One definition, two ways to compute it: ``figures`` over the assignment rows in Python (SQLite,
and hand-checked examples), and ``AGGREGATE_SQL`` grouped by recipient inside PostgreSQL, which
never ships the year's rows to Python. Both give the same floats: hours are seconds / 3600 in
double precision, the median is PostgreSQL's ``percentile_cont(0.5)`` interpolation
(``low + (high - low) * 0.5``), the p90 the nearest-rank value (``percentile_disc(0.9)``: the
smallest value with at least 90 % of the values at or below it), and rounding happens in Python.

``overdue`` counts requests not actioned by their deadline: still open past it, or actioned after
it. The on-time share is the actioned-by-the-deadline requests over all requests received that
were not withdrawn. ``open_until`` is the earliest deadline of a request still open and not yet
overdue: until then the clock cannot change the figures.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from portal.core.db import execute, is_postgres, system_transaction, tenant_transaction

OPEN = ("sent", "acknowledged")


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
    p90_hours_to_acknowledge: float | None
    median_hours_to_action: float | None
    p90_hours_to_action: float | None
    mean_hours_to_action: float | None
    share_within_deadline: float | None
    open_until: datetime | None = None

    @property
    def overdue(self) -> int:
        return self.open_overdue + self.actioned_late

    def as_dict(self) -> dict:
        return asdict(self)


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


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(float(value), digits)


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile (PostgreSQL's ``percentile_disc``); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return round(ordered[rank - 1], 2)


def median(values: list[float]) -> float | None:
    """Midpoint of the two middle values, computed as PostgreSQL's ``percentile_cont(0.5)`` does."""
    if not values:
        return None
    ordered = sorted(values)
    position = 0.5 * (len(ordered) - 1)
    low, high = ordered[math.floor(position)], ordered[math.ceil(position)]
    return round(low if low == high else low + (high - low) * (position - math.floor(position)), 2)


def _mean_hours(total_seconds: Decimal | None, count: int) -> float | None:
    """Exact seconds summed (numeric in PostgreSQL, timedelta in Python), divided once."""
    if not count or total_seconds is None:
        return None
    return round(float(Decimal(total_seconds) / count / 3600), 2)


def _seconds(delta: timedelta) -> Decimal:
    return Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds) / 1_000_000


def figures(rows: list[dict], now: datetime | None = None) -> IspFigures:
    """The figures of one organisation's assignment rows (as ``SQL`` selects them)."""
    now = now or datetime.now(UTC)
    to_ack, to_act, act_total, open_until = [], [], timedelta(), None
    counts = dict.fromkeys(("acknowledged", "actioned", "blocked", "removed", "disputed", "withdrawn", "open_overdue",
                            "actioned_late", "on_time", "counted"), 0)
    for row in rows:
        sent, due = _aware(row["sent_at"]), _aware(row["due_at"])
        acknowledged, actioned = _aware(row["acknowledged_at"]), _aware(row["actioned_at"])
        if acknowledged is not None:
            counts["acknowledged"] += 1
            to_ack.append(_hours(sent, acknowledged))
        if actioned is not None:
            to_act.append(_hours(sent, actioned))
            act_total += actioned - sent
            counts["actioned"] += bool(row["outcome"])
            counts["actioned_late"] += actioned > due
        counts["blocked"] += row["outcome"] == "blocked"
        counts["removed"] += row["outcome"] == "removed"
        counts["disputed"] += row["disputed_at"] is not None
        if row["status"] in OPEN:
            if due < now:
                counts["open_overdue"] += 1
            elif open_until is None or due < open_until:
                open_until = due
        if row["status"] == "withdrawn":
            counts["withdrawn"] += 1
            continue
        counts["counted"] += 1
        counts["on_time"] += actioned is not None and bool(row["outcome"]) and actioned <= due
    return _finish(len(rows), counts, median(to_ack), percentile(to_ack, 0.9), median(to_act),
                   percentile(to_act, 0.9), _mean_hours(_seconds(act_total), len(to_act)), open_until)


def _finish(received: int, counts: dict, median_ack, p90_ack, median_act, p90_act, mean_act,
            open_until: datetime | None) -> IspFigures:
    return IspFigures(
        received=received, acknowledged=counts["acknowledged"], actioned=counts["actioned"],
        blocked=counts["blocked"], removed=counts["removed"], disputed=counts["disputed"],
        withdrawn=counts["withdrawn"], open_overdue=counts["open_overdue"], actioned_late=counts["actioned_late"],
        median_hours_to_acknowledge=median_ack, p90_hours_to_acknowledge=p90_ack,
        median_hours_to_action=median_act, p90_hours_to_action=p90_act, mean_hours_to_action=mean_act,
        share_within_deadline=round(counts["on_time"] / counts["counted"], 4) if counts["counted"] else None,
        open_until=open_until,
    )


SQL = (
    "SELECT a.recipient, a.status, a.outcome, a.sent_at, a.acknowledged_at, a.actioned_at, a.disputed_at, a.due_at"
    " FROM takedown_assignment a WHERE a.sent_at >= {} AND a.sent_at < {}"
)

_ACK = "extract(epoch FROM a.acknowledged_at - a.sent_at)::float8 / 3600"
_ACT = "extract(epoch FROM a.actioned_at - a.sent_at)::float8 / 3600"

# PostgreSQL only: the same figures as ``figures``, one row per recipient. Arguments: now, now, start, end
# and then the recipients of ``{recipients}`` (an ``AND a.recipient IN (...)`` or nothing).
AGGREGATE_SQL = f"""
SELECT a.recipient,
       count(*) AS received,
       count(a.acknowledged_at) AS acknowledged,
       count(*) FILTER (WHERE a.actioned_at IS NOT NULL AND a.outcome <> '') AS actioned,
       count(*) FILTER (WHERE a.outcome = 'blocked') AS blocked,
       count(*) FILTER (WHERE a.outcome = 'removed') AS removed,
       count(a.disputed_at) AS disputed,
       count(*) FILTER (WHERE a.status = 'withdrawn') AS withdrawn,
       count(*) FILTER (WHERE a.status IN ('sent', 'acknowledged') AND a.due_at < {{}}) AS open_overdue,
       min(a.due_at) FILTER (WHERE a.status IN ('sent', 'acknowledged') AND a.due_at >= {{}}) AS open_until,
       count(*) FILTER (WHERE a.actioned_at > a.due_at) AS actioned_late,
       count(*) FILTER (WHERE a.status <> 'withdrawn' AND a.actioned_at IS NOT NULL AND a.outcome <> ''
                        AND a.actioned_at <= a.due_at) AS on_time,
       count(*) FILTER (WHERE a.status <> 'withdrawn') AS counted,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY {_ACK}) AS median_ack,
       percentile_disc(0.9) WITHIN GROUP (ORDER BY {_ACK}) AS p90_ack,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY {_ACT}) AS median_act,
       percentile_disc(0.9) WITHIN GROUP (ORDER BY {_ACT}) AS p90_act,
       sum(extract(epoch FROM a.actioned_at - a.sent_at)) AS act_seconds,
       count(a.actioned_at) AS act_count
  FROM takedown_assignment a
 WHERE a.sent_at >= {{}} AND a.sent_at < {{}}{{recipients}}
 GROUP BY a.recipient
"""


def _from_aggregate(row: dict) -> IspFigures:
    return _finish(row["received"], row, _round(row["median_ack"]), _round(row["p90_ack"]),
                   _round(row["median_act"]), _round(row["p90_act"]), _mean_hours(row["act_seconds"], row["act_count"]),
                   _aware(row["open_until"]))


def year_bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


async def compute(year: int, recipients: list[int] | None = None, now: datetime | None = None) -> dict[int, IspFigures]:
    """Figures of ``recipients`` (every recipient when None) for ``year``, in the caller's transaction.

    Recipients without a request sent in the year are left out.
    """
    now = now or datetime.now(UTC)
    start, end = year_bounds(year)
    if recipients is not None and not recipients:
        return {}
    placeholders = ", ".join("{}" for _ in recipients or [])
    where = f" AND a.recipient IN ({placeholders})" if recipients else ""
    if is_postgres():
        rows = await execute(AGGREGATE_SQL.replace("{recipients}", where), now, now, start, end, *(recipients or []))
        return {row["recipient"]: _from_aggregate(row) for row in rows}
    grouped: dict[int, list[dict]] = {}
    for row in await execute(SQL + where, start, end, *(recipients or [])):
        grouped.setdefault(row["recipient"], []).append(row)
    return {recipient: figures(items, now) for recipient, items in grouped.items()}


async def isp_figures(recipient_id: int, year: int) -> IspFigures:
    """One ISP's own figures for ``year`` (its annual report is pre-filled from these)."""
    async with tenant_transaction(recipient_id):
        found = await compute(year, [recipient_id])
    return found.get(recipient_id) or figures([])


async def figures_by_isp(year: int) -> dict[int, IspFigures]:
    """Every ISP's figures for ``year``, for the regulators' annual Code-of-Conduct report."""
    async with system_transaction():
        return await compute(year)
