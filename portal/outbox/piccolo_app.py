"""Piccolo app for the mail outbox."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from portal.outbox.tables import OutboxMessage

APP_CONFIG = AppConfig(
    app_name="outbox",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[OutboxMessage],
    migration_dependencies=[],
    commands=[],
)
