"""Platform operator pages: list every organisation, create one and invite its first administrator."""

from portal.core.db import execute, system_transaction
from tests.tenants.support import audit_actions, count, database_state, invitation_token, mails_to

NEW_TENANT = {
    "kind": "isp", "name": "Vlora Net sh.p.k.", "slug": "vloranet", "nipt": "l 4123 4567 h", "admin_email": "drejtori@vloranet.example",
}


async def make_operator(factory):
    home = await factory.tenant("regulator", name="AKEP")
    operator = await factory.member(home, "viewer", email="operator@portal.example")
    async with system_transaction():
        await execute("UPDATE portal_user SET is_operator = {} WHERE id = {}", True, operator.user["id"])
    return operator


async def test_the_operator_lists_every_organisation(factory, client_factory):
    operator = await make_operator(factory)
    isp = await factory.tenant("isp", name="AlbaNet Fiber", nipt="L11234561E")
    await factory.member(isp, "admin")
    await factory.tenant("ngo", name="Linja e Raportimit", is_hotline=True)
    client = await client_factory(operator)

    page = await client.get("/operator/tenants")

    assert page.status_code == 200
    for text in ("AKEP", "AlbaNet Fiber", "L11234561E", "Linja e Raportimit", "Organizatat në portal", "linjë raportimi"):
        assert text in page.text, text


async def test_the_operator_creates_an_organisation_and_its_first_admin_joins(factory, client_factory):
    operator = await make_operator(factory)
    client = await client_factory(operator)

    response = await client.post("/operator/tenants", NEW_TENANT)

    assert response.status_code == 303
    assert response.headers["location"] == "/operator/tenants"
    async with system_transaction():
        [tenant] = await execute("SELECT * FROM tenant WHERE slug = 'vloranet'")
        [invitation] = await execute("SELECT * FROM invitation WHERE tenant = {}", tenant["id"])
    assert (tenant["kind"], tenant["name"], tenant["nipt"]) == ("isp", "Vlora Net sh.p.k.", "L41234567H")
    assert (invitation["email"], invitation["role"]) == ("drejtori@vloranet.example", "admin")
    [mail] = await mails_to("drejtori@vloranet.example")
    assert "Vlora Net sh.p.k." in mail["subject"] and "me rolin Administrator" in mail["body_text"]
    assert await audit_actions(tenant["id"]) == ["tenant.created", "invitation.created"]
    listing = await client.get("/operator/tenants")
    assert "vloranet" in listing.text

    token = await invitation_token("drejtori@vloranet.example")
    browser = await client_factory()
    response = await browser.post(
        f"/invitations/{token}", {"full_name": "Erion Vlora", "password": "Vlora-Net-2026!", "confirm_password": "Vlora-Net-2026!"}
    )
    assert response.status_code == 303
    members = await browser.get("/t/vloranet/members")
    assert members.status_code == 200
    assert f'action="/t/vloranet/members/invite"' in members.text  # the new person is the organisation's admin


async def test_a_hotline_ngo_is_created_with_the_flag(factory, client_factory):
    client = await client_factory(await make_operator(factory))
    data = NEW_TENANT | {"kind": "ngo", "slug": "linja", "name": "Linja", "is_hotline": "on", "nipt": ""}
    assert (await client.post("/operator/tenants", data)).status_code == 303
    async with system_transaction():
        [tenant] = await execute("SELECT is_hotline FROM tenant WHERE slug = 'linja'")
    assert bool(tenant["is_hotline"]) is True


async def test_bad_input_creates_nothing_and_is_explained_in_albanian(factory, client_factory):
    operator = await make_operator(factory)
    await factory.tenant("isp", slug="albanet")
    client = await client_factory(operator)
    before = await database_state()

    response = await client.post("/operator/tenants", NEW_TENANT | {"nipt": "123", "admin_email": "not-an-address"})
    assert response.status_code == 422
    assert "NIPT-i duhet të jetë një shkronjë, tetë shifra dhe një shkronjë" in response.text
    assert 'id="f-admin_email-error"' in response.text and "Shkruani një adresë email-i të vlefshme." in response.text
    assert 'value="Vlora Net sh.p.k."' in response.text and 'value="123"' in response.text

    response = await client.post("/operator/tenants", NEW_TENANT | {"slug": "albanet"})
    assert response.status_code == 422
    assert "Ekziston tashmë një organizatë me këtë emër të shkurtër." in response.text

    response = await client.post("/operator/tenants", NEW_TENANT | {"slug": "Vlora Net!", "kind": "bank", "name": ""})
    assert response.status_code == 422
    assert "Zgjidhni llojin e organizatës." in response.text
    assert "Shkruani emrin e organizatës." in response.text

    assert await database_state() == before
    assert await count("tenant") == 2


async def test_everyone_else_is_told_nothing_is_there(factory, client_factory):
    tenant = await factory.tenant("regulator")
    admin = await factory.member(tenant, "admin")
    client = await client_factory(admin)
    before = await database_state()
    assert (await client.get("/operator/tenants")).status_code == 404
    response = await client.post("/operator/tenants", NEW_TENANT)
    assert response.status_code == 404
    assert "Vlora" not in response.text
    assert await database_state() == before

    anonymous = await client_factory()
    response = await anonymous.get("/operator/tenants")
    assert response.status_code in (302, 303) and response.headers["location"].startswith("/login")
