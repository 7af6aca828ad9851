"""Requests: issuing, references, deadlines, the per-ISP lifecycle, overdue, block-list effects."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from portal.core.actor import Actor
from portal.core.db import execute, system_transaction
from portal.core.errors import Conflict, NotFound, ValidationFailed
from portal.takedown import reports
from portal.takedown import requests as rq
from tests.takedown.conftest import ANALYST, audit_actions, count

ISP_ACTOR = Actor(user_id=None, label="noc@isp", ip="10.0.0.1")


async def _valid_item(tenant, url="http://bad.example.com/x", category="csam"):
    receipt = await reports.record_report(tenant["id"], reports.ReportInput(url, category), channel="analyst", actor=ANALYST)
    return receipt.item_id


async def _issue(hotline, recipients, kind="block", urls=("http://bad.example.com/x",), category="csam", **extra):
    return await rq.issue_request(
        hotline,
        rq.RequestInput(kind=kind, recipients=list(recipients), legal_basis="Ligji nr. 9918, neni 12",
                        item_ids=extra.pop("item_ids", []), urls=list(urls), category=category, **extra),
        ANALYST,
    )


async def _assignment(reference, recipient):
    async with system_transaction():
        rows = await execute(
            "SELECT a.* FROM takedown_assignment a JOIN takedown_request r ON r.id = a.request"
            " WHERE r.reference = {} AND a.recipient = {}", reference, recipient["id"],
        )
    return dict(rows[0])


async def _feed(recipient):
    async with system_transaction():
        rows = await execute(
            "SELECT DISTINCT value FROM takedown_feed_entry WHERE recipient = {} AND refcount > 0", recipient["id"]
        )
    return sorted(row["value"] for row in rows)


async def test_issue_a_block_request_to_every_isp(hotline, isps):
    issued = await _issue(hotline, ["all-isps"])
    year = datetime.now(UTC).year
    assert issued["reference"] == f"TD-{year}-000001"
    assert issued["priority"] == "critical"
    assert timedelta(hours=23, minutes=59) < issued["due_at"] - datetime.now(UTC) <= timedelta(hours=24)
    assert sorted(issued["recipients"]) == ["isp-1", "isp-2", "isp-3"]
    assert await count("takedown_assignment") == 3
    for isp in isps:
        assert (await _assignment(issued["reference"], isp))["status"] == "sent"
        assert await _feed(isp) == ["http://bad.example.com/x"]
    assert "takedown.request_issued" in await audit_actions()
    async with system_transaction():
        mails = await execute("SELECT to_address, subject, body_text FROM outbox_message ORDER BY id")
    assert [m["to_address"] for m in mails] == ["noc@isp-1.test", "noc@isp-2.test", "noc@isp-3.test"]
    assert issued["reference"] in mails[0]["subject"]
    assert "bad.example" not in mails[0]["body_text"]  # addresses never travel by mail


@pytest.mark.parametrize(("category", "hours"), [("csam", 24), ("grooming", 48), ("other_illegal", 48), ("cyberbullying", 72), ("inappropriate", 72)])
async def test_default_deadline_follows_the_category(hotline, isps, category, hours):
    issued = await _issue(hotline, ["isp-1"], category=category)
    remaining = issued["due_at"] - datetime.now(UTC)
    assert timedelta(hours=hours - 1) < remaining <= timedelta(hours=hours)


async def test_priority_can_be_chosen_and_deadlines_configured(hotline, isps, monkeypatch):
    from portal.takedown import config

    monkeypatch.setattr(rq, "get_takedown_settings", lambda: config.TakedownSettings(
        deadline_hours={"critical": 6, "high": 12, "normal": 100}))
    issued = await _issue(hotline, ["isp-1"], category="cyberbullying", priority="high")
    assert issued["priority"] == "high"
    assert timedelta(hours=11) < issued["due_at"] - datetime.now(UTC) <= timedelta(hours=12)


async def test_references_are_gapless_and_unique_under_concurrency(hotline, isps):
    results = await asyncio.gather(*[
        _issue(hotline, ["isp-1"], urls=[f"http://c{n}.test/"]) for n in range(8)
    ])
    numbers = sorted(int(r["reference"].rsplit("-", 1)[1]) for r in results)
    assert numbers == list(range(1, 9))


async def test_a_failed_request_gives_its_number_back(hotline, isps):
    with pytest.raises(ValidationFailed):
        await _issue(hotline, ["isp-1"], urls=["ftp://nope.test/"])
    issued = await _issue(hotline, ["isp-1"])
    assert issued["reference"].endswith("-000001")


async def test_request_from_queue_items_marks_them_valid(hotline, isps):
    item_id = await _valid_item(hotline)
    issued = await _issue(hotline, ["isp-2"], urls=[], item_ids=[item_id])
    async with system_transaction():
        item = (await execute("SELECT status FROM takedown_item WHERE id = {}", item_id))[0]
        urls = await execute("SELECT item FROM takedown_request_url")
    assert item["status"] == "valid" and [u["item"] for u in urls] == [item_id]
    assert issued["recipients"] == ["isp-2"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"recipients": []}, "recipients"),
        ({"recipients": ["no-such-isp"]}, "recipients"),
        ({"recipients": ["hotline"]}, "recipients"),  # not an ISP
        ({"kind": "takedown", "recipients": ["isp-1", "isp-2"]}, "recipients"),
        ({"kind": "takedown", "recipients": ["all-isps"]}, "recipients"),
        ({"kind": "delete"}, "kind"),
        ({"legal_basis": "  "}, "legal_basis"),
        ({"urls": []}, "urls"),
        ({"urls": ["javascript:alert(1)"]}, "urls"),
        ({"category": ""}, "category"),
        ({"priority": "asap"}, "priority"),
    ],
)
async def test_bad_requests_are_refused_and_change_nothing(hotline, isps, change, field):
    data = {"kind": "block", "recipients": ["isp-1"], "legal_basis": "Ligji", "item_ids": [], "urls": ["http://x.test/"],
            "category": "csam", **change}
    with pytest.raises(ValidationFailed) as caught:
        await rq.issue_request(hotline, rq.RequestInput(**data), ANALYST)
    assert field in caught.value.errors
    for table in ("takedown_request", "takedown_assignment", "takedown_item", "takedown_feed_entry", "outbox_message"):
        assert await count(table) == 0, table


async def test_items_of_another_organisation_or_assessed_not_valid_are_refused(hotline, agency, isps):
    foreign = await _valid_item(agency)
    with pytest.raises(ValidationFailed) as caught:
        await _issue(hotline, ["isp-1"], urls=[], item_ids=[foreign])
    assert "items" in caught.value.errors
    own = await _valid_item(hotline, "http://own.test/")
    await reports.assess_item(hotline["id"], own, outcome="not_valid", note="Jo e paligjshme", actor=ANALYST)
    with pytest.raises(ValidationFailed):
        await _issue(hotline, ["isp-1"], urls=[], item_ids=[own])
    assert await count("takedown_request") == 0


async def test_an_isp_cannot_issue_requests(factory, isps):
    with pytest.raises(NotFound):
        await _issue(isps[0], ["isp-2"])


async def test_lifecycle_sent_acknowledged_actioned_closed(hotline, isps):
    ref = (await _issue(hotline, ["isp-1", "isp-2"]))["reference"]
    isp = isps[0]
    assignment, changed = await rq.acknowledge(isp["id"], ref, ISP_ACTOR)
    assert changed and assignment["status"] == "acknowledged"
    _a, changed = await rq.acknowledge(isp["id"], ref, ISP_ACTOR)
    assert not changed  # a repeat is harmless
    _a, changed = await rq.mark_actioned(isp["id"], ref, "blocked", "DNS", ISP_ACTOR)
    assert changed
    _a, changed = await rq.mark_actioned(isp["id"], ref, "blocked", "DNS", ISP_ACTOR)
    assert not changed
    _a, changed = await rq.acknowledge(isp["id"], ref, ISP_ACTOR)
    assert not changed
    stored = await _assignment(ref, isp)
    assert stored["status"] == "actioned" and stored["outcome"] == "blocked" and stored["action_note"] == "DNS"
    assert await rq.close_assignment(hotline["id"], ref, "isp-1", "Verifikuar", ANALYST)
    assert not await rq.close_assignment(hotline["id"], ref, "isp-1", "", ANALYST)
    assert (await _assignment(ref, isp))["status"] == "closed"
    assert await _feed(isp) == ["http://bad.example.com/x"]  # a block closed after action stays in force
    async with system_transaction():
        events = [r["kind"] for r in await execute("SELECT kind FROM takedown_event ORDER BY id")]
        request = (await execute("SELECT status FROM takedown_request"))[0]
    assert events == ["issued", "acknowledged", "actioned", "closed"]
    assert request["status"] == "open"  # isp-2 has not finished
    actions = await audit_actions()
    assert actions.count("takedown.acknowledged") == 1 and actions.count("takedown.actioned") == 1


async def test_action_without_acknowledgement_implies_it(hotline, isps):
    ref = (await _issue(hotline, ["isp-1"]))["reference"]
    await rq.mark_actioned(isps[0]["id"], ref, "removed", "", ISP_ACTOR)
    stored = await _assignment(ref, isps[0])
    assert stored["acknowledged_at"] is not None and stored["actioned_at"] is not None
    async with system_transaction():
        events = [r["kind"] for r in await execute("SELECT kind FROM takedown_event ORDER BY id")]
    assert events == ["issued", "acknowledged", "actioned"]


async def test_illegal_transitions_are_conflicts_that_change_nothing(hotline, isps):
    ref = (await _issue(hotline, ["isp-1", "isp-2", "isp-3"]))["reference"]
    one, two, three = isps
    await rq.mark_actioned(one["id"], ref, "blocked", "", ISP_ACTOR)
    with pytest.raises(Conflict, match="disputed|kundërshtohet"):
        await rq.dispute(one["id"], ref, "Gabim", ISP_ACTOR)
    with pytest.raises(Conflict):
        await rq.mark_actioned(one["id"], ref, "removed", "", ISP_ACTOR)
    with pytest.raises(Conflict):
        await rq.close_assignment(hotline["id"], ref, "isp-2", "", ANALYST)  # isp-2 has not acted yet
    await rq.dispute(two["id"], ref, "Nuk është klienti ynë", ISP_ACTOR)
    _a, changed = await rq.dispute(two["id"], ref, "Sërish", ISP_ACTOR)
    assert not changed
    assert await _feed(two) == []  # a disputed block is not enforced
    await rq.close_assignment(hotline["id"], ref, "isp-1", "", ANALYST)
    with pytest.raises(Conflict):
        await rq.acknowledge(one["id"], ref, ISP_ACTOR)  # closed
    before = await count("takedown_event")
    assert await rq.withdraw_request(hotline["id"], ref, "Përmbajtja u hoq nga burimi", ANALYST)
    assert not await rq.withdraw_request(hotline["id"], ref, "Përsëri", ANALYST)
    for isp in (two, three):
        assert (await _assignment(ref, isp))["status"] == "withdrawn"
        with pytest.raises(Conflict, match="withdrawn|tërhoq"):
            await rq.mark_actioned(isp["id"], ref, "blocked", "", ISP_ACTOR)
        with pytest.raises(Conflict):
            await rq.acknowledge(isp["id"], ref, ISP_ACTOR)
    assert (await _assignment(ref, one))["status"] == "closed"  # a closed copy is not reopened
    assert await _feed(three) == []
    assert await count("takedown_event") == before + 2  # isp-2 and isp-3 withdrawn


async def test_dispute_and_action_need_their_details(hotline, isps):
    ref = (await _issue(hotline, ["isp-1"]))["reference"]
    with pytest.raises(ValidationFailed):
        await rq.dispute(isps[0]["id"], ref, "  ", ISP_ACTOR)
    with pytest.raises(ValidationFailed):
        await rq.mark_actioned(isps[0]["id"], ref, "ignored", "", ISP_ACTOR)
    with pytest.raises(ValidationFailed):
        await rq.withdraw_request(hotline["id"], ref, "", ANALYST)
    assert (await _assignment(ref, isps[0]))["status"] == "sent"


async def test_an_isp_cannot_touch_a_request_not_addressed_to_it(hotline, isps):
    ref = (await _issue(hotline, ["isp-1"]))["reference"]
    for call in (
        rq.acknowledge(isps[1]["id"], ref, ISP_ACTOR),
        rq.mark_actioned(isps[1]["id"], ref, "blocked", "", ISP_ACTOR),
        rq.dispute(isps[1]["id"], ref, "x", ISP_ACTOR),
        rq.request_for_recipient(isps[1]["id"], ref),
        rq.request_for_issuer(isps[1]["id"], ref),
        rq.withdraw_request(isps[1]["id"], ref, "x", ISP_ACTOR),
    ):
        with pytest.raises(NotFound):
            await call
    assert (await _assignment(ref, isps[0]))["status"] == "sent"


async def test_overdue_is_shown_first_and_counted(hotline, isps):
    old = (await _issue(hotline, ["isp-1"], urls=["http://old.test/a"], category="cyberbullying"))["reference"]
    new = (await _issue(hotline, ["isp-1"], urls=["http://new.test/a"]))["reference"]
    async with system_transaction():
        await execute("UPDATE takedown_assignment SET due_at = {} WHERE request = (SELECT id FROM takedown_request"
                      " WHERE reference = {})", datetime.now(UTC) - timedelta(hours=1), old)
    rows, _pager, overdue = await rq.inbox(isps[0]["id"], "", 1)
    assert overdue == 1
    assert [r["reference"] for r in rows] == [old, new] and rows[0]["overdue"] and not rows[1]["overdue"]
    only, _p, _o = await rq.inbox(isps[0]["id"], "overdue", 1)
    assert [r["reference"] for r in only] == [old]
    await rq.mark_actioned(isps[0]["id"], old, "blocked", "", ISP_ACTOR)
    _rows, _pager, overdue = await rq.inbox(isps[0]["id"], "", 1)
    assert overdue == 0  # acting ends the overdue state
    issued, _p = await rq.list_issued(hotline["id"], "", 1)
    assert {r["reference"]: r["actioned"] for r in issued}[old] == 1


async def test_the_isp_view_never_contains_the_reporter(hotline, isps):
    item_id = (await reports.record_report(
        hotline["id"], reports.ReportInput("http://secret.test/p", "csam", description="Vajza ime 12 vjeç",
                                           contact="nena@example.al", source_reference="KS-77"),
        channel="analyst", actor=ANALYST,
    )).item_id
    ref = (await _issue(hotline, ["isp-1"], urls=[], item_ids=[item_id]))["reference"]
    detail = await rq.request_for_recipient(isps[0]["id"], ref)
    text = repr(detail)
    assert "secret.test" in text
    assert detail["events"][0]["actor_label"] == hotline["name"]  # the organisation, not its analyst
    for private in ("nena@example.al", "Vajza", "KS-77", "R-", ANALYST.label):
        assert private not in text
