"""Piccolo app for reported URLs, takedown and blocking requests, and the ISPs' block lists."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from portal.takedown.tables import (
    Assignment,
    FeedChange,
    FeedEntry,
    IdempotencyRecord,
    ReferenceCounter,
    RequestEvent,
    RequestUrl,
    TakedownImport,
    TakedownItem,
    TakedownReport,
    TakedownRequest,
    Webhook,
    WebhookDelivery,
    WebhookTarget,
)

APP_CONFIG = AppConfig(
    app_name="takedown",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[
        TakedownItem, TakedownReport, TakedownRequest, RequestUrl, Assignment, RequestEvent, ReferenceCounter,
        IdempotencyRecord, FeedEntry, FeedChange, TakedownImport, Webhook, WebhookTarget, WebhookDelivery,
    ],
    migration_dependencies=["portal.tenants.piccolo_app"],
    commands=[],
)
