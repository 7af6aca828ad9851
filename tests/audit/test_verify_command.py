"""`portal audit verify`: exit code 0 with a summary when intact, 1 with the broken link when not."""

from __future__ import annotations

import json

from portal.audit import services as audit
from portal.core.actor import Actor
from tests.audit.test_chain import all_entries, tamper
from tests.cli_runner import run_portal

ACTOR = Actor(user_id=None, label="tests", ip="127.0.0.1")


async def test_verify_reports_an_intact_chain():
    for i in range(3):
        await audit.record("check.intact", actor=ACTOR, detail={"i": i})

    result = run_portal("audit", "verify")

    assert result.returncode == 0, result.stderr
    assert "Audit chain intact: 3 entries checked." in result.stdout


async def test_verify_names_the_tampered_entry_and_fails():
    for i in range(4):
        await audit.record("check.tamper", actor=ACTOR, detail={"i": i})
    victim = (await all_entries())[1]
    await tamper("UPDATE audit_entry SET detail = {} WHERE id = {}", json.dumps({"i": 99}), victim["id"])

    result = run_portal("audit", "verify")

    assert result.returncode == 1
    assert f"Audit chain BROKEN at entry {victim['id']}: entry content does not match its hash" in result.stdout


async def test_verify_reports_entries_cut_off_the_end():
    for i in range(2):
        await audit.record("check.cut", actor=ACTOR, detail={"i": i})
    await tamper("DELETE FROM audit_entry WHERE id = {}", (await all_entries())[-1]["id"])

    result = run_portal("audit", "verify")

    assert result.returncode == 1
    expected = "BROKEN at the chain head: entries are missing from the end of the chain (1 entries checked)"
    assert expected in result.stdout
