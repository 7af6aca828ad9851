"""Block-list feeds: formats (the RPZ parses with dnspython), ETag and 304, since-cursor, isolation."""

import hashlib

import dns.zone

from portal.takedown import requests as rq
from portal.tenants.api_keys import create_api_key
from tests.takedown.conftest import ANALYST


async def _key(tenant, scopes=("read",)):
    secret, _row = await create_api_key(tenant, name="resolver", scopes=list(scopes), actor=ANALYST)
    return {"Authorization": f"Bearer {secret}"}


async def _block(hotline, urls, recipients=("isp-1",), kind="block"):
    return (await rq.issue_request(hotline, rq.RequestInput(
        kind=kind, recipients=list(recipients), legal_basis="Ligji", item_ids=[], urls=list(urls), category="csam",
    ), ANALYST))["reference"]


async def test_a_block_decision_is_in_the_feed_at_once(client, hotline, isps):
    headers = await _key(isps[0])
    assert (await client.http.get("/api/v1/blocklist.txt", headers=headers)).text == ""
    await _block(hotline, ["http://Bad.Example.com/a?x=1", "https://whole-site.test/"])
    response = await client.http.get("/api/v1/blocklist.txt", headers=headers)
    assert response.status_code == 200
    assert response.text.splitlines() == ["whole-site.test", "http://bad.example.com/a?x=1"]
    assert response.headers["content-type"].startswith("text/plain")
    csv_text = (await client.http.get("/api/v1/blocklist.csv", headers=headers)).text
    assert csv_text.splitlines() == ["type,value", "domain,whole-site.test", "url,http://bad.example.com/a?x=1"]


async def test_rpz_parses_with_dnspython(client, hotline, isps):
    await _block(hotline, ["http://blocked.example.al/", "http://10.1.2.3/", "http://only.path.test/x"])
    response = await client.http.get("/api/v1/blocklist.rpz", headers=await _key(isps[0]))
    assert response.status_code == 200
    zone = dns.zone.from_text(response.text, origin="rpz.portal.invalid.", relativize=False)
    names = {str(name) for name in zone.nodes}
    assert "blocked.example.al.rpz.portal.invalid." in names
    assert "*.blocked.example.al.rpz.portal.invalid." in names
    assert not any("only.path" in name for name in names)  # a path cannot be blocked in DNS
    rdata = zone.find_rdataset("blocked.example.al.rpz.portal.invalid.", "CNAME")[0]
    assert str(rdata.target) == "."
    soa = zone.find_rdataset("rpz.portal.invalid.", "SOA")[0]
    assert soa.serial == int(response.headers["x-blocklist-cursor"])


async def test_sha256_covers_common_spellings(client, hotline, isps):
    await _block(hotline, ["https://www.example.com/page"])
    text = (await client.http.get("/api/v1/blocklist.sha256", headers=await _key(isps[0]))).text
    digests = set(text.split())
    for spelling in ("https://www.example.com/page", "http://example.com/page", "https://example.com/page/"):
        assert hashlib.sha256(spelling.encode()).hexdigest() in digests
    assert "example.com" not in text


async def test_strong_etag_and_304(client, hotline, isps):
    headers = await _key(isps[0])
    await _block(hotline, ["http://a.test/1"])
    first = await client.http.get("/api/v1/blocklist.txt", headers=headers)
    etag = first.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    again = await client.http.get("/api/v1/blocklist.txt", headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    weak = await client.http.get("/api/v1/blocklist.txt", headers={**headers, "If-None-Match": f"W/{etag}"})
    assert weak.status_code == 200
    other_format = await client.http.get("/api/v1/blocklist.csv", headers={**headers, "If-None-Match": etag})
    assert other_format.status_code == 200
    await _block(hotline, ["http://a.test/2"])
    changed = await client.http.get("/api/v1/blocklist.txt", headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert changed.text.splitlines() == ["http://a.test/1", "http://a.test/2"]


async def test_since_returns_additions_and_removals(client, hotline, isps):
    headers = await _key(isps[0])
    keep = await _block(hotline, ["http://keep.test/"])
    cursor = int((await client.http.get("/api/v1/blocklist.txt", headers=headers)).headers["x-blocklist-cursor"])
    assert (await client.http.get(f"/api/v1/blocklist.txt?since={cursor}", headers=headers)).text == ""
    gone = await _block(hotline, ["http://gone.test/x", "http://shared.test/s"])
    await _block(hotline, ["http://shared.test/s"])  # a second request names the same address
    await rq.withdraw_request(hotline["id"], gone, "Gabim", ANALYST)
    await _block(hotline, ["http://new.test/n"])
    delta = await client.http.get(f"/api/v1/blocklist.txt?since={cursor}", headers=headers)
    assert sorted(delta.text.splitlines()) == sorted(["-http://gone.test/x", "+http://shared.test/s", "+http://new.test/n"])
    csv_delta = (await client.http.get(f"/api/v1/blocklist.csv?since={cursor}", headers=headers)).text.splitlines()
    assert csv_delta[0] == "op,type,value" and "remove,url,http://gone.test/x" in csv_delta
    # a dispute takes the address out of that ISP's list; the issuer's other ISPs are unaffected
    await rq.dispute(isps[0]["id"], keep, "Nuk jemi ofruesi", ANALYST)
    full = (await client.http.get("/api/v1/blocklist.txt", headers=headers)).text.splitlines()
    assert "keep.test" not in full and "http://shared.test/s" in full
    bad = await client.http.get("/api/v1/blocklist.txt?since=999999", headers=headers)
    assert bad.status_code == 422
    assert (await client.http.get("/api/v1/blocklist.txt?since=-1", headers=headers)).status_code == 400


async def test_feeds_are_per_isp_and_only_for_isps(client, hotline, isps):
    await _block(hotline, ["http://one.test/x"], recipients=("isp-1",))
    await _block(hotline, ["http://takedown.test/x"], recipients=("isp-1",), kind="takedown")
    assert (await client.http.get("/api/v1/blocklist.txt", headers=await _key(isps[0]))).text == "http://one.test/x\n"
    assert (await client.http.get("/api/v1/blocklist.txt", headers=await _key(isps[1]))).text == ""
    assert (await client.http.get("/api/v1/blocklist.txt", headers=await _key(hotline))).status_code == 403
    assert (await client.http.get("/api/v1/blocklist.txt")).status_code == 401
    assert (await client.http.get("/api/v1/blocklist.txt", headers={"Authorization": "Bearer psk_nope"})).status_code == 401


async def test_the_cursor_is_the_isps_own_and_leaves_no_tenant_setting_behind(hotline, isps):
    from portal.core.db import execute, get_engine, is_postgres, system_transaction
    from portal.takedown import feeds

    await _block(hotline, ["http://first.test/"], recipients=("isp-1",))
    await _block(hotline, ["http://second.test/"], recipients=("isp-2",))
    async with system_transaction():
        latest = {row["recipient"]: row["last"] for row in await execute(
            "SELECT recipient, MAX(id) AS last FROM takedown_feed_change GROUP BY recipient")}
    assert await feeds.current_cursor(isps[0]["id"]) == latest[isps[0]["id"]]
    assert await feeds.current_cursor(isps[1]["id"]) == latest[isps[1]["id"]]
    if is_postgres():
        pool = get_engine().pool
        connections = [await pool.acquire() for _ in range(pool.get_max_size())]
        try:
            for connection in connections:
                assert await connection.fetchval("SELECT current_setting('app.tenant_id', true)") in (None, "")
                assert await connection.fetchval("SELECT COUNT(*) FROM takedown_feed_change") == 0
        finally:
            for connection in connections:
                await pool.release(connection)
