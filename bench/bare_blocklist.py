"""Baseline for bench_blocklist.py: an ISP's blocklist.txt and its 304 through a bare asyncpg handler.

The same SQL as the portal's feed (portal.takedown.feeds: the cursor, then the distinct active
values) for the ISP named by ``BENCH_RECIPIENT_ID``, on one plain connection from the pool: no API
key, no transaction or tenant setting, no row-level security, no framework extras. A request whose
``If-None-Match`` equals the current ETag gets a 304 after the cursor query alone.
"""

from __future__ import annotations

import os

import asyncpg
from litestar import Litestar, Request, Response, get

from portal.takedown.feeds import CURRENT_SQL, CURSOR_SQL
from portal.takedown.requests import _numbered

POOL: dict[str, asyncpg.Pool] = {}


async def startup() -> None:
    POOL["pool"] = await asyncpg.create_pool(os.environ["BENCH_BARE_DATABASE_URL"], min_size=2, max_size=10)


@get("/healthz")
async def healthz() -> dict:
    return {"status": "ok"}


@get("/api/v1/blocklist.txt")
async def blocklist(request: Request) -> Response:
    recipient = int(os.environ["BENCH_RECIPIENT_ID"])
    async with POOL["pool"].acquire() as connection:
        cursor = await connection.fetchval(_numbered(CURSOR_SQL), recipient)
        etag = f'"txt-{recipient}-{cursor}"'
        if request.headers.get("if-none-match") == etag:
            return Response(content=b"", status_code=304, headers={"ETag": etag})
        rows = await connection.fetch(_numbered(CURRENT_SQL), recipient)
    text = "".join(f"{row['value']}\n" for row in rows)
    return Response(content=text.encode(), media_type="text/plain; charset=utf-8", headers={"ETag": etag})


app = Litestar(route_handlers=[healthz, blocklist], on_startup=[startup])
