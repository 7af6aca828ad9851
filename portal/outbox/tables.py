"""The outbox table; the worker claims rows with FOR UPDATE SKIP LOCKED so several can run."""

from piccolo.columns import Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class OutboxMessage(Table, tablename="outbox_message"):
    tenant_id = Integer(null=True, default=None)
    to_address = Varchar(length=254)
    subject = Varchar(length=300)
    body_text = Text()
    status = Varchar(length=16, default="pending", index=True)
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow(), index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)
    last_error = Text(default="")
