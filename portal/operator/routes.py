"""Platform operator pages under /operator: only accounts flagged as operators; everyone else gets 404."""

from __future__ import annotations

from litestar import Request, Response, Router, get, post
from litestar.di import Provide

from portal.auth.services import SignedIn
from portal.core.errors import NotFound, ValidationFailed
from portal.core.i18n import _
from portal.core.labels import kind_label
from portal.core.web import actor_for, flash, form_data, page, provide_signed_in, redirect
from portal.operator import services
from portal.tenants.tables import TenantKind


async def provide_operator(request: Request) -> SignedIn:
    """Signed-out visitors are sent to sign in; signed-in non-operators are told nothing exists here."""
    signed_in = await provide_signed_in(request)
    if not signed_in.user.get("is_operator"):
        raise NotFound(_("This page does not exist or you do not have access to it."))
    return signed_in


async def tenants_page(request: Request, *, status_code: int = 200, values: dict | None = None,
                       errors: dict | None = None) -> Response:
    return await page(
        request, "operator.TenantsPage", status_code=status_code, tenants=await services.list_tenants(),
        kind_options=[(kind.value, kind_label(kind.value)) for kind in TenantKind], values=values or {"kind": "isp"}, errors=errors or {},
    )


@get("/tenants", include_in_schema=False)
async def list_tenants(request: Request, operator: SignedIn) -> Response:
    return await tenants_page(request)


@post("/tenants", include_in_schema=False)
async def create_tenant(request: Request, operator: SignedIn) -> Response:
    data = await form_data(request)
    try:
        tenant, invitation = await services.create_tenant_with_first_admin(
            kind=data.get("kind", ""), slug=data.get("slug", ""), name=data.get("name", ""),
            nipt=data.get("nipt", ""), is_hotline=data.get("is_hotline") == "on",
            admin_email=data.get("admin_email", ""), actor=actor_for(request),
        )
    except ValidationFailed as exc:
        return await tenants_page(request, status_code=422, values=data, errors=exc.errors)
    await flash(request, _(
        "%(name)s has been created and an invitation to administer it has been sent to %(email)s.",
        name=tenant["name"], email=invitation["email"],
    ))
    return redirect("/operator/tenants")


router = Router(
    path="/operator",
    route_handlers=[list_tenants, create_tenant],
    dependencies={"operator": Provide(provide_operator)},
)
