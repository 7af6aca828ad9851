"""Tables for organisations, people and who belongs where."""

from enum import Enum

from piccolo.columns import JSONB, Boolean, ForeignKey, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class TenantKind(str, Enum):
    isp = "isp"
    ngo = "ngo"
    agency = "agency"
    regulator = "regulator"


class Role(str, Enum):
    admin = "admin"
    officer = "officer"
    analyst = "analyst"
    viewer = "viewer"


class Tenant(Table, tablename="tenant"):
    """An organisation; everything it owns is scoped by its id."""

    slug = Varchar(length=64, unique=True)
    kind = Varchar(length=16, choices=TenantKind)
    name = Varchar(length=200)
    legal_name = Varchar(length=300, default="")
    nipt = Varchar(length=10, default="")
    address = Text(default="")
    contact_email = Varchar(length=254, default="")
    contact_point_name = Varchar(length=200, default="")
    contact_point_title = Varchar(length=200, default="")
    contact_point_email = Varchar(length=254, default="")
    contact_point_phone = Varchar(length=40, default="")
    is_hotline = Boolean(default=False)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class User(Table, tablename="portal_user"):
    """A person; one account may belong to several organisations."""

    email = Varchar(length=254, unique=True)
    full_name = Varchar(length=200, default="")
    password_hash = Varchar(length=255, default="")
    language = Varchar(length=5, default="sq")
    is_operator = Boolean(default=False)
    is_active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    password_changed_at = Timestamptz(default=TimestamptzNow())


class Membership(Table, tablename="membership"):
    """A person's role in one organisation; deactivated, never deleted, so history stays readable."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True)
    user = ForeignKey(User, on_delete=OnDelete.restrict, index=True)
    role = Varchar(length=16, choices=Role)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class Invitation(Table, tablename="invitation"):
    """An emailed link that lets a person join an organisation with a given role until it expires."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True)
    email = Varchar(length=254)
    role = Varchar(length=16, choices=Role)
    token_hash = Varchar(length=64, unique=True)
    invited_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    accepted_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class ApiKey(Table, tablename="api_key"):
    """A machine credential of one organisation; only a hash of the secret is kept."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True)
    name = Varchar(length=120)
    prefix = Varchar(length=16)
    key_hash = Varchar(length=64, unique=True)
    scopes = JSONB(default=[])
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    revoked_at = Timestamptz(null=True, default=None)
    last_used_at = Timestamptz(null=True, default=None)
