"""Piccolo app for sessions, login attempts, password resets and single sign-on."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from portal.auth.tables import IdentityProvider, LoginAttempt, OidcLogin, PasswordReset, SsoDomain, UserSession

APP_CONFIG = AppConfig(
    app_name="auth",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[UserSession, LoginAttempt, PasswordReset, IdentityProvider, SsoDomain, OidcLogin],
    migration_dependencies=["portal.tenants.piccolo_app"],
    commands=[],
)
