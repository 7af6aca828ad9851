"""The demo Code of Conduct: realistic, signed by the demo ISPs, and loaded only once."""

from portal.code_of_conduct import services
from portal.code_of_conduct.services import RegistryFilters
from portal.core.db import execute, system_transaction
from portal.code_of_conduct import demo
from portal.demo import load_demo

TABLES = ("coc_version", "coc_commitment", "coc_signature", "coc_measure", "coc_measure_commitment",
          "coc_measure_revision", "coc_measure_evidence", "stored_file", "audit_entry", "outbox_message")


async def _counts() -> dict[str, int]:
    async with system_transaction():
        return {t: (await execute(f"SELECT COUNT(*) AS n FROM {t}"))[0]["n"] for t in TABLES}


async def test_demo_code_is_signed_by_two_isps_and_loading_twice_adds_nothing():
    await load_demo()
    first = await _counts()
    await demo.load()
    assert await _counts() == first
    current = await services.current_version()
    assert current["label"] == "2026.1"
    assert 6 <= len(current["commitments"]) <= 10
    for commitment in current["commitments"]:
        assert commitment["title_sq"] and commitment["title_en"] and commitment["text_sq"] and commitment["text_en"]
    current_signers = {r["slug"] for r in await services.registry(RegistryFilters(status="signed_current"))}
    assert {"albanet", "shqiponja"} <= current_signers
    assert {r["slug"] for r in await services.registry(RegistryFilters(status="signed_old_version"))} == {"adriatik"}
    assert first["coc_measure"] >= 4 and first["coc_measure_evidence"] >= 1
    draft = await services.draft_version()
    assert draft is not None and draft["label"] == "2027.1"
    diff = await services.diff_against_current(draft["id"])
    assert {c.code: c.change for c in diff.commitments if c.change != "unchanged"} == {"Z1": "reworded", "Z9": "added"}
    assert diff.affected_measures  # AlbaNet's blocking measure rests on Z1
