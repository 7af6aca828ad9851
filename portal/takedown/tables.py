"""Tables of the takedown workflow: reported URLs, the reports behind them, requests to ISPs.

Ownership (and so row-level security, see the raw migration):
- ``takedown_item`` and ``takedown_report`` belong to the triaging organisation (``tenant``): the
  hotline or agency whose queue they sit in. Nobody else ever reads them, so an ISP can never
  reach a reporter.
- ``takedown_request``, ``takedown_request_url`` and ``takedown_event`` belong to the issuer and are
  readable by an addressed ISP only through its own ``takedown_assignment`` row.
- ``takedown_assignment`` is one addressed ISP's copy of a request, with its own lifecycle; the
  issuer and that ISP see it, other ISPs do not.
"""

from enum import Enum

from piccolo.columns import JSONB, Integer, Text, Timestamptz, Varchar
from piccolo.columns.column_types import ForeignKey, OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.tenants.tables import Tenant, User


class ItemStatus(str, Enum):
    new = "new"
    valid = "valid"
    not_valid = "not_valid"
    duplicate = "duplicate"
    out_of_jurisdiction = "out_of_jurisdiction"


class RequestKind(str, Enum):
    block = "block"
    takedown = "takedown"


class AssignmentStatus(str, Enum):
    sent = "sent"
    acknowledged = "acknowledged"
    actioned = "actioned"
    disputed = "disputed"
    closed = "closed"
    withdrawn = "withdrawn"


class TakedownItem(Table, tablename="takedown_item"):
    """One normalised URL in one organisation's queue; repeat reports raise ``report_count``.

    Indexes are composite, starting with the tenant (see the raw migration): every query is
    per tenant, and bulk imports pay for each index on every row.
    """

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict)
    url = Text()
    url_hash = Varchar(length=64)
    host = Varchar(length=255)
    registrable_domain = Varchar(length=255)
    category = Varchar(length=32)
    status = Varchar(length=24, default=ItemStatus.new.value, choices=ItemStatus)
    report_count = Integer(default=1)
    first_reported_at = Timestamptz(default=TimestamptzNow())
    last_reported_at = Timestamptz(default=TimestamptzNow())
    assessed_at = Timestamptz(null=True, default=None)
    assessed_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    assessment_note = Text(default="")
    duplicate_of = Integer(null=True, default=None)


class TakedownReport(Table, tablename="takedown_report"):
    """One report of an item: who sent it through which channel; contact details only encrypted."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict)
    item = ForeignKey(TakedownItem, on_delete=OnDelete.restrict, index=True)
    receipt = Varchar(length=20, unique=True)
    channel = Varchar(length=16)  # public, analyst, api, import
    category = Varchar(length=32)
    description = Text(default="")
    source_reference = Varchar(length=200, default="")
    contact_encrypted = Text(default="")
    submitted_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    submitter_key = Varchar(length=64, default="")  # keyed hash of the sender's address (public form only)
    created_at = Timestamptz(default=TimestamptzNow())


class TakedownRequest(Table, tablename="takedown_request"):
    """A block or takedown request issued by an analyst organisation to one or more ISPs."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True)
    reference = Varchar(length=20, unique=True)
    year = Integer()
    sequence = Integer()
    kind = Varchar(length=16, choices=RequestKind)
    legal_basis = Text()
    priority = Varchar(length=16)
    note = Text(default="")
    due_at = Timestamptz()
    status = Varchar(length=16, default="open")  # open, closed, withdrawn
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    withdrawn_at = Timestamptz(null=True, default=None)
    withdraw_reason = Text(default="")
    closed_at = Timestamptz(null=True, default=None)


class RequestUrl(Table, tablename="takedown_request_url"):
    """A URL named in a request (copied from the item, so the item and its reports stay private)."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True)
    request = ForeignKey(TakedownRequest, on_delete=OnDelete.restrict, index=True)
    item = ForeignKey(TakedownItem, on_delete=OnDelete.restrict, null=True)
    url = Text()
    url_hash = Varchar(length=64)
    host = Varchar(length=255)
    registrable_domain = Varchar(length=255)
    category = Varchar(length=32)


class Assignment(Table, tablename="takedown_assignment"):
    """One addressed ISP's copy of a request: sent, acknowledged, actioned or disputed, closed.

    ``reference`` to ``url_count`` copy the request's fields that never change after issue, so an
    ISP's request list reads this table alone: joining ``takedown_request`` made PostgreSQL check
    that table's row-level policy (an ``EXISTS`` over assignments) for every row of every page.
    """

    request = ForeignKey(TakedownRequest, on_delete=OnDelete.restrict, index=True)
    recipient = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True)
    issuer = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True)
    reference = Varchar(length=20, default="")
    kind = Varchar(length=16, default="")
    priority = Varchar(length=16, default="")
    issued_at = Timestamptz(null=True, default=None)
    url_count = Integer(default=0)
    status = Varchar(length=16, default=AssignmentStatus.sent.value, choices=AssignmentStatus)
    due_at = Timestamptz()
    sent_at = Timestamptz(default=TimestamptzNow())
    acknowledged_at = Timestamptz(null=True, default=None)
    actioned_at = Timestamptz(null=True, default=None)
    outcome = Varchar(length=16, default="")  # blocked, removed
    action_note = Text(default="")
    disputed_at = Timestamptz(null=True, default=None)
    dispute_reason = Text(default="")
    closed_at = Timestamptz(null=True, default=None)
    withdrawn_at = Timestamptz(null=True, default=None)
    reminder_sent_at = Timestamptz(null=True, default=None)  # "deadline approaching" mail queued
    overdue_notified_at = Timestamptz(null=True, default=None)  # escalation mail queued
    updated_at = Timestamptz(default=TimestamptzNow())


class RequestEvent(Table, tablename="takedown_event"):
    """The timeline of a request; ``recipient`` set means the event concerns one ISP's copy."""

    request = ForeignKey(TakedownRequest, on_delete=OnDelete.restrict, index=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict)
    recipient = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=True)
    assignment = ForeignKey(Assignment, on_delete=OnDelete.restrict, null=True)
    kind = Varchar(length=24)
    note = Text(default="")
    actor_user_id = Integer(null=True, default=None)
    actor_label = Varchar(length=254, default="")
    actor_tenant_id = Integer(null=True, default=None)
    at = Timestamptz(default=TimestamptzNow())


class ReferenceCounter(Table, tablename="takedown_reference_counter"):
    """The last request number used in a year; its row lock makes numbers gapless under concurrency."""

    year = Integer(unique=True)
    last_value = Integer(default=0)


class IdempotencyRecord(Table, tablename="takedown_idempotency"):
    """The answer given to an API POST with an ``Idempotency-Key``, replayed when the key repeats."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True)
    key = Varchar(length=200)
    fingerprint = Varchar(length=64)
    status_code = Integer()
    response = JSONB(default={})
    created_at = Timestamptz(default=TimestamptzNow())


class FeedEntry(Table, tablename="takedown_feed_entry"):
    """What one ISP must block now because of one issuer; ``refcount`` counts that issuer's active requests.

    Rows are per issuer so each side's transaction only touches rows it may see under row-level
    security; the feed is the distinct values over issuers.
    """

    recipient = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True)
    issuer = ForeignKey(Tenant, on_delete=OnDelete.restrict)
    entry_type = Varchar(length=8)  # url, domain
    value = Text()
    value_hash = Varchar(length=64)
    refcount = Integer(default=0)
    updated_at = Timestamptz(default=TimestamptzNow())


class FeedChange(Table, tablename="takedown_feed_change"):
    """A value of one ISP's block list that changed; the id is the ``since`` cursor.

    Whether the value was added or removed is read from the feed's current state when an ISP
    syncs, so two issuers blocking the same address never produce a wrong removal.
    """

    recipient = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True)
    issuer = ForeignKey(Tenant, on_delete=OnDelete.restrict)
    entry_type = Varchar(length=8)
    value = Text()
    at = Timestamptz(default=TimestamptzNow())


class TakedownImport(Table, tablename="takedown_import"):
    """One CSV import of reports: its progress while it runs, its counts, where its report of bad rows is stored."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True)
    filename = Varchar(length=200)
    status = Varchar(length=16, default="done")  # running, done, failed
    total_rows = Integer(default=0)  # rows read so far while running
    imported_rows = Integer(default=0)
    repeat_rows = Integer(default=0)  # rows that attached to an address already in the queue
    error_rows = Integer(default=0)
    error_report_key = Varchar(length=300, default="")
    message = Text(default="")
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    bytes_total = Integer(default=0)  # size of the uploaded file
    bytes_read = Integer(default=0)
    progress_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)


class Webhook(Table, tablename="takedown_webhook"):
    """An ISP's signed webhook: where events are POSTed and the (encrypted) secret that signs them."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, unique=True)
    url = Text()
    secret_encrypted = Text()
    secret_hint = Varchar(length=16, default="")  # the secret's first characters, to tell secrets apart
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    updated_by_label = Varchar(length=254, default="")


class WebhookTarget(Table, tablename="takedown_webhook_target"):
    """Which organisations have a webhook, readable from any scope (no address, no secret).

    An issuer's transaction queues the "new request" event for each addressed ISP; it cannot read
    the ISP's ``takedown_webhook`` row (row-level security), only this flag (readable by every
    scope, written only by its own organisation: see the raw migration).
    """

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, unique=True)


class WebhookDelivery(Table, tablename="takedown_webhook_delivery"):
    """One event for one ISP's webhook, queued in the transaction of the change that caused it."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict)
    event_id = Varchar(length=36, unique=True)
    event = Varchar(length=32)
    reference = Varchar(length=20, default="")
    body = Text()
    status = Varchar(length=16, default="pending")  # pending, sent, failed
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow())
    last_error = Text(default="")
    response_status = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    delivered_at = Timestamptz(null=True, default=None)
