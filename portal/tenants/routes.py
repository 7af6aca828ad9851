"""Pages of one organisation under /t/{tenant_slug}/: overview, profile, members, API keys."""

from __future__ import annotations

from litestar import Request, Response, Router, get
from litestar.di import Provide

from portal.core.web import TenantContext, page, provide_tenant_context
from portal.tenants import services


@get("/", include_in_schema=False)
async def overview(request: Request, ctx: TenantContext) -> Response:
    ctx.require("tenant.view")
    summary = await services.tenant_summary(ctx.tenant)
    return await page(request, "tenants.OverviewPage", summary=summary)


router = Router(
    path="/t/{tenant_slug:str}",
    route_handlers=[overview],
    dependencies={"ctx": Provide(provide_tenant_context)},
)
