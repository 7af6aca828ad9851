"""Messages after a successful action are shown once, on the next page."""


async def test_flash_message_is_shown_once_after_password_change(factory, client):
    tenant = await factory.tenant()
    admin = await factory.member(tenant)
    await client.login(admin.email)
    response = await client.post(
        "/account/password",
        {"current_password": admin.password, "new_password": "a-new-long-password", "confirm_password": "a-new-long-password"},
    )
    assert response.status_code == 303
    first = await client.get("/account")
    assert "Fjalëkalimi juaj u ndryshua." in first.text
    second = await client.get("/account")
    assert "Fjalëkalimi juaj u ndryshua." not in second.text
