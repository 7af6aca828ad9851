"""Membership changes leave audit entries naming who changed what, in the organisation's scope."""

from __future__ import annotations

import json

import pytest

from portal.audit.services import verify_chain
from portal.audit.tables import AuditEntry
from portal.core.actor import Actor
from portal.core.db import system_transaction
from portal.core.errors import Conflict
from portal.tenants import services


async def entries_of(tenant: dict) -> list[dict]:
    async with system_transaction():
        return await AuditEntry.select().where(AuditEntry.tenant_id == tenant["id"]).order_by(AuditEntry.id)


def as_dict(detail: object) -> dict:
    return json.loads(detail) if isinstance(detail, str) else detail


async def test_membership_changes_are_audited(factory):
    tenant = await factory.tenant("isp", slug="albanet")
    admin = await factory.member(tenant, "admin")
    officer = await factory.member(tenant, "officer")
    actor = Actor(user_id=admin.user["id"], label=admin.email, ip="192.0.2.10")
    members = {m["email"]: m["id"] for m in await services.list_members(tenant)}
    membership_id = members[officer.email]

    await services.change_member_role(tenant, membership_id, "viewer", actor)
    await services.set_member_active(tenant, membership_id, False, actor)
    await services.set_member_active(tenant, membership_id, True, actor)

    entries = await entries_of(tenant)
    actions = [e["action"] for e in entries]
    assert actions == [
        "tenant.created", "membership.added", "membership.added",
        "membership.role_changed", "membership.deactivated", "membership.reactivated",
    ]
    added = entries[2]
    assert as_dict(added["detail"]) == {"user": officer.email, "role": "officer"}
    assert as_dict(entries[3]["detail"]) == {"user": officer.email, "role": ["officer", "viewer"]}
    for entry in entries[3:]:
        assert entry["actor_user_id"] == admin.user["id"]
        assert entry["actor_label"] == admin.email
        assert entry["ip"] == "192.0.2.10"
        assert entry["object_type"] == "membership"
        assert entry["object_id"] == str(membership_id)
    assert (await verify_chain()).intact


async def test_a_refused_membership_change_leaves_no_entry(factory):
    tenant = await factory.tenant("isp")
    admin = await factory.member(tenant, "admin")
    actor = Actor(user_id=admin.user["id"], label=admin.email, ip="192.0.2.10")
    [membership] = await services.list_members(tenant)
    before = await entries_of(tenant)

    with pytest.raises(Conflict):
        await services.set_member_active(tenant, membership["id"], False, actor)  # the last admin

    assert await entries_of(tenant) == before
