"""Signing in and out through the real pages."""

from portal.auth.services import MAX_FAILURES_PER_ACCOUNT


async def test_login_with_right_password_opens_the_tenant_overview(factory, client):
    tenant = await factory.tenant("isp", name="AlbaNet Test")
    admin = await factory.member(tenant, "admin")
    response = await client.login(admin.email)
    assert response.headers["location"].endswith(f"/t/{tenant['slug']}/")
    page = await client.get(f"/t/{tenant['slug']}/")
    assert page.status_code == 200
    assert "AlbaNet Test" in page.text


async def test_wrong_password_is_refused_in_albanian_and_keeps_the_email(factory, client):
    tenant = await factory.tenant()
    admin = await factory.member(tenant)
    await client.get("/login")
    response = await client.post("/login", {"email": admin.email, "password": "wrong-password"})
    assert response.status_code == 422
    assert "Email-i ose fjalëkalimi nuk është i saktë." in response.text
    assert f'value="{admin.email}"' in response.text
    assert "portal_session" not in response.cookies


async def test_unknown_email_gets_the_same_message(client):
    await client.get("/login")
    response = await client.post("/login", {"email": "nobody@example.test", "password": "whatever-123"})
    assert response.status_code == 422
    assert "Email-i ose fjalëkalimi nuk është i saktë." in response.text


async def test_failed_logins_are_throttled_per_account(factory, client):
    tenant = await factory.tenant()
    admin = await factory.member(tenant)
    await client.get("/login")
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        await client.post("/login", {"email": admin.email, "password": "wrong-password"})
    response = await client.post("/login", {"email": admin.email, "password": admin.password})
    assert response.status_code == 429
    assert "portal_session" not in response.cookies


async def test_missing_csrf_token_is_refused(factory, client):
    tenant = await factory.tenant()
    admin = await factory.member(tenant)
    await client.get("/login")
    response = await client.http.post("/login", data={"email": admin.email, "password": admin.password})
    assert response.status_code == 403
    assert "Formulari ka skaduar" in response.text


async def test_logout_ends_the_session(factory, client):
    tenant = await factory.tenant()
    admin = await factory.member(tenant)
    await client.login(admin.email)
    await client.post("/logout")
    response = await client.get(f"/t/{tenant['slug']}/")
    assert response.status_code == 303 or response.status_code == 302
    assert "/login" in response.headers["location"]
