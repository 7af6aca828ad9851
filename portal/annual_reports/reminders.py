"""Reminders about the annual compliance report, queued in the outbox by a periodic check.

For the current reporting year (the previous calendar year; its report is due on the deadline a
regulator admin set for it, by default 31 March, see ``services.deadlines``), every ISP whose
signature of the Code was in force during that year and which has not submitted its report yet gets a mail to each of its active admins, in each
admin's language: 30 days before the deadline, 7 days before, and once when it is overdue. Only
the stage that applies today is sent: a worker that was stopped during the 30-day window does not
send a stale "30 days left" once the 7-day window has begun.

What was sent is recorded in ``annual_report_reminder`` (one row per organisation, year and kind,
with a unique index). The row is inserted with ``ON CONFLICT DO NOTHING`` in the same transaction
as the mail, and the mail is queued only when this transaction inserted it: a second worker
running the same check waits on the unique key and then skips, so nobody is reminded twice.
The worker loop (``portal/worker.py``) calls ``check_annual_report_reminders`` about once a minute.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from portal.annual_reports.services import REPORTING_KINDS, deadline_of
from portal.core import i18n
from portal.core.db import execute, system_transaction, tenant_transaction
from portal.core.i18n import _
from portal.core.settings import get_settings
from portal.outbox.services import enqueue_mail

DUE_30 = "due_30"
DUE_7 = "due_7"
OVERDUE = "overdue"
LEADS = ((DUE_7, 7), (DUE_30, 30))


def reporting_year(today: date) -> int:
    """The year whose report is being collected: the previous calendar year."""
    return today.year - 1


def reminder_kind(today: date, deadline: date) -> str | None:
    """Which reminder applies today, or None outside the reminder windows."""
    if today > deadline:
        return OVERDUE
    for kind, days in LEADS:
        if today >= deadline - timedelta(days=days):
            return kind
    return None


async def _pending_tenants(year: int) -> list[dict]:
    """ISPs whose signature was in force during ``year`` and which have not submitted that year's report."""
    start = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    kinds = ", ".join("{}" for _kind in REPORTING_KINDS)
    return await execute(
        "SELECT t.id, t.slug, t.name FROM tenant t WHERE t.active AND t.kind IN (" + kinds + ")"
        " AND EXISTS (SELECT 1 FROM coc_signature s WHERE s.tenant = t.id AND s.signed_at < {}"
        " AND (s.withdrawn_at IS NULL OR s.withdrawn_at >= {}))"
        " AND NOT EXISTS (SELECT 1 FROM annual_report r WHERE r.tenant = t.id AND r.year = {}"
        " AND (r.status <> 'draft' OR r.revision > 1))"
        " ORDER BY t.id",
        *REPORTING_KINDS, end, start, year,
    )


async def _admins(tenant_id: int) -> list[dict]:
    return await execute(
        'SELECT u.email, u.language FROM membership m JOIN portal_user u ON u.id = m."user"'
        " WHERE m.tenant = {} AND m.role = 'admin' AND m.active AND u.is_active ORDER BY u.email",
        tenant_id,
    )


def _message(kind: str, tenant: dict, year: int, deadline: date, language: str) -> tuple[str, str]:
    """Subject and body in ``language``."""
    token = i18n.current_language.set(i18n.normalise_language(language))
    try:
        due = i18n.local_date(deadline, "long")
        link = f"{get_settings().base_url.rstrip('/')}/t/{tenant['slug']}/annual-reports/{year}"
        if kind == OVERDUE:
            subject = _("Annual report %(year)s is overdue", year=year)
            body = _(
                "The annual report of %(name)s on the implementation of the Code of Conduct for %(year)s "
                "was due on %(due)s and has not been submitted. The regulators see it as overdue. "
                "An administrator can complete and submit it here:\n\n%(link)s\n",
                name=tenant["name"], year=year, due=due, link=link,
            )
        else:
            days = 30 if kind == DUE_30 else 7
            subject = _("Annual report %(year)s: due in %(days)s days", year=year, days=days)
            body = _(
                "The annual report of %(name)s on the implementation of the Code of Conduct for %(year)s "
                "is due on %(due)s (in %(days)s days) and has not been submitted yet. "
                "An administrator can complete and submit it here:\n\n%(link)s\n",
                name=tenant["name"], year=year, due=due, days=days, link=link,
            )
    finally:
        i18n.current_language.reset(token)
    return subject, body


async def _remind(tenant: dict, year: int, kind: str, deadline: date, now: datetime) -> int:
    """Record the reminder and queue its mail in one transaction; 0 when it was already recorded."""
    async with tenant_transaction(tenant["id"]):
        admins = await _admins(tenant["id"])
        if not admins:
            return 0  # nobody to tell yet: tried again on the next check
        inserted = await execute(
            "INSERT INTO annual_report_reminder (tenant, year, kind, recipients, sent_at) VALUES ({}, {}, {}, {}, {})"
            " ON CONFLICT (tenant, year, kind) DO NOTHING RETURNING id",
            tenant["id"], year, kind, len(admins), now,
        )
        if not inserted:
            return 0
        for admin in admins:
            subject, body = _message(kind, tenant, year, deadline, admin["language"])
            await enqueue_mail(to_address=admin["email"], subject=subject, body_text=body, tenant_id=tenant["id"])
        return len(admins)


async def check_annual_report_reminders(today: date | None = None, now: datetime | None = None) -> int:
    """The periodic job: queue today's reminders for the current reporting year; returns mails queued.

    ``today`` is the date in Albania; it defaults to the date of ``now`` (itself defaulting to the clock).
    """
    now = now or datetime.now(UTC)
    today = today or now.astimezone(i18n.TIMEZONE).date()
    year = reporting_year(today)
    deadline = await deadline_of(year)
    kind = reminder_kind(today, deadline)
    if kind is None:
        return 0
    async with system_transaction():
        tenants = await _pending_tenants(year)
    queued = 0
    for tenant in tenants:
        queued += await _remind(tenant, year, kind, deadline, now)
    return queued
