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


PRIORITY_LABELS = {
    "critical": lazy("Critical"),
    "high": lazy("High"),
    "normal": lazy("Normal"),
}


def label(group: str, key: str) -> str:
    if group == "outcome":  # a decision as it reads afterwards: "Accepted", "Returned for changes"
        group, key = "status", {"accept": "accepted", "return": "returned"}.get(key, key)
    table = {"status": STATUS_LABELS, "decision": DECISION_LABELS, "field": NARRATIVE_FIELDS,
             "section": SECTION_LABELS, "figure": FIGURE_LABELS, "priority": PRIORITY_LABELS}[group]
    text = table.get(key)
    return gettext(text) if text is not None else key
