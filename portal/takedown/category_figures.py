"""A year's takedown figures per category of content, beside the EU Digital Services Act's categories.

The EU's DSA Transparency Database counts *statements of reasons*: one decision on one piece of
content. The nearest unit here is one URL of a request at one addressed ISP, so ISPs' actions are
counted per (URL, ISP copy): a block request naming three addresses sent to two ISPs is six
requested actions. Each row carries the category's DSA statement category and keyword
(``labels.CATEGORIES``), so the exported figures can be set beside EU data.

Two views, both over the calendar year (UTC, as ``stats.year_bounds``) and listing every category
even when it is zero:
- an analyst organisation's own work (``for_organisation``): reports received, addresses first
  reported, assessments made, URLs in the requests it issued and what the ISPs did with them;
- every ISP's actions on every issuer's requests (``isp_actions``), for the regulators' annual
  Code-of-Conduct report.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime

from portal.audit import services as audit
from portal.core.actor import Actor
from portal.core.db import execute, is_postgres, system_transaction, tenant_transaction
from portal.core.errors import ValidationFailed
from portal.core.i18n import _, gettext
from portal.core.spreadsheets import Table, to_csv, to_xlsx
from portal.takedown.labels import CATEGORIES
from portal.takedown.stats import year_bounds

FIRST_YEAR = 2018  # the first national action plan


@dataclass
class CategoryFigures:
    category: str
    reports: int = 0
    addresses: int = 0
    valid: int = 0
    not_valid: int = 0
    out_of_jurisdiction: int = 0
    duplicate: int = 0
    request_urls: int = 0
    requested_actions: int = 0
    blocked: int = 0
    removed: int = 0
    disputed: int = 0
    still_open: int = 0


COUNTS = [f.name for f in fields(CategoryFigures) if f.name != "category"]
ISP_ACTION_COUNTS = ["requested_actions", "blocked", "removed", "disputed", "still_open"]

# Withdrawn copies were never the ISP's to act on; an ISP that disputed and was then closed still disputed.
_ACTIONS_SQL = (
    "SELECT u.category,"
    " SUM(CASE WHEN a.status <> 'withdrawn' THEN 1 ELSE 0 END) AS requested_actions,"
    " SUM(CASE WHEN a.outcome = 'blocked' THEN 1 ELSE 0 END) AS blocked,"
    " SUM(CASE WHEN a.outcome = 'removed' THEN 1 ELSE 0 END) AS removed,"
    " SUM(CASE WHEN a.disputed_at IS NOT NULL THEN 1 ELSE 0 END) AS disputed,"
    " SUM(CASE WHEN a.status IN ('sent', 'acknowledged') THEN 1 ELSE 0 END) AS still_open"
    " FROM takedown_assignment a JOIN takedown_request_url u ON u.request = a.request"
    " WHERE a.sent_at >= {} AND a.sent_at < {}"
)


def valid_year(value: object, today: datetime | None = None) -> int:
    """A calendar year from a form or query string; the current one when none is given."""
    current = (today or datetime.now(UTC)).year
    if value in (None, ""):
        return current
    try:
        year = int(str(value))
    except ValueError:
        year = 0
    if not FIRST_YEAR <= year <= current:
        raise ValidationFailed({"year": _("Choose a year from %(first)s to %(last)s.", first=FIRST_YEAR, last=current)})
    return year


def year_choices(today: datetime | None = None) -> list[int]:
    return list(range((today or datetime.now(UTC)).year, FIRST_YEAR - 1, -1))


async def _without_jit() -> None:
    """Row-level security's policies inflate these aggregates' cost estimates past PostgreSQL's JIT
    threshold, and compiling then took longer than running (measured: 290 of 448 ms)."""
    if is_postgres():
        await execute("SET LOCAL jit = off")


def _empty() -> dict[str, CategoryFigures]:
    return {code: CategoryFigures(code) for code in CATEGORIES}


def _add(figures: dict[str, CategoryFigures], rows: list[dict], names: list[str]) -> None:
    for row in rows:
        entry = figures.get(row["category"])
        if entry is None:  # a category retired from the list keeps its rows, but gets no line
            continue
        for name in names:
            setattr(entry, name, getattr(entry, name) + int(row[name] or 0))


async def for_organisation(tenant_id: int, year: int) -> list[CategoryFigures]:
    """The analyst organisation's own year, per category: its queue, its requests and the ISPs' actions."""
    start, end = year_bounds(year)
    figures = _empty()
    async with tenant_transaction(tenant_id):
        await _without_jit()
        _add(figures, await execute(
            "SELECT category, COUNT(*) AS reports FROM takedown_report"
            " WHERE tenant = {} AND created_at >= {} AND created_at < {} GROUP BY category",
            tenant_id, start, end,
        ), ["reports"])
        _add(figures, await execute(
            "SELECT category,"
            " SUM(CASE WHEN first_reported_at >= {} AND first_reported_at < {} THEN 1 ELSE 0 END) AS addresses,"
            " SUM(CASE WHEN assessed_at >= {} AND assessed_at < {} AND status = 'valid' THEN 1 ELSE 0 END) AS valid,"
            " SUM(CASE WHEN assessed_at >= {} AND assessed_at < {} AND status = 'not_valid' THEN 1 ELSE 0 END)"
            " AS not_valid,"
            " SUM(CASE WHEN assessed_at >= {} AND assessed_at < {} AND status = 'out_of_jurisdiction' THEN 1 ELSE 0"
            " END) AS out_of_jurisdiction,"
            " SUM(CASE WHEN assessed_at >= {} AND assessed_at < {} AND status = 'duplicate' THEN 1 ELSE 0 END)"
            " AS duplicate"
            " FROM takedown_item WHERE tenant = {}"
            " AND ((first_reported_at >= {} AND first_reported_at < {}) OR (assessed_at >= {} AND assessed_at < {}))"
            " GROUP BY category",
            start, end, start, end, start, end, start, end, start, end, tenant_id, start, end, start, end,
        ), ["addresses", "valid", "not_valid", "out_of_jurisdiction", "duplicate"])
        _add(figures, await execute(
            "SELECT u.category, COUNT(*) AS request_urls FROM takedown_request_url u"
            " JOIN takedown_request r ON r.id = u.request"
            " WHERE r.tenant = {} AND r.created_at >= {} AND r.created_at < {} GROUP BY u.category",
            tenant_id, start, end,
        ), ["request_urls"])
        _add(figures, await execute(_ACTIONS_SQL + " AND a.issuer = {} GROUP BY u.category", start, end, tenant_id),
             ISP_ACTION_COUNTS)
    return list(figures.values())


async def isp_actions(year: int) -> list[CategoryFigures]:
    """Every ISP's actions on the URLs of the year's requests, per category (regulators' annual report)."""
    start, end = year_bounds(year)
    figures = _empty()
    async with system_transaction():
        await _without_jit()
        _add(figures, await execute(_ACTIONS_SQL + " GROUP BY u.category", start, end), ISP_ACTION_COUNTS)
    return list(figures.values())


def column_label(name: str) -> str:
    labels = {
        "reports": _("Reports received"),
        "addresses": _("Addresses first reported"),
        "valid": _("Assessed valid"),
        "not_valid": _("Assessed not valid"),
        "out_of_jurisdiction": _("Assessed out of jurisdiction"),
        "duplicate": _("Assessed duplicate"),
        "request_urls": _("Addresses in requests issued"),
        "requested_actions": _("Actions requested from ISPs"),
        "blocked": _("Blocked"),
        "removed": _("Removed"),
        "disputed": _("Disputed"),
        "still_open": _("Not acted on yet"),
    }
    return labels[name]


def table(rows: list[CategoryFigures], names: list[str], title: str) -> Table:
    """Category, DSA category and keyword, the chosen counts, and a total line."""
    header = [_("Category"), _("DSA statement category"), _("DSA keyword"), *[column_label(n) for n in names]]
    body: list[list[object]] = [
        [gettext(CATEGORIES[row.category].label), CATEGORIES[row.category].dsa_category,
         CATEGORIES[row.category].dsa_keyword, *[getattr(row, n) for n in names]]
        for row in rows
    ]
    body.append([_("Total"), "", "", *[sum(getattr(row, n) for row in rows) for n in names]])
    return Table(title, header, body)


async def export(tenant_id: int, year: int, file_format: str, actor: Actor) -> tuple[str, str, bytes]:
    """The organisation's figures as a CSV or XLSX file (filename, content type, bytes); the download is audited."""
    rows = await for_organisation(tenant_id, year)
    sheet = table(rows, COUNTS, _("Takedown by category %(year)s", year=year))
    async with tenant_transaction(tenant_id):
        await audit.record("takedown.figures_exported", actor=actor, tenant_id=tenant_id, object_type="takedown_figures",
                           object_id=year, detail={"year": year, "format": file_format})
    if file_format == "csv":
        return f"shifrat-sipas-kategorise-{year}.csv", "text/csv; charset=utf-8", to_csv(sheet)
    return (f"shifrat-sipas-kategorise-{year}.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", to_xlsx([sheet]))
