"""Helpers the annual report components call (all prefixed ``ar_``)."""

from __future__ import annotations

from babel.numbers import format_decimal, format_percent

from portal.annual_reports import labels
from portal.code_of_conduct.labels import in_language
from portal.core.i18n import current_language
from portal.core.templating import catalog
from portal.files.services import size_label


def display_number(value: float | None) -> str:
    if value is None:
        return "—"
    return format_decimal(value, format="#,##0.##", locale=current_language.get())


def display_share(value: float | None) -> str:
    if value is None:
        return "—"
    return format_percent(value, format="#,##0.#%", locale=current_language.get())


def display_figure(key: str, value: object) -> str:
    if key == "share_within_deadline":
        return display_share(value)
    return display_number(value)


def register() -> None:
    catalog.jinja_env.globals.update(
        ar_label=labels.label,
        ar_number=display_number,
        ar_share=display_share,
        ar_figure=display_figure,
        ar_size=size_label,
        ar_text=in_language,
        ar_figure_keys=list(labels.FIGURE_LABELS),
        ar_fields=list(labels.NARRATIVE_FIELDS),
    )
