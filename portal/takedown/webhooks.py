"""An ISP's optional signed webhook: events queued with the change, delivered by the worker.

Events (``request.created``, ``request.deadline_approaching``, ``request.overdue``) are written to
``takedown_webhook_delivery`` in the transaction of the change that causes them, like the mail
outbox: a rolled-back change sends nothing. The worker claims due deliveries in one short
transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, moving ``next_attempt_at`` past a lease),
POSTs them with no transaction open, and records each outcome in its own short transaction. A
failure is retried with exponential back-off and marked ``failed`` after ``MAX_ATTEMPTS``.

Each POST carries ``X-Portal-Timestamp`` (Unix seconds) and
``X-Portal-Signature: sha256=<hex>``, the HMAC-SHA256 with the webhook's secret of
``<timestamp>.<exact body bytes>``: a receiver recomputes it, compares in constant time and
refuses old timestamps, so a captured delivery cannot be replayed later. ``X-Portal-Delivery`` is
the event id (delivery is at least once: receivers de-duplicate on it).

The body names the request (reference, kind, priority, due time) and its URLs, and only ever
goes to an ISP the request is addressed to. It never contains the reporter, contact details or
the issuer's people.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx

from portal.audit import services as audit
from portal.core.actor import Actor
from portal.core.db import execute, is_postgres, system_transaction, tenant_transaction
from portal.core.errors import ValidationFailed
from portal.core.i18n import _, lazy
from portal.core.settings import get_settings
from portal.takedown.contact import decrypt_contact, encrypt_contact
from portal.takedown.tables import Webhook, WebhookDelivery, WebhookTarget

log = logging.getLogger(__name__)

NAV_WEBHOOK = lazy("Webhook")
EVENTS = ("request.created", "request.deadline_approaching", "request.overdue")
MAX_ATTEMPTS = 8
BATCH_SIZE = 20
TIMEOUT_SECONDS = 10.0
MAX_URL_LENGTH = 2000
SECRET_PREFIX = "whsec_"
SIGNATURE_HEADER = "X-Portal-Signature"
TIMESTAMP_HEADER = "X-Portal-Timestamp"


# ---------------------------------------------------------------------------------------------
# Signing (also what a receiver does to check a delivery)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(secret, ``<timestamp>.<body>``)."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, header: str, *, tolerance_seconds: int = 300,
           now: float | None = None) -> bool:
    """True when ``header`` signs this body and timestamp, and the timestamp is recent."""
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except ValueError:
        return False
    return age <= tolerance_seconds and hmac.compare_digest(signature(secret, timestamp, body), header or "")


def retry_delay(attempts: int) -> timedelta:
    """Back off 1, 2, 4 ... minutes after each failure, capped at an hour."""
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def claim_lease(batch_size: int) -> timedelta:
    """Long enough for every delivery of a batch to time out once, so a live worker keeps its claim."""
    return timedelta(seconds=batch_size * TIMEOUT_SECONDS + 60)


# ---------------------------------------------------------------------------------------------
# Configuration by the ISP's admin


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a webhook address (translated), or None."""
    if not url:
        return _("Enter the address that should receive the events.")
    if len(url) > MAX_URL_LENGTH:
        return _("Keep the address under %(max)s characters.", max=MAX_URL_LENGTH)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError:
        return _("This is not a valid web address.")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return _("The address must start with https:// (or http://) and name a host.")
    if parts.username or parts.password:
        return _("Do not put a user name or password in the address; the signature authenticates the portal.")
    if parts.fragment:
        return _("Remove the part after # from the address.")
    if parts.scheme == "http" and get_settings().is_production and not _is_loopback(parts.hostname):
        return _("Use https://: plain http is only accepted for this machine's own address.")
    return None


def _new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


async def get_webhook(tenant_id: int) -> dict | None:
    async with tenant_transaction(tenant_id):
        rows = await execute(
            "SELECT id, url, secret_hint, created_at, updated_at, updated_by_label FROM takedown_webhook"
            " WHERE tenant = {}", tenant_id,
        )
    return rows[0] if rows else None


async def save_webhook(tenant: dict, url: str, actor: Actor) -> str | None:
    """Set the webhook address; returns the new secret when the webhook is created, else None."""
    url = (url or "").strip()
    problem = url_problem(url)
    if problem:
        raise ValidationFailed({"url": problem})
    now = datetime.now(UTC)
    async with tenant_transaction(tenant["id"]):
        existing = await execute(
            "SELECT id FROM takedown_webhook WHERE tenant = {} FOR UPDATE" if is_postgres()
            else "SELECT id FROM takedown_webhook WHERE tenant = {}",
            tenant["id"],
        )
        secret = None
        if existing:
            await Webhook.update({
                Webhook.url: url, Webhook.updated_at: now, Webhook.updated_by_label: actor.label,
            }).where(Webhook.tenant == tenant["id"])
        else:
            secret = _new_secret()
            await Webhook.insert(Webhook(
                tenant=tenant["id"], url=url, secret_encrypted=encrypt_contact(secret),
                secret_hint=secret[: len(SECRET_PREFIX) + 4], created_at=now, updated_at=now,
                updated_by_label=actor.label,
            ))
            await WebhookTarget.insert(WebhookTarget(tenant=tenant["id"]))
        await audit.record(
            "takedown.webhook_saved", actor=actor, tenant_id=tenant["id"], object_type="takedown_webhook",
            object_id=str(tenant["id"]), detail={"url": url, "created": secret is not None},
        )
    return secret


async def rotate_secret(tenant: dict, actor: Actor) -> str:
    """Replace the signing secret; deliveries from now on are signed with the new one."""
    secret = _new_secret()
    async with tenant_transaction(tenant["id"]):
        rows = await execute("SELECT id FROM takedown_webhook WHERE tenant = {}", tenant["id"])
        if not rows:
            raise ValidationFailed({"url": _("Set up the webhook first.")})
        await Webhook.update({
            Webhook.secret_encrypted: encrypt_contact(secret), Webhook.secret_hint: secret[: len(SECRET_PREFIX) + 4],
            Webhook.updated_at: datetime.now(UTC), Webhook.updated_by_label: actor.label,
        }).where(Webhook.tenant == tenant["id"])
        await audit.record(
            "takedown.webhook_secret_rotated", actor=actor, tenant_id=tenant["id"], object_type="takedown_webhook",
            object_id=str(tenant["id"]), detail={},
        )
    return secret


async def remove_webhook(tenant: dict, actor: Actor) -> bool:
    """Remove the webhook; events still waiting are given up. Returns False if there was none."""
    async with tenant_transaction(tenant["id"]):
        rows = await execute("SELECT url FROM takedown_webhook WHERE tenant = {}", tenant["id"])
        if not rows:
            return False
        await Webhook.delete().where(Webhook.tenant == tenant["id"])
        await WebhookTarget.delete().where(WebhookTarget.tenant == tenant["id"])
        await WebhookDelivery.update({
            WebhookDelivery.status: "failed", WebhookDelivery.last_error: "webhook removed",
        }).where(WebhookDelivery.tenant == tenant["id"]).where(WebhookDelivery.status == "pending")
        await audit.record(
            "takedown.webhook_removed", actor=actor, tenant_id=tenant["id"], object_type="takedown_webhook",
            object_id=str(tenant["id"]), detail={"url": rows[0]["url"]},
        )
    return True


async def recent_deliveries(tenant_id: int, limit: int = 25) -> list[dict]:
    async with tenant_transaction(tenant_id):
        return await execute(
            "SELECT event_id, event, reference, status, attempts, next_attempt_at, last_error, response_status,"
            " created_at, delivered_at FROM takedown_webhook_delivery WHERE tenant = {} ORDER BY id DESC LIMIT {}",
            tenant_id, limit,
        )


# ---------------------------------------------------------------------------------------------
# Queueing events (inside the caller's transaction)


def _iso(value: datetime | str) -> str:
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def has_webhook(tenant_id: int) -> bool:
    return bool(await execute("SELECT 1 AS one FROM takedown_webhook_target WHERE tenant = {}", tenant_id))


async def enqueue_request_event(
    recipient: dict, event: str, *, reference: str, kind: str, priority: str, due_at: datetime | str,
    urls: list[str] | None = None, request_id: int | None = None, now: datetime | None = None,
) -> bool:
    """Queue ``event`` about a request for ``recipient`` (an addressed ISP) if it has a webhook.

    Runs inside the caller's transaction. ``urls`` may be omitted when ``request_id`` is given
    and the caller's scope can read the request (the deadline watcher's system scope).
    """
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    if not await has_webhook(recipient["id"]):
        return False
    if urls is None:
        rows = await execute("SELECT url FROM takedown_request_url WHERE request = {} ORDER BY id", request_id)
        urls = [row["url"] for row in rows]
    now = now or datetime.now(UTC)
    event_id = str(uuid.uuid4())
    body = json.dumps({
        "id": event_id,
        "event": event,
        "occurred_at": _iso(now),
        "organisation": recipient["slug"],
        "request": {
            "reference": reference,
            "kind": kind,
            "priority": priority,
            "due_at": _iso(due_at),
            "urls": list(urls),
            "link": f"{get_settings().base_url}/t/{recipient['slug']}/takedown/inbox/{reference}",
        },
    }, ensure_ascii=False, separators=(",", ":"))
    # No RETURNING: an issuer's scope may insert the ISP's delivery but not read it back.
    await execute(
        "INSERT INTO takedown_webhook_delivery (tenant, event_id, event, reference, body, status, attempts,"
        " next_attempt_at, last_error, response_status, created_at, delivered_at)"
        " VALUES ({}, {}, {}, {}, {}, 'pending', 0, {}, '', NULL, {}, NULL)",
        recipient["id"], event_id, event, reference, body, now, now,
    )
    return True


# ---------------------------------------------------------------------------------------------
# Delivery (the worker)


async def _claim_due(batch_size: int, now: datetime) -> list[dict]:
    lock = " FOR UPDATE OF d SKIP LOCKED" if is_postgres() else ""
    async with system_transaction():
        rows = await execute(
            "SELECT d.id, d.event_id, d.event, d.body, d.attempts, w.url, w.secret_encrypted"
            " FROM takedown_webhook_delivery d LEFT JOIN takedown_webhook w ON w.tenant = d.tenant"
            " WHERE d.status = 'pending' AND d.next_attempt_at <= {} ORDER BY d.next_attempt_at, d.id LIMIT {}"
            + lock,
            now, batch_size,
        )
        if rows:
            await WebhookDelivery.update({WebhookDelivery.next_attempt_at: now + claim_lease(batch_size)}).where(
                WebhookDelivery.id.is_in([row["id"] for row in rows])
            )
    return rows


async def _post(client: httpx.AsyncClient, row: dict) -> tuple[int | None, str]:
    """POST one delivery; returns (HTTP status or None, error text or "")."""
    if not row["url"]:
        return None, "webhook removed"
    problem = url_problem(row["url"])
    if problem:
        return None, f"address refused: {row['url']}"
    secret = decrypt_contact(row["secret_encrypted"])
    body = row["body"].encode("utf-8")
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "portal-webhooks/1",
        "X-Portal-Event": row["event"],
        "X-Portal-Delivery": row["event_id"],
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }
    try:
        response = await client.post(row["url"], content=body, headers=headers)
    except httpx.HTTPError as exc:
        return None, f"{exc.__class__.__name__}: {exc}"
    if 200 <= response.status_code < 300:
        return response.status_code, ""
    return response.status_code, f"HTTP {response.status_code}"


async def deliver_due(now: datetime | None = None, *, batch_size: int = BATCH_SIZE,
                      max_attempts: int = MAX_ATTEMPTS) -> int:
    """POST up to ``batch_size`` due deliveries; returns how many were attempted."""
    now = now or datetime.now(UTC)
    rows = await _claim_due(batch_size, now)
    if not rows:
        return 0
    async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False, trust_env=False) as client:
        for row in rows:
            attempts = row["attempts"] + 1
            try:
                status, error = await _post(client, row)
            except Exception as exc:  # an unreadable secret or any other fault: recorded, retried
                log.exception("webhook delivery %s could not be attempted", row["event_id"])
                status, error = None, f"{exc.__class__.__name__}: {exc}"
            if not error:
                changes = {
                    WebhookDelivery.status: "sent", WebhookDelivery.attempts: attempts,
                    WebhookDelivery.response_status: status, WebhookDelivery.last_error: "",
                    WebhookDelivery.delivered_at: datetime.now(UTC),
                }
            else:
                final = attempts >= max_attempts or error == "webhook removed"
                log.warning("webhook delivery %s failed (attempt %s): %s", row["event_id"], attempts, error)
                changes = {
                    WebhookDelivery.status: "failed" if final else "pending", WebhookDelivery.attempts: attempts,
                    WebhookDelivery.response_status: status, WebhookDelivery.last_error: error[:2000],
                    WebhookDelivery.next_attempt_at: now + retry_delay(attempts),
                }
            async with system_transaction():
                await WebhookDelivery.update(changes).where(WebhookDelivery.id == row["id"])
    return len(rows)
