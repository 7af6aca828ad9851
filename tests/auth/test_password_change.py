"""Changing one's password from the account page."""

from __future__ import annotations

from portal.audit.tables import AuditEntry
from portal.core.db import system_transaction

NEW_PASSWORD = "Nje-fjalekalim-tjeter-2026"
WRONG_CURRENT = "Fjalëkalimi aktual nuk është i saktë."


async def test_wrong_current_password_is_refused_and_changes_nothing(factory, client_factory):
    tenant = await factory.tenant()
    member = await factory.member(tenant)
    browser = await client_factory(member)

    response = await browser.post(
        "/account/password",
        {"current_password": "not-my-password", "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )

    assert response.status_code == 422
    assert WRONG_CURRENT in response.text
    assert f'<p class="error" id="f-current_password-error">{WRONG_CURRENT}</p>' in response.text
    other = await client_factory()
    await other.login(member.email, member.password)  # the old password still works
    async with system_transaction():  # the audit log is tenant-scoped on PostgreSQL: read it as the system
        assert await AuditEntry.count().where(AuditEntry.action == "auth.login") == 2
        assert await AuditEntry.count().where(AuditEntry.action == "auth.password_changed") == 0


async def test_too_short_or_mismatched_new_password_is_refused(factory, client_factory):
    tenant = await factory.tenant()
    member = await factory.member(tenant)
    browser = await client_factory(member)

    short = await browser.post(
        "/account/password", {"current_password": member.password, "new_password": "short", "confirm_password": "short"}
    )
    assert short.status_code == 422
    assert "Fjalëkalimi duhet të ketë të paktën 10 karaktere." in short.text

    mismatch = await browser.post(
        "/account/password",
        {"current_password": member.password, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD + "!"},
    )
    assert mismatch.status_code == 422
    assert "Dy fjalëkalimet nuk përputhen." in mismatch.text


async def test_change_keeps_this_session_and_signs_out_the_others(factory, client_factory):
    tenant = await factory.tenant()
    member = await factory.member(tenant)
    laptop = await client_factory(member)
    phone = await client_factory(member)

    response = await laptop.post(
        "/account/password",
        {"current_password": member.password, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/account"
    account = await laptop.get("/account")
    assert account.status_code == 200
    assert "Fjalëkalimi juaj u ndryshua. Seancat e tjera u mbyllën." in account.text
    signed_out = await phone.get("/account")
    assert signed_out.status_code in (302, 303)
    assert signed_out.headers["location"].startswith("/login")

    fresh = await client_factory()
    await fresh.login(member.email, NEW_PASSWORD)
    stranger = await client_factory()
    await stranger.get("/login")
    refused = await stranger.post("/login", {"email": member.email, "password": member.password})
    assert refused.status_code == 422

    async with system_transaction():
        [entry] = await AuditEntry.select().where(AuditEntry.action == "auth.password_changed")
    assert entry["actor_user_id"] == member.user["id"]


async def test_password_change_needs_a_signed_in_person(client):
    await client.get("/login")
    response = await client.post(
        "/account/password", {"current_password": "x", "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    )
    assert response.status_code in (302, 303)
    assert response.headers["location"].startswith("/login")
