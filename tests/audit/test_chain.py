"""The hash-chained audit log: appends link up, any change or loss is found by verify."""

from __future__ import annotations

import asyncio
import json

import pytest

from portal.audit import services as audit
from portal.audit.services import GENESIS_HASH, verify_chain
from portal.audit.tables import AuditEntry
from portal.core.actor import Actor
from portal.core.db import execute, get_engine, is_postgres, system_transaction, tenant_transaction
from tests import environment

OFFICER = Actor(user_id=None, label="zyrtari@albanet.test", ip="10.1.2.3")


async def all_entries() -> list[dict]:
    async with system_transaction():
        return await AuditEntry.select().order_by(AuditEntry.id)


async def tamper(sql: str, *args: object) -> None:
    """Change the log behind the portal's back, as someone with database access could."""
    if is_postgres():
        import asyncpg

        connection = await asyncpg.connect(environment.DATABASE_URL)  # the table owner
        try:
            await connection.execute("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_no_change")
            async with connection.transaction():
                await connection.execute("SELECT set_config('app.all_tenants', 'on', true)")
                status = await connection.execute(sql.format(*[f"${i + 1}" for i in range(len(args))]), *args)
                assert status.split()[-1] == "1", status
        finally:
            await connection.execute("ALTER TABLE audit_entry ENABLE TRIGGER audit_entry_no_change")
            await connection.close()
    else:
        async with get_engine().transaction():
            await execute("DROP TRIGGER audit_entry_no_update")
            await execute("DROP TRIGGER audit_entry_no_delete")
            await execute(sql.format(*["{}"] * len(args)), *args)
            for event in ("UPDATE", "DELETE"):
                await execute(
                    f"CREATE TRIGGER audit_entry_no_{event.lower()} BEFORE {event} ON audit_entry "
                    "BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only'); END"
                )


async def write_some(factory) -> tuple[dict, dict]:
    albanet = await factory.tenant("isp", slug="albanet")
    hotline = await factory.tenant("ngo", slug="hotline", is_hotline=True)
    await factory.member(albanet, "admin")
    await factory.member(hotline, "analyst")
    await audit.record("document.viewed", actor=OFFICER, tenant_id=albanet["id"], object_type="file", object_id=7)
    await audit.record("report.exported", actor=OFFICER, tenant_id=hotline["id"], detail={"format": "xlsx"})
    await audit.record("platform.note", actor=Actor.system("tests"), detail={"shënim": "Çështje e rëndësishme"})
    return albanet, hotline


async def test_writes_from_different_tenants_form_one_intact_chain(factory):
    albanet, hotline = await write_some(factory)

    entries = await all_entries()
    result = await verify_chain()

    assert result.intact, result
    assert result.entries_checked == len(entries) >= 9
    assert entries[0]["prev_hash"] == GENESIS_HASH
    for earlier, later in zip(entries, entries[1:]):
        assert later["prev_hash"] == earlier["entry_hash"]
    assert {e["tenant_id"] for e in entries} == {None, albanet["id"], hotline["id"]}
    assert len({e["entry_hash"] for e in entries}) == len(entries)


async def test_awkward_detail_values_survive_the_database_round_trip(factory):
    detail = {
        "z": 1, "a": "ë ç Ë Ç – “quoted” \\ /", "big": 1e20, "tiny": 1.5e-10, "whole": 3.0, "half": 0.5,
        "list": [1, None, True, {"k": "v"}], "nested": {"b": False, "a": []}, "emoji": "🙂", 10: "numeric key",
    }
    await audit.record("detail.checked", actor=OFFICER, detail=detail)
    await audit.record("detail.checked", actor=OFFICER, detail={"after": "x"})
    result = await verify_chain()
    assert result.intact, result


async def test_a_changed_entry_is_reported_by_its_id(factory):
    await write_some(factory)
    entries = await all_entries()
    victim = entries[len(entries) // 2]

    await tamper("UPDATE audit_entry SET detail = {} WHERE id = {}", json.dumps({"role": "viewer"}), victim["id"])

    result = await verify_chain()
    assert not result.intact
    assert result.first_broken_id == victim["id"]
    assert result.reason == "entry content does not match its hash"


async def test_a_changed_actor_or_time_is_reported_too(factory):
    await write_some(factory)
    victim = (await all_entries())[2]
    await tamper("UPDATE audit_entry SET actor_label = {} WHERE id = {}", "someone-else@isp.test", victim["id"])
    result = await verify_chain()
    assert (result.intact, result.first_broken_id) == (False, victim["id"])


async def test_deleting_the_last_entry_is_reported_as_missing_end(factory):
    await write_some(factory)
    entries = await all_entries()

    await tamper("DELETE FROM audit_entry WHERE id = {}", entries[-1]["id"])

    result = await verify_chain()
    assert not result.intact
    assert result.first_broken_id is None
    assert result.reason == "entries are missing from the end of the chain"
    assert result.entries_checked == len(entries) - 1


async def test_deleting_an_entry_in_the_middle_breaks_the_next_link(factory):
    await write_some(factory)
    entries = await all_entries()

    await tamper("DELETE FROM audit_entry WHERE id = {}", entries[3]["id"])

    result = await verify_chain()
    assert (result.intact, result.first_broken_id) == (False, entries[4]["id"])
    assert result.reason == "previous-hash link does not match"


async def test_the_database_refuses_updates_and_deletes(factory):
    await write_some(factory)
    entry = (await all_entries())[0]

    for statement in ("UPDATE audit_entry SET action = 'x' WHERE id = {}", "DELETE FROM audit_entry WHERE id = {}"):
        with pytest.raises(Exception, match="append-only"):
            async with system_transaction():
                await execute(statement, entry["id"])
    assert (await all_entries())[0] == entry
    assert (await verify_chain()).intact


async def test_an_entry_rolls_back_with_its_transaction(factory):
    tenant = await factory.tenant()
    before = await all_entries()

    with pytest.raises(RuntimeError):
        async with tenant_transaction(tenant["id"]):
            await audit.record("membership.added", actor=OFFICER, tenant_id=tenant["id"])
            raise RuntimeError("the change failed")

    assert await all_entries() == before
    await audit.record("after.rollback", actor=OFFICER, tenant_id=tenant["id"])
    assert (await verify_chain()).intact


async def test_concurrent_appends_in_separate_transactions_keep_the_chain_intact(factory):
    tenants = [await factory.tenant("isp", slug=f"isp-{i}") for i in range(4)]
    before = len(await all_entries())

    async def append(i: int) -> None:
        tenant_id = tenants[i % 4]["id"]
        async with tenant_transaction(tenant_id):
            await audit.record("load.test", actor=OFFICER, tenant_id=tenant_id, object_id=i, detail={"i": i})

    await asyncio.gather(*(append(i) for i in range(20)))

    entries = await all_entries()
    assert len(entries) == before + 20
    assert sorted(int(e["object_id"]) for e in entries[before:]) == list(range(20))
    result = await verify_chain()
    assert result.intact, result
    assert result.entries_checked == before + 20


async def test_tenant_scoped_reads_see_only_that_tenants_entries(factory):
    albanet, hotline = await write_some(factory)
    rows, total = await audit.entries_for_tenant(albanet["id"], limit=50, offset=0)
    assert total == len(rows) > 0
    assert {r["tenant_id"] for r in rows} == {albanet["id"]}
    assert any(r["action"] == "document.viewed" for r in rows)
