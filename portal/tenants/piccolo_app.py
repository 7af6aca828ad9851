"""Piccolo app for organisations, people, memberships, invitations and API keys."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from portal.tenants.tables import ApiKey, Invitation, Membership, Tenant, User

APP_CONFIG = AppConfig(
    app_name="tenants",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Tenant, User, Membership, Invitation, ApiKey],
    migration_dependencies=[],
    commands=[],
)
