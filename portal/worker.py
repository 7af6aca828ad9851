"""Background work, run by `portal worker` or inside the web process (embedded mode).

One loop does six things:
- every ``DEADLINE_CHECK_SECONDS`` (about a minute), the takedown deadline check: reminders for
  approaching deadlines and the escalation of overdue requests, queued as mail and webhook events
  (``portal.takedown.notifications.check_deadlines``);
- at the same pace, the annual report reminders (``portal.annual_reports.reminders``);
- at the same pace, the refresh of the per-ISP yearly takedown figures that changed
  (``portal.annual_reports.figures_cache``), so the regulators' dashboard rarely recomputes any;
- delivery of due mail from the outbox;
- delivery of due webhook events (``portal.takedown.webhooks``);
- on every turn, the next queued annual report export (``portal.annual_reports.export_jobs``), so a
  requested export starts within the idle pause (about two seconds).

Any number of workers may run side by side on PostgreSQL: each piece claims its rows with
``FOR UPDATE SKIP LOCKED`` and records what it sent in the same transaction, so nothing is
notified or delivered twice by two workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import datetime

from portal.annual_reports.export_jobs import run_export_jobs
from portal.annual_reports.figures_cache import refresh_recent
from portal.annual_reports.reminders import check_annual_report_reminders
from portal.core.mail import MailSender, mail_sender
from portal.core.settings import Settings
from portal.outbox.services import deliver_due
from portal.takedown import webhooks
from portal.takedown.notifications import check_deadlines

log = logging.getLogger(__name__)

DEADLINE_CHECK_SECONDS = 60.0


async def run_deadline_check(now: datetime | None = None) -> tuple[int, int]:
    """The takedown deadline check, never raising: a failure is logged and tried again next time."""
    try:
        reminded, escalated = await check_deadlines(now)
    except Exception:
        log.exception("takedown deadline check failed")
        return 0, 0
    if reminded or escalated:
        log.info("deadline check: %s reminders, %s overdue escalations queued", reminded, escalated)
    return reminded, escalated


async def run_annual_report_reminders(now: datetime | None = None) -> int:
    """The annual report reminders, never raising: a failure is logged and tried again next time."""
    try:
        queued = await check_annual_report_reminders(now=now)
    except Exception:
        log.exception("annual report reminder check failed")
        return 0
    if queued:
        log.info("annual report reminders: %s mails queued", queued)
    return queued


async def run_figures_refresh(now: datetime | None = None) -> int:
    """Recompute the stale takedown figures of this year and the last, never raising."""
    try:
        return await refresh_recent(now)
    except Exception:
        log.exception("takedown figures refresh failed")
        return 0


async def deliver_once(sender: MailSender) -> int:
    """Deliver one batch of mail and one of webhook events; returns how many were attempted."""
    handled = 0
    try:
        handled += await deliver_due(sender)
    except Exception:  # keep the loop alive; the failure is logged and retried
        log.exception("outbox delivery failed")
    try:
        handled += await webhooks.deliver_due()
    except Exception:
        log.exception("webhook delivery failed")
    return handled


async def run_exports() -> int:
    """Build the next queued annual report export, never raising (a failed job is marked failed)."""
    try:
        return await run_export_jobs()
    except Exception:
        log.exception("annual report export run failed")
        return 0


async def run_iteration(sender: MailSender, *, check: bool = True, now: datetime | None = None) -> int:
    """One turn of the loop: the deadline check (when ``check``), then delivery. Returns deliveries attempted."""
    if check:
        await run_deadline_check(now)
        await run_annual_report_reminders(now)
        await run_figures_refresh(now)
    return await deliver_once(sender) + await run_exports()


async def run_outbox_loop(
    settings: Settings, idle_seconds: float = 2.0, stop: asyncio.Event | None = None,
    deadline_check_seconds: float = DEADLINE_CHECK_SECONDS,
) -> None:
    """Run the background work until ``stop`` is set (or the task is cancelled).

    A stop request is honoured between batches, so a message being sent is finished and recorded
    rather than cut off and sent again later.
    """
    sender = mail_sender(settings)
    stop = stop or asyncio.Event()
    next_check = time.monotonic()
    while not stop.is_set():
        check = time.monotonic() >= next_check
        if check:
            next_check = time.monotonic() + deadline_check_seconds
        handled = await run_iteration(sender, check=check)
        if not handled:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=idle_seconds)
