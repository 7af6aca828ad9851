"""Piccolo app for the annual compliance reports and their reviews."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from portal.annual_reports.tables import (
    AnnualReport,
    AnnualReportAttachment,
    AnnualReportDeadline,
    AnnualReportExport,
    AnnualReportReminder,
    AnnualReportReview,
    AnnualReportRevision,
)

APP_CONFIG = AppConfig(
    app_name="annual_reports",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[
        AnnualReport, AnnualReportRevision, AnnualReportReview, AnnualReportReminder, AnnualReportDeadline,
        AnnualReportAttachment, AnnualReportExport,
    ],
    migration_dependencies=["portal.tenants.piccolo_app", "portal.files.piccolo_app"],
    commands=[],
)
