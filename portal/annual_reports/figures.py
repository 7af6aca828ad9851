"""The takedown figures of a report year, as the annual report, the dashboard and the export show them.

The definitions live in ``portal.takedown.stats`` (percentiles by nearest rank, medians as the
midpoint of the two middle values, ``overdue`` = still open past the deadline or actioned after
it, the on-time share over the requests that were not withdrawn); the figures are read from the
per-ISP cache of ``portal.annual_reports.figures_cache``.
"""

from __future__ import annotations

from datetime import datetime

from portal.annual_reports import figures_cache
from portal.takedown import stats

percentile = stats.percentile

KEYS = ("received", "acknowledged", "actioned", "disputed", "overdue", "median_hours_to_acknowledge",
        "p90_hours_to_acknowledge", "median_hours_to_action", "p90_hours_to_action", "share_within_deadline")


def as_report(figures: stats.IspFigures) -> dict:
    """The figures of one ISP's year under the names the reports use."""
    return {key: getattr(figures, key) for key in KEYS}


def takedown_figures(rows: list[dict], now: datetime | None = None) -> dict:
    """Figures of one organisation's assignment rows (as stats.SQL returns them)."""
    return as_report(stats.figures(rows, now))


async def for_isp(tenant_id: int, year: int) -> dict:
    return as_report(await figures_cache.isp_figures(tenant_id, year))


async def by_isp(year: int) -> dict[int, dict]:
    """Every recipient's figures for the year (regulators' dashboard and export)."""
    return {recipient: as_report(figures) for recipient, figures in (await figures_cache.all_figures(year)).items()}
