"""Request pages of analysts and ISPs: access in threes, forms, bulk actions, what each side sees."""

import pytest

from portal.core.db import execute, system_transaction
from portal.takedown import reports
from portal.takedown import requests as rq
from tests.takedown.conftest import ANALYST, count


@pytest.fixture
async def people(factory, hotline, agency, isps):
    return {
        "analyst": await factory.member(hotline, "analyst"),
        "hotline_officer": await factory.member(hotline, "officer"),
        "police": await factory.member(agency, "analyst"),
        "isp_officer": await factory.member(isps[0], "officer"),
        "isp_viewer": await factory.member(isps[0], "viewer"),
        "other_isp": await factory.member(isps[1], "admin"),
    }


async def _issue(hotline, recipients=("isp-1",), url="http://bad.example.com/x"):
    item = await reports.record_report(hotline["id"], reports.ReportInput(url, "csam", contact="nena@example.al"),
                                       channel="analyst", actor=ANALYST)
    issued = await rq.issue_request(hotline, rq.RequestInput(
        kind="block", recipients=list(recipients), legal_basis="Ligji nr. 9918", item_ids=[item.item_id], urls=[],
    ), ANALYST)
    return issued["reference"]


async def test_issuing_through_the_form(client_factory, hotline, people):
    item = await reports.record_report(hotline["id"], reports.ReportInput("http://q.test/1", "grooming"),
                                       channel="analyst", actor=ANALYST)
    c = await client_factory(people["analyst"])
    form = await c.get(f"/t/hotline/takedown/requests/new?item={item.item_id}")
    assert form.status_code == 200 and "q[.]test" in form.text and "ISP 1" in form.text
    response = await c.http.post("/t/hotline/takedown/requests/new", data={
        "_csrf_token": c.csrf(), "kind": "block", "recipient": ["isp-1", "isp-3"], "item": [str(item.item_id)],
        "urls": "http://typed.test/a\n\nhttps://typed.test/b", "category": "grooming", "legal_basis": "Ligji", "priority": "",
    })
    assert response.status_code == 303, response.text
    reference = response.headers["location"].rsplit("/", 1)[1]
    page = await c.get(response.headers["location"])
    assert page.status_code == 200 and reference in page.text
    assert "typed[.]test" in page.text and "ISP 3" in page.text
    assert await count("takedown_assignment") == 2 and await count("takedown_request_url") == 3


async def test_request_form_errors_keep_the_input_and_change_nothing(client_factory, hotline, people):
    c = await client_factory(people["analyst"])
    response = await c.http.post("/t/hotline/takedown/requests/new", data={
        "_csrf_token": c.csrf(), "kind": "block", "recipient": ["isp-2"], "urls": "ftp://x.test/", "category": "csam",
        "legal_basis": "",
    })
    assert response.status_code == 422
    assert "ftp://x.test/" in response.text
    assert 'value="isp-2" checked' in response.text
    assert await count("takedown_request") == 0


async def test_issuer_pages_access_in_threes(client_factory, hotline, people):
    reference = await _issue(hotline)
    for path in ("/t/hotline/takedown/requests", f"/t/hotline/takedown/requests/{reference}", "/t/hotline/takedown/requests/new"):
        assert (await (await client_factory(people["analyst"])).get(path)).status_code == 200, path
        assert (await (await client_factory(people["hotline_officer"])).get(path)).status_code == 403, path
        response = await (await client_factory(people["police"])).get(path)
        assert response.status_code == 404 and "bad[.]example" not in response.text, path
    # the police see their own tenant's pages, where the hotline's reference does not exist
    response = await (await client_factory(people["police"])).get(f"/t/policia/takedown/requests/{reference}")
    assert response.status_code == 404 and "bad[.]example" not in response.text


async def test_withdraw_and_close_access_in_threes(client_factory, hotline, isps, people):
    reference = await _issue(hotline)
    await rq.mark_actioned(isps[0]["id"], reference, "blocked", "", ANALYST)
    close = f"/t/hotline/takedown/requests/{reference}/close/isp-1"
    withdraw = f"/t/hotline/takedown/requests/{reference}/withdraw"
    assert (await (await client_factory(people["hotline_officer"])).post(close, {})).status_code == 403
    assert (await (await client_factory(people["police"])).post(close, {})).status_code == 404
    assert (await (await client_factory(people["hotline_officer"])).post(withdraw, {"reason": "x"})).status_code == 403
    assert (await (await client_factory(people["police"])).post(withdraw, {"reason": "x"})).status_code == 404
    async with system_transaction():
        assert (await execute("SELECT status FROM takedown_assignment"))[0]["status"] == "actioned"
    c = await client_factory(people["analyst"])
    assert (await c.post(close, {"note": "OK"})).status_code == 303
    async with system_transaction():
        assert (await execute("SELECT status FROM takedown_assignment"))[0]["status"] == "closed"
        assert (await execute("SELECT status FROM takedown_request"))[0]["status"] == "closed"
    # withdrawing a closed request is refused with a message, nothing changes
    response = await c.post(withdraw, {"reason": "x"})
    assert response.status_code == 409 and "alert-error" in response.text
    async with system_transaction():
        assert (await execute("SELECT status FROM takedown_request"))[0]["status"] == "closed"


async def test_isp_inbox_access_in_threes(client_factory, hotline, people):
    reference = await _issue(hotline)
    inbox = "/t/isp-1/takedown/inbox"
    detail = f"/t/isp-1/takedown/inbox/{reference}"
    for person in ("isp_officer", "isp_viewer"):
        c = await client_factory(people[person])
        for path in (inbox, detail):
            response = await c.get(path)
            assert response.status_code == 200 and reference in response.text
    viewer_page = (await (await client_factory(people["isp_viewer"])).get(detail)).text
    assert "/acknowledge" not in viewer_page  # a viewer cannot respond
    assert (await (await client_factory(people["analyst"])).get("/t/hotline/takedown/inbox")).status_code == 403
    other = await client_factory(people["other_isp"])
    for path in (inbox, detail):
        response = await other.get(path)
        assert response.status_code == 404 and "bad[.]example" not in response.text
    response = await other.get(f"/t/isp-2/takedown/inbox/{reference}")
    assert response.status_code == 404 and "bad[.]example" not in response.text
    assert reference not in (await other.get("/t/isp-2/takedown/inbox")).text


async def test_isp_page_shows_urls_but_never_the_reporter(client_factory, hotline, people):
    reference = await _issue(hotline)
    html = (await (await client_factory(people["isp_officer"])).get(f"/t/isp-1/takedown/inbox/{reference}")).text
    assert "hxxp://bad[.]example[.]com/x" in html
    assert 'href="http://bad' not in html
    assert "nena@example.al" not in html and "Ligji nr. 9918" in html


async def test_isp_responds_through_the_page(client_factory, hotline, people):
    reference = await _issue(hotline)
    base = f"/t/isp-1/takedown/inbox/{reference}"
    viewer = await client_factory(people["isp_viewer"])
    assert (await viewer.post(f"{base}/acknowledge")).status_code == 403
    other = await client_factory(people["other_isp"])
    assert (await other.post(f"{base}/acknowledge")).status_code == 404
    assert (await other.post(f"/t/isp-2/takedown/inbox/{reference}/acknowledge")).status_code == 404
    async with system_transaction():
        assert (await execute("SELECT status FROM takedown_assignment"))[0]["status"] == "sent"
    c = await client_factory(people["isp_officer"])
    assert (await c.post(f"{base}/acknowledge")).status_code == 303
    bad = await c.post(f"{base}/action", {"outcome": "ignored"})
    assert bad.status_code == 422
    assert (await c.post(f"{base}/dispute", {"reason": ""})).status_code == 422
    async with system_transaction():
        assert (await execute("SELECT status FROM takedown_assignment"))[0]["status"] == "acknowledged"
    assert (await c.post(f"{base}/action", {"outcome": "blocked", "note": "DNS RPZ"})).status_code == 303
    conflict = await c.post(f"{base}/dispute", {"reason": "vonë"})
    assert conflict.status_code == 409 and "alert-error" in conflict.text
    async with system_transaction():
        row = (await execute("SELECT status, action_note FROM takedown_assignment"))[0]
    assert (row["status"], row["action_note"]) == ("actioned", "DNS RPZ")


async def test_bulk_actions(client_factory, hotline, isps, people):
    first = await _issue(hotline, url="http://a.test/1")
    second = await _issue(hotline, url="http://b.test/2")
    await rq.withdraw_request(hotline["id"], second, "Gabim", ANALYST)
    third = await _issue(hotline, url="http://c.test/3")
    c = await client_factory(people["isp_officer"])
    response = await c.http.post("/t/isp-1/takedown/inbox/bulk", data={
        "_csrf_token": c.csrf(), "reference": [first, second, third], "action": "action", "outcome": "blocked", "note": "",
    })
    assert response.status_code == 200
    assert second in response.text and "alert-error" in response.text and "alert-success" in response.text
    async with system_transaction():
        rows = await execute("SELECT r.reference, a.status FROM takedown_assignment a JOIN takedown_request r"
                             " ON r.id = a.request ORDER BY r.id")
    assert {r["reference"]: r["status"] for r in rows} == {first: "actioned", second: "withdrawn", third: "actioned"}
    # the same action again changes nothing, and the page says so
    again = await c.http.post("/t/isp-1/takedown/inbox/bulk", data={
        "_csrf_token": c.csrf(), "reference": [first], "action": "action", "outcome": "blocked", "note": "",
    })
    assert again.status_code == 200 and "alert-info" in again.text and "alert-success" not in again.text
    # another ISP's officer posting the same references changes nothing
    other = await client_factory(people["other_isp"])
    await other.http.post("/t/isp-2/takedown/inbox/bulk", data={
        "_csrf_token": other.csrf(), "reference": [first], "action": "dispute", "note": "x",
    })
    async with system_transaction():
        assert (await execute("SELECT a.status FROM takedown_assignment a JOIN takedown_request r ON r.id = a.request"
                              " WHERE r.reference = {}", first))[0]["status"] == "actioned"
    viewer = await client_factory(people["isp_viewer"])
    assert (await viewer.post("/t/isp-1/takedown/inbox/bulk", {"reference": first, "action": "acknowledge"})).status_code == 403


async def test_a_refused_bulk_dispute_keeps_the_ticked_requests_and_the_choices(client_factory, hotline, isps, people):
    first = await _issue(hotline, url="http://a.test/1")
    second = await _issue(hotline, url="http://b.test/2")
    c = await client_factory(people["isp_officer"])
    refused = await c.http.post("/t/isp-1/takedown/inbox/bulk", data={
        "_csrf_token": c.csrf(), "reference": [second], "action": "dispute", "outcome": "removed", "note": "",
    })
    assert refused.status_code == 409 and "alert-error" in refused.text
    assert f'value="{second}" checked' in refused.text and f'value="{first}" checked' not in refused.text
    assert '<option value="dispute" selected>' in refused.text and '<option value="removed" selected>' in refused.text
    unselected = await c.http.post("/t/isp-1/takedown/inbox/bulk", data={
        "_csrf_token": c.csrf(), "action": "action", "outcome": "removed", "note": "DNS dhe proxy",
    })
    assert unselected.status_code == 422 and 'value="DNS dhe proxy"' in unselected.text
    assert '<option value="action" selected>' in unselected.text
    async with system_transaction():
        assert {r["status"] for r in await execute("SELECT status FROM takedown_assignment")} == {"sent"}


async def test_navigation_shows_each_side_its_entries(client_factory, hotline, people):
    analyst_page = (await (await client_factory(people["analyst"])).get("/t/hotline/")).text
    assert "/t/hotline/takedown/reports" in analyst_page and "/t/hotline/takedown/inbox" not in analyst_page
    isp_page = (await (await client_factory(people["isp_officer"])).get("/t/isp-1/")).text
    assert "/t/isp-1/takedown/inbox" in isp_page and "/t/isp-1/takedown/reports" not in isp_page
