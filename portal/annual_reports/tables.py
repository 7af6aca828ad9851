"""Annual compliance reports: one per organisation and year, its revisions and the regulators' reviews.

A report moves draft → submitted → under review → returned | accepted; a returned report gets a
new revision (draft again). A submitted revision keeps a frozen snapshot of the figures and the
narratives with their SHA-256, and is never edited afterwards. Nothing cascades.
"""

from enum import Enum

from piccolo.columns import JSONB, Date, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

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
