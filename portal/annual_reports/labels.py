"""Translated names for report statuses, decisions, sections and figures."""

from __future__ import annotations

from portal.core.i18n import gettext, lazy

NAV_REPORTS = lazy("Annual report")
NAV_REVIEWS = lazy("Annual report reviews")
NAV_DASHBOARD = lazy("Compliance dashboard")

STATUS_LABELS = {
    "not_submitted": lazy("Not submitted"),
    "draft": lazy("Draft"),
    "submitted": lazy("Submitted"),
    "under_review": lazy("Under review"),
    "returned": lazy("Returned for changes"),
    "accepted": lazy("Accepted"),
}

DECISION_LABELS = {
    "return": lazy("Return for changes"),
    "accept": lazy("Accept"),
}

NARRATIVE_FIELDS = {
    "done": lazy("What was done"),
    "results": lazy("Results"),
    "difficulties": lazy("Difficulties"),
    "plans": lazy("Plans for next year"),
}

SECTION_LABELS = {
    "general": lazy("Organisation, signature and contact point"),
    "takedown": lazy("Takedown and blocking requests"),
}

FIGURE_LABELS = {
    "received": lazy("Requests received"),
    "acknowledged": lazy("Acknowledged"),
    "actioned": lazy("Actioned"),
    "disputed": lazy("Disputed"),
    "overdue": lazy("Overdue (open past the deadline or actioned late)"),
    "median_hours_to_acknowledge": lazy("Median hours to acknowledge"),
    "p90_hours_to_acknowledge": lazy("90th percentile hours to acknowledge"),
    "median_hours_to_action": lazy("Median hours to action"),
    "p90_hours_to_action": lazy("90th percentile hours to action"),
    "share_within_deadline": lazy("Share actioned within the deadline"),
}


EXPORT_FORMATS = {
    "pdf": lazy("PDF document"),
    "xlsx": lazy("Spreadsheet (XLSX)"),
    "zip": lazy("CSV files (zip)"),
}

EXPORT_STATUS_LABELS = {
    "queued": lazy("Waiting to start"),
    "running": lazy("Being built"),
    "done": lazy("Ready"),
    "failed": lazy("Failed"),
}

EXPORT_STEPS = {
    "queued": lazy("Waiting for the background worker"),
    "gathering": lazy("Collecting the year's figures and reports"),
    "tables": lazy("Preparing the tables"),
    "rendering": lazy("Writing the file"),
    "storing": lazy("Storing the file"),
    "done": lazy("Finished"),
    "failed": lazy("Stopped"),
}

EXPORT_ERRORS = {
    "no_data": lazy("There was no data for this year to export."),
    "failed": lazy("The export could not be built. Try again; if it fails again, tell the platform administrator."),
}

PRIORITY_LABELS = {
    "critical": lazy("Critical"),
    "high": lazy("High"),
    "normal": lazy("Normal"),
}


def label(group: str, key: str) -> str:
    if group == "outcome":  # a decision as it reads afterwards: "Accepted", "Returned for changes"
        group, key = "status", {"accept": "accepted", "return": "returned"}.get(key, key)
    table = {"status": STATUS_LABELS, "decision": DECISION_LABELS, "field": NARRATIVE_FIELDS,
             "section": SECTION_LABELS, "figure": FIGURE_LABELS, "priority": PRIORITY_LABELS,
             "format": EXPORT_FORMATS, "export_status": EXPORT_STATUS_LABELS, "export_step": EXPORT_STEPS,
             "export_error": EXPORT_ERRORS}[group]
    text = table.get(key)
    return gettext(text) if text is not None else key
