"""The public list of signatories, the public text of a version and the key-free JSON list."""

import hashlib

from portal.code_of_conduct import services
from tests.code_of_conduct.conftest import actor_of, publish, sign, version_input


async def test_public_page_lists_current_signatories_without_sign_in(world, client):
    await sign(world.isp, world.isp_admin, world.version)
    signature = await sign(world.other, world.other_admin, world.version)
    await services.withdraw_signature(world.other, signature["id"], "Rishikim", actor_of(world.other_admin))
    page = await client.get("/code-of-conduct/signatories")
    assert page.status_code == 200
    assert "AlbaNet Test sh.p.k." in page.text
    assert "Shqiponja Test sh.a." not in page.text  # withdrawn
    assert world.version["content_hash"] in page.text and "2026.1" in page.text
    assert "/login" not in page.headers.get("location", "")


async def test_old_version_signatories_are_marked(world, client):
    await sign(world.isp, world.isp_admin, world.version)
    await publish(world.regulator, world.reg_admin, "2027.1", copy_current=True)
    page = await client.get("/code-of-conduct/signatories")
    assert "AlbaNet Test sh.p.k." in page.text
    assert "pritet rinënshkrimi" in page.text


async def test_api_lists_signatories_without_a_key(world, client):
    await sign(world.isp, world.isp_admin, world.version)
    response = await client.get("/api/v1/code-of-conduct/signatories")
    assert response.status_code == 200
    body = response.json()
    assert body["version_in_force"]["label"] == "2026.1"
    assert body["version_in_force"]["hash"] == world.version["content_hash"]
    assert [(s["organisation"], s["version"], s["hash"], s["current_version"]) for s in body["signatories"]] == [
        ("AlbaNet Test sh.p.k.", "2026.1", world.version["content_hash"], True)
    ]
    assert body["signatories"][0]["signed_at"].startswith("20")
    # The rest of the API still needs a key.
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_api_and_page_with_no_code_yet(client):
    assert (await client.get("/api/v1/code-of-conduct/signatories")).json() == {"version_in_force": None, "signatories": []}
    assert (await client.get("/code-of-conduct/signatories")).status_code == 200


async def test_public_version_text_and_verifiable_canonical_bytes(world, client):
    page = await client.get("/code-of-conduct/versions/2026.1")
    assert page.status_code == 200 and world.version["content_hash"] in page.text
    assert "Bllokimi i URL-ve brenda 24 orëve" in page.text
    canonical = await client.get("/code-of-conduct/versions/2026.1/canonical.json")
    assert canonical.status_code == 200
    assert hashlib.sha256(canonical.content).hexdigest() == world.version["content_hash"]
    assert canonical.json()["label"] == "2026.1"


async def test_drafts_and_unknown_versions_are_not_public(world, client):
    await services.create_draft(world.regulator, version_input("2027.1"), actor_of(world.reg_admin))
    for path in ("/code-of-conduct/versions/2027.1", "/code-of-conduct/versions/2027.1/canonical.json",
                 "/code-of-conduct/versions/1999.1"):
        assert (await client.get(path)).status_code == 404, path
