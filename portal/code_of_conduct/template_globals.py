"""Helpers the Code of Conduct components call: translated labels, the reader's language, safe Markdown."""

from __future__ import annotations

from babel.numbers import format_decimal

from portal.code_of_conduct import labels
from portal.code_of_conduct.text import render_markdown
from portal.core.i18n import current_language, gettext
from portal.core.templating import catalog
from portal.files.services import size_label


def display_number(value: float | int) -> str:
    """An indicator value as readers of the page's language write it (15 000 and 5,5 in Albanian)."""
    return format_decimal(value, format="#,##0.###", locale=current_language.get())


def suggested_indicators() -> list[str]:
    return [gettext(name) for name in labels.SUGGESTED_INDICATORS]


def register() -> None:
    """Add the helpers (all prefixed ``coc_``) to the shared Jinja environment once."""
    catalog.jinja_env.globals.update(
        coc_label=labels.label,
        coc_badge=labels.badge,
        coc_text=labels.in_language,
        coc_options=labels.options,
        coc_markdown=render_markdown,
        coc_number=display_number,
        coc_size=size_label,
        coc_suggested_indicators=suggested_indicators,
    )
