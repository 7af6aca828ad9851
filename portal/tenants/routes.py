"""Pages of one organisation under /t/{tenant_slug}/ (overview, profile, members, API keys, the
regulators' directory) and the invitation links under /invitations/{token}."""

from __future__ import annotations

from litestar import Request, Response, Router, get, post
from litestar.di import Provide

from portal.auth import services as auth
from portal.core.errors import Conflict, ValidationFailed
from portal.core.i18n import _
from portal.core.labels import role_label
from portal.core.permissions import can
from portal.core.web import (
    TenantContext,
    client_ip,
    flash,
    form_data,
    page,
    provide_tenant_context,
    redirect,
    session_cookie,
    signed_in_or_none,
)
from portal.core.overview import work_items
from portal.tenants import api_keys, services
from portal.tenants.tables import TenantKind


def tenant_path(ctx: TenantContext, rest: str = "") -> str:
    return f"/t/{ctx.tenant['slug']}/{rest}"


@get("/", include_in_schema=False)
async def overview(request: Request, ctx: TenantContext) -> Response:
    ctx.require("tenant.view")
    summary = await services.tenant_summary(ctx.tenant)
    return await page(request, "tenants.OverviewPage", summary=summary,
                      work=await work_items(ctx.tenant, ctx.access))


# --- profile -------------------------------------------------------------------------------


@get("/profile", include_in_schema=False)
async def profile(request: Request, ctx: TenantContext) -> Response:
    ctx.require("tenant.view")
    return await page(
        request, "tenants.ProfilePage", values=services.profile_values(ctx.tenant), errors={},
        can_edit=can(ctx.access, "tenant.edit_profile"),
    )


@post("/profile", include_in_schema=False)
async def save_profile(request: Request, ctx: TenantContext) -> Response:
    ctx.require("tenant.edit_profile")
    data = await form_data(request)
    try:
        changes = await services.update_profile(ctx.tenant, data, ctx.actor)
    except ValidationFailed as exc:
        return await page(
            request, "tenants.ProfilePage", status_code=422, values=data, errors=exc.errors, can_edit=True,
        )
    await flash(request, _("The organisation profile has been saved.") if changes else _("Nothing was changed."))
    return redirect(tenant_path(ctx, "profile"))


# --- members and invitations ---------------------------------------------------------------


async def members_page(
    request: Request, ctx: TenantContext, *, status_code: int = 200, values: dict | None = None,
    errors: dict | None = None, action_error: str = "",
) -> Response:
    can_manage = can(ctx.access, "members.manage")
    return await page(
        request, "tenants.MembersPage", status_code=status_code,
        members=await services.list_members(ctx.tenant),
        invitations=await services.list_pending_invitations(ctx.tenant) if can_manage else [],
        role_options=[(role, role_label(role)) for role in services.roles_for_tenant(ctx.tenant)],
        can_manage=can_manage,
        current_user_id=ctx.signed_in.user["id"],
        values=values or {"role": "officer"},
        errors=errors or {},
        action_error=action_error,
    )


@get("/members", include_in_schema=False)
async def members(request: Request, ctx: TenantContext) -> Response:
    ctx.require("members.view")
    return await members_page(request, ctx)


@post("/members/invite", include_in_schema=False)
async def invite(request: Request, ctx: TenantContext) -> Response:
    ctx.require("members.manage")
    data = await form_data(request)
    try:
        invitation = await services.invite_member(ctx.tenant, data.get("email", ""), data.get("role", ""), ctx.actor)
    except ValidationFailed as exc:
        return await members_page(request, ctx, status_code=422, values=data, errors=exc.errors)
    await flash(request, _("An invitation has been sent to %(email)s. The link works for 7 days.", email=invitation["email"]))
    return redirect(tenant_path(ctx, "members"))


@post("/members/invitations/{invitation_id:int}/revoke", include_in_schema=False)
async def revoke_invitation(request: Request, ctx: TenantContext, invitation_id: int) -> Response:
    ctx.require("members.manage")
    try:
        await services.revoke_invitation(ctx.tenant, invitation_id, ctx.actor)
    except Conflict as exc:
        return await members_page(request, ctx, status_code=exc.status_code, action_error=exc.message)
    await flash(request, _("The invitation has been withdrawn; its link no longer works."))
    return redirect(tenant_path(ctx, "members"))


@post("/members/{membership_id:int}/role", include_in_schema=False)
async def change_role(request: Request, ctx: TenantContext, membership_id: int) -> Response:
    ctx.require("members.manage")
    data = await form_data(request)
    try:
        changed = await services.change_member_role(ctx.tenant, membership_id, data.get("role", ""), ctx.actor)
    except (ValidationFailed, Conflict) as exc:
        return await members_page(request, ctx, status_code=exc.status_code, action_error=exc.message)
    await flash(request, _("The role has been changed.") if changed else _("Nothing was changed."))
    return redirect(tenant_path(ctx, "members"))


async def _set_active(request: Request, ctx: TenantContext, membership_id: int, active: bool) -> Response:
    ctx.require("members.manage")
    try:
        member = await services.set_member_active(ctx.tenant, membership_id, active, ctx.actor)
    except (ValidationFailed, Conflict) as exc:
        return await members_page(request, ctx, status_code=exc.status_code, action_error=exc.message)
    if not active and member["user_id"] == ctx.signed_in.user["id"]:
        # Deactivating oneself ends one's access to this organisation at once.
        return redirect("/")
    if active:
        await flash(request, _("%(email)s can use the organisation's pages again.", email=member["email"]))
    else:
        await flash(request, _("%(email)s no longer has access to the organisation.", email=member["email"]))
    return redirect(tenant_path(ctx, "members"))


@post("/members/{membership_id:int}/deactivate", include_in_schema=False)
async def deactivate_member(request: Request, ctx: TenantContext, membership_id: int) -> Response:
    return await _set_active(request, ctx, membership_id, False)


@post("/members/{membership_id:int}/reactivate", include_in_schema=False)
async def reactivate_member(request: Request, ctx: TenantContext, membership_id: int) -> Response:
    return await _set_active(request, ctx, membership_id, True)


# --- API keys ------------------------------------------------------------------------------


async def api_keys_page(
    request: Request, ctx: TenantContext, *, status_code: int = 200, values: dict | None = None,
    errors: dict | None = None,
) -> Response:
    return await page(
        request, "tenants.ApiKeysPage", status_code=status_code, keys=await api_keys.list_api_keys(ctx.tenant),
        scopes=api_keys.SCOPES, key_prefix=api_keys.KEY_PREFIX, values=values or {"scopes": ["read"]}, errors=errors or {},
    )


@get("/api-keys", include_in_schema=False)
async def list_api_keys(request: Request, ctx: TenantContext) -> Response:
    ctx.require("api_keys.manage")
    return await api_keys_page(request, ctx)


@post("/api-keys", include_in_schema=False)
async def create_api_key(request: Request, ctx: TenantContext) -> Response:
    ctx.require("api_keys.manage")
    form = await request.form()
    name = form.get("name") if isinstance(form.get("name"), str) else ""
    scopes = [value for value in form.getall("scopes", []) if isinstance(value, str)]
    try:
        secret, key = await api_keys.create_api_key(ctx.tenant, name=name, scopes=scopes, actor=ctx.actor)
    except ValidationFailed as exc:
        return await api_keys_page(request, ctx, status_code=422, values={"name": name, "scopes": scopes}, errors=exc.errors)
    response = await page(request, "tenants.ApiKeyCreatedPage", secret=secret, key=key, scopes=sorted(set(scopes)))
    # The only time the secret exists outside the caller's hands: keep it out of every cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@post("/api-keys/{key_id:int}/revoke", include_in_schema=False)
async def revoke_api_key(request: Request, ctx: TenantContext, key_id: int) -> Response:
    ctx.require("api_keys.manage")
    await api_keys.revoke_api_key(ctx.tenant, key_id, ctx.actor)
    await flash(request, _("The API key has been revoked; requests made with it are refused from now on."))
    return redirect(tenant_path(ctx, "api-keys"))


# --- the regulators' directory of organisations --------------------------------------------


@get("/organisations", include_in_schema=False)
async def organisations(request: Request, ctx: TenantContext, kind: str | None = None) -> Response:
    ctx.require("organisations.view")
    kind = kind if kind in {k.value for k in TenantKind} else None
    rows = await services.list_organisations(kind)
    return await page(request, "tenants.OrganisationsPage", organisations=rows, kind=kind or "")


@get("/organisations/{other_slug:str}", include_in_schema=False)
async def organisation(request: Request, ctx: TenantContext, other_slug: str) -> Response:
    ctx.require("organisations.view")
    other = await services.get_organisation(other_slug)
    return await page(request, "tenants.OrganisationPage", organisation=other)


router = Router(
    path="/t/{tenant_slug:str}",
    route_handlers=[
        overview, profile, save_profile, members, invite, revoke_invitation, change_role, deactivate_member,
        reactivate_member, list_api_keys, create_api_key, revoke_api_key, organisations, organisation,
    ],
    dependencies={"ctx": Provide(provide_tenant_context)},
)


# --- accepting an invitation (no organisation in the URL: the token says which) ------------


async def invitation_page(request: Request, token: str, *, status_code: int = 200, errors: dict | None = None,
                          values: dict | None = None, problem: str = "") -> Response:
    invitation = await services.find_invitation(token)
    signed_in = signed_in_or_none(request)
    if signed_in is not None:
        state = "confirm" if signed_in.user["email"] == invitation["email"] else "other_account"
    elif await services.account_exists(invitation["email"]):
        state = "sign_in"
    else:
        state = "new_account"
    return await page(
        request, "tenants.InvitationPage", status_code=status_code, invitation=invitation, token=token, state=state,
        values=values or {}, errors=errors or {}, problem=problem,
    )


@get("/invitations/{token:str}", include_in_schema=False)
async def show_invitation(request: Request, token: str) -> Response:
    return await invitation_page(request, token)


@post("/invitations/{token:str}", include_in_schema=False)
async def accept_invitation(request: Request, token: str) -> Response:
    signed_in = signed_in_or_none(request)
    ip = client_ip(request)
    if signed_in is not None:
        tenant = await services.accept_invitation(token, signed_in.user, ip)
        await flash(request, _("Welcome to %(organisation)s.", organisation=tenant["name"]))
        return redirect(f"/t/{tenant['slug']}/")
    data = await form_data(request)
    try:
        user, tenant = await services.accept_invitation_with_new_account(
            token, full_name=data.get("full_name", ""), password=data.get("password", ""),
            confirm=data.get("confirm_password", ""), ip=ip,
        )
    except ValidationFailed as exc:
        return await invitation_page(
            request, token, status_code=422, errors=exc.errors, values={"full_name": data.get("full_name", "")},
        )
    except Conflict as exc:
        return await invitation_page(request, token, status_code=409, problem=exc.message)
    session = await auth.start_session(user, ip, request.headers.get("user-agent", ""))
    loaded = await auth.load_session(session)
    if loaded is not None:
        await auth.push_flash(loaded.session_id, "success", _("Welcome to %(organisation)s.", organisation=tenant["name"]))
    response = redirect(f"/t/{tenant['slug']}/")
    response.cookies.append(session_cookie(session))
    return response


invitations_router = Router(path="/", route_handlers=[show_invitation, accept_invitation])
