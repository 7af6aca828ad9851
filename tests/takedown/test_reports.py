"""Reports: the public form, de-duplication, encryption of contact details, routing, rate limits."""

import pytest

from portal.core.db import execute, system_transaction
from portal.core.errors import TooManyAttempts, ValidationFailed
from portal.takedown import reports
from portal.takedown.contact import decrypt_contact, submitter_key
from portal.takedown.labels import CATEGORIES
from tests.takedown.conftest import ANALYST, audit_actions, count


def test_every_category_maps_to_a_dsa_statement_category():
    assert set(CATEGORIES) == {
        "csam", "grooming", "cyberbullying", "hate_extremism", "self_harm", "other_illegal", "inappropriate",
    }
    for category in CATEGORIES.values():
        assert category.dsa_category.startswith("STATEMENT_CATEGORY_")
        assert category.dsa_keyword.startswith("KEYWORD_")
    assert CATEGORIES["csam"].dsa_category == "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
    assert CATEGORIES["csam"].priority == "critical"


async def test_public_report_is_stored_in_the_hotline_queue_with_a_receipt(client, hotline, agency):
    await client.get("/report")
    response = await client.post("/report", {
        "url": "HTTP://Bad.Example.COM:80/a/../page#x", "category": "csam", "description": "Foto", "contact": "",
    })
    assert response.status_code == 201
    assert "R-" in response.text
    async with system_transaction():
        items = await execute("SELECT tenant, url, report_count, status FROM takedown_item")
        stored = await execute("SELECT receipt, channel, contact_encrypted FROM takedown_report")
    assert [dict(i) for i in items] == [{"tenant": hotline["id"], "url": "http://bad.example.com/page", "report_count": 1, "status": "new"}]
    assert stored[0]["receipt"] in response.text
    assert stored[0]["channel"] == "public"
    assert stored[0]["contact_encrypted"] == ""
    assert "takedown.report_received" in await audit_actions()


async def test_repeat_report_attaches_to_the_item_and_counts(hotline):
    first = await reports.record_report(
        hotline["id"], reports.ReportInput("http://example.com/a", "cyberbullying"), channel="analyst", actor=ANALYST
    )
    second = await reports.record_report(
        hotline["id"], reports.ReportInput("https://EXAMPLE.com/a", "cyberbullying"), channel="analyst", actor=ANALYST
    )
    third = await reports.record_report(
        hotline["id"], reports.ReportInput("example.com/./a#frag", "cyberbullying"), channel="api", actor=ANALYST
    )
    # https is a different address from http; the third spelling is the first one again
    assert (first.repeat, second.repeat, third.repeat) == (False, False, True)
    assert third.item_id == first.item_id and third.report_count == 2
    assert await count("takedown_item") == 2
    assert await count("takedown_report") == 3


async def test_same_url_in_two_organisations_is_two_private_items(hotline, agency):
    a = await reports.record_report(hotline["id"], reports.ReportInput("http://x.test/", "csam"), channel="api", actor=ANALYST)
    b = await reports.record_report(agency["id"], reports.ReportInput("http://x.test/", "csam"), channel="api", actor=ANALYST)
    assert a.item_id != b.item_id and not b.repeat


async def test_contact_details_are_encrypted_at_rest(client, hotline):
    await client.get("/report")
    response = await client.post("/report", {"url": "http://example.org/", "category": "grooming", "contact": "nena@example.al"})
    assert response.status_code == 201
    async with system_transaction():
        row = (await execute("SELECT contact_encrypted FROM takedown_report"))[0]
    assert "nena@example.al" not in row["contact_encrypted"]
    assert row["contact_encrypted"].startswith("gAAAA")  # a Fernet token
    assert decrypt_contact(row["contact_encrypted"]) == "nena@example.al"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/x", "http:// ose https://"),
        ("javascript:alert(1)", "http:// ose https://"),
        ("http://example.com/" + "a" * 2100, "2048"),
        ("", "adresën"),
    ],
)
async def test_bad_public_reports_are_refused_in_albanian_and_change_nothing(client, hotline, url, message):
    await client.get("/report")
    response = await client.post("/report", {"url": url, "category": "csam", "description": "<script>alert(1)</script>"})
    assert response.status_code == 422
    assert message in response.text
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;" in response.text  # the typed text is shown again, escaped
    assert await count("takedown_item") == 0 and await count("takedown_report") == 0


async def test_unknown_category_is_refused(client, hotline):
    await client.get("/report")
    response = await client.post("/report", {"url": "http://example.com/", "category": "spam"})
    assert response.status_code == 422
    assert await count("takedown_item") == 0


async def test_public_form_is_rate_limited_per_address(client, hotline, monkeypatch):
    from portal.takedown import config

    monkeypatch.setattr(config, "get_takedown_settings", lambda: config.TakedownSettings(
        deadline_hours={"critical": 24, "high": 48, "normal": 72}, public_reports_per_hour=2))
    monkeypatch.setattr(reports, "get_takedown_settings", config.get_takedown_settings)
    await client.get("/report")
    for n in range(2):
        assert (await client.post("/report", {"url": f"http://e{n}.test/", "category": "other_illegal"})).status_code == 201
    refused = await client.post("/report", {"url": "http://e9.test/", "category": "other_illegal"})
    assert refused.status_code == 429
    assert await count("takedown_report") == 2
    # another address is not affected
    receipt = await reports.submit_public_report(
        reports.ReportInput("http://e9.test/", "other_illegal"), submitter=submitter_key("10.9.9.9"), ip="10.9.9.9"
    )
    assert receipt.receipt.startswith("R-")
    with pytest.raises(TooManyAttempts):
        await reports.submit_public_report(
            reports.ReportInput("http://e8.test/", "other_illegal"), submitter=submitter_key("127.0.0.1"), ip="127.0.0.1"
        )


async def test_without_an_analyst_organisation_the_form_says_reporting_is_unavailable(client, factory):
    await factory.tenant("isp")
    await client.get("/report")
    response = await client.post("/report", {"url": "http://example.com/", "category": "csam"})
    assert response.status_code == 503
    assert await count("takedown_report") == 0


async def test_intake_can_be_configured(hotline, agency, monkeypatch):
    from portal.takedown import config

    monkeypatch.setattr(reports, "get_takedown_settings", lambda: config.TakedownSettings(
        deadline_hours={}, intake_tenant="policia"))
    assert (await reports.intake_tenant())["id"] == agency["id"]


async def test_hotline_is_preferred_over_an_agency(agency, hotline):
    assert (await reports.intake_tenant())["id"] == hotline["id"]


async def test_validation_of_long_fields(hotline):
    with pytest.raises(ValidationFailed) as caught:
        await reports.record_report(
            hotline["id"], reports.ReportInput("http://a.test/", "csam", description="x" * 5001, contact="y" * 501),
            channel="analyst", actor=ANALYST,
        )
    assert set(caught.value.errors) == {"description", "contact"}
    assert await count("takedown_item") == 0
