"""Request plumbing shared by every feature: session loading, language, tenant context, errors."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.enums import MediaType
from litestar.exceptions import HTTPException, NotFoundException, PermissionDeniedException
from litestar.middleware import ASGIMiddleware
from litestar.response import Redirect
from litestar.types import ASGIApp, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from portal.auth import services as auth
from portal.core import i18n
from portal.core.actor import Actor
from portal.core.errors import NotFound, NotSignedIn, PortalError
from portal.core.i18n import _
from portal.core.permissions import Access, require
from portal.core.settings import get_settings
from portal.core.templating import PageContext, render, set_page_context
from portal.tenants.tables import Tenant

log = logging.getLogger(__name__)

SESSION_COOKIE = "portal_session"
LANGUAGE_COOKIE = "lang"


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


class RequestContextMiddleware(ASGIMiddleware):
    """Sets the request language and loads the signed-in session, once, before any handler."""

    scopes = ("http",)  # type: ignore[assignment]
    exclude_path_pattern = ("^/static/", "^/healthz$")

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        request: Request = Request(scope)
        i18n.current_language.set(i18n.normalise_language(request.cookies.get(LANGUAGE_COOKIE)))
        signed_in = None
        token = request.cookies.get(SESSION_COOKIE)
        if token and not scope["path"].startswith("/api/"):
            signed_in = await auth.load_session(token)
        scope.setdefault("state", {})["signed_in"] = signed_in
        await next_app(scope, receive, send)


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # Scripts and styles only from the portal itself: no CDN, no inline script.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'"
    ),
}


async def add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def signed_in_or_none(request: Request) -> auth.SignedIn | None:
    return request.scope.get("state", {}).get("signed_in")


async def provide_signed_in(request: Request) -> auth.SignedIn:
    signed_in = signed_in_or_none(request)
    if signed_in is None:
        raise NotSignedIn(_("Sign in to continue."))
    return signed_in


@dataclass
class TenantContext:
    """The tenant of a ``/t/{tenant_slug}`` URL, and the signed-in person's standing in it."""

    tenant: dict
    role: str
    signed_in: auth.SignedIn
    ip: str

    @property
    def access(self) -> Access:
        return Access(role=self.role, tenant_kind=self.tenant["kind"])

    @property
    def actor(self) -> Actor:
        return Actor(user_id=self.signed_in.user["id"], label=self.signed_in.user["email"], ip=self.ip)

    @property
    def tenant_id(self) -> int:
        return self.tenant["id"]

    def require(self, permission: str) -> None:
        require(self.access, permission)


async def provide_tenant_context(request: Request, tenant_slug: str) -> TenantContext:
    """Members only: anyone else gets 404, so another organisation's existence is not confirmed."""
    signed_in = await provide_signed_in(request)
    membership = signed_in.membership(tenant_slug)
    if membership is None:
        raise NotFound(_("This page does not exist or you do not have access to it."))
    tenant = await Tenant.select().where(Tenant.id == membership["tenant_id"]).first()
    if tenant is None:
        raise NotFound(_("This page does not exist or you do not have access to it."))
    if signed_in.active_tenant_id != tenant["id"]:
        await auth.set_active_tenant(signed_in, tenant["id"])
        signed_in.active_tenant_id = tenant["id"]
    context = TenantContext(tenant=tenant, role=membership["role"], signed_in=signed_in, ip=client_ip(request))
    request.scope["state"]["tenant_context"] = context
    return context


def actor_for(request: Request) -> Actor:
    signed_in = signed_in_or_none(request)
    if signed_in is None:
        return Actor(user_id=None, label="anonymous", ip=client_ip(request))
    return Actor(user_id=signed_in.user["id"], label=signed_in.user["email"], ip=client_ip(request))


async def form_data(request: Request) -> dict[str, Any]:
    """Form fields as plain strings (files are left to upload handlers)."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str) and key != "_csrf_token"}


async def flash(request: Request, message: str, kind: str = "success") -> None:
    signed_in = signed_in_or_none(request)
    if signed_in is not None:
        await auth.push_flash(signed_in.session_id, kind, message)


def redirect(path: str) -> Redirect:
    return Redirect(path=path, status_code=303)


def _page_context(request: Request) -> PageContext:
    signed_in = signed_in_or_none(request)
    tenant_context: TenantContext | None = request.scope.get("state", {}).get("tenant_context")
    return PageContext(
        path=request.url.path,
        query=request.url.query or "",
        csrf_token=ScopeState.from_scope(request.scope).csrf_token or "",
        language=i18n.current_language.get(),
        user=signed_in.user if signed_in else None,
        memberships=signed_in.memberships if signed_in else [],
        tenant=tenant_context.tenant if tenant_context else None,
        role=tenant_context.role if tenant_context else None,
        flashes=signed_in.flashes if signed_in else [],
        is_htmx=request.headers.get("hx-request") == "true",
    )


async def page(request: Request, component: str, *, status_code: int = 200, **values: Any) -> Response:
    """Render a page component as HTML for this request; flash messages are shown once."""
    context = _page_context(request)
    set_page_context(context)
    html = render(component, **values)
    signed_in = signed_in_or_none(request)
    if signed_in is not None and signed_in.flashes and not context.is_htmx:
        await auth.clear_flashes(signed_in.session_id)
        signed_in.flashes = []
    return Response(content=html, media_type=MediaType.HTML, status_code=status_code)


def language_cookie(language: str) -> Cookie:
    return Cookie(
        key=LANGUAGE_COOKIE, value=language, max_age=365 * 24 * 3600, httponly=True, samesite="lax",
        secure=get_settings().secure_cookies, path="/",
    )


def session_cookie(token: str) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE, value=token, httponly=True, samesite="lax", secure=get_settings().secure_cookies,
        path="/", max_age=get_settings().session_hours * 3600,
    )


def _problem(request: Request, status: int, title: str, detail: str, extra: dict | None = None) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, "instance": request.url.path}
    body |= extra or {}
    return Response(content=body, status_code=status, media_type="application/problem+json")


def _error_page(request: Request, status: int, message: str) -> Response:
    set_page_context(_page_context(request))
    html = render("layout.ErrorPage", status=status, message=message)
    headers = {}
    if request.headers.get("hx-request") == "true":
        # htmx does not swap 4xx/5xx by default: send the message to the page's alert area.
        html = render("layout.Alert", kind="error", message=message)
        headers = {"HX-Retarget": "#alerts", "HX-Reswap": "innerHTML"}
    return Response(content=html, status_code=status, media_type=MediaType.HTML, headers=headers)


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def handle_portal_error(request: Request, exc: PortalError) -> Response:
    i18n.current_language.set(i18n.normalise_language(request.cookies.get(LANGUAGE_COOKIE)))
    if isinstance(exc, NotSignedIn) and not is_api(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(f"/login?next={quote(target)}")
    if is_api(request):
        extra = {"errors": exc.errors} if hasattr(exc, "errors") else None
        response = _problem(request, exc.status_code, exc.title, exc.message, extra)
        if isinstance(exc, NotSignedIn):
            response.headers["WWW-Authenticate"] = 'Bearer realm="portal"'
        return response
    return _error_page(request, exc.status_code, exc.message)


def handle_http_exception(request: Request, exc: HTTPException) -> Response:
    """Litestar's own errors (unknown route, CSRF failure, body too large) in the portal's voice."""
    i18n.current_language.set(i18n.normalise_language(request.cookies.get(LANGUAGE_COOKIE)))
    status = exc.status_code
    if isinstance(exc, PermissionDeniedException) and "CSRF" in str(exc.detail):
        message = _("The form has expired or was sent from elsewhere. Reload the page and try again.")
    elif isinstance(exc, NotFoundException) or status == 404:
        message = _("This page does not exist or you do not have access to it.")
    elif status == 413:
        message = _("The file is larger than the portal accepts.")
    elif status == 405:
        message = _("This address does not accept that kind of request.")
    elif status >= 500:
        message = _("Something went wrong on our side. Try again in a moment.")
    else:
        message = _("The request could not be processed.")
    if is_api(request):
        extra = {"errors": exc.extra} if isinstance(getattr(exc, "extra", None), (list, dict)) and exc.extra else None
        return _problem(request, status, str(exc.detail) or message, message, extra)
    return _error_page(request, status, message)


def handle_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    i18n.current_language.set(i18n.normalise_language(request.cookies.get(LANGUAGE_COOKIE)))
    message = _("Something went wrong on our side. Try again in a moment.")
    if is_api(request):
        return _problem(request, 500, "Internal Server Error", message)
    return _error_page(request, 500, message)


EXCEPTION_HANDLERS = {
    PortalError: handle_portal_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}

