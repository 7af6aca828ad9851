"""Baseline for bench_api_auth.py: a bare Litestar handler doing the same key lookup through asyncpg.

No ORM, no sessions, no CSRF, no templating: the ceiling the portal's API path is compared with.
"""

from __future__ import annotations

import hashlib
import os

import asyncpg
from litestar import Litestar, Request, get

POOL: dict[str, asyncpg.Pool] = {}


async def startup() -> None:
    POOL["pool"] = await asyncpg.create_pool(os.environ["PORTAL_DATABASE_URL"], min_size=2, max_size=10)


@get("/healthz")
async def healthz() -> dict:
    return {"status": "ok"}


@get("/api/v1/me")
async def me(request: Request) -> dict:
    secret = request.headers.get("authorization", "").partition(" ")[2]
    digest = hashlib.sha256(secret.encode()).hexdigest()
    async with POOL["pool"].acquire() as connection:
        row = await connection.fetchrow(
            "SELECT k.scopes, t.slug, t.kind FROM api_key k JOIN tenant t ON t.id = k.tenant "
            "WHERE k.key_hash = $1 AND k.revoked_at IS NULL",
            digest,
        )
    return {"tenant": row["slug"], "kind": row["kind"], "scopes": row["scopes"]}


app = Litestar(route_handlers=[healthz, me], on_startup=[startup])
