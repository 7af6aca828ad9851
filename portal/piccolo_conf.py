"""Piccolo configuration: the engine comes from PORTAL_DATABASE_URL, the apps are the feature packages."""

from piccolo.conf.apps import AppRegistry

from portal.core.db import build_engine
from portal.core.settings import get_settings

DB = build_engine(get_settings().database_url)

APP_REGISTRY = AppRegistry(
    apps=[
        "portal.tenants.piccolo_app",
        "portal.auth.piccolo_app",
        "portal.audit.piccolo_app",
        "portal.outbox.piccolo_app",
        "portal.files.piccolo_app",
        "portal.takedown.piccolo_app",
        "portal.code_of_conduct.piccolo_app",
        "portal.annual_reports.piccolo_app",
    ]
)
