"""Sign-in pages: login, logout, language, account settings, password change and reset."""

from __future__ import annotations

from litestar import Request, Response, Router, get, post
from litestar.di import Provide

from portal.auth import services as auth
from portal.core.errors import TooManyAttempts, ValidationFailed
from portal.core.i18n import _
from portal.core.web import (
    SESSION_COOKIE,
    client_ip,
    flash,
    form_data,
    language_cookie,
    page,
    provide_signed_in,
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
    token = await auth.start_session(user, client_ip(request), request.headers.get("user-agent", ""))
    signed_in = await auth.load_session(token)
    target = safe_next(data.get("next")) if data.get("next") else home_for(signed_in)
    response = redirect(target)
    response.cookies.extend([session_cookie(token), language_cookie(user["language"])])
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


router = Router(
    path="/",
    route_handlers=[
        home, login_form, login, logout, switch_language, account, change_password,
        forgot_form, forgot, reset_form, reset,
    ],
)
