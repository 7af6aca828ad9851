"""Single sign-on through an organisation's own OpenID Connect provider.

An organisation's admin registers the provider (issuer, client id, encrypted client secret) and
the email domains whose people sign in through it; a domain belongs to one organisation only.

Sign-in is the authorization code flow with PKCE (S256): the state (stored hashed), nonce and
code verifier are kept server-side for ten minutes and used once, and the state is also put in a
short-lived cookie so that a callback only completes in the browser that started it. The callback
exchanges the code with Authlib's client and validates the ID token with Authlib's ``CodeIDToken``
over joserfc (signature against the provider's JWKS from discovery, iss, aud, exp/iat, nonce,
azp/at_hash). A person is signed in only if the provider vouches for a verified email of one of
that organisation's domains and the person already has an active account and membership there:
nobody is created silently. Discovery documents and key sets are cached for a few minutes.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
import time
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
from authlib.integrations.base_client import OAuthError
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from portal.audit import services as audit
from portal.auth.services import check_throttle, normalise_email
from portal.auth.tables import IdentityProvider, LoginAttempt, OidcLogin, SsoDomain
from portal.core.actor import Actor
from portal.core.db import execute, system_transaction, tenant_transaction
from portal.core.errors import ValidationFailed
from portal.core.i18n import _, lazy
from portal.core.security import token_hash
from portal.core.settings import get_settings
from portal.takedown.contact import decrypt_contact, encrypt_contact
from portal.tenants.tables import Membership, User

with warnings.catch_warnings():
    # Authlib 1.9 announces that its httpx client will need the httpx2 package; the portal uses httpx.
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client

NAV_SSO = lazy("Single sign-on")
CALLBACK_PATH = "/auth/oidc/callback"
STATE_COOKIE = "portal_oidc_state"
LOGIN_LIFETIME = timedelta(minutes=10)
CACHE_SECONDS = 300
HTTP_TIMEOUT = 10.0
CLOCK_LEEWAY = 60
MAX_DOMAINS = 20
MAX_URL_LENGTH = 500
SECRET_HINT_LENGTH = 4
# Signatures with the provider's published public keys only (never "none", never a shared secret).
ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")


class SignInFailed(Exception):
    """A single sign-on attempt that must end on the login page with this (translated) message."""

    def __init__(self, message: str, reason: str, email: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason  # short, untranslated, for the audit log
        self.email = email  # what the provider vouched for, once known


# ---------------------------------------------------------------------------------------------
# Settings, managed by the organisation's admin


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_allowed(url: str) -> bool:
    """https, or plain http to this machine outside production (tests, embedded mode)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError:
        return False
    if not parts.hostname or parts.username or parts.password or parts.fragment:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and not get_settings().is_production and _is_loopback(parts.hostname)


def issuer_problem(issuer: str) -> str | None:
    if not issuer:
        return _("Enter the issuer address of your identity provider.")
    if len(issuer) > MAX_URL_LENGTH:
        return _("Keep the address under %(max)s characters.", max=MAX_URL_LENGTH)
    if not url_allowed(issuer) or urlsplit(issuer).query:
        return _(
            "The issuer must be an https:// address without a query, for example "
            "https://login.example.gov.al/realms/staff."
        )
    return None


def parse_domains(text: str) -> list[str]:
    """Domains typed one per line (or separated by commas or spaces), lower-cased, without repeats."""
    seen: list[str] = []
    for part in re.split(r"[\s,;]+", (text or "").strip().lower()):
        part = part.removeprefix("@").rstrip(".")
        if part and part not in seen:
            seen.append(part)
    return seen


@dataclass
class ProviderInput:
    issuer: str
    client_id: str
    client_secret: str
    domains: str
    enabled: bool


async def get_provider(tenant_id: int) -> dict | None:
    """The provider settings for the settings page (never the secret itself)."""
    async with tenant_transaction(tenant_id):
        rows = await execute(
            "SELECT issuer, client_id, client_secret_hint, enabled, updated_at, updated_by_label"
            " FROM auth_identity_provider WHERE tenant = {}", tenant_id,
        )
        if not rows:
            return None
        domains = await execute("SELECT domain FROM auth_sso_domain WHERE tenant = {} ORDER BY domain", tenant_id)
    return rows[0] | {"domains": [row["domain"] for row in domains]}


async def _domains_taken_elsewhere(tenant_id: int, domains: list[str]) -> list[str]:
    # Another organisation's domains are outside this tenant's row-level scope: a system read,
    # returning only the clashing names.
    async with system_transaction():
        rows = await SsoDomain.select(SsoDomain.domain).where(
            SsoDomain.domain.is_in(domains) & (SsoDomain.tenant != tenant_id)
        )
    return sorted(row["domain"] for row in rows)


async def save_provider(tenant: dict, data: ProviderInput, actor: Actor) -> None:
    """Create or change the organisation's provider; a blank secret keeps the stored one."""
    issuer = data.issuer.strip()
    client_id = data.client_id.strip()
    secret = data.client_secret.strip()
    domains = parse_domains(data.domains)
    existing = await get_provider(tenant["id"])
    errors: dict[str, str] = {}
    if problem := issuer_problem(issuer):
        errors["issuer"] = problem
    if not client_id:
        errors["client_id"] = _("Enter the client id the identity provider gave the portal.")
    elif len(client_id) > 255:
        errors["client_id"] = _("Keep the client id under %(max)s characters.", max=255)
    if not secret and existing is None:
        errors["client_secret"] = _("Enter the client secret the identity provider gave the portal.")
    elif len(secret) > 500:
        errors["client_secret"] = _("Keep the client secret under %(max)s characters.", max=500)
    bad = [d for d in domains if not DOMAIN.match(d)]
    if not domains:
        errors["domains"] = _("Enter at least one email domain, for example policia.gov.al.")
    elif bad:
        errors["domains"] = _("These are not valid email domains: %(domains)s.", domains=", ".join(bad))
    elif len(domains) > MAX_DOMAINS:
        errors["domains"] = _("Enter at most %(max)s domains.", max=MAX_DOMAINS)
    elif taken := await _domains_taken_elsewhere(tenant["id"], domains):
        errors["domains"] = _(
            "Another organisation already signs in with these domains: %(domains)s.", domains=", ".join(taken)
        )
    if errors:
        raise ValidationFailed(errors)
    now = datetime.now(UTC)
    values = {
        IdentityProvider.issuer: issuer, IdentityProvider.client_id: client_id, IdentityProvider.enabled: data.enabled,
        IdentityProvider.updated_at: now, IdentityProvider.updated_by_label: actor.label,
    }
    if secret:
        values |= {
            IdentityProvider.client_secret_encrypted: encrypt_contact(secret),
            IdentityProvider.client_secret_hint: secret[:SECRET_HINT_LENGTH],
        }
    try:
        async with tenant_transaction(tenant["id"]):
            if existing is None:
                fields = {column._meta.name: value for column, value in values.items()}
                await IdentityProvider.insert(IdentityProvider(tenant=tenant["id"], created_at=now, **fields))
            else:
                await IdentityProvider.update(values).where(IdentityProvider.tenant == tenant["id"])
            await SsoDomain.delete().where(SsoDomain.tenant == tenant["id"])
            await SsoDomain.insert(*[SsoDomain(tenant=tenant["id"], domain=domain) for domain in domains])
            await audit.record(
                "auth.sso_provider_saved", actor=actor, tenant_id=tenant["id"], object_type="auth_identity_provider",
                object_id=str(tenant["id"]),
                detail={
                    "created": existing is None, "issuer": issuer, "client_id": client_id, "domains": domains,
                    "enabled": data.enabled, "secret_changed": bool(secret),
                },
            )
    except Exception as exc:
        # Two organisations claiming one domain at the same moment: the unique index decides.
        if "unique" in str(exc).lower() and "domain" in str(exc).lower():
            raise ValidationFailed(
                {"domains": _("Another organisation already signs in with one of these domains.")}
            ) from exc
        raise


async def remove_provider(tenant: dict, actor: Actor) -> bool:
    """Stop single sign-on for the organisation; people keep their accounts and passwords."""
    async with tenant_transaction(tenant["id"]):
        rows = await execute("SELECT issuer FROM auth_identity_provider WHERE tenant = {}", tenant["id"])
        if not rows:
            return False
        await SsoDomain.delete().where(SsoDomain.tenant == tenant["id"])
        await IdentityProvider.delete().where(IdentityProvider.tenant == tenant["id"])
        await audit.record(
            "auth.sso_provider_removed", actor=actor, tenant_id=tenant["id"], object_type="auth_identity_provider",
            object_id=str(tenant["id"]), detail={"issuer": rows[0]["issuer"]},
        )
    return True


# ---------------------------------------------------------------------------------------------
# Provider metadata, cached briefly


_cache: dict[str, tuple[float, dict]] = {}


def clear_cache() -> None:
    _cache.clear()


def _unreachable() -> SignInFailed:
    return SignInFailed(
        _("Your organisation's identity provider cannot be reached. Try again later, or sign in with your password."),
        "provider unreachable",
    )


async def _get_json(url: str, *, force: bool = False) -> dict:
    cached = _cache.get(url)
    if cached and not force and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    try:
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT, follow_redirects=False) as client:
            response = await client.get(url, headers={"Accept": "application/json"})
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise _unreachable() from exc
    if not isinstance(document, dict):
        raise _unreachable()
    _cache[url] = (time.monotonic(), document)
    return document


async def discover(issuer: str) -> dict:
    """The provider's discovery document, checked to be about this issuer and to name its endpoints."""
    metadata = await _get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
    endpoints = [metadata.get(key) for key in ("authorization_endpoint", "token_endpoint", "jwks_uri")]
    if metadata.get("issuer") != issuer or not all(isinstance(e, str) and url_allowed(e) for e in endpoints):
        raise _unreachable()
    return metadata


# ---------------------------------------------------------------------------------------------
# Signing in


@dataclass
class ProviderRedirect:
    url: str
    state: str


def email_domain(email: str) -> str:
    return email.rpartition("@")[2].strip().lower() if "@" in (email or "") else ""


async def _provider_for_domain(domain: str) -> dict | None:
    # Before sign-in nobody's tenant is known: a system read of the one matching provider.
    async with system_transaction():
        rows = await execute(
            "SELECT p.tenant, p.issuer, p.client_id, p.client_secret_encrypted, p.enabled"
            " FROM auth_sso_domain d JOIN auth_identity_provider p ON p.tenant = d.tenant"
            " JOIN tenant t ON t.id = p.tenant WHERE d.domain = {} AND t.active = {}", domain, True,
        )
    return rows[0] if rows else None


async def _provider_of(tenant_id: int) -> dict | None:
    async with tenant_transaction(tenant_id):
        rows = await execute(
            "SELECT p.tenant, p.issuer, p.client_id, p.client_secret_encrypted, p.enabled FROM auth_identity_provider p"
            " JOIN tenant t ON t.id = p.tenant WHERE p.tenant = {} AND t.active = {}", tenant_id, True,
        )
    return rows[0] if rows else None


def _disabled() -> SignInFailed:
    return SignInFailed(
        _("Single sign-on is switched off for your organisation. Sign in with your password, or ask your admin."),
        "provider disabled",
    )


def _client(provider: dict) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=provider["client_id"], client_secret=decrypt_contact(provider["client_secret_encrypted"]),
        scope="openid email profile", redirect_uri=get_settings().base_url.rstrip("/") + CALLBACK_PATH,
        code_challenge_method="S256", timeout=HTTP_TIMEOUT,
    )


async def start_sign_in(email: str, next_path: str, ip: str) -> ProviderRedirect:
    """Where to send the browser for the provider of this email's domain (throttled like a password sign-in)."""
    await check_throttle(normalise_email(email), ip)
    domain = email_domain(email)
    if not domain:
        raise ValidationFailed({"sso_email": _("Enter your work email address.")})
    provider = await _provider_for_domain(domain)
    if provider is None:
        raise ValidationFailed({"sso_email": _(
            "No organisation signs in with its own account for %(domain)s. Sign in with your password.", domain=domain
        )})
    if not provider["enabled"]:
        raise ValidationFailed({"sso_email": _disabled().message})
    try:
        metadata = await discover(provider["issuer"])
    except SignInFailed as exc:
        raise ValidationFailed({"sso_email": exc.message}) from exc
    state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48)
    async with _client(provider) as client:
        url = client.create_authorization_url(
            metadata["authorization_endpoint"], state=state, code_verifier=verifier, nonce=nonce,
            login_hint=email.strip(),
        )[0]
    async with system_transaction():
        await OidcLogin.delete().where(OidcLogin.expires_at < datetime.now(UTC))
        await OidcLogin.insert(OidcLogin(
            state_hash=token_hash(state), provider_tenant=provider["tenant"], nonce=nonce, code_verifier=verifier,
            next_path=next_path[:500], expires_at=datetime.now(UTC) + LOGIN_LIFETIME,
        ))
    return ProviderRedirect(url=url, state=state)


async def _claim_login(state: str) -> dict | None:
    """The waiting sign-in for this state, removed in the same step so it can be used only once."""
    async with system_transaction():
        rows = await execute(
            "DELETE FROM auth_oidc_login WHERE state_hash = {} RETURNING provider_tenant, nonce, code_verifier,"
            " next_path, expires_at", token_hash(state),
        )
    if not rows:
        return None
    row = rows[0]
    expires_at = row["expires_at"]
    if isinstance(expires_at, str):  # raw SQLite rows carry text
        expires_at = datetime.fromisoformat(expires_at)
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)
    return row if expires_at > datetime.now(UTC) else None


async def _validated_claims(provider: dict, metadata: dict, token: dict, nonce: str) -> CodeIDToken:
    if not token.get("id_token"):
        raise SignInFailed(_("Your organisation's identity provider did not vouch for your identity."), "no id token")
    offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = [a for a in offered if a in ASYMMETRIC_ALGORITHMS]
    registry = JWSRegistry(algorithms=algorithms or ["RS256"])
    try:
        try:
            decoded = jwt.decode(token["id_token"], KeySet.import_key_set(await _get_json(metadata["jwks_uri"])),
                                 registry=registry)
        except InvalidKeyIdError:
            # The provider may have rotated its keys since they were cached.
            decoded = jwt.decode(token["id_token"],
                                 KeySet.import_key_set(await _get_json(metadata["jwks_uri"], force=True)),
                                 registry=registry)
        claims = CodeIDToken(
            decoded.claims, decoded.header,
            {
                "iss": {"essential": True, "value": provider["issuer"]},
                "aud": {"essential": True, "value": provider["client_id"]},
                "nonce": {"essential": True, "value": nonce},
            },
            {"nonce": nonce, "client_id": provider["client_id"], "access_token": token.get("access_token")},
        )
        claims.validate(leeway=CLOCK_LEEWAY)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise SignInFailed(
            _(
                "The answer from your organisation's identity provider could not be verified. "
                "Start again, or ask your admin."
            ),
            f"invalid id token: {type(exc).__name__}",
        ) from exc
    return claims


async def finish_sign_in(params: dict[str, str], cookie_state: str | None) -> tuple[dict, str]:
    """Check the provider's answer; returns the person to sign in and where to go next."""
    state = params.get("state") or ""
    expired = SignInFailed(
        _("This sign-in attempt is not valid or has expired. Start again from the sign-in page."), "bad state"
    )
    if not state or not cookie_state or not secrets.compare_digest(state, cookie_state):
        raise expired
    login = await _claim_login(state)
    if login is None:
        raise expired
    if params.get("error"):
        raise SignInFailed(
            _("Your organisation's identity provider did not sign you in (%(error)s).", error=params["error"][:100]),
            f"provider error: {params['error'][:100]}",
        )
    provider = await _provider_of(login["provider_tenant"])
    if provider is None or not provider["enabled"]:
        raise _disabled()
    if not params.get("code"):
        raise expired
    metadata = await discover(provider["issuer"])
    try:
        async with _client(provider) as client:
            token = await client.fetch_token(
                metadata["token_endpoint"], grant_type="authorization_code", code=params["code"],
                code_verifier=login["code_verifier"],
            )
    except OAuthError as exc:
        raise SignInFailed(
            _("Your organisation's identity provider did not sign you in (%(error)s).", error=str(exc.error)[:100]),
            f"token error: {str(exc.error)[:100]}",
        ) from exc
    except (httpx.HTTPError, ValueError) as exc:
        raise _unreachable() from exc
    claims = await _validated_claims(provider, metadata, token, login["nonce"])
    email = str(claims.get("email") or "").strip().lower()
    if claims.get("email_verified") not in (True, "true"):
        raise SignInFailed(
            _("Your identity provider has not verified your email address, so the portal cannot sign you in with it."),
            "email not verified", email,
        )
    async with tenant_transaction(provider["tenant"]):
        domains = {row["domain"] for row in await execute(
            "SELECT domain FROM auth_sso_domain WHERE tenant = {}", provider["tenant"]
        )}
    if email_domain(email) not in domains:
        raise SignInFailed(
            _("Your identity provider returned an email address outside your organisation's domains."),
            "foreign domain", email,
        )
    user = await User.select().where((User.email == email) & (User.is_active == True)).first()  # noqa: E712
    async with tenant_transaction(provider["tenant"]):
        member = user is not None and await Membership.exists().where(
            (Membership.user == user["id"]) & (Membership.tenant == provider["tenant"])
            & (Membership.active == True)  # noqa: E712
        )
    if not member:
        raise SignInFailed(
            _(
                "There is no portal account for %(email)s in your organisation. "
                "Ask your organisation's admin for an invitation.",
                email=email,
            ),
            "no member account", email,
        )
    return user, login["next_path"]


async def record_failure(failure: SignInFailed, ip: str) -> None:
    """Audit a refused single sign-on like a refused password, with the reason (the person may be unknown).

    It also counts as a failed attempt for the address (and the account, once known), so the
    password throttle covers single sign-on too.
    """
    async with system_transaction():
        await LoginAttempt.insert(LoginAttempt(email=normalise_email(failure.email), ip=ip, succeeded=False))
        await audit.record(
            "auth.login_failed", actor=Actor(user_id=None, label=failure.email or "single sign-on", ip=ip),
            object_type="user", object_id=failure.email, detail={"method": "oidc", "reason": failure.reason},
        )

