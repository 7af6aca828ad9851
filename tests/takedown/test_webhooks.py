"""Signed webhooks for ISPs: queued with the change, signed, retried with back-off, given up, isolated."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import socket
import time
from datetime import UTC, datetime, timedelta

import pytest

from portal import worker
from portal.core.actor import Actor
from portal.core.db import execute, is_postgres, system_transaction, tenant_transaction
from portal.core.errors import ValidationFailed
from portal.core.settings import get_settings
from portal.takedown import notifications, webhooks
from portal.takedown import requests as rq
from tests.takedown.conftest import ANALYST, audit_actions
from tests.takedown.test_deadlines_worker import RecordingSender

ADMIN = Actor(user_id=None, label="admin@isp-1.test", ip="127.0.0.1")


class HookServer:
    """A minimal HTTP/1.1 server on a free loopback port, answering each POST with the next status."""

    def __init__(self, statuses: list[int] | None = None, default: int = 200) -> None:
        self.statuses = list(statuses or [])
        self.default = default
        self.received: list[dict] = []
        self.server: asyncio.base_events.Server | None = None

    @property
    def url(self) -> str:
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/hooks/portal"

    async def start(self) -> HookServer:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def close(self) -> None:
        self.server.close()
        await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _version = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.received.append({"method": method, "path": path, "headers": headers, "body": body})
            status = self.statuses.pop(0) if self.statuses else self.default
            writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".encode())
            await writer.drain()
        finally:
            writer.close()


@pytest.fixture
async def hook_server():
    servers: list[HookServer] = []

    async def make(statuses: list[int] | None = None, default: int = 200) -> HookServer:
        server = await HookServer(statuses, default).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        await server.close()


async def _issue(hotline, recipients, url="http://abuse.test/faqe", kind="block") -> dict:
    return await rq.issue_request(hotline, rq.RequestInput(
        kind=kind, recipients=list(recipients), legal_basis="Ligji 9918", item_ids=[], urls=[url], category="csam",
    ), ANALYST)


async def _deliveries() -> list[dict]:
    async with system_transaction():
        return await execute(
            "SELECT tenant, event, reference, status, attempts, next_attempt_at, last_error, response_status, body"
            " FROM takedown_webhook_delivery ORDER BY id"
        )


def _aware(value) -> datetime:
    value = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def test_a_new_request_is_posted_signed_with_the_secret(hotline, isps, hook_server):
    server = await hook_server()
    secret = await webhooks.save_webhook(isps[0], server.url, ADMIN)
    assert secret and secret.startswith("whsec_")
    issued = await _issue(hotline, ["isp-1", "isp-2"])  # ISP 2 has no webhook
    rows = await _deliveries()
    assert [(r["tenant"], r["event"], r["status"]) for r in rows] == [(isps[0]["id"], "request.created", "pending")]

    assert await webhooks.deliver_due() == 1
    [hit] = server.received
    assert hit["method"] == "POST" and hit["path"] == "/hooks/portal"
    timestamp = hit["headers"]["x-portal-timestamp"]
    header = hit["headers"]["x-portal-signature"]
    assert abs(time.time() - int(timestamp)) < 600
    assert webhooks.verify(secret, timestamp, hit["body"], header)
    assert not webhooks.verify(secret + "x", timestamp, hit["body"], header)  # another secret
    assert not webhooks.verify(secret, timestamp, hit["body"] + b" ", header)  # another body
    assert not webhooks.verify(secret, str(int(timestamp) + 1), hit["body"], header)  # another timestamp
    assert not webhooks.verify(secret, timestamp, hit["body"], header, now=int(timestamp) + 3600)  # a replay
    assert hit["headers"]["x-portal-event"] == "request.created"

    body = json.loads(hit["body"])
    assert hit["headers"]["x-portal-delivery"] == body["id"]
    assert body["event"] == "request.created" and body["organisation"] == "isp-1"
    request = body["request"]
    assert request["reference"] == issued["reference"] and request["kind"] == "block"
    assert request["priority"] == "critical"
    assert request["due_at"].endswith("Z")
    assert datetime.fromisoformat(request["due_at"]) == _aware(issued["due_at"])
    assert request["urls"] == ["http://abuse.test/faqe"]
    assert set(body) == {"id", "event", "occurred_at", "organisation", "request"}
    assert set(request) == {"reference", "kind", "priority", "due_at", "urls", "link"}
    assert "Ligji 9918" not in hit["body"].decode()  # nor the issuer's legal text, reporter or analysts
    assert "analyst@test" not in hit["body"].decode()

    [row] = await _deliveries()
    assert row["status"] == "sent" and row["attempts"] == 1 and row["response_status"] == 200
    assert await webhooks.deliver_due() == 0  # never sent twice


async def test_a_500_is_retried_with_back_off(hotline, isps, hook_server):
    server = await hook_server([500, 200])
    secret = await webhooks.save_webhook(isps[0], server.url, ADMIN)
    await _issue(hotline, ["isp-1"])
    now = datetime.now(UTC)
    assert await webhooks.deliver_due(now) == 1
    [row] = await _deliveries()
    assert (row["status"], row["attempts"], row["response_status"]) == ("pending", 1, 500)
    assert row["last_error"] == "HTTP 500"
    assert _aware(row["next_attempt_at"]) == now + timedelta(minutes=1)
    assert await webhooks.deliver_due(now + timedelta(seconds=30)) == 0  # not yet due
    assert await webhooks.deliver_due(now + timedelta(minutes=1, seconds=1)) == 1
    [row] = await _deliveries()
    assert (row["status"], row["attempts"], row["response_status"]) == ("sent", 2, 200)
    first, second = server.received
    assert first["body"] == second["body"]
    assert first["headers"]["x-portal-delivery"] == second["headers"]["x-portal-delivery"]
    assert webhooks.verify(secret, second["headers"]["x-portal-timestamp"], second["body"],
                           second["headers"]["x-portal-signature"])


async def test_delivery_is_given_up_after_the_last_attempt(hotline, isps, hook_server):
    server = await hook_server(default=500)
    await webhooks.save_webhook(isps[0], server.url, ADMIN)
    await _issue(hotline, ["isp-1"])
    when = datetime.now(UTC)
    delays = []
    for _ in range(3):
        assert await webhooks.deliver_due(when, max_attempts=3) == 1
        [row] = await _deliveries()
        delays.append(_aware(row["next_attempt_at"]) - when)
        when = _aware(row["next_attempt_at"]) + timedelta(seconds=1)
    assert delays[:2] == [timedelta(minutes=1), timedelta(minutes=2)]  # exponential back-off
    [row] = await _deliveries()
    assert (row["status"], row["attempts"]) == ("failed", 3)
    assert await webhooks.deliver_due(when + timedelta(days=1), max_attempts=3) == 0
    assert len(server.received) == 3


async def test_an_unreachable_address_is_retried(hotline, isps):
    with socket.socket() as probe:  # a free loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    await webhooks.save_webhook(isps[0], f"http://127.0.0.1:{port}/hooks", ADMIN)
    await _issue(hotline, ["isp-1"])
    assert await webhooks.deliver_due() == 1
    [row] = await _deliveries()
    assert row["status"] == "pending" and row["attempts"] == 1 and row["response_status"] is None
    assert row["last_error"]


async def test_nothing_is_queued_or_sent_when_the_change_rolls_back(hotline, isps, hook_server):
    server = await hook_server()
    await webhooks.save_webhook(isps[0], server.url, ADMIN)
    with pytest.raises(RuntimeError):
        async with tenant_transaction(hotline["id"]):
            assert await webhooks.enqueue_request_event(
                isps[0], "request.created", reference="TD-2026-999999", kind="block", priority="critical",
                due_at=datetime.now(UTC), urls=["http://abuse.test/x"],
            )
            raise RuntimeError("the change failed after queueing its event")
    with pytest.raises(ValidationFailed):  # an invalid request queues nothing either
        await rq.issue_request(hotline, rq.RequestInput(
            kind="block", recipients=["isp-1"], legal_basis="", item_ids=[], urls=["http://abuse.test/x"],
            category="csam",
        ), ANALYST)
    assert await _deliveries() == []
    assert await webhooks.deliver_due() == 0
    assert server.received == []


async def test_deadline_events_go_to_the_isp_webhook(hotline, isps, hook_server):
    server = await hook_server()
    secret = await webhooks.save_webhook(isps[0], server.url, ADMIN)
    issued = await _issue(hotline, ["isp-1", "isp-2"], kind="block")
    await worker.deliver_once(RecordingSender())  # the worker loop delivers webhook events too
    assert len(server.received) == 1
    now = datetime.now(UTC)
    assert await notifications.check_deadlines(now + timedelta(hours=20)) == (2, 0)
    assert await notifications.check_deadlines(now + timedelta(hours=25)) == (0, 2)
    assert await notifications.check_deadlines(now + timedelta(hours=26)) == (0, 0)
    events = [(r["tenant"], r["event"]) for r in await _deliveries()]
    assert events == [
        (isps[0]["id"], "request.created"),
        (isps[0]["id"], "request.deadline_approaching"),
        (isps[0]["id"], "request.overdue"),
    ]
    assert await webhooks.deliver_due(now + timedelta(hours=26)) == 2
    bodies = [json.loads(hit["body"]) for hit in server.received]
    assert [b["event"] for b in bodies] == ["request.created", "request.deadline_approaching", "request.overdue"]
    assert {b["request"]["reference"] for b in bodies} == {issued["reference"]}
    assert all(b["request"]["urls"] == ["http://abuse.test/faqe"] for b in bodies)
    assert all(webhooks.verify(secret, h["headers"]["x-portal-timestamp"], h["body"], h["headers"]["x-portal-signature"])
               for h in server.received)


async def test_a_new_secret_signs_from_then_on_and_removal_stops_events(hotline, isps, hook_server):
    server = await hook_server()
    old = await webhooks.save_webhook(isps[0], server.url, ADMIN)
    assert await webhooks.save_webhook(isps[0], server.url + "?v=2", ADMIN) is None  # a new address keeps the secret
    new = await webhooks.rotate_secret(isps[0], ADMIN)
    assert new != old
    await _issue(hotline, ["isp-1"])
    await webhooks.deliver_due()
    [hit] = server.received
    assert hit["path"] == "/hooks/portal?v=2"
    args = (hit["headers"]["x-portal-timestamp"], hit["body"], hit["headers"]["x-portal-signature"])
    assert webhooks.verify(new, *args) and not webhooks.verify(old, *args)

    await _issue(hotline, ["isp-1"], url="http://abuse.test/tjeter")
    assert await webhooks.remove_webhook(isps[0], ADMIN)
    assert [r["status"] for r in await _deliveries()] == ["sent", "failed"]  # the waiting one is given up
    await _issue(hotline, ["isp-1"], url="http://abuse.test/e-treta")
    assert len(await _deliveries()) == 2
    assert await webhooks.deliver_due() == 0
    assert len(server.received) == 1
    actions = await audit_actions()
    for action in ("takedown.webhook_saved", "takedown.webhook_secret_rotated", "takedown.webhook_removed"):
        assert action in actions


@pytest.mark.parametrize("url", [
    "", "ftp://files.example.al/x", "javascript:alert(1)", "https://", "mailto:noc@isp.al",
    "https://user:pass@hooks.example.al/x", "https://hooks.example.al:99999/x", "https://hooks.example.al/x#frag",
    "https://hooks.example.al/" + "a" * 2100,
])
async def test_bad_addresses_are_refused(isps, url):
    with pytest.raises(ValidationFailed) as caught:
        await webhooks.save_webhook(isps[0], url, ADMIN)
    assert "url" in caught.value.errors
    assert await webhooks.get_webhook(isps[0]["id"]) is None


def test_production_refuses_plain_http_except_to_this_machine(monkeypatch):
    production = dataclasses.replace(get_settings(), env="production")
    monkeypatch.setattr(webhooks, "get_settings", lambda: production)
    assert webhooks.url_problem("http://hooks.example.al/x")
    assert webhooks.url_problem("http://10.0.0.5/x")
    assert webhooks.url_problem("https://hooks.example.al/x") is None
    assert webhooks.url_problem("http://127.0.0.1:8080/x") is None
    assert webhooks.url_problem("http://[::1]:8080/x") is None
    assert webhooks.url_problem("http://localhost/x") is None
    monkeypatch.setattr(webhooks, "get_settings", lambda: dataclasses.replace(production, env="embedded"))
    assert webhooks.url_problem("http://hooks.example.al/x") is None


async def test_a_plain_http_address_saved_before_production_is_not_posted(hotline, isps, hook_server, monkeypatch):
    await webhooks.save_webhook(isps[0], "http://hooks.example.al/x", ADMIN)
    await _issue(hotline, ["isp-1"])
    production = dataclasses.replace(get_settings(), env="production")
    monkeypatch.setattr(webhooks, "get_settings", lambda: production)
    assert await webhooks.deliver_due() == 1
    [row] = await _deliveries()
    assert row["status"] == "pending" and row["last_error"].startswith("address refused")


async def test_an_isp_sees_only_its_own_deliveries(hotline, isps, hook_server):
    server = await hook_server()
    await webhooks.save_webhook(isps[0], server.url, ADMIN)
    await webhooks.save_webhook(isps[1], server.url, ADMIN)
    first = await _issue(hotline, ["isp-1"])
    second = await _issue(hotline, ["isp-2"], url="http://abuse.test/vetem-per-isp-2")
    assert [d["reference"] for d in await webhooks.recent_deliveries(isps[0]["id"])] == [first["reference"]]
    assert [d["reference"] for d in await webhooks.recent_deliveries(isps[1]["id"])] == [second["reference"]]
    assert await webhooks.recent_deliveries(isps[2]["id"]) == []
    async with tenant_transaction(isps[0]["id"]):
        hooks = await execute("SELECT tenant FROM takedown_webhook")
    async with tenant_transaction(hotline["id"]):  # the issuer may queue deliveries, not read them
        issuer_view = await execute("SELECT id FROM takedown_webhook_delivery")
    async with tenant_transaction(isps[1]["id"]):  # the flag is readable by all, removable only by its owner
        flags = await execute("SELECT tenant FROM takedown_webhook_target ORDER BY tenant")
        await execute("DELETE FROM takedown_webhook_target WHERE tenant = {}", isps[0]["id"])
    assert [f["tenant"] for f in flags] == [isps[0]["id"], isps[1]["id"]]
    if is_postgres():
        assert [h["tenant"] for h in hooks] == [isps[0]["id"]]
        assert issuer_view == []
        assert await webhooks.has_webhook(isps[0]["id"])


# --- the page ---------------------------------------------------------------------------------


SECRET_IN_PAGE = re.compile(r'value="(whsec_[^"]+)"')


async def test_an_isp_admin_sets_up_the_webhook_and_sees_the_secret_once(factory, client_factory, isps, hook_server):
    server = await hook_server()
    admin = await factory.member(isps[0], "admin")
    browser = await client_factory(admin)
    page = await browser.get("/t/isp-1/takedown/webhook")
    assert page.status_code == 200 and "Webhook" in page.text
    assert 'href="/t/isp-1/takedown/webhook"' in page.text  # in the navigation

    refused = await browser.post("/t/isp-1/takedown/webhook", {"url": "ftp://x.example/y"})
    assert refused.status_code == 422 and "ftp://x.example/y" in refused.text
    assert await webhooks.get_webhook(isps[0]["id"]) is None

    created = await browser.post("/t/isp-1/takedown/webhook", {"url": server.url})
    assert created.status_code == 200
    assert created.headers["cache-control"] == "no-store"
    secret = SECRET_IN_PAGE.search(created.text).group(1)
    page = await browser.get("/t/isp-1/takedown/webhook")
    assert server.url in page.text and secret not in page.text and secret[:10] in page.text

    rotated = await browser.post("/t/isp-1/takedown/webhook/secret")
    new_secret = SECRET_IN_PAGE.search(rotated.text).group(1)
    assert new_secret != secret

    changed = await browser.post("/t/isp-1/takedown/webhook", {"url": server.url + "/v2"})
    assert changed.status_code == 303
    assert (await webhooks.get_webhook(isps[0]["id"]))["url"] == server.url + "/v2"

    removed = await browser.post("/t/isp-1/takedown/webhook/remove")
    assert removed.status_code == 303
    assert await webhooks.get_webhook(isps[0]["id"]) is None


@pytest.mark.parametrize("role", ["officer", "viewer"])
async def test_other_roles_of_the_isp_are_refused(factory, client_factory, isps, role):
    member = await factory.member(isps[0], role)
    browser = await client_factory(member)
    assert (await browser.get("/t/isp-1/takedown/webhook")).status_code == 403
    assert (await browser.post("/t/isp-1/takedown/webhook", {"url": "https://a.example/x"})).status_code == 403
    assert (await browser.post("/t/isp-1/takedown/webhook/secret")).status_code == 403
    assert (await browser.post("/t/isp-1/takedown/webhook/remove")).status_code == 403
    assert await webhooks.get_webhook(isps[0]["id"]) is None


async def test_the_admin_of_an_organisation_that_is_not_an_isp_is_refused(factory, client_factory, hotline):
    admin = await factory.member(hotline, "admin")
    browser = await client_factory(admin)
    assert (await browser.get("/t/hotline/takedown/webhook")).status_code == 403


async def test_another_organisations_admin_gets_nothing(factory, client_factory, isps, hook_server):
    server = await hook_server()
    await webhooks.save_webhook(isps[0], server.url, ADMIN)
    outsider = await factory.member(isps[1], "admin")
    browser = await client_factory(outsider)
    page = await browser.get("/t/isp-1/takedown/webhook")
    assert page.status_code == 404 and server.url not in page.text
    for path in ("/t/isp-1/takedown/webhook", "/t/isp-1/takedown/webhook/secret", "/t/isp-1/takedown/webhook/remove"):
        answer = await browser.post(path, {"url": "https://spy.example/x"})
        assert answer.status_code == 404 and "whsec_" not in answer.text
    assert (await webhooks.get_webhook(isps[0]["id"]))["url"] == server.url
    assert await webhooks.get_webhook(isps[1]["id"]) is None
