"""Text people type is shown as text: a <script> payload never reaches a page as markup."""

from __future__ import annotations

from portal.tenants.tables import Tenant, User

PAYLOAD = '<script>alert("xss")</script><img src=x onerror=alert(1)>'
ESCAPED = "&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"


def assert_escaped(html: str) -> None:
    assert PAYLOAD not in html
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert ESCAPED in html


async def test_a_users_full_name_is_escaped_in_the_user_menu_and_account_page(factory, client_factory):
    tenant = await factory.tenant()
    member = await factory.member(tenant)
    await User.update({User.full_name: PAYLOAD}).where(User.id == member.user["id"])
    browser = await client_factory(member)

    for path in (f"/t/{tenant['slug']}/", "/account"):
        response = await browser.get(path)
        assert response.status_code == 200
        assert_escaped(response.text)
    assert f"<summary>{ESCAPED} ▾</summary>" in response.text  # the user menu


async def test_an_organisation_name_is_escaped_in_the_tenant_switcher_and_overview(factory, client_factory):
    tenant = await factory.tenant()
    member = await factory.member(tenant)
    await Tenant.update({Tenant.name: PAYLOAD}).where(Tenant.id == tenant["id"])
    browser = await client_factory(member)

    response = await browser.get(f"/t/{tenant['slug']}/")
    assert response.status_code == 200
    assert_escaped(response.text)


async def test_typed_input_shown_again_in_a_form_is_escaped(client):
    await client.get("/login")
    response = await client.post("/login", {"email": '"><script>alert(1)</script>', "password": "wrong-password"})
    assert response.status_code == 422
    assert "<script>alert(1)" not in response.text
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in response.text
