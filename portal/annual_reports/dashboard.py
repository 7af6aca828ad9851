"""Figures of the regulators' compliance dashboard (and of the yearly export) for one year."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from portal.annual_reports import figures, services
from portal.code_of_conduct.measures import MeasureFilters, active_in_year, all_measures
from portal.code_of_conduct.tables import Signature
from portal.core.db import system_transaction
from portal.takedown.config import get_takedown_settings


@dataclass
class YearData:
    year: int
    signatories: list[dict]       # [{"month": 1, "count": n}, ...] organisations with a signature in effect at month end
    queue: list[dict]             # services.queue rows (every ISP)
    counts: dict[str, int]        # reports by status
    takedown: list[dict]          # [{"tenant": {...}, **figures}] per ISP
    measures: list[dict]          # [{"code": "Z1", "title_sq": ..., "title_en": ..., "count": n, "organisations": k}]
    deadlines: dict[str, int]     # hours per priority

    @property
    def has_data(self) -> bool:
        return bool(
            any(r["report"] for r in self.queue) or any(t["received"] for t in self.takedown)
            or any(m["count"] for m in self.measures) or any(s["count"] for s in self.signatories)
        )


def _aware(value: object) -> datetime | None:
    return services._aware(value)


def _month_end(year: int, month: int) -> datetime:
    return datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)


async def signatories_by_month(year: int) -> list[dict]:
    async with system_transaction():
        rows = await Signature.select(Signature.tenant, Signature.signed_at, Signature.withdrawn_at)
    points = []
    for month in range(1, 13):
        end = _month_end(year, month)
        live = {r["tenant"] for r in rows if _aware(r["signed_at"]) < end
                and (r["withdrawn_at"] is None or _aware(r["withdrawn_at"]) >= end)}
        points.append({"month": month, "count": len(live)})
    return points


async def measures_by_commitment(year: int) -> list[dict]:
    rows = [r for r in await all_measures(MeasureFilters(year=year)) if r["deleted_at"] is None]
    table: dict[str, dict] = {}
    for row in rows:
        if not active_in_year(row, year):
            continue
        for c in row["commitments"]:
            entry = table.setdefault(c["code"], {"code": c["code"], "position": c["position"], "title_sq": c["title_sq"],
                                                 "title_en": c["title_en"], "count": 0, "tenants": set()})
            entry["count"] += 1
            entry["tenants"].add(row["tenant"])
    result = []
    for entry in sorted(table.values(), key=lambda e: (e["position"], e["code"])):
        entry["organisations"] = len(entry.pop("tenants"))
        result.append(entry)
    return result


async def year_data(year: int, today: date | None = None) -> YearData:
    year = services.valid_year(year)
    queue = await services.queue(year, today=today)
    per_isp = await figures.by_isp(year)
    takedown = [{"tenant": row["tenant"], **per_isp.get(row["tenant"]["id"], figures.takedown_figures([]))}
                for row in queue]
    return YearData(
        year=year, signatories=await signatories_by_month(year), queue=queue, counts=services.queue_counts(queue),
        takedown=takedown, measures=await measures_by_commitment(year),
        deadlines=dict(get_takedown_settings().deadline_hours),
    )
