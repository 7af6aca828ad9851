"""Signing in and out, sessions stored in the database, throttling, password change and reset."""

from __future__ import annotations

import json

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from portal.audit import services as audit
from portal.auth.tables import LoginAttempt, PasswordReset, UserSession
from portal.core.actor import Actor
from portal.core.db import system_transaction
from portal.core.errors import NotFound, TooManyAttempts, ValidationFailed
from portal.core.i18n import _, current_language, normalise_language
from portal.core.security import MIN_PASSWORD_LENGTH, hash_password, new_token, token_hash, verify_password
from portal.core.settings import get_settings
from portal.outbox.services import enqueue_mail
from portal.tenants.tables import Membership, User

THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
PASSWORD_RESET_LIFETIME = timedelta(hours=1)
SESSION_REFRESH_INTERVAL = timedelta(minutes=5)


@dataclass
class SignedIn:
    """The state of a signed-in request, loaded once by the session middleware."""

    session_id: int
    user: dict
    memberships: list[dict] = field(default_factory=list)
    active_tenant_id: int | None = None
    flashes: list[dict] = field(default_factory=list)

    def membership(self, slug: str) -> dict | None:
        return next((m for m in self.memberships if m["slug"] == slug), None)

    @property
    def actor_label(self) -> str:
        return self.user["email"]


def now() -> datetime:
    return datetime.now(UTC)


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


async def _recent_failures(column, value: str) -> int:
    return await LoginAttempt.count().where(
        (column == value) & (LoginAttempt.succeeded == False) & (LoginAttempt.at > now() - THROTTLE_WINDOW)  # noqa: E712
    )


async def check_throttle(email: str, ip: str) -> None:
    """Refuse a sign-in (password or single sign-on) after too many recent failures for the account or address."""
    async with system_transaction():
        if (email and await _recent_failures(LoginAttempt.email, email) >= MAX_FAILURES_PER_ACCOUNT) or (
            await _recent_failures(LoginAttempt.ip, ip) >= MAX_FAILURES_PER_ADDRESS
        ):
            raise TooManyAttempts(_("Too many failed sign-in attempts. Wait 15 minutes and try again."))


async def authenticate(email: str, password: str, ip: str) -> dict:
    """Check credentials, throttled per account and per address; returns the user row."""
    email = normalise_email(email)
    await check_throttle(email, ip)
    user = await User.select().where(User.email == email).first()
    ok = verify_password(user["password_hash"] if user else "", password)
    if ok and not user["is_active"]:
        ok = False
    async with system_transaction():
        await LoginAttempt.insert(LoginAttempt(email=email, ip=ip, succeeded=ok))
        if not ok:
            await audit.record(
                "auth.login_failed", actor=Actor(user_id=None, label=email, ip=ip), object_type="user", object_id=email
            )
    if not ok:
        raise ValidationFailed({"password": _("The email or password is not correct.")})
    return user


async def start_session(user: dict, ip: str, user_agent: str, method: str = "password") -> str:
    """Create a session and return its cookie value; only the hash is stored.

    ``method`` (``password`` or ``oidc``) is how the person proved who they are, kept in the audit entry.
    """
    token = new_token()
    memberships = await memberships_of(user["id"])
    member_of = {m["tenant_id"] for m in memberships}
    # A new session opens where the person last worked, if they still belong there.
    previous = (
        await UserSession.select(UserSession.active_tenant)
        .where((UserSession.user == user["id"]) & (UserSession.active_tenant.is_not_null()))
        .order_by(UserSession.last_seen_at, ascending=False)
        .first()
    )
    if previous and previous["active_tenant"] in member_of:
        active_tenant = previous["active_tenant"]
    else:
        active_tenant = memberships[0]["tenant_id"] if memberships else None
    async with system_transaction():
        await UserSession.insert(
            UserSession(
                token_hash=token_hash(token),
                user=user["id"],
                active_tenant=active_tenant,
                expires_at=now() + timedelta(hours=get_settings().session_hours),
                ip=ip,
                user_agent=user_agent[:300],
                flash=[],
            )
        )
        await audit.record(
            "auth.login", actor=Actor(user["id"], user["email"], ip), object_type="user", object_id=user["id"],
            detail={"method": method},
        )
    return token


async def memberships_of(user_id: int) -> list[dict]:
    async with system_transaction():
        return (
            await Membership.select(
                Membership.role,
                Membership.tenant.id.as_alias("tenant_id"),
                Membership.tenant.slug.as_alias("slug"),
                Membership.tenant.name.as_alias("name"),
                Membership.tenant.kind.as_alias("kind"),
                Membership.tenant.is_hotline.as_alias("is_hotline"),
            )
            .where((Membership.user == user_id) & (Membership.active == True) & (Membership.tenant.active == True))  # noqa: E712
            .order_by(Membership.tenant.name)
        )


async def load_session(token: str) -> SignedIn | None:
    """Resolve a cookie to a signed-in state, sliding the expiry forward at most every few minutes."""
    row = (
        await UserSession.select(
            UserSession.id,
            UserSession.expires_at,
            UserSession.last_seen_at,
            UserSession.active_tenant,
            UserSession.flash,
            UserSession.user.id.as_alias("user_id"),
            UserSession.user.email.as_alias("email"),
            UserSession.user.full_name.as_alias("full_name"),
            UserSession.user.language.as_alias("language"),
            UserSession.user.is_operator.as_alias("is_operator"),
            UserSession.user.is_active.as_alias("is_active"),
        )
        .where(UserSession.token_hash == token_hash(token))
        .first()
    )
    if row is None or not row["is_active"] or row["expires_at"] <= now():
        return None
    if now() - row["last_seen_at"] > SESSION_REFRESH_INTERVAL:
        await UserSession.update(
            {UserSession.last_seen_at: now(), UserSession.expires_at: now() + timedelta(hours=get_settings().session_hours)}
        ).where(UserSession.id == row["id"])
    user = {
        "id": row["user_id"],
        "email": row["email"],
        "full_name": row["full_name"],
        "language": row["language"],
        "is_operator": row["is_operator"],
    }
    flashes = _as_list(row["flash"])
    return SignedIn(
        session_id=row["id"],
        user=user,
        memberships=await memberships_of(row["user_id"]),
        active_tenant_id=row["active_tenant"],
        flashes=flashes,
    )


async def end_session(signed_in: SignedIn, ip: str) -> None:
    async with system_transaction():
        await UserSession.delete().where(UserSession.id == signed_in.session_id)
        await audit.record(
            "auth.logout", actor=Actor(signed_in.user["id"], signed_in.actor_label, ip), object_type="user",
            object_id=signed_in.user["id"],
        )


def _as_list(value: object) -> list:
    """JSON columns come back as text from both asyncpg and SQLite."""
    if isinstance(value, str):
        value = json.loads(value or "[]")
    return value if isinstance(value, list) else []


async def push_flash(session_id: int, kind: str, message: str) -> None:
    async with system_transaction():
        row = await UserSession.select(UserSession.flash).where(UserSession.id == session_id).first()
        if row is None:
            return
        flashes = _as_list(row["flash"])
        flashes.append({"kind": kind, "message": message})
        await UserSession.update({UserSession.flash: flashes}).where(UserSession.id == session_id)


async def clear_flashes(session_id: int) -> None:
    await UserSession.update({UserSession.flash: []}).where(UserSession.id == session_id)


async def set_active_tenant(signed_in: SignedIn, tenant_id: int) -> None:
    await UserSession.update({UserSession.active_tenant: tenant_id, UserSession.last_seen_at: now()}).where(
        UserSession.id == signed_in.session_id
    )


async def set_language(user_id: int | None, language: str) -> str:
    language = normalise_language(language)
    if user_id is not None:
        await User.update({User.language: language}).where(User.id == user_id)
    return language


def check_new_password(password: str, confirm: str, field: str = "new_password") -> dict[str, str]:
    errors: dict[str, str] = {}
    if len(password) < MIN_PASSWORD_LENGTH:
        errors[field] = _("The password must have at least %(n)s characters.", n=MIN_PASSWORD_LENGTH)
    elif password != confirm:
        errors["confirm_password"] = _("The two passwords do not match.")
    return errors


async def change_password(signed_in: SignedIn, current: str, new: str, confirm: str, ip: str) -> None:
    """Change the password and sign out every other session of this person."""
    user = await User.select(User.password_hash).where(User.id == signed_in.user["id"]).first()
    errors = {} if verify_password(user["password_hash"], current) else {"current_password": _("The current password is not correct.")}
    errors |= check_new_password(new, confirm)
    if errors:
        raise ValidationFailed(errors)
    async with system_transaction():
        await User.update({User.password_hash: hash_password(new), User.password_changed_at: now()}).where(
            User.id == signed_in.user["id"]
        )
        await UserSession.delete().where(
            (UserSession.user == signed_in.user["id"]) & (UserSession.id != signed_in.session_id)
        )
        await audit.record(
            "auth.password_changed", actor=Actor(signed_in.user["id"], signed_in.actor_label, ip), object_type="user",
            object_id=signed_in.user["id"],
        )


async def request_password_reset(email: str, ip: str) -> None:
    """Mail a reset link if the account exists; the answer to the visitor is the same either way."""
    email = normalise_email(email)
    user = await User.select().where((User.email == email) & (User.is_active == True)).first()  # noqa: E712
    if user is None:
        return
    token = new_token()
    link = f"{get_settings().base_url}/password/reset/{token}"
    # The mail speaks the account's language, whatever the language of the page it was asked from.
    language = current_language.set(normalise_language(user["language"]))
    try:
        subject = _("Reset your portal password")
        body_text = _(
            "Someone asked to reset the password of your account on the child online safety portal.\n\n"
            "Open this link within one hour to choose a new password:\n%(link)s\n\n"
            "If it was not you, ignore this message; your password stays as it is.",
            link=link,
        )
    finally:
        current_language.reset(language)
    async with system_transaction():
        await PasswordReset.insert(
            PasswordReset(user=user["id"], token_hash=token_hash(token), expires_at=now() + PASSWORD_RESET_LIFETIME)
        )
        await enqueue_mail(to_address=email, subject=subject, body_text=body_text)
        await audit.record("auth.password_reset_requested", actor=Actor(None, email, ip), object_type="user", object_id=user["id"])


async def find_valid_reset(token: str) -> dict:
    row = await PasswordReset.select().where(PasswordReset.token_hash == token_hash(token)).first()
    if row is None or row["used_at"] is not None or row["expires_at"] <= now():
        raise NotFound(_("This password reset link is not valid or has expired. Ask for a new one."))
    return row


async def reset_password(token: str, new: str, confirm: str, ip: str) -> None:
    reset = await find_valid_reset(token)
    errors = check_new_password(new, confirm)
    if errors:
        raise ValidationFailed(errors)
    async with system_transaction():
        # Claimed with a conditional update, so two submissions of one link cannot both succeed.
        claimed = (
            await PasswordReset.update({PasswordReset.used_at: now()})
            .where((PasswordReset.id == reset["id"]) & (PasswordReset.used_at.is_null()))
            .returning(PasswordReset.id)
        )
        if not claimed:
            raise NotFound(_("This password reset link is not valid or has expired. Ask for a new one."))
        await User.update({User.password_hash: hash_password(new), User.password_changed_at: now()}).where(
            User.id == reset["user"]
        )
        await UserSession.delete().where(UserSession.user == reset["user"])
        owner = await User.select(User.email).where(User.id == reset["user"]).first()
        await audit.record(
            "auth.password_reset", actor=Actor(reset["user"], owner["email"] if owner else "", ip), object_type="user",
            object_id=reset["user"],
        )

