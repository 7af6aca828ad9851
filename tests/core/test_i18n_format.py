"""Placeholders and dates as users read them: no "sh.p.k..", no 12-hour clock or two-digit years."""

from datetime import datetime

from portal.core import i18n, templating


def test_name_ending_in_full_stop_gets_no_second_one() -> None:
    token = i18n.current_language.set("sq")
    try:
        assert i18n.gettext("Welcome to %(organisation)s.", organisation="AlbaNet Fiber sh.p.k.").endswith("sh.p.k.")
        assert i18n.gettext("Welcome to %(organisation)s.", organisation="Adriatik").endswith("Adriatik.")
        page = templating.catalog.jinja_env.from_string(
            '{{ _("The people who work in the portal on behalf of %(organisation)s.", organisation=name) }}'
        )
        assert page.render(name="AlbaNet Fiber sh.p.k.").endswith("sh.p.k.")
        assert page.render(name="<b>sh.a.</b>").endswith("&lt;b&gt;sh.a.&lt;/b&gt;.")
    finally:
        i18n.current_language.reset(token)


def test_dates_are_day_first_with_four_digit_year_and_24_hour_clock() -> None:
    moment = datetime(2026, 11, 24, 23, 48, 18, tzinfo=i18n.TIMEZONE)
    for language, medium in (("sq", "24 nën 2026, 23:48"), ("en", "24 Nov 2026, 23:48")):
        token = i18n.current_language.set(language)
        try:
            assert i18n.local_datetime(moment, "short") == "24.11.2026, 23:48"
            assert i18n.local_datetime(moment) == medium
            assert i18n.local_date(moment, "short") == "24.11.2026"
        finally:
            i18n.current_language.reset(token)


def test_iso_date_strings_of_frozen_snapshots_read_as_dates() -> None:
    token = i18n.current_language.set("sq")
    try:
        assert i18n.local_date("2025-03-10", "short") == "10.03.2025"
        assert i18n.local_date("2025-03-10T08:00:00+00:00", "short") == "10.03.2025"
        assert i18n.local_date("") == "" and i18n.local_date(None) == ""
        assert i18n.local_date("pa datë") == "pa datë"
    finally:
        i18n.current_language.reset(token)
