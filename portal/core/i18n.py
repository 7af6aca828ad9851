"""Albanian first, English second: Babel catalogs per feature, merged at start-up, chosen per request.

Message ids are English; each feature package keeps its Albanian catalog in
``locale/sq/LC_MESSAGES/messages.po`` beside its code, so features never edit one shared file.
The .po files are compiled in memory when the process starts: there is no build step.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LANGUAGES = ("sq", "en")
DEFAULT_LANGUAGE = "sq"
TIMEZONE = ZoneInfo("Europe/Tirane")
PACKAGE_ROOT = Path(__file__).resolve().parents[1]

current_language: ContextVar[str] = ContextVar("current_language", default=DEFAULT_LANGUAGE)


def catalog_files(language: str) -> list[Path]:
    return sorted(PACKAGE_ROOT.glob(f"*/locale/{language}/LC_MESSAGES/messages.po"))


@lru_cache(maxsize=None)
def translations_for(language: str) -> NullTranslations:
    if language == "en":
        return NullTranslations()
    merged: Translations | None = None
    for path in catalog_files(language):
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        part = Translations(buffer)
        if merged is None:
            merged = part
        else:
            merged.merge(part)
    return merged or NullTranslations()


def normalise_language(value: str | None) -> str:
    value = (value or "").strip().lower()[:2]
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def gettext(message: str, **values: object) -> str:
    """Translate into the request's language; ``%(name)s`` placeholders are filled from ``values``."""
    text = translations_for(current_language.get()).gettext(message)
    return fill(text, values) if values else text


def ngettext(singular: str, plural: str, n: int, **values: object) -> str:
    text = translations_for(current_language.get()).ngettext(singular, plural, n)
    values.setdefault("num", n)
    return fill(text, values)


def fill(text: str, values: dict[str, object]) -> str:
    """Fill ``%(name)s`` placeholders; a value that ends in a full stop ("AlbaNet Fiber sh.p.k.")
    takes the place of the sentence's own, so the page never shows "sh.p.k.."."""
    for key, value in values.items():
        if isinstance(value, str) and value.endswith("."):
            text = text.replace(f"%({key})s.", f"%({key})s")
    return text % values


_ = gettext


def lazy(message: str) -> str:
    """Mark a module-level string for extraction; translate it with ``gettext`` when shown."""
    return message


# Day first, four-digit year, 24-hour clock, no seconds, as dates are written in Albania (the CLDR
# defaults are "24.11.26, 11:48 m.d." in Albanian and "11/24/26, 11:48 PM" in English).
DATETIME_PATTERNS = {"short": "dd.MM.y, HH:mm", "medium": "d MMM y, HH:mm"}
DATE_PATTERNS = {"short": "dd.MM.y"}


def local_datetime(value: datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    return format_datetime(value.astimezone(TIMEZONE), format=DATETIME_PATTERNS.get(fmt, fmt),
                           locale=Locale.parse(current_language.get()))


def local_date(value: datetime | date | str | None, fmt: str = "medium") -> str:
    """A date in the reader's language; also an ISO date string, as frozen report snapshots keep them."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value  # not a date after all: shown as it was written
    if isinstance(value, datetime):
        value = value.astimezone(TIMEZONE)
    return format_date(value, format=DATE_PATTERNS.get(fmt, fmt), locale=Locale.parse(current_language.get()))
