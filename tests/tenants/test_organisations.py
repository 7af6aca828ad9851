"""The regulators' read-only directory of every organisation."""

from tests.isolation import assert_outsider_gets_nothing
from tests.tenants.support import database_state


async def make_directory(factory):
    regulator = await factory.tenant("regulator", slug="akcesk", name="AKCESK")
    isp = await factory.tenant(
        "isp", slug="albanet", name="AlbaNet Fiber", nipt="L11234561E", contact_email="abuse@albanet.example",
        contact_point_name="Klajdi Dervishi", contact_point_title="Përgjegjës i Përputhshmërisë",
        contact_point_email="klajdi@albanet.example", contact_point_phone="+355 4 222 0001",
    )
    ngo = await factory.tenant("ngo", slug="hotline", name="Linja e Raportimit", is_hotline=True)
    await factory.member(isp, "admin")
    await factory.member(isp, "officer")
    return regulator, isp, ngo


async def test_a_regulator_sees_every_organisation_with_its_contact_point(factory, client_factory):
    regulator, isp, ngo = await make_directory(factory)
    viewer = await factory.member(regulator, "viewer")
    client = await client_factory(viewer)
    before = await database_state()

    page = await client.get("/t/akcesk/organisations")

    assert page.status_code == 200
    for text in ("AKCESK", "AlbaNet Fiber", "Linja e Raportimit", "L11234561E", "abuse@albanet.example", "Klajdi Dervishi",
                 "klajdi@albanet.example", "+355 4 222 0001", "Ofrues i shërbimit të internetit", "linjë raportimi"):
        assert text in page.text, text
    assert "3 organizata" in page.text
    row = page.text[page.text.index("AlbaNet Fiber"):]
    assert "<td>2</td>" in row[: row.index("</tr>")]  # two active members
    assert await database_state() == before  # read-only: nothing written, nothing audited


async def test_the_directory_filters_by_kind(factory, client_factory):
    regulator, _isp, _ngo = await make_directory(factory)
    client = await client_factory(await factory.member(regulator, "officer"))
    page = await client.get("/t/akcesk/organisations?kind=isp")
    assert page.status_code == 200
    assert "AlbaNet Fiber" in page.text
    assert "Linja e Raportimit" not in page.text
    assert '<option value="isp" selected>' in page.text
    page = await client.get("/t/akcesk/organisations?kind=nonsense")
    assert "Linja e Raportimit" in page.text and "AlbaNet Fiber" in page.text


async def test_a_regulator_opens_one_organisation(factory, client_factory):
    regulator, _isp, _ngo = await make_directory(factory)
    client = await client_factory(await factory.member(regulator, "viewer"))
    page = await client.get("/t/akcesk/organisations/albanet")
    assert page.status_code == 200
    assert "AlbaNet Fiber" in page.text and "Përgjegjës i Përputhshmërisë" in page.text
    assert "2 anëtarë aktivë" in page.text
    missing = await client.get("/t/akcesk/organisations/no-such-organisation")
    assert missing.status_code == 404


async def test_other_kinds_of_organisation_are_refused(factory, client_factory):
    _regulator, isp, ngo = await make_directory(factory)
    for tenant in (isp, ngo):
        client = await client_factory(await factory.member(tenant, "admin"))
        for path in (f"/t/{tenant['slug']}/organisations", f"/t/{tenant['slug']}/organisations/albanet"):
            response = await client.get(path)
            assert response.status_code == 403, path
            assert "Roli juaj në këtë organizatë nuk e lejon këtë veprim." in response.text
            assert "L11234561E" not in response.text and "Klajdi Dervishi" not in response.text


async def test_a_member_of_another_regulator_cannot_use_this_regulators_address(factory, client_factory):
    _regulator, _isp, _ngo = await make_directory(factory)
    akep = await factory.tenant("regulator", slug="akep", name="AKEP")
    client = await client_factory(await factory.member(akep, "admin"))
    secrets = ["L11234561E", "Klajdi Dervishi", "Linja e Raportimit"]
    await assert_outsider_gets_nothing(client, "GET", "/t/akcesk/organisations", secrets)
    await assert_outsider_gets_nothing(client, "GET", "/t/akcesk/organisations/albanet", secrets)
