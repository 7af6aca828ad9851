"""Row-level security on the Code of Conduct tables: an unfiltered query sees only its own organisation's rows."""

import pytest

from portal.core.db import execute, get_engine, rls_bypassed
from tests.code_of_conduct.conftest import CSV_BYTES, log, sign
from portal.code_of_conduct.files import Upload

pytestmark = pytest.mark.postgres
ROLE = "portal_coc_rls_probe"
TABLES = ("coc_signature", "coc_measure", "coc_measure_commitment", "coc_measure_revision", "coc_measure_evidence")


async def _unfiltered(tenant_id: int, table: str, probe: bool) -> list[dict]:
    """``SELECT tenant FROM table`` with no WHERE, as an ordinary role scoped to ``tenant_id``."""
    async with get_engine().transaction():
        if probe:
            await execute(f"SET LOCAL ROLE {ROLE}")
        await execute(
            "SELECT set_config('app.tenant_id', {}, true), set_config('app.all_tenants', 'off', true)", str(tenant_id)
        )
        return [dict(row) for row in await execute(f"SELECT tenant FROM {table}")]


@pytest.fixture
async def probe_role() -> bool:
    """Queries must run as a role that row-level security binds: the connection's own, or a probe role."""
    if not await rls_bypassed():
        return False
    if not await execute("SELECT 1 FROM pg_roles WHERE rolname = {}", ROLE):
        await execute(f"CREATE ROLE {ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS")
    await execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {ROLE}")
    return True


async def test_unfiltered_queries_see_only_the_organisations_rows(probe_role, world):
    await sign(world.isp, world.isp_admin, world.version)
    await sign(world.other, world.other_admin, world.version)
    await log(world.isp, world.isp_officer, world.version, evidence=[Upload("a.csv", CSV_BYTES)])
    await log(world.other, world.other_officer, world.version, evidence=[Upload("b.csv", CSV_BYTES)])
    for table in TABLES:
        own = await _unfiltered(world.isp["id"], table, probe_role)
        assert own and {row["tenant"] for row in own} == {world.isp["id"]}, table
        other = await _unfiltered(world.other["id"], table, probe_role)
        assert other and {row["tenant"] for row in other} == {world.other["id"]}, table
        assert await _unfiltered(world.regulator["id"], table, probe_role) == [], table
    # Versions and commitments are the same Code for everyone.
    async with get_engine().transaction():
        if probe_role:
            await execute(f"SET LOCAL ROLE {ROLE}")
        assert len(await execute("SELECT id FROM coc_commitment")) == 3
