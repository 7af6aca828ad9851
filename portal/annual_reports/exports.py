"""The annual Code-of-Conduct report for a year: XLSX (a sheet per table), CSV files in a zip, and a PDF.

The tables come from the dashboard figures and from the last submitted revision of each report
(drafts never leave the organisation). The PDF is typeset with Typst (the ``typst`` package
bundles the compiler and fonts); the data reaches the template as JSON, so no text from a report
is ever read as Typst markup. Every file is stored through ``portal.core.storage`` and audited.
"""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import typst
from babel.dates import get_month_names

from portal.annual_reports import charts, dashboard, services
from portal.annual_reports.labels import label
from portal.audit import services as audit
from portal.code_of_conduct.labels import in_language
from portal.code_of_conduct.labels import label as coc_label
from portal.core.actor import Actor
from portal.core.db import tenant_transaction
from portal.core.errors import ValidationFailed
from portal.core.i18n import TIMEZONE, _, current_language
from portal.core.spreadsheets import Table, to_csv, to_xlsx
from portal.core.storage import get_storage, new_storage_key
from portal.takedown import category_figures

FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "zip": "application/zip",
    "pdf": "application/pdf",
}
TEMPLATE = (Path(__file__).parent / "report.typ").read_text(encoding="utf-8")


@dataclass
class ExportFile:
    filename: str
    content_type: str
    data: bytes
    storage_key: str


def _local(value: object) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(TIMEZONE).strftime("%Y-%m-%d %H:%M")
    return ""


def _figure(key: str, value: object) -> object:
    if value is None:
        return ""
    if key == "share_within_deadline":
        return round(float(value) * 100, 1)
    return value


async def gather(year: int | str) -> tuple[dashboard.YearData, list[dict]]:
    """The year's figures and reports; a year without any data is refused with a message."""
    year = services.valid_year(year)
    data = await dashboard.year_data(year)
    if not data.has_data:
        raise ValidationFailed({"year": _("There is no data for %(year)s to export yet.", year=year)})
    return data, await services.reports_of_year(year)


def tables(data: dashboard.YearData, reports: list[dict],
           by_category: list[category_figures.CategoryFigures]) -> list[Table]:
    months = get_month_names("wide", locale=current_language.get())
    figure_keys = list(services_figure_keys())
    result = [
        Table(_("Summary"), [_("Figure"), _("Value")], [
            [_("Reporting year"), data.year],
            [_("Internet service providers"), len(data.queue)],
            *[[label("status", s), data.counts[s]] for s in services.QUEUE_STATUSES],
            [_("Overdue"), data.counts["overdue"]],
            [_("Organisations with a signature in effect at the end of the year"), data.signatories[-1]["count"]],
            [label("figure", "received"), sum(t["received"] for t in data.takedown)],
            [label("figure", "actioned"), sum(t["actioned"] for t in data.takedown)],
            [_("Measures"), sum(m["count"] for m in data.measures)],
        ]),
        Table(_("Signatories"), [_("Month"), _("Organisations with a signature in effect")],
              [[months[p["month"]], p["count"]] for p in data.signatories]),
        Table(_("Annual reports"), [_("Organisation"), _("Status"), _("Overdue"), _("Revision"), _("First submitted"),
                             _("Last review"), _("Reviewer"), _("Reviewer organisation")],
              [[r["tenant"]["name"], label("status", r["status"]), _("Yes") if r["overdue"] else _("No"),
                r["revision"] if r["status"] != "not_submitted" else "", _local(r["first_submitted_at"]),
                label("outcome", r["last_review"]["decision"]) if r["last_review"] else "",
                r["last_review"]["reviewer_email"] if r["last_review"] else "",
                r["last_review"]["reviewer_organisation"] if r["last_review"] else ""] for r in data.queue]),
        Table(_("Takedown"), [_("Provider"), *[label("figure", k) + (" (%)" if k == "share_within_deadline" else "")
                                               for k in figure_keys]],
              [[t["tenant"]["name"], *[_figure(k, t[k]) for k in figure_keys]] for t in data.takedown]),
        category_figures.table(by_category, category_figures.ISP_ACTION_COUNTS, _("Takedown by category (DSA)")),
        Table(_("Measures"), [_("Commitment"), _("Title"), _("Measures"), _("Organisations")],
              [[m["code"], in_language(m, "title"), m["count"], m["organisations"]] for m in data.measures]),
    ]
    narratives, reviews = [], []
    for report in reports:
        revision = services.last_submitted(report)
        if revision is None:
            continue
        for commitment in revision["snapshot"]["figures"]["commitments"]:
            text = revision["snapshot"]["narratives"].get(commitment["code"], {})
            narratives.append([report["tenant_name"], revision["number"], commitment["code"],
                               *[text.get(name, "") for name in services.NARRATIVE_FIELDS]])
        for review in report["reviews"]:
            reviews.append([report["tenant_name"], review["revision_number"], label("outcome", review["decision"]),
                            review["reviewer_email"], review["reviewer_organisation"], _local(review["decided_at"]),
                            review["note"]])
    result.append(Table(_("Narratives"), [_("Organisation"), _("Revision"), _("Commitment"),
                                          *[label("field", n) for n in services.NARRATIVE_FIELDS]], narratives))
    result.append(Table(_("Reviews"), [_("Organisation"), _("Revision"), _("Decision"), _("Reviewer"),
                                       _("Reviewer organisation"), _("When"), _("Note")], reviews))
    return result


def services_figure_keys() -> list[str]:
    from portal.annual_reports.labels import FIGURE_LABELS

    return list(FIGURE_LABELS)


def _slug(name: str) -> str:
    table = str.maketrans({"ë": "e", "ç": "c", "Ë": "E", "Ç": "C", " ": "-"})
    return "".join(ch for ch in name.translate(table).lower() if ch.isalnum() or ch == "-")


def to_zip(items: list[Table], year: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for position, table in enumerate(items, start=1):
            archive.writestr(f"{year}-{position:02d}-{_slug(table.name)}.csv", to_csv(table))
    return buffer.getvalue()


def _charts(data: dashboard.YearData) -> dict[str, str]:
    months = get_month_names("abbreviated", locale=current_language.get())
    return {
        "signatories": str(charts.columns(_("Signatories over the year"),
                                          [(months[p["month"]], p["count"]) for p in data.signatories])),
        "statuses": str(charts.columns(_("Annual reports by status"),
                                       [(label("status", s), data.counts[s]) for s in services.QUEUE_STATUSES])),
        "time_to_action": str(charts.hbar(
            _("Time to action per provider"),
            [(t["tenant"]["name"], t["median_hours_to_action"], t["p90_hours_to_action"]) for t in data.takedown],
            legend=(label("figure", "median_hours_to_action"), label("figure", "p90_hours_to_action")),
            references=[(f"{label('priority', p)}: {h} h", h) for p, h in sorted(data.deadlines.items(), key=lambda i: i[1])],
        )),
        "measures": str(charts.hbar(_("Measures per commitment"), [(m["code"], m["count"], None) for m in data.measures],
                                    label_width=80)),
    }


def _text(value: object) -> str:
    return "" if value is None else str(value)


def pdf_document(data: dashboard.YearData, reports: list[dict], items: list[Table]) -> dict:
    """Everything the Typst template prints, as plain strings (it does no formatting of its own)."""
    from portal.annual_reports.template_globals import display_figure

    by_tenant = {r["tenant"]: r for r in reports}
    signatories = []
    for row in data.queue:
        report = by_tenant.get(row["tenant"]["id"])
        revision = services.last_submitted(report) if report else None
        takedown = next(t for t in data.takedown if t["tenant"]["id"] == row["tenant"]["id"])
        entry = {
            "name": row["tenant"]["name"], "status": label("status", row["status"]),
            "overdue": row["overdue"],
            "takedown": [[label("figure", k), display_figure(k, takedown[k])] for k in services_figure_keys()],
            "revision": "", "hash": "", "submitted": "", "commitments": [], "reviews": [],
        }
        if revision is not None:
            snapshot = revision["snapshot"]
            entry.update(revision=str(revision["number"]), hash=revision["content_hash"],
                         submitted=_local(revision["submitted_at"]))
            for c in snapshot["figures"]["commitments"]:
                text = snapshot["narratives"].get(c["code"], {})
                entry["commitments"].append({
                    "code": c["code"], "title": in_language(c, "title"),
                    "measures": [
                        f"{m['title']} ({coc_label('measure_status', m['status'])}; "
                        + ", ".join(f"{i['name']}: {i['value']}" for i in m["indicators"]) + ")"
                        for m in c["measures"]
                    ],
                    "narrative": [[label("field", n), _text(text.get(n)) or "—"] for n in services.NARRATIVE_FIELDS],
                })
            entry["reviews"] = [
                f"{label('outcome', r['decision'])} · {r['reviewer_email']} ({r['reviewer_organisation']}) · "
                f"{_local(r['decided_at'])}" + (f" · {r['note']}" if r["note"] else "")
                for r in report["reviews"]
            ]
        signatories.append(entry)
    summary = next(t for t in items if t.name == _("Summary"))
    by_category = next(t for t in items if t.name == _("Takedown by category (DSA)"))
    return {
        "lang": current_language.get(),
        "title": _("Annual report on the implementation of the Code of Conduct for Internet Safety"),
        "year": str(data.year),
        "subtitle": _("Reporting year %(year)s · prepared from the partner portal on %(date)s", year=data.year,
                      date=datetime.now(TIMEZONE).strftime("%Y-%m-%d")),
        "summary_heading": _("Summary figures"),
        "summary": [[_text(a), _text(b)] for a, b in summary.rows],
        "by_category_heading": _("Takedown by category (DSA)"),
        "by_category_note": _("One action is one address of a request at one provider, the nearest unit to a statement "
                              "of reasons in the EU Digital Services Act transparency database; each category is shown "
                              "with its closest DSA category and keyword."),
        "by_category_header": [by_category.header[0], *by_category.header[3:]],
        "by_category": [[_text(v) for v in row] for row in by_category.rows],
        "charts_heading": _("Charts"),
        "chart_titles": {
            "signatories": _("Signatories over the year"), "statuses": _("Annual reports by status"),
            "time_to_action": _("Time to action per provider"), "measures": _("Measures per commitment"),
        },
        "signatories_heading": _("Signatories"),
        "labels": {
            "status": _("Status"), "revision": _("Revision"), "fingerprint": _("Fingerprint (SHA-256)"),
            "submitted": _("Submitted"), "takedown": label("section", "takedown"), "measures": _("Measures"),
            "reviews": _("Review outcome"), "none": _("No report submitted."), "no_measures": _("No measures."),
            "no_reviews": _("Not reviewed yet."), "overdue": _("Overdue"),
        },
        "signatories": signatories,
    }


async def to_pdf(data: dashboard.YearData, reports: list[dict], items: list[Table]) -> bytes:
    document = pdf_document(data, reports, items)
    svgs = _charts(data)
    inputs = {"data": json.dumps(document, ensure_ascii=False), **{f"chart_{k}": v for k, v in svgs.items()}}
    # typesetting is CPU work: keep it off the event loop
    return await asyncio.to_thread(typst.compile, TEMPLATE.encode("utf-8"), sys_inputs=inputs)


Progress = Callable[[str, int], Awaitable[None]]


async def _no_progress(step: str, percent: int) -> None:
    return None


def filename_for(year: int, file_format: str) -> str:
    return f"kodi-i-sjelljes-raporti-vjetor-{year}.{'csv.zip' if file_format == 'zip' else file_format}"


async def build(regulator: dict, year: int | str, file_format: str, actor: Actor,
                progress: Progress = _no_progress) -> ExportFile:
    """Build one export file, store it and audit it; returns the bytes too.

    ``progress(step, percent)`` is told each step (keys of ``labels.EXPORT_STEPS``) as it starts.
    """
    if file_format not in FORMATS:
        raise services.not_found()
    await progress("gathering", 10)
    data, reports = await gather(year)
    by_category = await category_figures.isp_actions(data.year)
    await progress("tables", 40)
    items = tables(data, reports, by_category)
    await progress("rendering", 60)
    if file_format == "xlsx":
        content = to_xlsx(items)
    elif file_format == "zip":
        content = to_zip(items, data.year)
    else:
        content = await to_pdf(data, reports, items)
    await progress("storing", 90)
    filename = filename_for(data.year, file_format)
    key = f"{new_storage_key(regulator['id'], 'annual-report-exports')}/{filename}"
    await get_storage().put(key, content, FORMATS[file_format])
    async with tenant_transaction(regulator["id"]):
        await audit.record("annual_report.exported", actor=actor, tenant_id=regulator["id"],
                           object_type="annual_report_export", object_id=str(data.year),
                           detail={"format": file_format, "storage_key": key, "bytes": len(content)})
    return ExportFile(filename=filename, content_type=FORMATS[file_format], data=content, storage_key=key)
