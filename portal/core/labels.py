"""Translated names of the tenant kinds and roles, shown wherever they appear."""

from portal.core.i18n import gettext, lazy

KIND_LABELS = {
    "isp": lazy("Internet service provider"),
    "ngo": lazy("Non-governmental organisation"),
    "agency": lazy("State agency"),
    "regulator": lazy("Regulator"),
}

ROLE_LABELS = {
    "admin": lazy("Administrator"),
    "officer": lazy("Officer"),
    "analyst": lazy("Analyst"),
    "viewer": lazy("Viewer"),
}


def kind_label(kind: str) -> str:
    return gettext(KIND_LABELS[kind]) if kind in KIND_LABELS else kind


def role_label(role: str) -> str:
    return gettext(ROLE_LABELS[role]) if role in ROLE_LABELS else role
