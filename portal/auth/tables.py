"""Sessions live in the database so that several app processes can serve one signed-in person."""

from piccolo.columns import JSONB, Boolean, ForeignKey, OnDelete, Text, Timestamptz, Varchar
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


class IdentityProvider(Table, tablename="auth_identity_provider"):
    """An organisation's own OpenID Connect provider; the client secret is encrypted at rest."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, unique=True)
    issuer = Text()
    client_id = Varchar(length=255)
    client_secret_encrypted = Text()
    client_secret_hint = Varchar(length=16, default="")  # the first characters, to tell secrets apart
    enabled = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    updated_by_label = Varchar(length=254, default="")


class SsoDomain(Table, tablename="auth_sso_domain"):
    """An email domain whose people sign in through one organisation's provider (one organisation per domain)."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True)
    domain = Varchar(length=253, unique=True)


class OidcLogin(Table, tablename="auth_oidc_login"):
    """A sign-in sent to a provider and not yet back: state (hashed), nonce and PKCE verifier, used once."""

    state_hash = Varchar(length=64, unique=True)
    provider_tenant = ForeignKey(Tenant, on_delete=OnDelete.cascade)
    nonce = Varchar(length=128)
    code_verifier = Varchar(length=128)
    next_path = Varchar(length=500, default="")
    expires_at = Timestamptz(index=True)
