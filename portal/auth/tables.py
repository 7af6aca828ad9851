"""Sessions live in the database so that several app processes can serve one signed-in person."""

from piccolo.columns import JSONB, Boolean, ForeignKey, OnDelete, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.tenants.tables import Tenant, User


class UserSession(Table, tablename="user_session"):
    token_hash = Varchar(length=64, unique=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    active_tenant = ForeignKey(Tenant, on_delete=OnDelete.set_null, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    last_seen_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    ip = Varchar(length=64, default="")
    user_agent = Varchar(length=300, default="")
    flash = JSONB(default=[])


class LoginAttempt(Table, tablename="login_attempt"):
    """Kept to throttle guessing per account and per address."""

    email = Varchar(length=254, index=True)
    ip = Varchar(length=64, index=True)
    at = Timestamptz(default=TimestamptzNow(), index=True)
    succeeded = Boolean(default=False)


class PasswordReset(Table, tablename="password_reset"):
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
