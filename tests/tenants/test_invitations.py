"""Accepting an invitation link: new accounts, existing accounts, and links that no longer work."""

from datetime import UTC, datetime, timedelta

from portal.core.db import execute, system_transaction
from tests.tenants.support import audit_actions, count, database_state, invitation_token, membership_of

NEW_PASSWORD = "Fjalekalim-i-gjate-1"
INVALID = "Kjo lidhje ftese nuk është e vlefshme: ka skaduar, është tërhequr ose është përdorur tashmë."


async def invite(factory, client_factory, email: str, role: str = "officer", kind: str = "isp"):
    tenant = await factory.tenant(kind, name="Shqiponja Telekom")
    admin = await factory.member(tenant, "admin")
    client = await client_factory(admin)
    response = await client.post(f"/t/{tenant['slug']}/members/invite", {"email": email, "role": role})
    assert response.status_code == 303, response.text
    return tenant, client, await invitation_token(email)


async def test_a_new_person_creates_an_account_joins_and_is_signed_in(factory, client_factory):
    tenant, _admin, token = await invite(factory, client_factory, "besa@shqiponja.example")
    browser = await client_factory()

    page = await browser.get(f"/invitations/{token}")
    assert page.status_code == 200
    assert "Ftesë në Shqiponja Telekom" in page.text
    assert "besa@shqiponja.example" in page.text
    assert 'name="full_name"' in page.text and 'name="confirm_password"' in page.text

    response = await browser.post(
        f"/invitations/{token}", {"full_name": "Besa Marku", "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/t/{tenant['slug']}/"
    home = await browser.get(f"/t/{tenant['slug']}/")
    assert home.status_code == 200
    assert "Besa Marku" in home.text
    async with system_transaction():
        [user] = await execute("SELECT id, full_name, password_hash FROM portal_user WHERE email = {}", "besa@shqiponja.example")
        memberships = await execute('SELECT role, active FROM membership WHERE "user" = {}', user["id"])
    assert user["full_name"] == "Besa Marku" and user["password_hash"].startswith("$argon2")
    assert [(m["role"], bool(m["active"])) for m in memberships] == [("officer", True)]
    assert await count("invitation", "accepted_at IS NOT NULL") == 1
    actions = await audit_actions(tenant["id"])
    assert actions[-2:] == ["membership.added", "invitation.accepted"]

    # The same link cannot be used twice.
    other_browser = await client_factory()
    before = await database_state()
    response = await other_browser.get(f"/invitations/{token}")
    assert response.status_code == 404
    assert INVALID in response.text
    response = await other_browser.post(
        f"/invitations/{token}", {"full_name": "Someone Else", "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    )
    assert response.status_code == 404
    assert INVALID in response.text
    assert await database_state() == before


async def test_a_bad_password_or_missing_name_creates_nothing_and_keeps_the_typed_name(factory, client_factory):
    _tenant, _admin, token = await invite(factory, client_factory, "besa@shqiponja.example")
    browser = await client_factory()
    before = await database_state()

    response = await browser.post(
        f"/invitations/{token}", {"full_name": "Besa Marku", "password": NEW_PASSWORD, "confirm_password": "something-else-1"}
    )
    assert response.status_code == 422
    assert "Dy fjalëkalimet nuk përputhen." in response.text or 'id="f-confirm_password-error"' in response.text
    assert 'value="Besa Marku"' in response.text

    response = await browser.post(f"/invitations/{token}", {"full_name": "", "password": "short", "confirm_password": "short"})
    assert response.status_code == 422
    assert "Shkruani emrin dhe mbiemrin tuaj." in response.text
    assert 'id="f-password-error"' in response.text
    assert await database_state() == before
    assert (await browser.get(f"/invitations/{token}")).status_code == 200


async def test_someone_with_an_account_signs_in_first_then_confirms(factory, client_factory):
    other = await factory.tenant("ngo")
    existing = await factory.member(other, "officer", email="arben@example.test")
    tenant, _admin, token = await invite(factory, client_factory, "arben@example.test", role="viewer")
    browser = await client_factory()

    page = await browser.get(f"/invitations/{token}")
    assert page.status_code == 200
    assert f'href="/login?next=/invitations/{token}"' in page.text
    assert 'name="password"' not in page.text

    # Creating a second account for the same address is refused.
    before = await database_state()
    response = await browser.post(
        f"/invitations/{token}", {"full_name": "Arben", "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    )
    assert response.status_code == 409
    assert "Ekziston tashmë një llogari me këtë adresë email-i." in response.text
    assert await database_state() == before

    await browser.get("/login")
    response = await browser.post(
        "/login", {"email": existing.email, "password": existing.password, "next": f"/invitations/{token}"}
    )
    assert response.headers["location"] == f"/invitations/{token}"
    page = await browser.get(f"/invitations/{token}")
    assert "Bashkohu me Shqiponja Telekom" in page.text

    response = await browser.post(f"/invitations/{token}")
    assert response.status_code == 303
    assert response.headers["location"] == f"/t/{tenant['slug']}/"
    assert (await browser.get(f"/t/{tenant['slug']}/")).status_code == 200
    assert (await browser.get(f"/t/{other['slug']}/")).status_code == 200  # still a member there too
    assert await count("membership", '"user" = {}', existing.user["id"]) == 2


async def test_an_invitation_for_someone_else_is_not_accepted_by_the_signed_in_person(factory, client_factory):
    other = await factory.tenant("ngo")
    intruder = await factory.member(other, "admin")
    _tenant, _admin, token = await invite(factory, client_factory, "besa@shqiponja.example")
    browser = await client_factory(intruder)
    before = await database_state()

    page = await browser.get(f"/invitations/{token}")
    assert page.status_code == 200
    assert "Kjo ftesë u dërgua te besa@shqiponja.example" in page.text
    response = await browser.post(f"/invitations/{token}")
    assert response.status_code == 403
    assert "Kjo ftesë u dërgua te besa@shqiponja.example" in response.text
    assert await database_state() == before


async def test_expired_invitation_is_refused_and_changes_nothing(factory, client_factory):
    _tenant, _admin, token = await invite(factory, client_factory, "besa@shqiponja.example")
    async with system_transaction():
        await execute("UPDATE invitation SET expires_at = {}", datetime.now(UTC) - timedelta(minutes=1))
    browser = await client_factory()
    before = await database_state()
    for response in (
        await browser.get(f"/invitations/{token}"),
        await browser.post(f"/invitations/{token}", {"full_name": "Besa", "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}),
    ):
        assert response.status_code == 404
        assert INVALID in response.text
    assert await database_state() == before


async def test_revoked_invitation_is_refused_even_for_the_invited_account(factory, client_factory):
    other = await factory.tenant("ngo")
    invited = await factory.member(other, "officer", email="besa@shqiponja.example")
    tenant, admin_client, token = await invite(factory, client_factory, "besa@shqiponja.example")
    [invitation] = (await database_state())["invitation"]
    await admin_client.post(f"/t/{tenant['slug']}/members/invitations/{invitation['id']}/revoke")
    browser = await client_factory(invited)
    before = await database_state()
    for response in (await browser.get(f"/invitations/{token}"), await browser.post(f"/invitations/{token}")):
        assert response.status_code == 404
        assert INVALID in response.text
    assert await database_state() == before


async def test_an_unknown_token_is_a_plain_404(client):
    response = await client.get("/invitations/not-a-real-token")
    assert response.status_code == 404
    assert INVALID in response.text


async def test_a_deactivated_member_who_is_invited_again_is_reactivated(factory, client_factory):
    tenant = await factory.tenant("isp")
    admin = await factory.member(tenant, "admin")
    officer = await factory.member(tenant, "officer")
    admin_client = await client_factory(admin)
    membership = await membership_of(officer)
    await admin_client.post(f"/t/{tenant['slug']}/members/{membership['id']}/deactivate")
    await admin_client.post(f"/t/{tenant['slug']}/members/invite", {"email": officer.email, "role": "viewer"})
    token = await invitation_token(officer.email)

    browser = await client_factory(officer)
    response = await browser.post(f"/invitations/{token}")

    assert response.status_code == 303
    assert await membership_of(officer) == {"id": membership["id"], "role": "viewer", "active": True}
