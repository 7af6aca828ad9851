"""The takedown API: ISPs list and act on their requests, analysts file reports and requests."""

import asyncio

from portal.core.db import execute, system_transaction
from portal.takedown import reports
from portal.takedown import requests as rq
from portal.tenants.api_keys import create_api_key, revoke_api_key
from tests.takedown.conftest import ANALYST, count


async def _key(tenant, scopes=("read", "write")):
    secret, row = await create_api_key(tenant, name="integration", scopes=list(scopes), actor=ANALYST)
    return secret, row


def _auth(secret):
    return {"Authorization": f"Bearer {secret}"}


async def _issue(hotline, recipients=("isp-1",), url="http://bad.example.com/x", category="csam"):
    item = await reports.record_report(hotline["id"], reports.ReportInput(url, category, contact="nena@example.al",
                                                                          description="Përshkrim konfidencial"),
                                       channel="analyst", actor=ANALYST)
    return (await rq.issue_request(hotline, rq.RequestInput(
        kind="block", recipients=list(recipients), legal_basis="Ligji nr. 9918", item_ids=[item.item_id], urls=[],
    ), ANALYST))["reference"]


async def _status(reference, recipient):
    async with system_transaction():
        rows = await execute("SELECT a.status FROM takedown_assignment a JOIN takedown_request r ON r.id = a.request"
                             " WHERE r.reference = {} AND a.recipient = {}", reference, recipient["id"])
    return rows[0]["status"]


async def test_isp_lists_only_its_requests_paginated(client, hotline, isps):
    mine = [await _issue(hotline, url=f"http://m{n}.test/") for n in range(3)]
    theirs = await _issue(hotline, recipients=("isp-2",), url="http://t.test/")
    secret, _ = await _key(isps[0])
    response = await client.http.get("/api/v1/takedown/requests", headers=_auth(secret))
    assert response.status_code == 200
    body = response.json()
    assert [i["reference"] for i in body["items"]] == mine
    assert body["next"] is None and theirs not in response.text
    first = body["items"][0]
    assert first["status"] == "sent" and first["url_count"] == 1 and first["overdue"] is False
    assert first["issuer"] == "hotline"
    assert "nena" not in response.text and "Përshkrim" not in response.text


async def test_list_pages_and_status_filter(client, hotline, isps, monkeypatch):
    monkeypatch.setattr(rq, "API_PER_PAGE", 2)
    refs = [await _issue(hotline, url=f"http://p{n}.test/") for n in range(3)]
    await rq.acknowledge(isps[0]["id"], refs[1], ANALYST)
    secret, _ = await _key(isps[0])
    page1 = (await client.http.get("/api/v1/takedown/requests", headers=_auth(secret))).json()
    assert len(page1["items"]) == 2 and page1["next"] == "/api/v1/takedown/requests?page=2"
    page2 = (await client.http.get(page1["next"], headers=_auth(secret))).json()
    assert [i["reference"] for i in page2["items"]] == [refs[2]] and page2["next"] is None
    acked = (await client.http.get("/api/v1/takedown/requests?status=acknowledged", headers=_auth(secret))).json()
    assert [i["reference"] for i in acked["items"]] == [refs[1]]
    bad = await client.http.get("/api/v1/takedown/requests?page=0", headers=_auth(secret))
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/problem+json")


async def test_get_one_request(client, hotline, isps):
    reference = await _issue(hotline)
    secret, _ = await _key(isps[0])
    response = await client.http.get(f"/api/v1/takedown/requests/{reference}", headers=_auth(secret))
    assert response.status_code == 200
    body = response.json()
    assert body["urls"] == [{"url": "http://bad.example.com/x", "host": "bad.example.com", "domain": "example.com",
                             "category": "csam"}]
    assert body["legal_basis"] == "Ligji nr. 9918" and body["timeline"][0]["event"] == "issued"
    assert "nena" not in response.text and "Përshkrim" not in response.text
    other_secret, _ = await _key(isps[1])
    response = await client.http.get(f"/api/v1/takedown/requests/{reference}", headers=_auth(other_secret))
    assert response.status_code == 404 and "bad.example" not in response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_issuer_reads_every_isps_state(client, hotline, isps):
    reference = await _issue(hotline, recipients=("isp-1", "isp-2"))
    await rq.mark_actioned(isps[1]["id"], reference, "blocked", "", ANALYST)
    secret, _ = await _key(hotline)
    body = (await client.http.get(f"/api/v1/takedown/requests/{reference}", headers=_auth(secret))).json()
    assert {r["tenant"]: r["status"] for r in body["recipients"]} == {"isp-1": "sent", "isp-2": "actioned"}


async def test_acknowledge_action_and_idempotent_repeats(client, hotline, isps):
    reference = await _issue(hotline)
    secret, _ = await _key(isps[0])
    base = f"/api/v1/takedown/requests/{reference}"
    response = await client.http.post(f"{base}/acknowledge", headers=_auth(secret))
    assert response.status_code == 200 and response.json()["status"] == "acknowledged" and response.json()["changed"]
    again = await client.http.post(f"{base}/acknowledge", headers=_auth(secret))
    assert again.status_code == 200 and again.json()["changed"] is False
    acted = await client.http.post(f"{base}/action", json={"outcome": "blocked", "note": "RPZ"}, headers=_auth(secret))
    assert acted.status_code == 200 and acted.json()["outcome"] == "blocked"
    assert await _status(reference, isps[0]) == "actioned"


async def test_action_without_ack_implies_it(client, hotline, isps):
    reference = await _issue(hotline)
    secret, _ = await _key(isps[0])
    response = await client.http.post(f"/api/v1/takedown/requests/{reference}/action", json={"outcome": "removed"},
                                      headers=_auth(secret))
    assert response.status_code == 200
    body = response.json()
    assert body["acknowledged_at"] is not None and [e["event"] for e in body["timeline"]] == ["issued", "acknowledged", "actioned"]


async def test_illegal_transitions_are_409_problems(client, hotline, isps):
    reference = await _issue(hotline)
    secret, _ = await _key(isps[0])
    base = f"/api/v1/takedown/requests/{reference}"
    await client.http.post(f"{base}/action", json={"outcome": "blocked"}, headers=_auth(secret))
    response = await client.http.post(f"{base}/dispute", json={"reason": "Gabim"}, headers=_auth(secret))
    assert response.status_code == 409
    problem = response.json()
    assert problem["status"] == 409 and reference in problem["detail"]
    assert response.headers["content-type"].startswith("application/problem+json")
    withdrawn = await _issue(hotline, url="http://w.test/")
    await rq.withdraw_request(hotline["id"], withdrawn, "Gabim", ANALYST)
    response = await client.http.post(f"/api/v1/takedown/requests/{withdrawn}/action", json={"outcome": "blocked"},
                                      headers=_auth(secret))
    assert response.status_code == 409 and withdrawn in response.json()["detail"]
    assert await _status(reference, isps[0]) == "actioned"


async def test_idempotency_key_replays_the_first_answer(client, hotline, isps):
    reference = await _issue(hotline)
    secret, _ = await _key(isps[0])
    headers = {**_auth(secret), "Idempotency-Key": "noc-4711"}
    url = f"/api/v1/takedown/requests/{reference}/dispute"
    first = await client.http.post(url, json={"reason": "Nuk është klienti ynë"}, headers=headers)
    second = await client.http.post(url, json={"reason": "Nuk është klienti ynë"}, headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json() and second.headers.get("idempotent-replayed") == "true"
    async with system_transaction():
        disputes = await execute("SELECT COUNT(*) AS n FROM takedown_event WHERE kind = 'disputed'")
    assert disputes[0]["n"] == 1
    reused = await client.http.post(url, json={"reason": "Tjetër"}, headers=headers)
    assert reused.status_code == 422 and "Idempotency-Key" in reused.text


async def test_concurrent_calls_with_one_key_act_once(client, hotline, isps):
    secret, _ = await _key(hotline)
    headers = {**_auth(secret), "Idempotency-Key": "batch-1"}
    body = {"url": "http://same.test/", "category": "grooming"}
    responses = await asyncio.gather(*[client.http.post("/api/v1/reports", json=body, headers=headers) for _ in range(4)])
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["receipt"] for r in responses}) == 1
    assert await count("takedown_report") == 1


async def test_bad_bodies_are_problems_and_change_nothing(client, hotline, isps):
    reference = await _issue(hotline)
    secret, _ = await _key(isps[0])
    base = f"/api/v1/takedown/requests/{reference}"
    for path, body in [
        (f"{base}/action", {"outcome": "blocked", "extra": 1}),
        (f"{base}/action", {"note": "no outcome"}),
        (f"{base}/action", {"outcome": 5}),
        (f"{base}/dispute", {}),
    ]:
        response = await client.http.post(path, json=body, headers=_auth(secret))
        assert response.status_code == 400, (path, body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    for path, body in [(f"{base}/action", {"outcome": "deleted"}), (f"{base}/dispute", {"reason": " "})]:
        response = await client.http.post(path, json=body, headers=_auth(secret))
        assert response.status_code == 422 and response.json()["errors"]
    garbage = await client.http.post(f"{base}/action", content=b"{not json", headers={**_auth(secret),
                                                                                      "content-type": "application/json"})
    assert garbage.status_code == 400
    assert await _status(reference, isps[0]) == "sent"


async def test_keys_that_may_not_act(client, hotline, isps):
    reference = await _issue(hotline)
    read_only, _ = await _key(isps[0], scopes=("read",))
    assert (await client.http.post(f"/api/v1/takedown/requests/{reference}/acknowledge",
                                   headers=_auth(read_only))).status_code == 403
    revoked, row = await _key(isps[0])
    await revoke_api_key(isps[0], row["id"], ANALYST)
    assert (await client.http.get("/api/v1/takedown/requests", headers=_auth(revoked))).status_code == 401
    assert (await client.http.post(f"/api/v1/takedown/requests/{reference}/acknowledge",
                                   headers=_auth(revoked))).status_code == 401
    assert (await client.http.get("/api/v1/takedown/requests")).status_code == 401
    other, _ = await _key(isps[1])
    response = await client.http.post(f"/api/v1/takedown/requests/{reference}/acknowledge", headers=_auth(other))
    assert response.status_code == 404 and "bad.example" not in response.text
    hotline_key, _ = await _key(hotline)
    assert (await client.http.get("/api/v1/takedown/requests", headers=_auth(hotline_key))).status_code == 403
    assert (await client.http.post(f"/api/v1/takedown/requests/{reference}/acknowledge",
                                   headers=_auth(hotline_key))).status_code == 403
    assert await _status(reference, isps[0]) == "sent"


async def test_analyst_tenant_files_reports(client, hotline, isps):
    secret, _ = await _key(hotline)
    first = await client.http.post("/api/v1/reports", json={"url": "http://API.test/a#x", "category": "csam",
                                                            "source_reference": "CASE-9"}, headers=_auth(secret))
    assert first.status_code == 201 and first.json()["repeat"] is False and first.json()["receipt"].startswith("R-")
    second = await client.http.post("/api/v1/reports", json={"url": "http://api.test/a", "category": "csam"},
                                    headers=_auth(secret))
    assert second.json()["repeat"] is True and second.json()["report_id"] == first.json()["report_id"]
    bad = await client.http.post("/api/v1/reports", json={"url": "ftp://api.test/", "category": "csam"}, headers=_auth(secret))
    assert bad.status_code == 422 and "url" in bad.json()["errors"]
    long = await client.http.post("/api/v1/reports", json={"url": "http://a.test/" + "x" * 2100, "category": "csam"},
                                  headers=_auth(secret))
    assert long.status_code == 422
    isp_key, _ = await _key(isps[0])
    refused = await client.http.post("/api/v1/reports", json={"url": "http://x.test/", "category": "csam"},
                                     headers=_auth(isp_key))
    assert refused.status_code == 403
    assert await count("takedown_report") == 2


async def test_analyst_tenant_issues_requests(client, hotline, isps):
    secret, _ = await _key(hotline)
    report = (await client.http.post("/api/v1/reports", json={"url": "http://r.test/", "category": "grooming"},
                                     headers=_auth(secret))).json()
    response = await client.http.post("/api/v1/takedown/requests", json={
        "kind": "block", "recipients": "all-isps", "legal_basis": "Vendim gjykate nr. 12", "report_ids": [report["report_id"]],
        "urls": ["http://typed.test/p"], "category": "grooming",
    }, headers=_auth(secret))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["reference"].startswith("TD-") and body["priority"] == "high" and len(body["recipients"]) == 3
    assert body["due_at"]
    bad = await client.http.post("/api/v1/takedown/requests", json={
        "kind": "takedown", "recipients": ["isp-1", "isp-2"], "legal_basis": "x", "urls": ["http://t.test/"],
        "category": "csam"}, headers=_auth(secret))
    assert bad.status_code == 422 and "recipients" in bad.json()["errors"]
    schema = await client.http.post("/api/v1/takedown/requests", json={"kind": "block"}, headers=_auth(secret))
    assert schema.status_code == 400
    isp_key, _ = await _key(isps[0])
    refused = await client.http.post("/api/v1/takedown/requests", json={
        "kind": "block", "recipients": ["isp-2"], "legal_basis": "x", "urls": ["http://t.test/"], "category": "csam"},
        headers=_auth(isp_key))
    assert refused.status_code == 403
    assert await count("takedown_request") == 1
