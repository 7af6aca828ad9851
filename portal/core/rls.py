"""Row-level security DDL shared by the feature migrations (PostgreSQL only)."""

from portal.core.db import execute, is_postgres

TENANT_MATCH = (
    "current_setting('app.all_tenants', true) = 'on' "
    "OR {column} = NULLIF(current_setting('app.tenant_id', true), '')::integer"
)


async def enable_tenant_rls(table: str, column: str = "tenant", insert_anywhere: bool = False) -> None:
    """Let a transaction see only rows of the tenant it declared (or all, for system work).

    FORCE applies the policy to the table owner too, which is the role the portal connects as.
    ``insert_anywhere`` is for the audit log, whose entries are written from any scope but read
    only within one.
    """
    if not is_postgres():
        return
    match = TENANT_MATCH.format(column=column)
    check = "true" if insert_anywhere else match
    await execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    await execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    await execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
    await execute(f"CREATE POLICY tenant_isolation ON {table} USING ({match}) WITH CHECK ({check})")
