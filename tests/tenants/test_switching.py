"""A person in several organisations: the active one follows the pages they open, and / goes there."""

from tests.tenants.support import membership_of


async def test_the_active_organisation_follows_the_switcher(factory, client_factory):
    first = await factory.tenant("ngo", name="A Fondacioni")
    second = await factory.tenant("agency", name="B Policia")
    person = await factory.member(first, "officer", email="drita@example.test")
    await factory.member(second, "analyst", email="drita@example.test")
    client = await client_factory(person)

    page = await client.get(f"/t/{first['slug']}/")
    assert f'href="/t/{second["slug"]}/"' in page.text  # the switcher offers the other organisation
    assert (await client.get("/")).headers["location"] == f"/t/{first['slug']}/"

    assert (await client.get(f"/t/{second['slug']}/members")).status_code == 200
    assert (await client.get("/")).headers["location"] == f"/t/{second['slug']}/"

    assert (await client.get(f"/t/{first['slug']}/profile")).status_code == 200
    assert (await client.get("/")).headers["location"] == f"/t/{first['slug']}/"


async def test_losing_the_active_organisation_sends_the_person_to_another(factory, client_factory):
    first = await factory.tenant("ngo", name="A Fondacioni")
    second = await factory.tenant("agency", name="B Policia")
    admin = await factory.member(second, "admin")
    person = await factory.member(first, "officer", email="drita@example.test")
    in_second = await factory.member(second, "viewer", email="drita@example.test")
    client = await client_factory(person)
    await client.get(f"/t/{second['slug']}/")
    admin_client = await client_factory(admin)
    membership = await membership_of(in_second)
    assert (await admin_client.post(f"/t/{second['slug']}/members/{membership['id']}/deactivate")).status_code == 303

    assert (await client.get("/")).headers["location"] == f"/t/{first['slug']}/"
    assert (await client.get(f"/t/{second['slug']}/")).status_code == 404
