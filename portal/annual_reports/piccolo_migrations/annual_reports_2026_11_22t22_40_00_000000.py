"""Submission deadlines per year, attachments on narratives and background export jobs.

Deadlines and export jobs are regulator-wide (no tenant column, no row-level security; only
regulators' pages and keys reach them); attachments belong to the reporting organisation and get
row-level security. One queued or running job per year and format at a time (partial unique index).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import BigInt, Date, ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

from portal.core.db import execute
from portal.core.rls import enable_tenant_rls

ID = "2026-11-22T22:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "deadlines, attachments and export jobs"


def _frozen(name: str, tablename: str) -> type[Table]:
    return type(name, (Table,), {"id": Serial(null=False, primary_key=True)}, tablename=tablename)


Tenant = _frozen("Tenant", "tenant")
User = _frozen("User", "portal_user")
StoredFile = _frozen("StoredFile", "stored_file")
AnnualReport = _frozen("AnnualReport", "annual_report")
AnnualReportRevision = _frozen("AnnualReportRevision", "annual_report_revision")

TABLES = {
    "AnnualReportDeadline": ("annual_report_deadline", [
        ("year", Integer, {"default": 0, "unique": True}),
        ("deadline", Date, {"default": None}),
        ("set_by", ForeignKey, {"references": User, "null": True}),
        ("set_by_tenant", ForeignKey, {"references": Tenant, "null": True}),
        ("set_at", Timestamptz, {"default": TimestamptzNow()}),
    ]),
    "AnnualReportAttachment": ("annual_report_attachment", [
        ("tenant", ForeignKey, {"references": Tenant, "index": True}),
        ("report", ForeignKey, {"references": AnnualReport, "index": True}),
        ("revision", ForeignKey, {"references": AnnualReportRevision, "index": True}),
        ("section", Varchar, {"length": 40, "default": ""}),
        ("file", ForeignKey, {"references": StoredFile}),
        ("added_by", ForeignKey, {"references": User, "null": True}),
        ("added_at", Timestamptz, {"default": TimestamptzNow()}),
    ]),
    "AnnualReportExport": ("annual_report_export", [
        ("year", Integer, {"default": 0, "index": True}),
        ("file_format", Varchar, {"length": 8, "default": ""}),
        ("status", Varchar, {"length": 16, "default": "queued", "index": True}),
        ("progress", Integer, {"default": 0}),
        ("step", Varchar, {"length": 32, "default": "queued"}),
        ("data_version", Varchar, {"length": 64, "default": ""}),
        ("storage_key", Varchar, {"length": 300, "default": ""}),
        ("filename", Varchar, {"length": 120, "default": ""}),
        ("size_bytes", BigInt, {"default": 0}),
        ("error", Varchar, {"length": 32, "default": ""}),
        ("requested_tenant", ForeignKey, {"references": Tenant}),
        ("requested_by", ForeignKey, {"references": User, "null": True}),
        ("requested_by_label", Varchar, {"length": 255, "default": ""}),
        ("created_at", Timestamptz, {"default": TimestamptzNow()}),
        ("started_at", Timestamptz, {"default": None, "null": True}),
        ("updated_at", Timestamptz, {"default": TimestamptzNow()}),
        ("finished_at", Timestamptz, {"default": None, "null": True}),
    ]),
}


def _params(column_class: type, given: dict) -> dict:
    params = {
        "null": False, "primary_key": False, "unique": False, "index": False, "index_method": IndexMethod.btree,
        "choices": None, "db_column_name": None, "secret": False,
    }
    if column_class is ForeignKey:
        params |= {"on_delete": OnDelete.restrict, "on_update": OnUpdate.cascade, "target_column": None}
    return params | given


async def _after_tables() -> None:
    await execute(
        "CREATE UNIQUE INDEX IF NOT EXISTS annual_report_export_active ON annual_report_export (year, file_format)"
        " WHERE status IN ('queued', 'running')"
    )
    await enable_tenant_rls("annual_report_attachment")


class _Manager(MigrationManager):
    """Piccolo runs raw steps before creating tables; the index and the policy need the tables first."""

    async def _run_add_columns(self, backwards: bool = False):
        await super()._run_add_columns(backwards=backwards)
        if not backwards and not self.preview:
            await _after_tables()


async def forwards():
    manager = _Manager(migration_id=ID, app_name="annual_reports", description=DESCRIPTION)
    for class_name, (tablename, columns) in TABLES.items():
        manager.add_table(class_name=class_name, tablename=tablename, schema=None, columns=None)
        for name, column_class, given in columns:
            manager.add_column(
                table_class_name=class_name, tablename=tablename, column_name=name, db_column_name=name,
                column_class_name=column_class.__name__, column_class=column_class,
                params=_params(column_class, given), schema=None,
            )
    return manager
