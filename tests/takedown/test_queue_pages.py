"""The analysts' queue, item page and assessment: access in threes, filters, audit, defanging."""

import pytest

from portal.core.db import execute, system_transaction
from portal.takedown import reports
from tests.takedown.conftest import ANALYST, audit_actions, count


async def _item(tenant, url="http://bad.example.com/page", category="cyberbullying", contact=""):
    receipt = await reports.record_report(
        tenant["id"], reports.ReportInput(url, category, description="Përshkrim", contact=contact),
        channel="analyst", actor=ANALYST,
    )
    return receipt.item_id


@pytest.fixture
async def people(factory, hotline, agency):
    return {
        "analyst": await factory.member(hotline, "analyst"),
        "officer": await factory.member(hotline, "officer"),
        "outsider": await factory.member(agency, "analyst"),
    }


async def test_queue_access_in_threes(client_factory, hotline, people):
    await _item(hotline)
    path = "/t/hotline/takedown/reports"
    allowed = await (await client_factory(people["analyst"])).get(path)
    assert allowed.status_code == 200 and "bad[.]example[.]com" in allowed.text
    assert (await (await client_factory(people["officer"])).get(path)).status_code == 403
    other = await (await client_factory(people["outsider"])).get(path)
    assert other.status_code == 404 and "bad[.]example" not in other.text


async def test_item_page_access_in_threes(client_factory, hotline, agency, people):
    item_id = await _item(hotline)
    path = f"/t/hotline/takedown/reports/{item_id}"
    assert (await (await client_factory(people["analyst"])).get(path)).status_code == 200
    assert (await (await client_factory(people["officer"])).get(path)).status_code == 403
    outsider = await client_factory(people["outsider"])
    assert (await outsider.get(path)).status_code == 404
    # the outsider's own tenant URL with the hotline's item number is also a 404, with nothing shown
    response = await outsider.get(f"/t/policia/takedown/reports/{item_id}")
    assert response.status_code == 404 and "bad[.]example" not in response.text


async def test_urls_are_defanged_never_links(client_factory, hotline, people):
    item_id = await _item(hotline, url="https://evil.example.net/x?a=1")
    c = await client_factory(people["analyst"])
    for path in ("/t/hotline/takedown/reports", f"/t/hotline/takedown/reports/{item_id}"):
        html = (await c.get(path)).text
        assert "hxxps://evil[.]example[.]net/x?a=1" in html
        assert 'href="https://evil' not in html and "href='https://evil" not in html
        assert 'data-copy-url="https://evil.example.net/x?a=1"' in html
        assert "/static/takedown/reported-url.js" in html


async def test_queue_filters(client_factory, hotline, people):
    await _item(hotline, "http://a.one.test/", "csam")
    await _item(hotline, "http://b.two.test/", "self_harm")
    c = await client_factory(people["analyst"])
    html = (await c.get("/t/hotline/takedown/reports?category=csam")).text
    assert "one[.]test" in html and "two[.]test" not in html
    html = (await c.get("/t/hotline/takedown/reports?domain=http://www.two.test/whatever")).text
    assert "two[.]test" in html and "one[.]test" not in html
    html = (await c.get("/t/hotline/takedown/reports?status=valid")).text
    assert "one[.]test" not in html and "two[.]test" not in html
    html = (await c.get("/t/hotline/takedown/reports?age=older")).text
    assert "one[.]test" not in html
    html = (await c.get("/t/hotline/takedown/reports?age=1d&status=bogus&category=<x>")).text
    assert "one[.]test" in html and "two[.]test" in html  # unknown filter values are ignored


async def test_viewing_a_csam_item_is_audited_and_other_items_are_not(client_factory, hotline, people):
    csam = await _item(hotline, "http://c.test/", "csam")
    other = await _item(hotline, "http://d.test/", "cyberbullying")
    c = await client_factory(people["analyst"])
    await c.get(f"/t/hotline/takedown/reports/{other}")
    assert "takedown.item_viewed" not in await audit_actions()
    await c.get(f"/t/hotline/takedown/reports/{csam}")
    assert (await audit_actions()).count("takedown.item_viewed") == 1
    async with system_transaction():
        row = (await execute("SELECT actor_label, object_id FROM audit_entry WHERE action = 'takedown.item_viewed'"))[0]
    assert row["actor_label"] == people["analyst"].email and row["object_id"] == str(csam)


async def test_contact_details_shown_only_to_the_analyst_and_audited(client_factory, hotline, people):
    item_id = await _item(hotline, contact="prind@example.al")
    html = (await (await client_factory(people["analyst"])).get(f"/t/hotline/takedown/reports/{item_id}")).text
    assert "prind@example.al" in html
    assert "takedown.item_viewed" in await audit_actions()


async def test_assessment_saves_and_is_audited(client_factory, hotline, people):
    item_id = await _item(hotline)
    c = await client_factory(people["analyst"])
    response = await c.post(f"/t/hotline/takedown/reports/{item_id}/assess", {"outcome": "valid", "note": "Konfirmuar"})
    assert response.status_code == 303
    async with system_transaction():
        row = (await execute("SELECT status, assessment_note, assessed_by FROM takedown_item"))[0]
    assert (row["status"], row["assessment_note"], row["assessed_by"]) == ("valid", "Konfirmuar", people["analyst"].user["id"])
    assert "takedown.item_assessed" in await audit_actions()


async def test_assessment_access_and_bad_input_change_nothing(client_factory, hotline, people):
    item_id = await _item(hotline)
    path = f"/t/hotline/takedown/reports/{item_id}/assess"
    assert (await (await client_factory(people["officer"])).post(path, {"outcome": "valid"})).status_code == 403
    assert (await (await client_factory(people["outsider"])).post(path, {"outcome": "valid"})).status_code == 404
    c = await client_factory(people["analyst"])
    bad = [
        {"outcome": "maybe"},
        {"outcome": "not_valid", "note": ""},
        {"outcome": "duplicate", "duplicate_of": "abc"},
        {"outcome": "duplicate", "duplicate_of": str(item_id)},
        {"outcome": "duplicate", "duplicate_of": "99999"},
    ]
    for data in bad:
        response = await c.post(path, data)
        assert response.status_code == 422, data
    async with system_transaction():
        row = (await execute("SELECT status, assessed_at FROM takedown_item"))[0]
    assert row["status"] == "new" and row["assessed_at"] is None
    assert "takedown.item_assessed" not in await audit_actions()


async def test_duplicate_names_the_original(client_factory, hotline, people):
    original = await _item(hotline, "http://orig.test/")
    copy = await _item(hotline, "http://copy.test/")
    c = await client_factory(people["analyst"])
    response = await c.post(f"/t/hotline/takedown/reports/{copy}/assess", {"outcome": "duplicate", "duplicate_of": f"#{original}"})
    assert response.status_code == 303
    async with system_transaction():
        row = (await execute("SELECT duplicate_of FROM takedown_item WHERE id = {}", copy))[0]
    assert row["duplicate_of"] == original


async def test_analyst_adds_a_report_and_a_repeat_increments(client_factory, hotline, people):
    c = await client_factory(people["analyst"])
    first = await c.post("/t/hotline/takedown/reports/new", {"url": "http://n.test/a", "category": "grooming", "source_reference": "KS-1"})
    assert first.status_code == 303
    second = await c.post("/t/hotline/takedown/reports/new", {"url": "HTTP://N.TEST/a", "category": "grooming"})
    assert second.headers["location"] == first.headers["location"]
    async with system_transaction():
        row = (await execute("SELECT report_count FROM takedown_item"))[0]
    assert row["report_count"] == 2
    assert (await (await client_factory(people["officer"])).post("/t/hotline/takedown/reports/new", {"url": "http://z.test/", "category": "csam"})).status_code == 403
    assert (await (await client_factory(people["outsider"])).post("/t/hotline/takedown/reports/new", {"url": "http://z.test/", "category": "csam"})).status_code == 404
    bad = await c.post("/t/hotline/takedown/reports/new", {"url": "ftp://z.test/", "category": "csam"})
    assert bad.status_code == 422
    assert await count("takedown_report") == 2


async def test_isp_members_never_see_the_queue(client_factory, factory, hotline):
    isp = await factory.tenant("isp", slug="isp-x")
    admin = await factory.member(isp, "admin")
    await _item(hotline)
    c = await client_factory(admin)
    assert (await c.get("/t/isp-x/takedown/reports")).status_code == 403
    assert (await c.get("/t/hotline/takedown/reports")).status_code == 404
