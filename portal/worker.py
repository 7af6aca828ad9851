"""Background work: the outbox delivery loop, run by `portal worker` or inside the web process."""

from __future__ import annotations

import asyncio
import logging

from portal.core.mail import mail_sender
from portal.core.settings import Settings
from portal.outbox.services import deliver_due

log = logging.getLogger(__name__)


async def run_outbox_loop(settings: Settings, idle_seconds: float = 2.0) -> None:
    sender = mail_sender(settings)
    while True:
        try:
            handled = await deliver_due(sender)
        except Exception:  # keep the loop alive; the failure is logged and retried
            log.exception("outbox delivery failed")
            handled = 0
        if not handled:
            await asyncio.sleep(idle_seconds)
