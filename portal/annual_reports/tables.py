"""Annual compliance reports: one per organisation and year, its revisions and the regulators' reviews.

A report moves draft → submitted → under review → returned | accepted; a returned report gets a
new revision (draft again). A submitted revision keeps a frozen snapshot of the figures and the
narratives with their SHA-256, and is never edited afterwards. Nothing cascades.
"""

from enum import Enum

from piccolo.columns import JSONB, BigInt, Date, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.files.tables import StoredFile
from portal.tenants.tables import Tenant, User


class ReportStatus(str, Enum):
    draft = "draft"
    submitted = "submitted"
    under_review = "under_review"
    returned = "returned"
    accepted = "accepted"


class AnnualReport(Table, tablename="annual_report"):
    """An organisation's report for one year; ``revision`` is the number of its current revision."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    year = Integer(index=True)
    status = Varchar(length=16, choices=ReportStatus, default=ReportStatus.draft, index=True)
    revision = Integer(default=1)
    deadline = Date()
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class AnnualReportRevision(Table, tablename="annual_report_revision"):
    """One revision: narratives while drafting; once submitted, the frozen document and its hash."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    report = ForeignKey(AnnualReport, on_delete=OnDelete.restrict, null=False, index=True)
    number = Integer(default=1)
    # {"Z1": {"done": "...", "results": "...", "difficulties": "...", "plans": "..."}, ...}
    narratives = JSONB(default={})
    # the whole document as submitted: {"figures": {...}, "narratives": {...}}
    snapshot = JSONB(default={})
    content_hash = Varchar(length=64, default="")
    saved_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    saved_at = Timestamptz(default=TimestamptzNow())
    submitted_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    submitted_at = Timestamptz(null=True, default=None)


class AnnualReportReview(Table, tablename="annual_report_review"):
    """A regulator's decision on one submitted revision, with comments per section (tenant = the author)."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    report = ForeignKey(AnnualReport, on_delete=OnDelete.restrict, null=False, index=True)
    revision = ForeignKey(AnnualReportRevision, on_delete=OnDelete.restrict, null=False)
    reviewer_tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False)
    reviewer = ForeignKey(User, on_delete=OnDelete.restrict, null=False)
    decision = Varchar(length=16)
    note = Text(default="")
    # {"Z1": "comment", "takedown": "comment", ...}
    comments = JSONB(default={})
    decided_at = Timestamptz(default=TimestamptzNow())


class AnnualReportReminder(Table, tablename="annual_report_reminder"):
    """A reminder mail sent to an organisation's admins about one year's report; one row per (tenant, year, kind)."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    year = Integer()
    # "due_30" / "due_7" / "overdue"
    kind = Varchar(length=16)
    recipients = Integer(default=0)
    sent_at = Timestamptz(default=TimestamptzNow())


class AnnualReportDeadline(Table, tablename="annual_report_deadline"):
    """The submission deadline a regulator admin set for one reporting year (default: 31 March of the next year).

    Regulator-wide, not an organisation's row: read and written in ``system_transaction``.
    """

    year = Integer(unique=True)
    deadline = Date()
    set_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    set_by_tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=True)
    set_at = Timestamptz(default=TimestamptzNow())


class AnnualReportAttachment(Table, tablename="annual_report_attachment"):
    """A file attached to a commitment section of one revision; a new revision gets its own rows for the same files."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    report = ForeignKey(AnnualReport, on_delete=OnDelete.restrict, null=False, index=True)
    revision = ForeignKey(AnnualReportRevision, on_delete=OnDelete.restrict, null=False, index=True)
    section = Varchar(length=40)
    file = ForeignKey(StoredFile, on_delete=OnDelete.restrict, null=False)
    added_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    added_at = Timestamptz(default=TimestamptzNow())


class ExportStatus(str, Enum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class AnnualReportExport(Table, tablename="annual_report_export"):
    """A yearly export built in the background by the worker (regulator-wide: every regulator sees every job).

    ``data_version`` fingerprints the year's reports, reviews and deadline when the job was queued;
    a finished file whose fingerprint no longer matches is stale and gets rebuilt on the next request.
    """

    year = Integer(index=True)
    file_format = Varchar(length=8)
    status = Varchar(length=16, choices=ExportStatus, default=ExportStatus.queued, index=True)
    progress = Integer(default=0)
    # a key of labels.EXPORT_STEPS, translated when shown
    step = Varchar(length=32, default="queued")
    data_version = Varchar(length=64, default="")
    storage_key = Varchar(length=300, default="")
    filename = Varchar(length=120, default="")
    size_bytes = BigInt(default=0)
    # a key of labels.EXPORT_ERRORS, translated when shown
    error = Varchar(length=32, default="")
    requested_tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False)
    requested_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    requested_by_label = Varchar(length=255, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    started_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)
