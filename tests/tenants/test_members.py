"""Members page: listing, inviting, withdrawing invitations, roles, deactivation, the last admin rule."""

from datetime import timedelta

from portal.core.security import token_hash
from tests.isolation import assert_outsider_gets_nothing
from tests.tenants.support import (
    audit_actions,
    count,
    database_state,
    invitation_token,
    mails_to,
    membership_of,
)


async def test_members_page_lists_people_and_admins_see_pending_invitations(factory, client_factory):
    tenant = await factory.tenant("isp")
    admin = await factory.member(tenant, "admin")
    viewer = await factory.member(tenant, "viewer")
    admin_client = await client_factory(admin)
    assert (await admin_client.post(f"/t/{tenant['slug']}/members/invite", {"email": "drita@albanet.example", "role": "officer"})).status_code == 303

    page = await admin_client.get(f"/t/{tenant['slug']}/members")
    assert page.status_code == 200
    assert admin.email in page.text and viewer.email in page.text
    assert "<td>Vëzhgues</td>" in page.text  # the viewer's role, translated
    assert "drita@albanet.example" in page.text
    assert "Ftesa në pritje" in page.text
    assert f'action="/t/{tenant["slug"]}/members/invite"' in page.text

    page = await (await client_factory(viewer)).get(f"/t/{tenant['slug']}/members")
    assert page.status_code == 200
    assert admin.email in page.text
    assert "drita@albanet.example" not in page.text
    assert "/members/invite" not in page.text and "/deactivate" not in page.text


async def test_invitation_is_mailed_in_albanian_with_a_token_stored_only_as_its_hash(factory, client_factory):
    tenant = await factory.tenant("isp", name="AlbaNet Fiber")
    admin = await factory.member(tenant, "admin")
    client = await client_factory(admin)

    response = await client.post(f"/t/{tenant['slug']}/members/invite", {"email": " Drita@AlbaNet.example ", "role": "officer"})

    assert response.status_code == 303
    mails = await mails_to("drita@albanet.example")
    assert len(mails) == 1
    assert mails[0]["subject"] == "Ftesë për t'u bashkuar me AlbaNet Fiber në portalin e partnerëve"
    assert "ju ka ftuar të bashkoheni me AlbaNet Fiber" in mails[0]["body_text"]
    assert "me rolin Zyrtar" in mails[0]["body_text"]
    token = await invitation_token("drita@albanet.example")
    state = await database_state()
    [invitation] = state["invitation"]
    assert invitation["token_hash"] == token_hash(token)
    stored = {table: rows for table, rows in state.items() if table != "outbox_message"}
    assert token not in str(stored)  # the token itself is kept nowhere but in the queued mail
    assert invitation["email"] == "drita@albanet.example" and invitation["role"] == "officer"
    lifetime = invitation["expires_at"] - invitation["created_at"]
    assert timedelta(days=7) - timedelta(minutes=1) < lifetime <= timedelta(days=7, minutes=1)
    assert "invitation.created" in await audit_actions(tenant["id"])
    page = await client.get(f"/t/{tenant['slug']}/members")
    assert token not in page.text


async def test_inviting_again_replaces_the_pending_invitation(factory, client_factory):
    tenant = await factory.tenant("isp")
    admin = await factory.member(tenant, "admin")
    client = await client_factory(admin)
    await client.post(f"/t/{tenant['slug']}/members/invite", {"email": "drita@albanet.example", "role": "viewer"})
    first = await invitation_token("drita@albanet.example")
    await client.post(f"/t/{tenant['slug']}/members/invite", {"email": "drita@albanet.example", "role": "officer"})
    second = await invitation_token("drita@albanet.example")
    assert first != second
    assert await count("invitation", "revoked_at IS NULL") == 1
    anonymous = await client_factory()
    assert (await anonymous.get(f"/invitations/{first}")).status_code == 404
    assert (await anonymous.get(f"/invitations/{second}")).status_code == 200


async def test_bad_email_is_refused_next_to_the_field_and_nothing_changes(factory, client_factory):
    tenant = await factory.tenant("isp")
    admin = await factory.member(tenant, "admin")
    client = await client_factory(admin)
    before = await database_state()
    response = await client.post(f"/t/{tenant['slug']}/members/invite", {"email": "drita-albanet", "role": "officer"})
    assert response.status_code == 422
    assert await database_state() == before
    assert 'id="f-email-error"' in response.text
    assert "Shkruani një adresë email-i të vlefshme." in response.text
    assert 'value="drita-albanet"' in response.text


async def test_an_isp_cannot_have_analysts(factory, client_factory):
    tenant = await factory.tenant("isp")
    admin = await factory.member(tenant, "admin")
    officer = await factory.member(tenant, "officer")
    client = await client_factory(admin)
    page = await client.get(f"/t/{tenant['slug']}/members")
    assert 'value="analyst"' not in page.text  # not even offered
    before = await database_state()

    response = await client.post(f"/t/{tenant['slug']}/members/invite", {"email": "ana@albanet.example", "role": "analyst"})
    assert response.status_code == 422
    assert "Vetëm OJF-të që operojnë linjën e raportimit" in response.text
    assert 'value="ana@albanet.example"' in response.text

    response = await client.post(f"/t/{tenant['slug']}/members/{(await membership_of(officer))['id']}/role", {"role": "analyst"})
    assert response.status_code == 422
    assert "Vetëm OJF-të që operojnë linjën e raportimit" in response.text
    assert await database_state() == before


async def test_a_hotline_ngo_may_invite_an_analyst(factory, client_factory):
    tenant = await factory.tenant("ngo", is_hotline=True)
    admin = await factory.member(tenant, "admin")
    client = await client_factory(admin)
    page = await client.get(f"/t/{tenant['slug']}/members")
    assert 'value="analyst"' in page.text
    response = await client.post(f"/t/{tenant['slug']}/members/invite", {"email": "ana@hotline.example", "role": "analyst"})
    assert response.status_code == 303
    assert await count("invitation", "role = 'analyst'") == 1


async def test_an_active_member_cannot_be_invited_again(factory, client_factory):
    tenant = await factory.tenant("isp")
    admin = await factory.member(tenant, "admin")
    officer = await factory.member(tenant, "officer")
    client = await client_factory(admin)
    before = await database_state()
    response = await client.post(f"/t/{tenant['slug']}/members/invite", {"email": officer.email.upper(), "role": "viewer"})
    assert response.status_code == 422
    assert "Ky person është tashmë anëtar i organizatës." in response.text
    assert await database_state() == before


async def test_withdrawn_invitation_link_stops_working_and_is_audited(factory, client_factory):
    tenant = await factory.tenant("isp")
    admin = await factory.member(tenant, "admin")
    client = await client_factory(admin)
    await client.post(f"/t/{tenant['slug']}/members/invite", {"email": "drita@albanet.example", "role": "officer"})
    token = await invitation_token("drita@albanet.example")
    [invitation] = (await database_state())["invitation"]

    response = await client.post(f"/t/{tenant['slug']}/members/invitations/{invitation['id']}/revoke")

    assert response.status_code == 303
    assert await count("invitation", "revoked_at IS NOT NULL") == 1
    assert "invitation.revoked" in await audit_actions(tenant["id"])
    page = await client.get(f"/t/{tenant['slug']}/members")
    assert "Ftesa u tërhoq; lidhja e saj nuk funksionon më." in page.text
    # The address still appears in the earlier "invitation sent" message, but no longer as pending.
    page = await client.get(f"/t/{tenant['slug']}/members")
    assert "drita@albanet.example" not in page.text
    anonymous = await client_factory()
    response = await anonymous.get(f"/invitations/{token}")
    assert response.status_code == 404
    assert "Kjo lidhje ftese nuk është e vlefshme" in response.text


async def test_admin_changes_a_role_and_the_change_is_audited(factory, client_factory):
    tenant = await factory.tenant("agency")
    admin = await factory.member(tenant, "admin")
    officer = await factory.member(tenant, "officer")
    client = await client_factory(admin)
    membership = await membership_of(officer)

    response = await client.post(f"/t/{tenant['slug']}/members/{membership['id']}/role", {"role": "analyst"})

    assert response.status_code == 303
    assert (await membership_of(officer))["role"] == "analyst"
    assert (await audit_actions(tenant["id"]))[-1] == "membership.role_changed"
    page = await (await client_factory(officer)).get(f"/t/{tenant['slug']}/")
    assert "Analist" in page.text


async def test_the_last_admin_can_neither_demote_nor_deactivate_themselves(factory, client_factory):
    tenant = await factory.tenant("isp")
    admin = await factory.member(tenant, "admin")
    await factory.member(tenant, "officer")
    client = await client_factory(admin)
    membership = await membership_of(admin)
    before = await database_state()

    response = await client.post(f"/t/{tenant['slug']}/members/{membership['id']}/role", {"role": "officer"})
    assert response.status_code == 409
    assert "Jeni administratori i fundit aktiv i kësaj organizate." in response.text
    assert "përpara se të ndryshoni rolin tuaj" in response.text

    response = await client.post(f"/t/{tenant['slug']}/members/{membership['id']}/deactivate")
    assert response.status_code == 409
    assert "përpara se të çaktivizoni anëtarësinë tuaj" in response.text

    assert await database_state() == before
    assert (await client.get(f"/t/{tenant['slug']}/members")).status_code == 200


async def test_with_a_second_admin_an_admin_may_step_down(factory, client_factory):
    tenant = await factory.tenant("isp")
    admin = await factory.member(tenant, "admin")
    await factory.member(tenant, "admin")
    client = await client_factory(admin)
    membership = await membership_of(admin)
    response = await client.post(f"/t/{tenant['slug']}/members/{membership['id']}/role", {"role": "viewer"})
    assert response.status_code == 303
    assert (await membership_of(admin))["role"] == "viewer"
    # and is now a viewer, who may no longer manage members
    response = await client.post(f"/t/{tenant['slug']}/members/{membership['id']}/role", {"role": "admin"})
    assert response.status_code == 403


async def test_a_deactivated_member_loses_access_until_reactivated(factory, client_factory):
    tenant = await factory.tenant("isp")
    admin = await factory.member(tenant, "admin")
    officer = await factory.member(tenant, "officer")
    admin_client = await client_factory(admin)
    officer_client = await client_factory(officer)
    membership = await membership_of(officer)

    response = await admin_client.post(f"/t/{tenant['slug']}/members/{membership['id']}/deactivate")
    assert response.status_code == 303
    assert (await membership_of(officer))["active"] is False
    assert (await officer_client.get(f"/t/{tenant['slug']}/")).status_code == 404
    page = await admin_client.get(f"/t/{tenant['slug']}/members")
    assert "Çaktivizuar" in page.text

    response = await admin_client.post(f"/t/{tenant['slug']}/members/{membership['id']}/reactivate")
    assert response.status_code == 303
    assert (await officer_client.get(f"/t/{tenant['slug']}/")).status_code == 200
    actions = await audit_actions(tenant["id"])
    assert actions[-2:] == ["membership.deactivated", "membership.reactivated"]


async def test_an_officer_may_not_manage_members(factory, client_factory):
    tenant = await factory.tenant("isp")
    admin = await factory.member(tenant, "admin")
    officer = await factory.member(tenant, "officer")
    client = await client_factory(admin)
    await client.post(f"/t/{tenant['slug']}/members/invite", {"email": "drita@albanet.example", "role": "viewer"})
    [invitation] = (await database_state())["invitation"]
    admin_membership = await membership_of(admin)
    officer_client = await client_factory(officer)
    before = await database_state()
    base = f"/t/{tenant['slug']}/members"
    for path, data in [
        (f"{base}/invite", {"email": "x@albanet.example", "role": "admin"}),
        (f"{base}/invitations/{invitation['id']}/revoke", {}),
        (f"{base}/{admin_membership['id']}/role", {"role": "viewer"}),
        (f"{base}/{admin_membership['id']}/deactivate", {}),
        (f"{base}/{admin_membership['id']}/reactivate", {}),
    ]:
        response = await officer_client.post(path, data)
        assert response.status_code == 403, path
        assert "Roli juaj në këtë organizatë nuk e lejon këtë veprim." in response.text
    assert await database_state() == before


async def test_members_of_another_organisation_get_nothing(factory, client_factory):
    tenant = await factory.tenant("isp", name="AlbaNet Sekret")
    admin = await factory.member(tenant, "admin", email="admin@albanet-sekret.example")
    officer = await factory.member(tenant, "officer", email="officer@albanet-sekret.example")
    admin_client = await client_factory(admin)
    await admin_client.post(f"/t/{tenant['slug']}/members/invite", {"email": "pending@albanet-sekret.example", "role": "viewer"})
    [invitation] = (await database_state())["invitation"]
    membership = await membership_of(officer)

    other = await factory.tenant("ngo")
    outsider = await factory.member(other, "admin")
    client = await client_factory(outsider)
    secrets = ["AlbaNet Sekret", admin.email, officer.email, "pending@albanet-sekret.example"]
    before = await database_state()
    base = f"/t/{tenant['slug']}/members"
    await assert_outsider_gets_nothing(client, "GET", base, secrets)
    await assert_outsider_gets_nothing(client, "POST", f"{base}/invite", secrets, {"email": "spy@example.test", "role": "admin"})
    await assert_outsider_gets_nothing(client, "POST", f"{base}/invitations/{invitation['id']}/revoke", secrets)
    await assert_outsider_gets_nothing(client, "POST", f"{base}/{membership['id']}/role", secrets, {"role": "admin"})
    await assert_outsider_gets_nothing(client, "POST", f"{base}/{membership['id']}/deactivate", secrets)
    await assert_outsider_gets_nothing(client, "POST", f"{base}/{membership['id']}/reactivate", secrets)
    # Nor can another organisation's objects be reached through one's own organisation's address.
    own = f"/t/{other['slug']}/members"
    await assert_outsider_gets_nothing(client, "POST", f"{own}/invitations/{invitation['id']}/revoke", secrets)
    await assert_outsider_gets_nothing(client, "POST", f"{own}/{membership['id']}/role", secrets, {"role": "viewer"})
    await assert_outsider_gets_nothing(client, "POST", f"{own}/{membership['id']}/deactivate", secrets)
    assert await database_state() == before
