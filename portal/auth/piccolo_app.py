"""Piccolo app for sessions, login attempts and password resets."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from portal.auth.tables import LoginAttempt, PasswordReset, UserSession

APP_CONFIG = AppConfig(
    app_name="auth",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[UserSession, LoginAttempt, PasswordReset],
    migration_dependencies=["portal.tenants.piccolo_app"],
    commands=[],
)
