"""The organisation's audit log page: newest first, translated, in Tirana time, paginated."""

from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from portal.audit import services as audit
from portal.core.actor import Actor
from tests.isolation import assert_outsider_gets_nothing


async def test_admin_reads_the_log_newest_first_in_albanian_and_tirana_time(factory, client_factory):
    tenant = await factory.tenant("isp", nipt="K91234567A")
    admin = await factory.member(tenant, "admin")
    client = await client_factory(admin)
    await client.post(f"/t/{tenant['slug']}/profile", {"nipt": "L11234561E", "legal_name": "AlbaNet Fiber sh.p.k."})

    page = await client.get(f"/t/{tenant['slug']}/audit")

    assert page.status_code == 200
    text = page.text
    assert "Profili i organizatës u ndryshua" in text
    assert "Organizata u krijua" in text and "Anëtari u shtua" in text
    assert text.index("Profili i organizatës u ndryshua") < text.index("Anëtari u shtua") < text.index("Organizata u krijua")
    assert "K91234567A → L11234561E" in text
    assert "— → AlbaNet Fiber sh.p.k." in text
    assert admin.email in text
    entries, _total = await audit.entries_for_tenant(tenant["id"], limit=1, offset=0)
    tirana = format_datetime(entries[0]["at"].astimezone(ZoneInfo("Europe/Tirane")), format="dd.MM.y, HH:mm", locale="sq")
    assert tirana in text


async def test_the_log_is_paginated(factory, client_factory):
    tenant = await factory.tenant("isp")
    admin = await factory.member(tenant, "admin")
    actor = Actor(user_id=admin.user["id"], label=admin.email, ip="10.0.0.7")
    for number in range(30):
        await audit.record("api_key.revoked", actor=actor, tenant_id=tenant["id"], object_type="api_key", object_id=1000 + number)
    client = await client_factory(admin)

    first = await client.get(f"/t/{tenant['slug']}/audit")
    assert "#1029" in first.text and "#1005" in first.text and "#1004" not in first.text
    assert "Faqja 1 nga 2 · 32 gjithsej" in first.text  # 30 + organisation created + member added
    second = await client.get(f"/t/{tenant['slug']}/audit?page=2")
    assert "#1004" in second.text and "#1000" in second.text and "#1029" not in second.text
    assert "Organizata u krijua" in second.text
    beyond = await client.get(f"/t/{tenant['slug']}/audit?page=99")
    assert beyond.status_code == 200 and "#1000" in beyond.text


async def test_only_admins_read_the_log(factory, client_factory):
    tenant = await factory.tenant("isp")
    officer = await factory.member(tenant, "officer")
    response = await (await client_factory(officer)).get(f"/t/{tenant['slug']}/audit")
    assert response.status_code == 403
    assert "Roli juaj në këtë organizatë nuk e lejon këtë veprim." in response.text


async def test_another_organisations_admin_reads_nothing(factory, client_factory):
    tenant = await factory.tenant("isp", name="AlbaNet Fiber")
    admin = await factory.member(tenant, "admin", email="drejtori@albanet.example")
    own_client = await client_factory(admin)
    await own_client.post(f"/t/{tenant['slug']}/profile", {"nipt": "L11234561E"})
    other = await factory.tenant("regulator")
    outsider = await factory.member(other, "admin")
    client = await client_factory(outsider)
    await assert_outsider_gets_nothing(client, "GET", f"/t/{tenant['slug']}/audit", ["drejtori@albanet.example", "L11234561E"])
    own = await client.get(f"/t/{other['slug']}/audit")
    assert own.status_code == 200
    assert "drejtori@albanet.example" not in own.text and "L11234561E" not in own.text


def test_details_are_described_in_words():
    from portal.audit.routes import describe_detail

    lines = describe_detail(
        {"user": "drita@example.test", "role": ["officer", "viewer"], "reason": "superseded", "repeat": True}
    )
    assert ("Personi", "drita@example.test") in lines
    assert ("Roli", "Zyrtar → Vëzhgues") in lines
    assert ("Arsyeja", "u zëvendësua nga një ftesë më e re") in lines
    assert ("Raportim i përsëritur", "po") in lines
    assert describe_detail({"decision": "return", "priority": "critical"}) == [
        ("Vendimi", "kthyer për ndryshime"), ("Prioriteti", "Kritike"),
    ]
    assert describe_detail({"changes": {"nipt": ["", "K91234567A"]}}) == [("NIPT", "— → K91234567A")]
