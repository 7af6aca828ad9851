"""Baseline for bench_requests_api.py: the first page of an ISP's requests through a bare asyncpg handler.

The same SQL as the portal's ``GET /api/v1/takedown/requests`` (portal.takedown.requests.API_LIST_SQL,
first page, one row more than a page), for the ISP named by ``BENCH_RECIPIENT_ID``: no API key, no
transaction or tenant setting, no row-level security (it connects as the administrator), no ORM,
no templating. The rows are serialised to the same JSON fields, so only the portal's extras differ.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import asyncpg
from litestar import Litestar, get

from portal.takedown.requests import API_LIST_SQL, API_PER_PAGE, _numbered

POOL: dict[str, asyncpg.Pool] = {}
SQL = _numbered(API_LIST_SQL + " ORDER BY a.due_at, a.id LIMIT {} OFFSET {}")


async def startup() -> None:
    POOL["pool"] = await asyncpg.create_pool(os.environ["BENCH_BARE_DATABASE_URL"], min_size=2, max_size=10)


@get("/healthz")
async def healthz() -> dict:
    return {"status": "ok"}


def _iso(value):
    return value.isoformat() if value is not None else None


@get("/api/v1/takedown/requests")
async def requests_page() -> dict:
    now = datetime.now(UTC)
    async with POOL["pool"].acquire() as connection:
        rows = await connection.fetch(SQL, int(os.environ["BENCH_RECIPIENT_ID"]), API_PER_PAGE + 1, 0)
    items = [{
        "reference": row["reference"], "kind": row["kind"], "priority": row["priority"], "status": row["status"],
        "overdue": row["status"] in ("sent", "acknowledged") and row["due_at"] < now, "outcome": row["outcome"] or None, "due_at": _iso(row["due_at"]), "issued_at": _iso(row["issued_at"]),
        "acknowledged_at": _iso(row["acknowledged_at"]), "actioned_at": _iso(row["actioned_at"]),
        "issuer": row["issuer"], "url_count": row["url_count"],
    } for row in rows[:API_PER_PAGE]]
    return {"items": items, "page": 1, "per_page": API_PER_PAGE,
            "next": "/api/v1/takedown/requests?page=2" if len(rows) > API_PER_PAGE else None}


app = Litestar(route_handlers=[healthz, requests_page], on_startup=[startup])
