"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from litestar import Request, Response, get

from portal.core.db import execute
from portal.core.storage import get_storage


@get("/healthz", include_in_schema=False)
async def healthz() -> dict:
    return {"status": "ok"}


@get("/readyz", include_in_schema=False)
async def readyz(request: Request) -> Response:
    checks: dict[str, str] = {}
    try:
        await execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # readiness reports any failure instead of raising
        checks["database"] = f"error: {exc.__class__.__name__}"
    try:
        await get_storage().check()
        checks["storage"] = "ok"
    except Exception as exc:  # readiness reports any failure instead of raising
        checks["storage"] = f"error: {exc.__class__.__name__}"
    ready = all(value == "ok" for value in checks.values())
    return Response(content={"status": "ok" if ready else "unavailable", "checks": checks}, status_code=200 if ready else 503)
