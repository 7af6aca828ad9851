"""The Litestar application: one factory that wires every feature's routes and the shared plumbing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.static_files import create_static_files_router

from portal.annual_reports.routes import routers as annual_report_routers
from portal.api import router as api_router
from portal.audit.routes import router as audit_router
from portal.auth.routes import router as auth_router
from portal.code_of_conduct.routes import routers as code_of_conduct_routers
from portal.files.routes import router as files_router
from portal.core.db import close_pool, start_pool
from portal.core.health import healthz, readyz
from portal.core.settings import get_settings
from portal.core.templating import STATIC_DIR
from portal.core.web import EXCEPTION_HANDLERS, RequestContextMiddleware, add_security_headers
from portal.operator.routes import router as operator_router
from portal.takedown.api import router as takedown_api_router
from portal.takedown.routes import public_router as takedown_public_router
from portal.takedown.routes import router as takedown_router
from portal.takedown.webhook_routes import router as takedown_webhook_router
from portal.tenants.routes import invitations_router
from portal.tenants.routes import router as tenants_router
from portal.worker import run_outbox_loop

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    """Open the connection pool for the life of the process, and deliver mail in-process if asked."""
    settings = get_settings()
    opened_pool = await start_pool()
    worker: asyncio.Task | None = None
    if settings.inprocess_worker:
        worker = asyncio.create_task(run_outbox_loop(settings))
    try:
        yield
    finally:
        if worker is not None:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        if opened_pool:
            await close_pool()


def create_app() -> Litestar:
    settings = get_settings()
    return Litestar(
        route_handlers=[
            healthz,
            readyz,
            auth_router,
            tenants_router,
            invitations_router,
            audit_router,
            files_router,
            operator_router,
            takedown_public_router,
            takedown_router,
            takedown_webhook_router,
            takedown_api_router,
            *code_of_conduct_routers,
            *annual_report_routers,
            api_router,
            create_static_files_router(path="/static", directories=[STATIC_DIR], include_in_schema=False),
        ],
        middleware=[RequestContextMiddleware()],
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_secure=settings.secure_cookies,
            cookie_httponly=True,
            exclude=["/api/"],
        ),
        exception_handlers=EXCEPTION_HANDLERS,
        after_request=add_security_headers,
        lifespan=[lifespan],
        request_max_body_size=settings.max_upload_bytes + 1024 * 1024,
        openapi_config=OpenAPIConfig(
            title="Child online safety partner portal API",
            version="1.0.0",
            path="/schema",
            render_plugins=[JsonRenderPlugin()],
        ),
    )
