"""Deadline reminders and overdue escalation, queued in the outbox by a periodic check.

For each addressed ISP that has not acted: when the last fifth of its time to act begins (at
least the last hour), its contact point gets a reminder; when the deadline passes, the ISP's
contact point and the issuer's get an escalation, and the request's timeline and the audit log
say so. The overdue mail to the ISP also goes to its admins. An ISP with a webhook gets the
same two events there (``portal/takedown/webhooks.py``), queued in the same transaction.

Each message is sent once per copy: the ``reminder_sent_at`` / ``overdue_notified_at`` marker is
set in the transaction that queues the mail, and a copy is claimed with ``FOR UPDATE SKIP
LOCKED`` (a second worker skips a locked copy, and one arriving after the commit finds the marker
set), so several workers can run the check side by side. ``check_deadlines`` works through the
whole backlog in batches of ``BATCH``, each its own short transaction. The worker loop
(``portal/worker.py``) calls it about once a minute.
Mail never contains the addresses to block: only the reference and a link into the portal.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from portal.audit import services as audit
from portal.core.actor import Actor
from portal.core.db import execute, is_postgres, system_transaction
from portal.core.settings import get_settings
from portal.outbox.services import enqueue_mail
from portal.takedown import webhooks
from portal.takedown.config import get_takedown_settings
from portal.takedown.tables import Assignment, RequestEvent

BATCH = 100
WATCHER = Actor.system("deadline watcher")


def reminder_lead(priority: str) -> timedelta:
    hours = get_takedown_settings().deadline_hours.get(priority, 72)
    return max(timedelta(hours=1), timedelta(hours=hours) / 5)


def _address(tenant: dict) -> str:
    return tenant.get("contact_point_email") or tenant.get("contact_email") or ""


async def _claim(condition: str, *args: object) -> list[dict]:
    lock = " FOR UPDATE OF a SKIP LOCKED" if is_postgres() else ""
    rows = await execute(
        "SELECT a.id, a.request, a.recipient, a.issuer, a.due_at, r.reference, r.priority, r.kind,"
        " rt.slug AS recipient_slug, rt.name AS recipient_name, rt.contact_point_email AS recipient_point,"
        " rt.contact_email AS recipient_email, it.slug AS issuer_slug, it.name AS issuer_name,"
        " it.contact_point_email AS issuer_point, it.contact_email AS issuer_email"
        " FROM takedown_assignment a JOIN takedown_request r ON r.id = a.request"
        " JOIN tenant rt ON rt.id = a.recipient JOIN tenant it ON it.id = a.issuer"
        " WHERE a.status IN ('sent', 'acknowledged') AND " + condition + " ORDER BY a.due_at LIMIT {}" + lock,
        *args, BATCH,
    )
    return [dict(row) for row in rows]


def _due_text(row: dict) -> str:
    due = row["due_at"] if isinstance(row["due_at"], datetime) else datetime.fromisoformat(str(row["due_at"]))
    return f"{due.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


async def send_reminders(now: datetime | None = None) -> int:
    """Queue "deadline approaching" mail; returns how many copies were reminded."""
    now = now or datetime.now(UTC)
    base = get_settings().base_url
    sent = 0
    async with system_transaction():
        # Each priority has its own window, so copies not yet due for a reminder never fill a batch.
        priorities = list(get_takedown_settings().deadline_hours)
        windows = " OR ".join("(r.priority = {} AND a.due_at <= {})" for _ in priorities)
        window_args: list[object] = []
        for priority in priorities:
            window_args += [priority, now + reminder_lead(priority)]
        rows = await _claim(
            "a.reminder_sent_at IS NULL AND a.due_at > {} AND (" + windows + ")", now, *window_args
        )
        for row in rows:
            await Assignment.update({Assignment.reminder_sent_at: now}).where(Assignment.id == row["id"])
            to = row["recipient_point"] or row["recipient_email"]
            if to:
                link = f"{base}/t/{row['recipient_slug']}/takedown/inbox/{row['reference']}"
                await enqueue_mail(
                    to_address=to, tenant_id=row["recipient"],
                    subject=f"[{row['reference']}] Afati po mbaron / Deadline approaching",
                    body_text=(
                        f"Kërkesa {row['reference']} nga {row['issuer_name']} duhet zbatuar deri më {_due_text(row)}.\n"
                        f"Request {row['reference']} from {row['issuer_name']} is due by {_due_text(row)}.\n\n{link}\n"
                    ),
                )
            await _webhook(row, "request.deadline_approaching", now)
            sent += 1
    return sent


async def escalate_overdue(now: datetime | None = None) -> int:
    """Queue the overdue escalation to the ISP and the issuer, once per copy; returns how many."""
    now = now or datetime.now(UTC)
    base = get_settings().base_url
    escalated = 0
    async with system_transaction():
        rows = await _claim("a.overdue_notified_at IS NULL AND a.due_at < {}", now)
        for row in rows:
            await Assignment.update({Assignment.overdue_notified_at: now}).where(Assignment.id == row["id"])
            await RequestEvent.insert(RequestEvent(
                request=row["request"], tenant=row["issuer"], recipient=row["recipient"], assignment=row["id"],
                kind="overdue", note="", actor_user_id=None, actor_label=WATCHER.label, actor_tenant_id=None, at=now,
            ))
            await audit.record(
                "takedown.overdue", actor=WATCHER, tenant_id=row["issuer"], object_type="takedown_request",
                object_id=row["reference"], detail={"recipient": row["recipient_slug"], "due_at": _due_text(row)},
            )
            recipient_to = row["recipient_point"] or row["recipient_email"]
            for address in dict.fromkeys([recipient_to, *await _admin_addresses(row["recipient"])]):
                if not address:
                    continue
                await enqueue_mail(
                    to_address=address, tenant_id=row["recipient"],
                    subject=f"[{row['reference']}] Afati ka kaluar / Overdue",
                    body_text=(
                        f"Afati i kërkesës {row['reference']} ({_due_text(row)}) ka kaluar pa u zbatuar. "
                        f"{row['issuer_name']} është njoftuar.\n"
                        f"Request {row['reference']} passed its deadline ({_due_text(row)}) without action; "
                        f"{row['issuer_name']} has been told.\n\n"
                        f"{base}/t/{row['recipient_slug']}/takedown/inbox/{row['reference']}\n"
                    ),
                )
            issuer_to = row["issuer_point"] or row["issuer_email"]
            if issuer_to:
                await enqueue_mail(
                    to_address=issuer_to, tenant_id=row["issuer"],
                    subject=f"[{row['reference']}] {row['recipient_name']}: afati ka kaluar / overdue",
                    body_text=(
                        f"{row['recipient_name']} nuk e ka zbatuar kërkesën {row['reference']} brenda afatit "
                        f"({_due_text(row)}).\n"
                        f"{row['recipient_name']} has not acted on {row['reference']} by its deadline ({_due_text(row)}).\n\n"
                        f"{base}/t/{row['issuer_slug']}/takedown/requests/{row['reference']}\n"
                    ),
                )
            await _webhook(row, "request.overdue", now)
            escalated += 1
    return escalated


async def _admin_addresses(tenant_id: int) -> list[str]:
    """The active admins of an organisation, who hear about overdue requests as well as its contact point."""
    rows = await execute(
        'SELECT u.email FROM membership m JOIN portal_user u ON u.id = m."user"'
        " WHERE m.tenant = {} AND m.role = 'admin' AND m.active AND u.is_active ORDER BY u.email",
        tenant_id,
    )
    return [row["email"] for row in rows]


async def _webhook(row: dict, event: str, now: datetime) -> None:
    await webhooks.enqueue_request_event(
        {"id": row["recipient"], "slug": row["recipient_slug"]}, event, reference=row["reference"], kind=row["kind"],
        priority=row["priority"], due_at=row["due_at"], request_id=row["request"], now=now,
    )


async def check_deadlines(now: datetime | None = None) -> tuple[int, int]:
    """The periodic job: reminders, then escalations, through the whole backlog.

    Meant for the worker loop, every minute or so. Returns (copies reminded, copies escalated).
    """
    now = now or datetime.now(UTC)
    reminded = escalated = 0
    while True:
        done = await send_reminders(now)
        reminded += done
        if done < BATCH:
            break
    while True:
        done = await escalate_overdue(now)
        escalated += done
        if done < BATCH:
            break
    return reminded, escalated
