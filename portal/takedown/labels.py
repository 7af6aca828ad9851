"""Categories of reported content, their DSA statement-of-reasons mapping, and the workflow's labels.

Each category maps to the closest category (and keyword) of the EU Digital Services Act
Transparency Database, so the portal's exported figures can be set beside EU data. Where the
portal's category is narrower than the DSA's (grooming, CSAM), the keyword carries the detail;
"other illegal" content reported to a child-safety hotline concerns minors, so it maps to
protection of minors with the DSA's "other" keyword.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.core.i18n import gettext, lazy


@dataclass(frozen=True)
class Category:
    code: str
    label: str
    dsa_category: str
    dsa_keyword: str
    priority: str  # critical, high, normal: sets the default deadline


CATEGORIES: dict[str, Category] = {
    c.code: c
    for c in [
        Category("csam", lazy("Child sexual abuse material"), "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
                 "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL", "critical"),
        Category("grooming", lazy("Grooming"), "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
                 "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS", "high"),
        Category("cyberbullying", lazy("Cyberbullying"), "STATEMENT_CATEGORY_VIOLENCE",
                 "KEYWORD_ONLINE_BULLYING_INTIMIDATION", "normal"),
        Category("hate_extremism", lazy("Hate or violent extremism"), "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
                 "KEYWORD_HATE_SPEECH", "high"),
        Category("self_harm", lazy("Self-harm"), "STATEMENT_CATEGORY_SELF_HARM", "KEYWORD_SELF_MUTILATION", "normal"),
        Category("other_illegal", lazy("Other illegal content"), "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
                 "KEYWORD_OTHER", "high"),
        Category("inappropriate", lazy("Inappropriate for children"), "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
                 "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS", "normal"),
    ]
}

PRIORITIES = {
    "critical": lazy("Critical"),
    "high": lazy("High"),
    "normal": lazy("Normal"),
}
PRIORITY_ORDER = ["critical", "high", "normal"]

ITEM_STATUSES = {
    "new": lazy("New"),
    "valid": lazy("Valid"),
    "not_valid": lazy("Not valid"),
    "duplicate": lazy("Duplicate"),
    "out_of_jurisdiction": lazy("Out of jurisdiction"),
}
ASSESSMENTS = ["valid", "not_valid", "duplicate", "out_of_jurisdiction"]

REQUEST_KINDS = {
    "block": lazy("Blocking"),
    "takedown": lazy("Takedown"),
}

ASSIGNMENT_STATUSES = {
    "sent": lazy("Sent"),
    "acknowledged": lazy("Acknowledged"),
    "actioned": lazy("Actioned"),
    "disputed": lazy("Disputed"),
    "closed": lazy("Closed"),
    "withdrawn": lazy("Withdrawn"),
}

REQUEST_STATUSES = {
    "open": lazy("Open"),
    "closed": lazy("Closed"),
    "withdrawn": lazy("Withdrawn"),
}

OUTCOMES = {
    "blocked": lazy("Blocked"),
    "removed": lazy("Removed"),
}

EVENT_KINDS = {
    "issued": lazy("Request issued"),
    "acknowledged": lazy("Acknowledged"),
    "actioned": lazy("Actioned"),
    "disputed": lazy("Disputed"),
    "closed": lazy("Closed by the issuer"),
    "withdrawn": lazy("Withdrawn by the issuer"),
    "overdue": lazy("Deadline passed without action"),
}

CHANNELS = {
    "public": lazy("Public form"),
    "analyst": lazy("Entered by an analyst"),
    "api": lazy("Partner system (API)"),
    "import": lazy("CSV import"),
}

AGES = {
    "1d": lazy("Last 24 hours"),
    "7d": lazy("Last 7 days"),
    "30d": lazy("Last 30 days"),
    "older": lazy("Older than 30 days"),
}

# Navigation entries (imported by portal/core/navigation.py, translated from this feature's catalog).
NAV_QUEUE = lazy("Reported URLs")
NAV_REQUESTS = lazy("Takedown requests")
NAV_INBOX = lazy("Requests received")
NAV_FIGURES = lazy("Figures by category")


def category_label(code: str) -> str:
    category = CATEGORIES.get(code)
    return gettext(category.label) if category else code


def label(table: dict[str, str], code: str) -> str:
    return gettext(table[code]) if code in table else code


def priority_for(categories: list[str]) -> str:
    """The most urgent priority among the categories of a request's URLs."""
    ranks = [PRIORITY_ORDER.index(CATEGORIES[c].priority) for c in categories if c in CATEGORIES]
    return PRIORITY_ORDER[min(ranks)] if ranks else "normal"
