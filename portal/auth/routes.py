"""Sign-in pages: login (password or single sign-on), logout, language, account settings, password
change and reset, and an organisation's single sign-on settings."""

from __future__ import annotations

from litestar import Request, Response, Router, get, post
from litestar.datastructures import Cookie
from litestar.response import Redirect
from litestar.di import Provide

from portal.auth import oidc
from portal.auth import services as auth
from portal.core.errors import TooManyAttempts, ValidationFailed
from portal.core.i18n import _
from portal.core.settings import get_settings
from portal.core.web import (
    SESSION_COOKIE,
    TenantContext,
    client_ip,
    flash,
    form_data,
    language_cookie,
    page,
    provide_signed_in,
    provide_tenant_context,
    redirect,
    session_cookie,
    signed_in_or_none,
)


def safe_next(target: str | None) -> str:
    """Only local paths: a crafted ``next`` must not send a person to another site after sign-in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def home_for(signed_in: auth.SignedIn) -> str:
    slugs = {m["tenant_id"]: m["slug"] for m in signed_in.memberships}
    if signed_in.active_tenant_id in slugs:
        return f"/t/{slugs[signed_in.active_tenant_id]}/"
    if signed_in.memberships:
        return f"/t/{signed_in.memberships[0]['slug']}/"
    if signed_in.user["is_operator"]:
        return "/operator/tenants"
    return "/account"


@get("/", include_in_schema=False)
async def home(request: Request) -> Response:
    signed_in = signed_in_or_none(request)
    return redirect(home_for(signed_in) if signed_in else "/login")


@get("/login", include_in_schema=False)
async def login_form(request: Request, next: str | None = None) -> Response:
    signed_in = signed_in_or_none(request)
    if signed_in is not None:
        return redirect(safe_next(next) if next else home_for(signed_in))
    return await page(request, "auth.LoginPage", values={"next": next or ""}, errors={})


@post("/login", include_in_schema=False)
async def login(request: Request) -> Response:
    data = await form_data(request)
    try:
        user = await auth.authenticate(data.get("email", ""), data.get("password", ""), client_ip(request))
    except (ValidationFailed, TooManyAttempts) as exc:
        errors = exc.errors if isinstance(exc, ValidationFailed) else {"password": exc.message}
        values = {"email": data.get("email", ""), "next": data.get("next", "")}
        return await page(request, "auth.LoginPage", status_code=exc.status_code, values=values, errors=errors)
    return await _signed_in_response(request, user, data.get("next", ""), "password")


async def _signed_in_response(request: Request, user: dict, next_path: str, method: str) -> Response:
    """The same session, cookies and landing page whichever way the person proved who they are."""
    token = await auth.start_session(user, client_ip(request), request.headers.get("user-agent", ""), method)
    signed_in = await auth.load_session(token)
    target = safe_next(next_path) if next_path else home_for(signed_in)
    response = redirect(target)
    response.cookies.extend([session_cookie(token), language_cookie(user["language"])])
    return response


def _state_cookie(value: str, max_age: int) -> Cookie:
    return Cookie(
        key=oidc.STATE_COOKIE, value=value, httponly=True, samesite="lax", secure=get_settings().secure_cookies,
        path="/auth/oidc", max_age=max_age,
    )


@post("/login/sso", include_in_schema=False)
async def login_sso(request: Request) -> Response:
    """Send the person to their organisation's identity provider, found by their email's domain."""
    data = await form_data(request)
    email, next_path = data.get("sso_email", "").strip(), data.get("next", "")
    values = {"sso_email": email, "next": next_path}
    try:
        target = await oidc.start_sign_in(email, safe_next(next_path) if next_path else "", client_ip(request))
    except ValidationFailed as exc:
        return await page(request, "auth.LoginPage", status_code=422, values=values, errors=exc.errors)
    except TooManyAttempts as exc:
        return await page(request, "auth.LoginPage", status_code=exc.status_code, values=values,
                          errors={"sso_email": exc.message})
    response = Redirect(path=target.url, status_code=303)
    response.cookies.append(_state_cookie(target.state, int(oidc.LOGIN_LIFETIME.total_seconds())))
    return response


@get(oidc.CALLBACK_PATH, include_in_schema=False)
async def oidc_callback(request: Request) -> Response:
    """The provider's answer: a session only if every check passes, else the reason on the login page."""
    params = {key: value for key, value in request.query_params.items() if isinstance(value, str)}
    try:
        user, next_path = await oidc.finish_sign_in(params, request.cookies.get(oidc.STATE_COOKIE))
    except oidc.SignInFailed as exc:
        await oidc.record_failure(exc, client_ip(request))
        response = await page(request, "auth.LoginPage", status_code=400, values={}, errors={"sso_email": exc.message})
    else:
        response = await _signed_in_response(request, user, next_path, "oidc")
    response.cookies.append(_state_cookie("", 0))
    return response


@post("/logout", include_in_schema=False)
async def logout(request: Request) -> Response:
    signed_in = signed_in_or_none(request)
    if signed_in is not None:
        await auth.end_session(signed_in, client_ip(request))
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE)
    return response


@post("/language", include_in_schema=False)
async def switch_language(request: Request) -> Response:
    data = await form_data(request)
    signed_in = signed_in_or_none(request)
    language = await auth.set_language(signed_in.user["id"] if signed_in else None, data.get("language", ""))
    response = redirect(safe_next(data.get("next")))
    response.cookies.append(language_cookie(language))
    return response


@get("/account", include_in_schema=False, dependencies={"signed_in": Provide(provide_signed_in)})
async def account(request: Request, signed_in: auth.SignedIn) -> Response:
    return await page(request, "auth.AccountPage", errors={})


@post("/account/password", include_in_schema=False, dependencies={"signed_in": Provide(provide_signed_in)})
async def change_password(request: Request, signed_in: auth.SignedIn) -> Response:
    data = await form_data(request)
    try:
        await auth.change_password(
            signed_in, data.get("current_password", ""), data.get("new_password", ""),
            data.get("confirm_password", ""), client_ip(request),
        )
    except ValidationFailed as exc:
        return await page(request, "auth.AccountPage", status_code=422, errors=exc.errors)
    await flash(request, _("Your password has been changed. Other sessions were signed out."))
    return redirect("/account")


@get("/password/forgot", include_in_schema=False)
async def forgot_form(request: Request) -> Response:
    return await page(request, "auth.ForgotPage", values={}, errors={}, sent=False)


@post("/password/forgot", include_in_schema=False)
async def forgot(request: Request) -> Response:
    data = await form_data(request)
    email = data.get("email", "").strip()
    if "@" not in email:
        return await page(
            request, "auth.ForgotPage", status_code=422, values={"email": email},
            errors={"email": _("Enter the email address of your account.")}, sent=False,
        )
    await auth.request_password_reset(email, client_ip(request))
    return await page(request, "auth.ForgotPage", values={}, errors={}, sent=True)


@get("/password/reset/{token:str}", include_in_schema=False)
async def reset_form(request: Request, token: str) -> Response:
    await auth.find_valid_reset(token)
    return await page(request, "auth.ResetPage", token=token, errors={})


@post("/password/reset/{token:str}", include_in_schema=False)
async def reset(request: Request, token: str) -> Response:
    data = await form_data(request)
    try:
        await auth.reset_password(token, data.get("new_password", ""), data.get("confirm_password", ""), client_ip(request))
    except ValidationFailed as exc:
        return await page(request, "auth.ResetPage", status_code=422, token=token, errors=exc.errors)
    return await page(request, "auth.ResetDonePage")


SSO_PERMISSION = "sso.manage"
SSO_PATH = "/t/{tenant_slug:str}/single-sign-on"


async def _sso_page(request: Request, ctx: TenantContext, *, status_code: int = 200, values: dict | None = None,
                    errors: dict | None = None) -> Response:
    provider = await oidc.get_provider(ctx.tenant_id)
    if values is None:
        values = {
            "issuer": provider["issuer"], "client_id": provider["client_id"], "domains": "\n".join(provider["domains"]),
            "enabled": "on" if provider["enabled"] else "",
        } if provider else {"enabled": "on"}
    return await page(
        request, "auth.SsoSettingsPage", status_code=status_code, provider=provider, values=values, errors=errors or {},
        callback_url=get_settings().base_url.rstrip("/") + oidc.CALLBACK_PATH,
    )


@get(SSO_PATH, include_in_schema=False, dependencies={"ctx": Provide(provide_tenant_context)})
async def sso_settings(request: Request, ctx: TenantContext) -> Response:
    ctx.require(SSO_PERMISSION)
    return await _sso_page(request, ctx)


@post(SSO_PATH, include_in_schema=False, dependencies={"ctx": Provide(provide_tenant_context)})
async def save_sso_settings(request: Request, ctx: TenantContext) -> Response:
    ctx.require(SSO_PERMISSION)
    data = await form_data(request)
    values = {key: data.get(key, "") for key in ("issuer", "client_id", "domains", "enabled")}
    try:
        await oidc.save_provider(
            ctx.tenant,
            oidc.ProviderInput(values["issuer"], values["client_id"], data.get("client_secret", ""), values["domains"],
                               values["enabled"] == "on"),
            ctx.actor,
        )
    except ValidationFailed as exc:
        return await _sso_page(request, ctx, status_code=422, values=values, errors=exc.errors)
    await flash(request, _("The single sign-on settings have been saved."))
    return redirect(f"/t/{ctx.tenant['slug']}/single-sign-on")


@post(SSO_PATH + "/remove", include_in_schema=False, dependencies={"ctx": Provide(provide_tenant_context)})
async def remove_sso_settings(request: Request, ctx: TenantContext) -> Response:
    ctx.require(SSO_PERMISSION)
    if await oidc.remove_provider(ctx.tenant, ctx.actor):
        await flash(request, _("Single sign-on has been removed; members sign in with their passwords."))
    return redirect(f"/t/{ctx.tenant['slug']}/single-sign-on")


router = Router(
    path="/",
    route_handlers=[
        home, login_form, login, login_sso, oidc_callback, logout, switch_language, account, change_password,
        forgot_form, forgot, reset_form, reset, sso_settings, save_sso_settings, remove_sso_settings,
    ],
)
