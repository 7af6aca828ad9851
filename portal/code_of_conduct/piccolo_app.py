"""Piccolo app for Code of Conduct versions, commitments, signatures and measures."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from portal.code_of_conduct.tables import (
    CodeVersion,
    Commitment,
    Measure,
    MeasureCommitment,
    MeasureEvidence,
    MeasureRevision,
    Signature,
)

APP_CONFIG = AppConfig(
    app_name="code_of_conduct",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[CodeVersion, Commitment, Signature, Measure, MeasureCommitment, MeasureRevision, MeasureEvidence],
    migration_dependencies=["portal.tenants.piccolo_app", "portal.files.piccolo_app"],
    commands=[],
)
