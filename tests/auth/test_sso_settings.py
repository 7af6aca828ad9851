"""The organisation admin's single sign-on settings page: validation, the encrypted secret, audit,
and that nobody else can see or change it."""

from __future__ import annotations

import pytest

from portal.audit.tables import AuditEntry
from portal.auth import oidc
from portal.auth.tables import IdentityProvider, SsoDomain
from portal.core.db import system_transaction
from portal.takedown.contact import decrypt_contact

SECRET = "idp-secret-value-0123456789"
PATH = "/t/policia/single-sign-on"


def form(**changes) -> dict:
    return {
        "issuer": "https://login.policia.gov.al/realms/staff", "client_id": "portali", "client_secret": SECRET,
        "domains": "policia.gov.al\nasp.gov.al", "enabled": "on",
    } | changes


async def stored() -> list[dict]:
    async with system_transaction():
        return await IdentityProvider.select()


async def stored_domains() -> list[str]:
    async with system_transaction():
        return sorted(row["domain"] for row in await SsoDomain.select(SsoDomain.domain))


@pytest.fixture
async def agency(factory):
    return await factory.tenant("agency", slug="policia", name="Policia e Shtetit")


@pytest.fixture
async def admin_client(factory, client_factory, agency):
    admin = await factory.member(agency, "admin")
    client = await client_factory(admin)
    client.http.cookies.set("lang", "en", domain="portal.test")
    return client


async def test_the_admin_sets_up_single_sign_on_and_the_secret_is_only_hinted(admin_client):
    empty = await admin_client.get(PATH)
    assert empty.status_code == 200 and "Set up single sign-on" in empty.text
    assert "http://portal.test/auth/oidc/callback" in empty.text

    saved = await admin_client.post(PATH, form(domains="Policia.gov.al, @asp.gov.al\npolicia.gov.al"))
    assert saved.status_code == 303 and saved.headers["location"] == PATH
    [row] = await stored()
    assert row["issuer"] == "https://login.policia.gov.al/realms/staff" and row["client_id"] == "portali"
    assert row["enabled"] is True
    assert SECRET not in row["client_secret_encrypted"] and decrypt_contact(row["client_secret_encrypted"]) == SECRET
    assert await stored_domains() == ["asp.gov.al", "policia.gov.al"]

    shown = await admin_client.get(PATH)
    assert "The single sign-on settings have been saved." in shown.text
    assert SECRET not in shown.text and SECRET[:4] + "…" in shown.text
    assert "Single sign-on" in shown.text  # the navigation entry

    async with system_transaction():
        [entry] = await AuditEntry.select().where(AuditEntry.action == "auth.sso_provider_saved")
    assert entry["tenant_id"] == row["tenant"]
    assert SECRET not in str(entry) and "policia.gov.al" in str(entry["detail"])


async def test_a_blank_secret_keeps_the_stored_one_and_changes_are_audited(admin_client):
    await admin_client.post(PATH, form())
    changed = await admin_client.post(PATH, form(client_secret="", enabled="", domains="policia.gov.al"))
    assert changed.status_code == 303
    [row] = await stored()
    assert decrypt_contact(row["client_secret_encrypted"]) == SECRET and row["enabled"] is False
    assert await stored_domains() == ["policia.gov.al"]

    removed = await admin_client.post(PATH + "/remove")
    assert removed.status_code == 303
    assert await stored() == [] and await stored_domains() == []
    async with system_transaction():
        actions = [e["action"] for e in await AuditEntry.select(AuditEntry.action).where(
            AuditEntry.action.like("auth.sso_%")
        ).order_by(AuditEntry.id)]
    assert actions == ["auth.sso_provider_saved", "auth.sso_provider_saved", "auth.sso_provider_removed"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"issuer": ""}, "issuer", "Enter the issuer address of your identity provider."),
        ({"issuer": "http://login.policia.gov.al"}, "issuer", "The issuer must be an https:// address"),
        ({"issuer": "https://login.policia.gov.al/?x=1"}, "issuer", "The issuer must be an https:// address"),
        ({"issuer": "ftp://login.policia.gov.al"}, "issuer", "The issuer must be an https:// address"),
        ({"client_id": " "}, "client_id", "Enter the client id"),
        ({"client_secret": ""}, "client_secret", "Enter the client secret"),
        ({"domains": ""}, "domains", "Enter at least one email domain"),
        ({"domains": "policia.gov.al\nnot a domain\nlocalhost"}, "domains",
         "These are not valid email domains: not, a, domain, localhost."),
        ({"domains": "policia..gov.al"}, "domains", "These are not valid email domains"),
    ],
)
async def test_bad_input_is_refused_with_a_translated_message_and_kept(admin_client, changes, field, message):
    refused = await admin_client.post(PATH, form(**changes))
    assert refused.status_code == 422
    assert message in refused.text
    assert 'id="f-%s-error"' % field in refused.text
    if changes.get(field):
        assert changes[field].split("\n")[0].strip() in refused.text
    assert SECRET not in refused.text, "a typed secret is never sent back"
    assert await stored() == []


async def test_the_issuer_rule_speaks_albanian(factory, client_factory, agency):
    admin = await factory.member(agency, "admin")
    client = await client_factory(admin)
    refused = await client.post(PATH, form(issuer="http://login.policia.gov.al"))
    assert refused.status_code == 422
    assert "Lëshuesi duhet të jetë një adresë https://" in refused.text


async def test_loopback_http_issuers_are_accepted_for_tests_and_embedded_mode(admin_client):
    for issuer in ("http://127.0.0.1:8080/realms/x", "http://localhost:9000"):
        assert (await admin_client.post(PATH, form(issuer=issuer))).status_code == 303


async def test_a_domain_belongs_to_one_organisation_only(factory, client_factory, admin_client):
    assert (await admin_client.post(PATH, form())).status_code == 303
    ministry = await factory.tenant("agency", slug="ministria")
    other_admin = await client_factory(await factory.member(ministry, "admin"))
    other_admin.http.cookies.set("lang", "en", domain="portal.test")
    refused = await other_admin.post("/t/ministria/single-sign-on", form(domains="arsimi.gov.al\nASP.gov.al"))
    assert refused.status_code == 422
    assert "Another organisation already signs in with these domains: asp.gov.al." in refused.text
    assert len(await stored()) == 1
    # Its own page does not reveal which organisation holds the domain.
    assert "Policia" not in refused.text
    # Re-saving one's own domains is not a clash.
    assert (await admin_client.post(PATH, form(client_secret=""))).status_code == 303


async def test_another_organisations_admin_gets_404_and_members_403(factory, client_factory, admin_client, agency):
    await admin_client.post(PATH, form())
    ministry = await factory.tenant("regulator", slug="akcesk")
    outsider = await client_factory(await factory.member(ministry, "admin"))
    for method, path in (("get", PATH), ("post", PATH), ("post", PATH + "/remove")):
        extra = {"data": form(issuer="https://evil.example")} if method == "post" else {}
        answer = await getattr(outsider, method)(path, **extra)
        assert answer.status_code == 404, (method, path)
        assert SECRET[:4] not in answer.text and "login.policia.gov.al" not in answer.text
    for role in ("officer", "analyst", "viewer"):
        member = await client_factory(await factory.member(agency, role))
        assert (await member.get(PATH)).status_code == 403
        assert (await member.post(PATH, form(issuer="https://evil.example"))).status_code == 403
        assert (await member.post(PATH + "/remove")).status_code == 403
        assert "single-sign-on" not in (await member.get("/t/policia/")).text
    [row] = await stored()
    assert row["issuer"] == "https://login.policia.gov.al/realms/staff"


async def test_the_provider_rows_are_invisible_from_another_tenants_scope(factory, admin_client, agency):
    await admin_client.post(PATH, form())
    ministry = await factory.tenant("agency", slug="ministria")
    assert await oidc.get_provider(ministry["id"]) is None
    assert (await oidc.get_provider(agency["id"]))["domains"] == ["asp.gov.al", "policia.gov.al"]
