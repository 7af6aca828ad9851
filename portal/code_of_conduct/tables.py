"""Code of Conduct tables: versions and commitments (global), signatures and measures (per tenant).

Nothing here cascades: a signature, a measure or its history must outlive any attempt to delete
what it points at, so every foreign key restricts.
"""

from enum import Enum

from piccolo.columns import JSONB, Date, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.files.tables import StoredFile
from portal.tenants.tables import Tenant, User


class VersionStatus(str, Enum):
    draft = "draft"
    published = "published"
    superseded = "superseded"


class MeasureCategory(str, Enum):
    filtering = "filtering"
    parental_controls = "parental_controls"
    reporting_channel = "reporting_channel"
    staff_training = "staff_training"
    subscriber_awareness = "subscriber_awareness"
    cooperation = "cooperation"
    other = "other"


class MeasureStatus(str, Enum):
    planned = "planned"
    in_progress = "in_progress"
    done = "done"


class CodeVersion(Table, tablename="coc_version"):
    """One version of the Code; frozen (and hashed) when published, never edited afterwards."""

    label = Varchar(length=20, unique=True)
    title_sq = Varchar(length=300)
    title_en = Varchar(length=300)
    body_sq = Text(default="")
    body_en = Text(default="")
    status = Varchar(length=16, choices=VersionStatus, default=VersionStatus.draft, index=True)
    content_hash = Varchar(length=64, default="")
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    published_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    published_at = Timestamptz(null=True, default=None)
    superseded_at = Timestamptz(null=True, default=None)


class Commitment(Table, tablename="coc_commitment"):
    """A numbered commitment of one version (e.g. "Z1"); matched across versions by its code."""

    version = ForeignKey(CodeVersion, on_delete=OnDelete.restrict, null=False, index=True)
    position = Integer(default=0)
    code = Varchar(length=16)
    title_sq = Varchar(length=200)
    title_en = Varchar(length=200)
    text_sq = Text(default="")
    text_en = Text(default="")


class Signature(Table, tablename="coc_signature"):
    """An organisation's signature of exactly one version's text; withdrawn, never deleted."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    version = ForeignKey(CodeVersion, on_delete=OnDelete.restrict, null=False, index=True)
    signed_hash = Varchar(length=64)
    signatory_name = Varchar(length=200)
    signatory_title = Varchar(length=200, default="")
    signed_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    signed_at = Timestamptz(default=TimestamptzNow())
    signed_ip = Varchar(length=64, default="")
    signed_pdf = ForeignKey(StoredFile, on_delete=OnDelete.restrict, null=True)
    withdrawn_at = Timestamptz(null=True, default=None)
    withdrawn_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    withdrawal_reason = Text(default="")


class Measure(Table, tablename="coc_measure"):
    """Something a signatory did to implement the Code, against commitments of the version it signed."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    version = ForeignKey(CodeVersion, on_delete=OnDelete.restrict, null=False)
    title = Varchar(length=200)
    description = Text(default="")
    category = Varchar(length=32, choices=MeasureCategory)
    status = Varchar(length=16, choices=MeasureStatus, default=MeasureStatus.planned)
    start_date = Date()
    end_date = Date(null=True, default=None)
    # [{"name": "Staff trained", "value": 42}, ...]: a list keeps the order the officer chose.
    indicators = JSONB(default=[])
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    updated_at = Timestamptz(default=TimestamptzNow())
    deleted_at = Timestamptz(null=True, default=None)
    deleted_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    deletion_reason = Text(default="")


class MeasureCommitment(Table, tablename="coc_measure_commitment"):
    """Which commitments a measure implements (carries the tenant for row-level security)."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    measure = ForeignKey(Measure, on_delete=OnDelete.restrict, null=False, index=True)
    commitment = ForeignKey(Commitment, on_delete=OnDelete.restrict, null=False, index=True)


class MeasureRevision(Table, tablename="coc_measure_revision"):
    """History of a measure: who created, changed, added evidence to or deleted it, and what changed."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    measure = ForeignKey(Measure, on_delete=OnDelete.restrict, null=False, index=True)
    action = Varchar(length=24)
    # [{"field": "status", "before": "planned", "after": "done"}, ...]
    changes = JSONB(default=[])
    changed_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    changed_at = Timestamptz(default=TimestamptzNow())


class MeasureEvidence(Table, tablename="coc_measure_evidence"):
    """An evidence file of a measure; the bytes and their metadata live in storage / ``stored_file``."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    measure = ForeignKey(Measure, on_delete=OnDelete.restrict, null=False, index=True)
    file = ForeignKey(StoredFile, on_delete=OnDelete.restrict, null=False)
    added_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    added_at = Timestamptz(default=TimestamptzNow())
