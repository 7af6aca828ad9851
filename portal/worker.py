"""Background work: the outbox delivery loop, run by `portal worker` or inside the web process."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from portal.core.mail import mail_sender
from portal.core.settings import Settings
from portal.outbox.services import deliver_due

log = logging.getLogger(__name__)


async def run_outbox_loop(settings: Settings, idle_seconds: float = 2.0, stop: asyncio.Event | None = None) -> None:
    """Deliver due mail until ``stop`` is set (or the task is cancelled).

    A stop request is honoured between batches, so a message being sent is finished and recorded
    rather than cut off and sent again later.
    """
    sender = mail_sender(settings)
    stop = stop or asyncio.Event()
    while not stop.is_set():
        try:
            handled = await deliver_due(sender)
        except Exception:  # keep the loop alive; the failure is logged and retried
            log.exception("outbox delivery failed")
            handled = 0
        if not handled:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=idle_seconds)
