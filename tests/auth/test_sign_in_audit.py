"""Signing in, failing to, and signing out each leave an audit entry with who and from where."""

from __future__ import annotations

from portal.audit.services import verify_chain
from portal.audit.tables import AuditEntry
from portal.core.db import system_transaction


async def entries(action: str) -> list[dict]:
    async with system_transaction():  # entries without a tenant are visible to system reads only
        return await AuditEntry.select().where(AuditEntry.action == action).order_by(AuditEntry.id)


async def test_login_logout_and_failed_login_are_audited(factory, client):
    tenant = await factory.tenant()
    member = await factory.member(tenant)

    await client.get("/login")
    await client.post("/login", {"email": member.email, "password": "wrong-password-1"})
    await client.post("/login", {"email": "nobody@nowhere.test", "password": "wrong-password-2"})
    await client.login(member.email)
    await client.post("/logout")

    failed = await entries("auth.login_failed")
    assert [e["actor_label"] for e in failed] == [member.email, "nobody@nowhere.test"]
    assert all(e["actor_user_id"] is None for e in failed)
    assert all(e["ip"] == "127.0.0.1" for e in failed)
    assert "wrong-password" not in str(failed), "a typed password never reaches the audit log"

    [login] = await entries("auth.login")
    assert login["actor_user_id"] == member.user["id"]
    assert login["actor_label"] == member.email
    assert login["object_type"] == "user" and login["object_id"] == str(member.user["id"])
    assert login["ip"] == "127.0.0.1"

    [logout] = await entries("auth.logout")
    assert logout["actor_user_id"] == member.user["id"]
    assert logout["id"] > login["id"] > failed[-1]["id"]

    assert (await verify_chain()).intact
