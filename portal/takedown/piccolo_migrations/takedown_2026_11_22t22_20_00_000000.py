"""CSV imports run in the background with recorded progress; one foreign key instead of two on reports.

``takedown_import`` gains what the progress page shows while an import runs (``status`` is then
``running``): the upload's size, how many of its bytes have been read, when progress was last
recorded (an import left ``running`` with no progress for long was interrupted and is shown as
failed) and when it finished.

Reports: ``takedown_report`` had one foreign key to its organisation and one to its item, so each
imported report paid for two checks (each about 5 µs a row, a quarter of the import's database time
with the item insert's own check). They are replaced by one composite key ``(tenant, item) ->
takedown_item (tenant, id)``: every report still names an existing organisation (through its
item, whose own key checks the organisation) and an existing item, and now also one of *its own*
organisation's items, which the two separate keys did not guarantee. The referenced pair needs a
unique key on ``takedown_item (tenant, id)``; ids grow, so inserts land at the end of each
organisation's range of it. Measured on bench/dataset.py's data (see bench/README.md "Import").
PostgreSQL only: SQLite cannot change a table's constraints and keeps the two keys.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer, Timestamptz
from piccolo.columns.indexes import IndexMethod

from portal.core.db import execute, is_postgres

ID = "2026-11-22T22:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "import progress and report tenant item key"


def _params(default: object, null: bool) -> dict:
    return {
        "default": default, "null": null, "primary_key": False, "unique": False, "index": False,
        "index_method": IndexMethod.btree, "choices": None, "db_column_name": None, "secret": False,
    }


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="takedown", description=DESCRIPTION)
    for name, column_class, default, null in (
        ("bytes_total", Integer, 0, False),
        ("bytes_read", Integer, 0, False),
        ("progress_at", Timestamptz, None, True),
        ("finished_at", Timestamptz, None, True),
    ):
        manager.add_column(
            table_class_name="TakedownImport", tablename="takedown_import", column_name=name, db_column_name=name,
            column_class_name=column_class.__name__, column_class=column_class, params=_params(default, null),
            schema=None,
        )

    async def run():
        if not is_postgres():
            return
        if not await execute("SELECT 1 FROM pg_constraint WHERE conname = 'takedown_item_tenant_id'"):
            await execute("ALTER TABLE takedown_item ADD CONSTRAINT takedown_item_tenant_id UNIQUE (tenant, id)")
        await execute(
            "ALTER TABLE takedown_report DROP CONSTRAINT IF EXISTS takedown_report_tenant_fkey,"
            " DROP CONSTRAINT IF EXISTS takedown_report_item_fkey,"
            " DROP CONSTRAINT IF EXISTS takedown_report_tenant_item_fkey,"
            " ADD CONSTRAINT takedown_report_tenant_item_fkey FOREIGN KEY (tenant, item)"
            " REFERENCES takedown_item (tenant, id) ON DELETE RESTRICT ON UPDATE CASCADE"
        )

    manager.add_raw(run)
    return manager
