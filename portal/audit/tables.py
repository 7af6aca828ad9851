"""Audit tables hold plain ids, not foreign keys, so nothing can cascade an entry away."""

from piccolo.columns import JSONB, BigInt, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class AuditEntry(Table, tablename="audit_entry"):
    at = Timestamptz(default=TimestamptzNow(), index=True)
    actor_user_id = Integer(null=True, default=None)
    actor_label = Varchar(length=254, default="")
    tenant_id = Integer(null=True, default=None, index=True)
    action = Varchar(length=64)
    object_type = Varchar(length=64, default="")
    object_id = Varchar(length=64, default="")
    ip = Varchar(length=64, default="")
    detail = JSONB(default={})
    prev_hash = Varchar(length=64)
    entry_hash = Varchar(length=64)


class AuditChainHead(Table, tablename="audit_chain_head"):
    """One row; locking it serialises appends so the chain never forks under concurrency."""

    last_entry_id = BigInt(default=0)
    last_hash = Varchar(length=64)
