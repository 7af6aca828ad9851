"""Single sign-on end to end: the portal's pages, a real OpenID Connect provider over HTTP, and
every way the answer can be wrong."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from portal.audit.tables import AuditEntry
from portal.auth import oidc
from portal.auth.tables import OidcLogin, UserSession
from portal.core.db import system_transaction
from tests.auth.oidc_provider import REMOVE, FakeProvider
from portal.tenants.tables import User
from tests.conftest import TEST_ACTOR

DOMAIN = "policia.gov.al"


async def configure(provider: FakeProvider, tenant: dict, domains: str = DOMAIN, enabled: bool = True) -> None:
    await oidc.save_provider(
        tenant, oidc.ProviderInput(provider.issuer, provider.client_id, provider.client_secret, domains, enabled),
        TEST_ACTOR,
    )


async def english(client) -> None:
    await client.get("/login")
    client.http.cookies.set("lang", "en", domain="portal.test")


async def start(client, email: str):
    """Submit the login page's single sign-on form; returns the portal's answer."""
    await english(client)
    return await client.post("/login/sso", {"sso_email": email})


async def at_provider(location: str) -> str:
    """Follow the portal's redirect at the provider; returns where the provider sends the browser back."""
    async with httpx.AsyncClient() as browser:
        answer = await browser.get(location)
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


async def back_at_portal(client, callback: str):
    parts = urlsplit(callback)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "http://portal.test/auth/oidc/callback"
    return await client.get(f"{parts.path}?{parts.query}")


async def sign_in(client, email: str):
    started = await start(client, email)
    assert started.status_code == 303, started.text
    return await back_at_portal(client, await at_provider(started.headers["location"]))


async def session_count() -> int:
    async with system_transaction():
        return await UserSession.count()


async def audit(action: str) -> list[dict]:
    async with system_transaction():
        return await AuditEntry.select().where(AuditEntry.action == action).order_by(AuditEntry.id)


@pytest.fixture
async def agency(factory, oidc_provider):
    tenant = await factory.tenant("agency", slug="policia", name="Policia e Shtetit")
    await configure(oidc_provider, tenant)
    return tenant


async def test_a_member_signs_in_through_the_provider_like_with_a_password(factory, client, agency, oidc_provider):
    member = await factory.member(agency, "officer", email=f"ana.hoxha@{DOMAIN}")

    started = await start(client, f"Ana.Hoxha@{DOMAIN}")
    assert started.status_code == 303
    location = started.headers["location"]
    assert location.startswith(f"{oidc_provider.issuer}/authorize?")
    request = {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}
    assert request["client_id"] == oidc_provider.client_id and request["response_type"] == "code"
    assert request["code_challenge_method"] == "S256" and request["code_challenge"] and request["nonce"]
    assert "openid" in request["scope"].split() and "email" in request["scope"].split()
    assert request["redirect_uri"] == "http://portal.test/auth/oidc/callback"
    state_cookie = next(h for h in started.headers.get_list("set-cookie") if h.startswith(oidc.STATE_COOKIE + "="))
    assert "HttpOnly" in state_cookie and "SameSite=lax" in state_cookie and "Path=/auth/oidc" in state_cookie

    done = await back_at_portal(client, await at_provider(location))
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/t/policia/"
    session_cookie = next(h for h in done.headers.get_list("set-cookie") if h.startswith("portal_session="))
    assert "HttpOnly" in session_cookie and "SameSite=lax" in session_cookie and "Path=/" in session_cookie
    overview = await client.get("/t/policia/")
    assert overview.status_code == 200 and "Policia e Shtetit" in overview.text

    # The code was exchanged with the client's credentials and the PKCE verifier of this challenge.
    [token_request] = oidc_provider.token_requests
    assert token_request["grant_type"] == "authorization_code"
    assert token_request["code_verifier"] and token_request["authorization"].startswith("Basic ")
    [login] = await audit("auth.login")
    assert login["actor_user_id"] == member.user["id"] and login["ip"] == "127.0.0.1"
    assert '"method": "oidc"' in str(login["detail"]) or login["detail"] == {"method": "oidc"}
    async with system_transaction():
        assert await OidcLogin.count() == 0, "a used sign-in attempt is gone"


async def test_password_sign_in_is_audited_with_its_method(factory, client):
    tenant = await factory.tenant()
    member = await factory.member(tenant)
    await client.login(member.email)
    [login] = await audit("auth.login")
    assert "password" in str(login["detail"])


async def test_the_next_page_survives_the_round_trip(factory, client, agency, oidc_provider):
    await factory.member(agency, "officer", email=f"ana@{DOMAIN}")
    await english(client)
    started = await client.post("/login/sso", {"sso_email": f"ana@{DOMAIN}", "next": "/account"})
    done = await back_at_portal(client, await at_provider(started.headers["location"]))
    assert done.headers["location"] == "/account"


async def test_a_replayed_state_is_refused(factory, client, agency, oidc_provider):
    await factory.member(agency, "officer", email=f"ana@{DOMAIN}")
    started = await start(client, f"ana@{DOMAIN}")
    callback = await at_provider(started.headers["location"])
    assert (await back_at_portal(client, callback)).status_code == 303
    sessions = await session_count()

    # Even with the state cookie put back, the same answer cannot open a second session.
    state = parse_qs(urlsplit(callback).query)["state"][0]
    client.http.cookies.set(oidc.STATE_COOKIE, state, domain="portal.test", path="/auth/oidc")
    replay = await back_at_portal(client, callback)
    assert replay.status_code == 400
    assert "Kjo përpjekje për hyrje nuk është e vlefshme ose ka skaduar" in replay.text  # the account's language
    assert await session_count() == sessions
    assert len(oidc_provider.token_requests) == 1, "a replay never reaches the provider"


async def test_an_answer_in_another_browser_or_with_a_wrong_state_is_refused(
    factory, client_factory, agency, oidc_provider
):
    await factory.member(agency, "officer", email=f"ana@{DOMAIN}")
    victim = await client_factory()
    started = await start(victim, f"ana@{DOMAIN}")
    callback = await at_provider(started.headers["location"])

    attacker = await client_factory()
    await english(attacker)
    refused = await back_at_portal(attacker, callback)
    assert refused.status_code == 400 and "not valid or has expired" in refused.text
    assert "portal_session" not in refused.cookies

    wrong = callback.replace("state=", "state=x")
    refused = await back_at_portal(victim, wrong)
    assert refused.status_code == 400
    assert await session_count() == 0
    assert oidc_provider.token_requests == []


async def test_an_expired_attempt_is_refused(factory, client, agency, oidc_provider):
    await factory.member(agency, "officer", email=f"ana@{DOMAIN}")
    started = await start(client, f"ana@{DOMAIN}")
    async with system_transaction():
        await OidcLogin.update({OidcLogin.expires_at: datetime.now(UTC) - timedelta(minutes=1)}).where(OidcLogin.id > 0)
    refused = await back_at_portal(client, await at_provider(started.headers["location"]))
    assert refused.status_code == 400 and "not valid or has expired" in refused.text
    assert await session_count() == 0


async def test_a_provider_error_is_shown_and_audited(factory, client, agency, oidc_provider):
    await factory.member(agency, "officer", email=f"ana@{DOMAIN}")
    oidc_provider.authorize_error = "access_denied"
    refused = await sign_in(client, f"ana@{DOMAIN}")
    assert refused.status_code == 400
    assert "did not sign you in (access_denied)" in refused.text
    assert await session_count() == 0
    [failed] = await audit("auth.login_failed")
    assert "access_denied" in str(failed["detail"]) and "oidc" in str(failed["detail"])


@pytest.mark.parametrize(
    "change",
    [
        {"aud": "some-other-client"},
        {"iss": "https://impostor.example"},
        {"nonce": "not-the-nonce"},
        {"nonce": REMOVE},
        {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200},
        {"iat": REMOVE},
        "rogue key",
    ],
    ids=["audience", "issuer", "nonce", "no nonce", "expired", "no iat", "signature"],
)
async def test_an_id_token_that_does_not_verify_is_refused(factory, client, agency, oidc_provider, change):
    await factory.member(agency, "officer", email=f"ana@{DOMAIN}")
    if change == "rogue key":
        oidc_provider.sign_with_rogue_key = True
    else:
        oidc_provider.claim_changes = change
    refused = await sign_in(client, f"ana@{DOMAIN}")
    assert refused.status_code == 400
    assert "could not be verified" in refused.text
    assert await session_count() == 0
    assert "portal_session" not in refused.cookies


@pytest.mark.parametrize("verified", [False, REMOVE, "false"])
async def test_an_unverified_email_is_refused(factory, client, agency, oidc_provider, verified):
    await factory.member(agency, "officer", email=f"ana@{DOMAIN}")
    oidc_provider.claim_changes = {"email_verified": verified}
    refused = await sign_in(client, f"ana@{DOMAIN}")
    assert refused.status_code == 400
    assert "has not verified your email address" in refused.text
    assert await session_count() == 0


async def test_an_unknown_person_is_told_to_ask_for_an_invitation(factory, client, agency, oidc_provider):
    refused = await sign_in(client, f"new.person@{DOMAIN}")
    assert refused.status_code == 400
    assert f"There is no portal account for new.person@{DOMAIN}" in refused.text
    assert "Ask your organisation&#39;s admin for an invitation" in refused.text
    assert await session_count() == 0
    [failed] = await audit("auth.login_failed")
    assert failed["actor_label"] == f"new.person@{DOMAIN}" and "no member account" in str(failed["detail"])


async def test_the_message_is_in_albanian_by_default(factory, client, agency, oidc_provider):
    await client.get("/login")
    started = await client.post("/login/sso", {"sso_email": f"new.person@{DOMAIN}"})
    refused = await back_at_portal(client, await at_provider(started.headers["location"]))
    assert refused.status_code == 400
    assert "Kërkojini administratorit të organizatës suaj një ftesë" in refused.text


async def test_a_person_of_another_organisation_or_an_inactive_account_cannot_sign_in(
    factory, client_factory, agency, oidc_provider
):
    other = await factory.tenant("ngo", slug="ngo-tjeter")
    await factory.member(other, "officer", email=f"ana@{DOMAIN}")  # the account exists, not in the agency
    refused = await sign_in(await client_factory(), f"ana@{DOMAIN}")
    assert refused.status_code == 400 and "There is no portal account" in refused.text

    former = await factory.member(agency, "officer", email=f"ish.punonjes@{DOMAIN}")
    await User.update({User.is_active: False}).where(User.id == former.user["id"])
    refused = await sign_in(await client_factory(), former.email)
    assert refused.status_code == 400 and "There is no portal account" in refused.text
    assert await session_count() == 0


async def test_another_organisations_domain_cannot_sign_into_this_one(factory, client, agency, oidc_provider):
    """The agency's provider vouches for an address of another organisation's domain: refused."""
    ministry = await factory.tenant("agency", slug="ministria")
    ministry_provider = FakeProvider().start()
    try:
        await configure(ministry_provider, ministry, domains="arsimi.gov.al")
        # Someone who is a member of the agency too, but with the ministry's address.
        ministry_person = await factory.member(ministry, "admin", email="drejtori@arsimi.gov.al")
        from portal.tenants.services import add_member

        await add_member(agency, ministry_person.user, "officer", TEST_ACTOR)
        oidc_provider.email = "drejtori@arsimi.gov.al"
        refused = await sign_in(client, f"ana@{DOMAIN}")
        assert refused.status_code == 400
        assert "outside your organisation&#39;s domains" in refused.text
        assert await session_count() == 0
        assert ministry_provider.authorize_requests == []
    finally:
        ministry_provider.stop()


async def test_a_disabled_provider_is_not_used(factory, client, agency, oidc_provider):
    await factory.member(agency, "officer", email=f"ana@{DOMAIN}")
    await configure(oidc_provider, agency, enabled=False)
    refused = await start(client, f"ana@{DOMAIN}")
    assert refused.status_code == 422
    assert "Single sign-on is switched off for your organisation" in refused.text
    assert f'value="ana@{DOMAIN}"' in refused.text
    assert oidc_provider.authorize_requests == []


async def test_a_provider_switched_off_during_the_sign_in_is_not_used(factory, client, agency, oidc_provider):
    await factory.member(agency, "officer", email=f"ana@{DOMAIN}")
    started = await start(client, f"ana@{DOMAIN}")
    callback = await at_provider(started.headers["location"])
    await configure(oidc_provider, agency, enabled=False)
    refused = await back_at_portal(client, callback)
    assert refused.status_code == 400 and "switched off" in refused.text
    assert oidc_provider.token_requests == [] and await session_count() == 0


async def test_an_unknown_domain_or_address_is_refused_at_the_start(client, agency):
    refused = await start(client, "someone@gmail.com")
    assert refused.status_code == 422
    assert "No organisation signs in with its own account for gmail.com" in refused.text
    refused = await start(client, "not-an-address")
    assert refused.status_code == 422 and "Enter your work email address." in refused.text


async def test_an_unreachable_provider_is_reported(factory, client, oidc_provider):
    tenant = await factory.tenant("agency", slug="ministria")
    await configure(oidc_provider, tenant, domains="arsimi.gov.al")
    oidc_provider.stop()
    oidc.clear_cache()
    refused = await start(client, "ana@arsimi.gov.al")
    assert refused.status_code == 422
    assert "identity provider cannot be reached" in refused.text
    async with system_transaction():
        assert await OidcLogin.count() == 0


async def test_a_discovery_document_about_another_issuer_is_not_trusted(factory, client, oidc_provider):
    tenant = await factory.tenant("agency", slug="ministria")
    await oidc.save_provider(
        tenant, oidc.ProviderInput(oidc_provider.issuer + "/realms/other", oidc_provider.client_id, "secret-1234",
                                   "arsimi.gov.al", True),
        TEST_ACTOR,
    )
    refused = await start(client, "ana@arsimi.gov.al")
    assert refused.status_code == 422 and "cannot be reached" in refused.text
    assert oidc_provider.authorize_requests == []


async def test_a_token_endpoint_refusal_is_reported(factory, client, agency, oidc_provider):
    await factory.member(agency, "officer", email=f"ana@{DOMAIN}")
    oidc_provider.client_secret = "the-provider-changed-it"
    refused = await sign_in(client, f"ana@{DOMAIN}")
    assert refused.status_code == 400 and "did not sign you in (invalid_client)" in refused.text
    assert await session_count() == 0


async def test_discovery_and_keys_are_cached_briefly(factory, client_factory, agency, oidc_provider):
    await factory.member(agency, "officer", email=f"ana@{DOMAIN}")
    for _ in range(2):
        client = await client_factory()
        assert (await sign_in(client, f"ana@{DOMAIN}")).status_code == 303
    assert await session_count() == 2
    assert len(oidc._cache) == 2  # one discovery document, one key set


async def test_failed_single_sign_ons_count_towards_the_sign_in_throttle(factory, client, agency, oidc_provider):
    from portal.auth.services import MAX_FAILURES_PER_ACCOUNT
    from tests.conftest import TEST_PASSWORD

    member = await factory.member(agency, "officer", email=f"ana.hoxha@{DOMAIN}")
    oidc_provider.claim_changes = {"email_verified": False}
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        assert (await sign_in(client, member.user["email"])).status_code == 400
    blocked = await start(client, member.user["email"])
    assert blocked.status_code == 429 and "Too many failed sign-in attempts" in blocked.text
    assert member.user["email"] in blocked.text  # the typed address is kept
    # The same throttle guards the password form for that account.
    password = await client.post("/login", {"email": member.user["email"], "password": TEST_PASSWORD})
    assert password.status_code == 429
    assert await session_count() == 0
