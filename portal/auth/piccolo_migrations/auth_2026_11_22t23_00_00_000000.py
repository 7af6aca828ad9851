"""Single sign-on tables: each organisation's OpenID Connect provider, its email domains, and
sign-ins waiting for the provider's answer.

The tables are frozen copies of those in ``portal.auth.tables`` as of this migration, created by
Piccolo in either dialect. The provider and its domains belong to one organisation (row-level
security); the waiting sign-ins belong to nobody yet and are only read by the sign-in code.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import Boolean, ForeignKey, OnDelete, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.core.rls import enable_tenant_rls

ID = "2026-11-22T23:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "single sign-on providers, domains and pending sign-ins"


class Tenant(Table, tablename="tenant"):
    id = Serial(primary_key=True)


class IdentityProvider(Table, tablename="auth_identity_provider"):
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, unique=True)
    issuer = Text()
    client_id = Varchar(length=255)
    client_secret_encrypted = Text()
    client_secret_hint = Varchar(length=16, default="")
    enabled = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    updated_by_label = Varchar(length=254, default="")


class SsoDomain(Table, tablename="auth_sso_domain"):
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True)
    domain = Varchar(length=253, unique=True)


class OidcLogin(Table, tablename="auth_oidc_login"):
    state_hash = Varchar(length=64, unique=True)
    provider_tenant = ForeignKey(Tenant, on_delete=OnDelete.cascade)
    nonce = Varchar(length=128)
    code_verifier = Varchar(length=128)
    next_path = Varchar(length=500, default="")
    expires_at = Timestamptz(index=True)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="auth", description=DESCRIPTION)

    async def run():
        for table in (IdentityProvider, SsoDomain, OidcLogin):
            await table.create_table(if_not_exists=True)
        await enable_tenant_rls("auth_identity_provider")
        await enable_tenant_rls("auth_sso_domain")

    manager.add_raw(run)
    return manager
