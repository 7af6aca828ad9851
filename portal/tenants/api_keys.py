"""Per-tenant API keys: shown once, stored as a hash, scoped, revocable, cached briefly in-process."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from portal.audit import services as audit
from portal.core.actor import Actor
from portal.core.db import execute, system_transaction, tenant_transaction
from portal.core.errors import NotFound, ValidationFailed
from portal.core.i18n import _, lazy
from portal.core.security import new_token, token_hash
from portal.tenants.tables import ApiKey

KEY_PREFIX = "psk"
SCOPES = {
    "read": lazy("Read the organisation's data"),
    "write": lazy("Act on the organisation's behalf"),
}
CACHE_SECONDS = 30.0


@dataclass(frozen=True)
class ApiPrincipal:
    """Who is calling the API: the key's tenant and what the key may do."""

    key_id: int
    tenant_id: int
    tenant_slug: str
    tenant_kind: str
    scopes: frozenset[str]


# key hash -> (principal or None, expires at); a revoked key leaves this process's cache at once,
# and other processes within CACHE_SECONDS.
_cache: dict[str, tuple[ApiPrincipal | None, float]] = {}


def clear_cache() -> None:
    _cache.clear()


async def create_api_key(tenant: dict, *, name: str, scopes: list[str], actor: Actor) -> tuple[str, dict]:
    """Return the full secret (to show once) and the stored row."""
    name = (name or "").strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = _("Give the key a name that says where it is used.")
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        errors["scopes"] = _("Choose at least one permission for the key.")
    if errors:
        raise ValidationFailed(errors)
    prefix = new_token(6)[:8]
    secret = f"{KEY_PREFIX}_{prefix}_{new_token(32)}"
    async with tenant_transaction(tenant["id"]):
        rows = await ApiKey.insert(
            ApiKey(
                tenant=tenant["id"], name=name, prefix=prefix, key_hash=token_hash(secret), scopes=sorted(set(scopes)),
                created_by=actor.user_id,
            )
        ).returning(ApiKey.id, ApiKey.name, ApiKey.prefix, ApiKey.created_at)
        await audit.record(
            "api_key.created", actor=actor, tenant_id=tenant["id"], object_type="api_key", object_id=rows[0]["id"],
            detail={"name": name, "scopes": sorted(set(scopes)), "prefix": prefix},
        )
    return secret, rows[0]


async def list_api_keys(tenant: dict) -> list[dict]:
    async with tenant_transaction(tenant["id"]):
        return await ApiKey.select(
            ApiKey.id, ApiKey.name, ApiKey.prefix, ApiKey.scopes, ApiKey.created_at, ApiKey.revoked_at,
            ApiKey.last_used_at, ApiKey.created_by.email.as_alias("created_by_email"),
        ).where(ApiKey.tenant == tenant["id"]).order_by(ApiKey.id, ascending=False)


async def revoke_api_key(tenant: dict, key_id: int, actor: Actor) -> None:
    async with tenant_transaction(tenant["id"]):
        row = await ApiKey.select(ApiKey.id, ApiKey.key_hash, ApiKey.revoked_at).where(
            (ApiKey.id == key_id) & (ApiKey.tenant == tenant["id"])
        ).first()
        if row is None:
            raise NotFound(_("This page does not exist or you do not have access to it."))
        if row["revoked_at"] is None:
            await ApiKey.update({ApiKey.revoked_at: datetime.now(UTC)}).where(ApiKey.id == key_id)
            await audit.record(
                "api_key.revoked", actor=actor, tenant_id=tenant["id"], object_type="api_key", object_id=key_id
            )
    _cache.pop(row["key_hash"], None)


async def authenticate_api_key(secret: str) -> ApiPrincipal | None:
    """Resolve a bearer secret; one raw query when not cached, nothing when cached."""
    digest = token_hash(secret)
    cached = _cache.get(digest)
    if cached is not None and cached[1] > time.monotonic():
        return cached[0]
    async with system_transaction():
        rows = await execute(
            "SELECT k.id, k.tenant, k.scopes, k.revoked_at, t.slug, t.kind, t.active FROM api_key k "
            "JOIN tenant t ON t.id = k.tenant WHERE k.key_hash = {}",
            digest,
        )
    principal = None
    if rows and rows[0]["revoked_at"] is None and rows[0]["active"]:
        row = rows[0]
        scopes = row["scopes"]
        if isinstance(scopes, str):
            scopes = json.loads(scopes)
        principal = ApiPrincipal(row["id"], row["tenant"], row["slug"], row["kind"], frozenset(scopes))
    _cache[digest] = (principal, time.monotonic() + CACHE_SECONDS)
    return principal
