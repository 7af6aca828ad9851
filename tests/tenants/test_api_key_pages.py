"""API key pages: the secret is shown once, only its hash is stored, revoking stops it at once."""

import re

from portal.core.security import token_hash
from tests.isolation import assert_outsider_gets_nothing
from tests.tenants.support import audit_actions, database_state

SECRET = re.compile(r'id="api-key-secret"[^>]*value="(psk_[^"]+)"')


async def create_key(client, tenant: dict, name: str = "Sinkronizimi DNS", scopes=("read",)):
    response = await client.post(f"/t/{tenant['slug']}/api-keys", {"name": name, "scopes": list(scopes)})
    assert response.status_code == 200, response.text
    match = SECRET.search(response.text)
    assert match, response.text
    return response, match.group(1)


async def test_admin_creates_a_key_that_is_shown_once_and_stored_as_a_hash(factory, client_factory):
    tenant = await factory.tenant("isp")
    admin = await factory.member(tenant, "admin")
    client = await client_factory(admin)

    response, secret = await create_key(client, tenant, scopes=("read", "write"))

    assert response.headers["cache-control"] == "no-store"
    assert "Kopjojeni çelësin tani. Shfaqet vetëm këtë herë" in response.text
    assert 'data-copy-target="api-key-secret"' in response.text
    state = await database_state()
    [key] = state["api_key"]
    assert key["key_hash"] == token_hash(secret)
    assert secret not in str(state)
    assert "api_key.created" in await audit_actions(tenant["id"])

    listing = await client.get(f"/t/{tenant['slug']}/api-keys")
    assert listing.status_code == 200
    assert "Sinkronizimi DNS" in listing.text
    assert f"psk_{key['prefix']}_" in listing.text
    assert secret not in listing.text
    assert admin.email in listing.text

    api = await client.http.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 200
    assert api.json()["scopes"] == ["read", "write"]


async def test_revoking_a_key_stops_it_at_once(factory, client_factory):
    tenant = await factory.tenant("isp")
    admin = await factory.member(tenant, "admin")
    client = await client_factory(admin)
    _response, secret = await create_key(client, tenant)
    assert (await client.http.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})).status_code == 200
    [key] = (await database_state())["api_key"]

    response = await client.post(f"/t/{tenant['slug']}/api-keys/{key['id']}/revoke")

    assert response.status_code == 303
    assert (await client.http.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})).status_code == 401
    listing = await client.get(f"/t/{tenant['slug']}/api-keys")
    assert "Revokuar" in listing.text
    assert f"/api-keys/{key['id']}/revoke" not in listing.text
    assert (await audit_actions(tenant["id"]))[-1] == "api_key.revoked"


async def test_a_key_needs_a_name_and_a_permission(factory, client_factory):
    tenant = await factory.tenant("isp")
    admin = await factory.member(tenant, "admin")
    client = await client_factory(admin)
    before = await database_state()

    response = await client.post(f"/t/{tenant['slug']}/api-keys", {"name": "  "})
    assert response.status_code == 422
    assert "Jepini çelësit një emër që tregon ku përdoret." in response.text
    assert "Zgjidhni të paktën një leje për çelësin." in response.text
    assert 'id="api-key-secret"' not in response.text

    response = await client.post(f"/t/{tenant['slug']}/api-keys", {"name": "Raportimi", "scopes": ["delete-everything"]})
    assert response.status_code == 422
    assert 'value="Raportimi"' in response.text
    assert await database_state() == before


async def test_an_officer_may_not_see_or_create_keys(factory, client_factory):
    tenant = await factory.tenant("isp")
    admin = await factory.member(tenant, "admin")
    officer = await factory.member(tenant, "officer")
    await create_key(await client_factory(admin), tenant)
    [key] = (await database_state())["api_key"]
    client = await client_factory(officer)
    before = await database_state()
    assert (await client.get(f"/t/{tenant['slug']}/api-keys")).status_code == 403
    assert (await client.post(f"/t/{tenant['slug']}/api-keys", {"name": "x", "scopes": ["read"]})).status_code == 403
    assert (await client.post(f"/t/{tenant['slug']}/api-keys/{key['id']}/revoke")).status_code == 403
    assert await database_state() == before


async def test_another_organisation_cannot_see_or_revoke_the_keys(factory, client_factory):
    tenant = await factory.tenant("isp")
    admin = await factory.member(tenant, "admin")
    await create_key(await client_factory(admin), tenant, name="Celesi sekret i AlbaNet")
    [key] = (await database_state())["api_key"]
    other = await factory.tenant("isp")
    outsider = await factory.member(other, "admin")
    client = await client_factory(outsider)
    secrets = ["Celesi sekret i AlbaNet", key["prefix"], tenant["name"]]
    before = await database_state()
    await assert_outsider_gets_nothing(client, "GET", f"/t/{tenant['slug']}/api-keys", secrets)
    await assert_outsider_gets_nothing(client, "POST", f"/t/{tenant['slug']}/api-keys", secrets, {"name": "spy", "scopes": ["read"]})
    await assert_outsider_gets_nothing(client, "POST", f"/t/{tenant['slug']}/api-keys/{key['id']}/revoke", secrets)
    # through the outsider's own organisation, the other key's id is simply unknown
    await assert_outsider_gets_nothing(client, "POST", f"/t/{other['slug']}/api-keys/{key['id']}/revoke", secrets)
    assert await database_state() == before
