"""Translated names for the Code of Conduct's statuses, categories and history entries."""

from __future__ import annotations

from portal.core.i18n import current_language, gettext, lazy

# Side navigation entries (portal/core/navigation.py shows them to those with the permission).
NAV_CODE = lazy("Code of Conduct")
NAV_MEASURES = lazy("Code measures")
NAV_REGISTRY = lazy("Signatory registry")
NAV_SIGNATORY_MEASURES = lazy("Signatories' measures")

VERSION_STATUS_LABELS = {
    "draft": lazy("Draft"),
    "published": lazy("In force"),
    "superseded": lazy("Superseded"),
}

SIGNING_STATUS_LABELS = {
    "not_signed": lazy("Not signed"),
    "signed_current": lazy("Signed the current version"),
    "signed_old_version": lazy("Signed an earlier version"),
    "withdrawn": lazy("Signature withdrawn"),
}

CATEGORY_LABELS = {
    "filtering": lazy("Filtering and blocking"),
    "parental_controls": lazy("Parental controls"),
    "reporting_channel": lazy("Reporting channel"),
    "staff_training": lazy("Staff training"),
    "subscriber_awareness": lazy("Subscriber awareness"),
    "cooperation": lazy("Cooperation with authorities"),
    "other": lazy("Other"),
}

MEASURE_STATUS_LABELS = {
    "planned": lazy("Planned"),
    "in_progress": lazy("In progress"),
    "done": lazy("Done"),
}

CHANGE_LABELS = {
    "added": lazy("Added"),
    "removed": lazy("Removed"),
    "reworded": lazy("Reworded"),
    "unchanged": lazy("Unchanged"),
}

REVISION_ACTION_LABELS = {
    "created": lazy("Created"),
    "edited": lazy("Edited"),
    "evidence_added": lazy("Evidence added"),
    "deleted": lazy("Deleted"),
}

FIELD_LABELS = {
    "title": lazy("Title"),
    "description": lazy("Description"),
    "category": lazy("Category"),
    "status": lazy("Status"),
    "start_date": lazy("Start date"),
    "end_date": lazy("End date"),
    "indicators": lazy("Indicator values"),
    "commitments": lazy("Commitments"),
    "evidence": lazy("Evidence"),
    "reason": lazy("Reason"),
    "label": lazy("Version label"),
    "title_sq": lazy("Title (Albanian)"),
    "title_en": lazy("Title (English)"),
    "body_sq": lazy("Text (Albanian)"),
    "body_en": lazy("Text (English)"),
    "text_sq": lazy("Text (Albanian)"),
    "text_en": lazy("Text (English)"),
}

# Suggestions offered beside the indicator fields; officers may type any other name.
SUGGESTED_INDICATORS = [
    lazy("Subscribers with parental controls active"),
    lazy("Staff trained"),
    lazy("Campaign reach"),
    lazy("Listed URLs blocked"),
    lazy("Reports received through our channels"),
]

BADGES = {
    "signed_current": "badge-ok",
    "signed_old_version": "badge-warn",
    "withdrawn": "badge-err",
    "not_signed": "",
    "published": "badge-ok",
    "superseded": "",
    "draft": "badge-warn",
    "done": "badge-ok",
    "in_progress": "badge-warn",
    "planned": "",
    "added": "badge-ok",
    "removed": "badge-err",
    "reworded": "badge-warn",
    "unchanged": "",
}


def label(group: str, value: str | None) -> str:
    """The translated name of ``value`` in one of the groups above (the value itself if unknown)."""
    table = {
        "version_status": VERSION_STATUS_LABELS,
        "signing_status": SIGNING_STATUS_LABELS,
        "category": CATEGORY_LABELS,
        "measure_status": MEASURE_STATUS_LABELS,
        "change": CHANGE_LABELS,
        "revision": REVISION_ACTION_LABELS,
        "field": FIELD_LABELS,
    }[group]
    return gettext(table[value]) if value in table else (value or "")


def badge(value: str | None) -> str:
    return BADGES.get(value or "", "")


def in_language(row: dict, field: str) -> str:
    """``row[field_sq]`` or ``row[field_en]`` for the reader's language, falling back to the other one."""
    first, second = ("sq", "en") if current_language.get() == "sq" else ("en", "sq")
    return row.get(f"{field}_{first}") or row.get(f"{field}_{second}") or ""


def options(group: str) -> list[tuple[str, str]]:
    table = {"category": CATEGORY_LABELS, "measure_status": MEASURE_STATUS_LABELS}[group]
    return [(key, gettext(text)) for key, text in table.items()]
