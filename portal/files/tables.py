"""Metadata of stored files; the bytes live in the storage backend under ``storage_key``."""

from piccolo.columns import BigInt, ForeignKey, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.tenants.tables import Tenant, User


class StoredFile(Table, tablename="stored_file"):
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True)
    storage_key = Varchar(length=300, unique=True)
    filename = Varchar(length=255)
    content_type = Varchar(length=120)
    size_bytes = BigInt()
    sha256 = Varchar(length=64)
    purpose = Varchar(length=40, default="document")
    description = Text(default="")
    uploaded_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    deleted_at = Timestamptz(null=True, default=None)
