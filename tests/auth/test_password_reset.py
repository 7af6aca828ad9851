"""Password reset by email link, end to end: page → outbox → SMTP → link → new password."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from portal.auth.tables import PasswordReset
from portal.core.mail import SmtpMailSender
from portal.outbox.services import deliver_due
from portal.outbox.tables import OutboxMessage
from portal.tenants.tables import User

NEW_PASSWORD = "Fjalekalim-i-ri-2026"
LINK = re.compile(r"http://portal\.test(/password/reset/[A-Za-z0-9_-]+)")
SENT_ANSWER = "Nëse ekziston një llogari për këtë adresë"
INVALID_LINK = "Kjo lidhje për rivendosjen e fjalëkalimit nuk është e vlefshme ose ka skaduar."


async def ask_for_reset(client, email: str):
    await client.get("/password/forgot")
    response = await client.post("/password/forgot", {"email": email})
    assert response.status_code == 200
    assert SENT_ANSWER in response.text
    return response


async def deliver_and_read_link(smtp_server, settings) -> str:
    assert await deliver_due(SmtpMailSender(smtp_server.url, settings.mail_from)) == 1
    [mail] = smtp_server.messages
    match = LINK.search(mail.body)
    assert match, mail.body
    return match.group(1)


async def test_reset_by_mailed_link_sets_a_new_password(factory, client_factory, smtp_server, settings):
    tenant = await factory.tenant("ngo")
    member = await factory.member(tenant, "officer")
    browser = await client_factory()

    await ask_for_reset(browser, member.email.upper())  # the address is matched case-insensitively

    [queued] = await OutboxMessage.select()
    assert queued["to_address"] == member.email
    assert queued["status"] == "pending"
    path = await deliver_and_read_link(smtp_server, settings)
    [mail] = smtp_server.messages
    assert mail.to == member.email
    assert mail.subject == "Rivendosni fjalëkalimin tuaj të portalit"
    assert (await PasswordReset.select(PasswordReset.token_hash).first())["token_hash"] not in mail.body

    form = await browser.get(path)
    assert form.status_code == 200
    assert 'name="new_password"' in form.text

    mismatch = await browser.post(path, {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD + "x"})
    assert mismatch.status_code == 422
    assert "Dy fjalëkalimet nuk përputhen." in mismatch.text

    done = await browser.post(path, {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert done.status_code == 200
    assert "Fjalëkalimi u ndryshua" in done.text

    fresh = await client_factory()
    await fresh.login(member.email, NEW_PASSWORD)
    old = await client_factory()
    await old.get("/login")
    refused = await old.post("/login", {"email": member.email, "password": member.password})
    assert refused.status_code == 422

    again = await browser.get(path)
    assert again.status_code == 404
    assert INVALID_LINK in again.text
    reused = await browser.post(path, {"new_password": "Another-pass-2026", "confirm_password": "Another-pass-2026"})
    assert reused.status_code == 404
    await fresh.login(member.email, NEW_PASSWORD)  # the second attempt changed nothing


async def test_reset_signs_out_every_session_of_the_account(factory, client_factory, smtp_server, settings):
    tenant = await factory.tenant()
    member = await factory.member(tenant)
    signed_in = await client_factory(member)
    assert (await signed_in.get("/account")).status_code == 200

    visitor = await client_factory()
    await ask_for_reset(visitor, member.email)
    path = await deliver_and_read_link(smtp_server, settings)
    await visitor.post(path, {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})

    response = await signed_in.get("/account")
    assert response.status_code in (302, 303)
    assert response.headers["location"].startswith("/login")


async def test_expired_link_gives_a_translated_not_found_page(factory, client, smtp_server, settings):
    tenant = await factory.tenant()
    member = await factory.member(tenant)
    await ask_for_reset(client, member.email)
    path = await deliver_and_read_link(smtp_server, settings)
    await PasswordReset.update({PasswordReset.expires_at: datetime.now(UTC) - timedelta(minutes=1)}, force=True)

    page = await client.get(path)
    assert page.status_code == 404
    assert "Faqja nuk u gjet" in page.text
    assert INVALID_LINK in page.text
    submitted = await client.post(path, {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert submitted.status_code == 404
    refused = await client.post("/login", {"email": member.email, "password": NEW_PASSWORD})
    assert refused.status_code == 422


async def test_made_up_link_is_not_found(client):
    response = await client.get("/password/reset/not-a-real-token")
    assert response.status_code == 404
    assert INVALID_LINK in response.text


async def test_unknown_email_gets_the_same_answer_and_queues_nothing(factory, client):
    tenant = await factory.tenant()
    await factory.member(tenant)

    unknown = await ask_for_reset(client, "nobody@nowhere.test")

    assert await OutboxMessage.count() == 0
    assert await PasswordReset.count() == 0
    assert SENT_ANSWER in unknown.text


async def test_deactivated_account_gets_no_reset_mail(factory, client):
    tenant = await factory.tenant()
    member = await factory.member(tenant)
    await User.update({User.is_active: False}).where(User.id == member.user["id"])

    await ask_for_reset(client, member.email)

    assert await OutboxMessage.count() == 0


async def test_malformed_address_is_refused_next_to_the_field(client):
    await client.get("/password/forgot")
    response = await client.post("/password/forgot", {"email": "not-an-address"})
    assert response.status_code == 422
    assert "Shkruani adresën e email-it të llogarisë suaj." in response.text
    assert 'value="not-an-address"' in response.text
    assert await OutboxMessage.count() == 0


async def test_the_mail_is_written_in_the_account_language(factory, client, smtp_server, settings):
    tenant = await factory.tenant()
    member = await factory.member(tenant)
    await User.update({User.language: "en"}).where(User.id == member.user["id"])

    await ask_for_reset(client, member.email)  # asked from an Albanian page

    await deliver_and_read_link(smtp_server, settings)
    [mail] = smtp_server.messages
    assert mail.subject == "Reset your portal password"
    assert "Open this link within one hour" in mail.body
