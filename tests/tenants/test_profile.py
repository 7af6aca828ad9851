"""The organisation profile page: everyone reads it, admins edit it, bad input changes nothing."""

from portal.audit.services import entries_for_tenant
from tests.isolation import assert_outsider_gets_nothing
from tests.tenants.support import database_state

PROFILE = {
    "legal_name": "AlbaNet Fiber sh.p.k.",
    "nipt": "L11234561E",
    "address": "Rruga Sami Frashëri 12, Tiranë",
    "contact_email": "abuse@albanet.example",
    "contact_point_name": "Klajdi Dervishi",
    "contact_point_title": "Përgjegjës i Përputhshmërisë",
    "contact_point_email": "klajdi@albanet.example",
    "contact_point_phone": "+355 4 222 0001",
}


async def test_every_member_sees_the_profile_but_only_admins_get_the_form(factory, client_factory):
    tenant = await factory.tenant("isp", **PROFILE)
    viewer = await factory.member(tenant, "viewer")
    admin = await factory.member(tenant, "admin")

    response = await (await client_factory(viewer)).get(f"/t/{tenant['slug']}/profile")
    assert response.status_code == 200
    for value in ("L11234561E", "Klajdi Dervishi", "klajdi@albanet.example", "+355 4 222 0001"):
        assert value in response.text
    assert 'action="/t/%s/profile"' % tenant["slug"] not in response.text
    assert "Vetëm administratorët e organizatës mund ta ndryshojnë profilin." in response.text

    response = await (await client_factory(admin)).get(f"/t/{tenant['slug']}/profile")
    assert response.status_code == 200
    assert 'action="/t/%s/profile"' % tenant["slug"] in response.text
    assert 'value="L11234561E"' in response.text


async def test_admin_saves_the_profile_with_a_normalised_nipt_and_the_change_is_audited(factory, client_factory):
    tenant = await factory.tenant("isp", nipt="K91234567A")
    admin = await factory.member(tenant, "admin")
    client = await client_factory(admin)

    response = await client.post(f"/t/{tenant['slug']}/profile", PROFILE | {"nipt": " l11 234561e ", "contact_email": "Abuse@AlbaNet.example"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/t/{tenant['slug']}/profile"
    page = await client.get(response.headers["location"])
    assert 'value="L11234561E"' in page.text
    assert 'value="abuse@albanet.example"' in page.text

    entries, _total = await entries_for_tenant(tenant["id"], limit=5, offset=0)
    latest = entries[0]
    assert latest["action"] == "tenant.profile_updated"
    assert latest["actor_label"] == admin.email
    assert latest["detail"]["changes"]["nipt"] == ["K91234567A", "L11234561E"]
    assert latest["detail"]["changes"]["legal_name"] == ["", "AlbaNet Fiber sh.p.k."]
    assert "contact_point_phone" in latest["detail"]["changes"]


async def test_saving_the_same_values_records_nothing(factory, client_factory):
    tenant = await factory.tenant("isp", **PROFILE)
    admin = await factory.member(tenant, "admin")
    client = await client_factory(admin)
    before = await database_state()
    response = await client.post(f"/t/{tenant['slug']}/profile", PROFILE)
    assert response.status_code == 303
    assert await database_state() == before


async def test_malformed_nipt_is_refused_next_to_the_field_keeping_every_typed_value(factory, client_factory):
    tenant = await factory.tenant("isp", nipt="K91234567A")
    admin = await factory.member(tenant, "admin")
    client = await client_factory(admin)
    before = await database_state()

    typed = PROFILE | {"nipt": "12345", "address": "Rruga e Kavajës 5, Tiranë"}
    response = await client.post(f"/t/{tenant['slug']}/profile", typed)

    assert response.status_code == 422
    assert await database_state() == before
    assert 'id="f-nipt-error"' in response.text
    assert "NIPT-i duhet të jetë një shkronjë, tetë shifra dhe një shkronjë" in response.text
    assert 'value="12345"' in response.text
    assert "Rruga e Kavajës 5, Tiranë" in response.text
    assert 'value="Klajdi Dervishi"' in response.text


async def test_bad_contact_emails_and_phone_are_refused_and_nothing_changes(factory, client_factory):
    tenant = await factory.tenant("isp")
    admin = await factory.member(tenant, "admin")
    client = await client_factory(admin)
    before = await database_state()

    response = await client.post(
        f"/t/{tenant['slug']}/profile",
        PROFILE | {"contact_email": "abuse-at-albanet", "contact_point_email": "klajdi@", "contact_point_phone": "call me"},
    )

    assert response.status_code == 422
    assert await database_state() == before
    assert 'id="f-contact_email-error"' in response.text
    assert 'id="f-contact_point_email-error"' in response.text
    assert 'id="f-contact_point_phone-error"' in response.text
    assert response.text.count("Shkruani një adresë email-i të vlefshme.") == 2
    assert 'value="abuse-at-albanet"' in response.text


async def test_markup_typed_into_the_profile_is_shown_as_text(factory, client_factory):
    tenant = await factory.tenant("isp")
    admin = await factory.member(tenant, "admin")
    client = await client_factory(admin)
    payload = "<script>alert(1)</script>"
    response = await client.post(f"/t/{tenant['slug']}/profile", {"legal_name": payload, "address": payload})
    assert response.status_code == 303
    page = await client.get(f"/t/{tenant['slug']}/profile")
    assert payload not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


async def test_an_officer_may_not_edit_the_profile(factory, client_factory):
    tenant = await factory.tenant("isp", **PROFILE)
    officer = await factory.member(tenant, "officer")
    client = await client_factory(officer)
    before = await database_state()
    response = await client.post(f"/t/{tenant['slug']}/profile", PROFILE | {"nipt": "K00000000Z"})
    assert response.status_code == 403
    assert "Roli juaj në këtë organizatë nuk e lejon këtë veprim." in response.text
    assert await database_state() == before


async def test_a_member_of_another_organisation_gets_nothing(factory, client_factory):
    tenant = await factory.tenant("isp", **PROFILE)
    other = await factory.tenant("regulator")
    outsider = await factory.member(other, "admin")
    client = await client_factory(outsider)
    secrets = ["L11234561E", "Klajdi Dervishi", "klajdi@albanet.example", tenant["name"]]
    before = await database_state()
    await assert_outsider_gets_nothing(client, "GET", f"/t/{tenant['slug']}/profile", secrets)
    await assert_outsider_gets_nothing(client, "POST", f"/t/{tenant['slug']}/profile", secrets, PROFILE | {"nipt": "K00000000Z"})
    assert await database_state() == before
