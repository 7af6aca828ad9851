"""The machine API under /api/v1: bearer API keys, JSON problem details on every error."""

from __future__ import annotations

from litestar import Request, Router, get
from litestar.di import Provide

from portal.core.errors import Forbidden, NotSignedIn
from portal.core.i18n import _
from portal.tenants.api_keys import ApiPrincipal, authenticate_api_key


async def provide_principal(request: Request) -> ApiPrincipal:
    header = request.headers.get("authorization", "")
    scheme, _sep, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise NotSignedIn(_("Send an API key as 'Authorization: Bearer <key>'."))
    principal = await authenticate_api_key(secret.strip())
    if principal is None:
        raise NotSignedIn(_("The API key is not valid or has been revoked."))
    return principal


def require_scope(principal: ApiPrincipal, scope: str) -> None:
    if scope not in principal.scopes:
        raise Forbidden(_("This API key does not have the '%(scope)s' permission.", scope=scope))


@get("/me", summary="The organisation and permissions of the calling key")
async def whoami(principal: ApiPrincipal) -> dict:
    return {
        "tenant": principal.tenant_slug,
        "kind": principal.tenant_kind,
        "scopes": sorted(principal.scopes),
    }


router = Router(path="/api/v1", route_handlers=[whoami], dependencies={"principal": Provide(provide_principal)})
