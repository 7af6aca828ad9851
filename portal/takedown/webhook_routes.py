"""The ISP admin's webhook page: address, a secret shown once, recent deliveries."""

from __future__ import annotations

from litestar import Request, Response, Router, get, post
from litestar.di import Provide

from portal.core.errors import ValidationFailed
from portal.core.i18n import _
from portal.core.web import TenantContext, flash, form_data, page, provide_tenant_context, redirect
from portal.takedown import webhooks

PERMISSION = "takedown.webhook"


def _path(ctx: TenantContext) -> str:
    return f"/t/{ctx.tenant['slug']}/takedown/webhook"


async def _page(request: Request, ctx: TenantContext, *, status_code: int = 200, values: dict | None = None,
                errors: dict | None = None) -> Response:
    webhook = await webhooks.get_webhook(ctx.tenant_id)
    return await page(
        request, "takedown.WebhookPage", status_code=status_code, webhook=webhook,
        deliveries=await webhooks.recent_deliveries(ctx.tenant_id),
        values=values if values is not None else {"url": webhook["url"] if webhook else ""}, errors=errors or {},
        events=webhooks.EVENTS, max_attempts=webhooks.MAX_ATTEMPTS,
    )


async def _secret_page(request: Request, ctx: TenantContext, secret: str, created: bool) -> Response:
    response = await page(request, "takedown.WebhookSecretPage", secret=secret, created=created)
    # The only time the secret exists outside the portal: keep it out of every cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@get("/webhook", include_in_schema=False)
async def webhook_page(request: Request, ctx: TenantContext) -> Response:
    ctx.require(PERMISSION)
    return await _page(request, ctx)


@post("/webhook", include_in_schema=False)
async def save_webhook(request: Request, ctx: TenantContext) -> Response:
    ctx.require(PERMISSION)
    data = await form_data(request)
    url = data.get("url", "")
    try:
        secret = await webhooks.save_webhook(ctx.tenant, url, ctx.actor)
    except ValidationFailed as exc:
        return await _page(request, ctx, status_code=422, values={"url": url}, errors=exc.errors)
    if secret:
        return await _secret_page(request, ctx, secret, created=True)
    await flash(request, _("The webhook address has been saved."))
    return redirect(_path(ctx))


@post("/webhook/secret", include_in_schema=False)
async def rotate_webhook_secret(request: Request, ctx: TenantContext) -> Response:
    ctx.require(PERMISSION)
    try:
        secret = await webhooks.rotate_secret(ctx.tenant, ctx.actor)
    except ValidationFailed as exc:
        return await _page(request, ctx, status_code=409, errors=exc.errors)
    return await _secret_page(request, ctx, secret, created=False)


@post("/webhook/remove", include_in_schema=False)
async def remove_webhook(request: Request, ctx: TenantContext) -> Response:
    ctx.require(PERMISSION)
    if await webhooks.remove_webhook(ctx.tenant, ctx.actor):
        await flash(request, _("The webhook has been removed; no more events will be sent to it."))
    return redirect(_path(ctx))


router = Router(
    path="/t/{tenant_slug:str}/takedown",
    route_handlers=[webhook_page, save_webhook, rotate_webhook_secret, remove_webhook],
    dependencies={"ctx": Provide(provide_tenant_context)},
)
