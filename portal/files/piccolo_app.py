"""Piccolo app for stored file metadata."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from portal.files.tables import StoredFile

APP_CONFIG = AppConfig(
    app_name="files",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[StoredFile],
    migration_dependencies=["portal.tenants.piccolo_app"],
    commands=[],
)
