"""Uniqueness rules and row-level security for the Code of Conduct tables.

Versions and commitments are global (everyone reads the Code); signatures, measures, their links,
history and evidence belong to one organisation each.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from portal.core.db import execute
from portal.core.rls import enable_tenant_rls

ID = "2026-11-22T19:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "uniqueness and row level security"

TENANT_TABLES = (
    "coc_signature",
    "coc_measure",
    "coc_measure_commitment",
    "coc_measure_revision",
    "coc_measure_evidence",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="code_of_conduct", description=DESCRIPTION)

    async def run():
        # At most one draft and one in-force version at any time; partial indexes work on both databases.
        await execute("CREATE UNIQUE INDEX IF NOT EXISTS coc_version_one_draft ON coc_version (status) WHERE status = 'draft'")
        await execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS coc_version_one_published ON coc_version (status) WHERE status = 'published'"
        )
        await execute("CREATE UNIQUE INDEX IF NOT EXISTS coc_commitment_version_code ON coc_commitment (version, code)")
        # One live signature per organisation and version; withdrawn ones stay as history.
        await execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS coc_signature_live ON coc_signature (tenant, version) WHERE withdrawn_at IS NULL"
        )
        await execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS coc_measure_commitment_pair ON coc_measure_commitment (measure, commitment)"
        )
        await execute("CREATE INDEX IF NOT EXISTS coc_measure_start ON coc_measure (tenant, start_date)")
        for table in TENANT_TABLES:
            await enable_tenant_rls(table)

    manager.add_raw(run)
    return manager
