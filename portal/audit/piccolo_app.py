"""Piccolo app for the audit log."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from portal.audit.tables import AuditChainHead, AuditEntry

APP_CONFIG = AppConfig(
    app_name="audit",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[AuditEntry, AuditChainHead],
    migration_dependencies=[],
    commands=[],
)
