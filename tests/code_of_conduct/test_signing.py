"""Signing, re-signing after a new version, withdrawal, the public list and the registry."""

import pytest

from portal.code_of_conduct import services
from portal.code_of_conduct.files import Upload
from portal.code_of_conduct.services import RegistryFilters
from portal.core.errors import ValidationFailed
from tests.code_of_conduct.conftest import (
    EXE_BYTES,
    PDF_BYTES,
    actor_of,
    audit_actions,
    publish,
    sign,
    snapshot,
    stored_objects,
    version_input,
)


async def _sign(world, **changes):
    values = {
        "version_id": world.version["id"], "shown_hash": world.version["content_hash"], "signatory_name": "Arta Leka",
        "signatory_title": "Drejtore", "confirmed": True, "signed_pdf": None, "actor": actor_of(world.isp_admin),
    } | changes
    return await services.sign_version(world.isp, **values)


async def test_signature_records_who_when_where_and_the_exact_hash(world, storage_root):
    signature = await _sign(world, signed_pdf=Upload("kodi-i-nenshkruar.pdf", PDF_BYTES))
    assert signature["signed_hash"] == world.version["content_hash"]
    assert signature["signed_by"] == world.isp_admin.user["id"]
    assert signature["signed_ip"] == "198.51.100.7"
    assert signature["signatory_name"] == "Arta Leka" and signature["signatory_title"] == "Drejtore"
    assert signature["signed_at"] is not None and signature["signed_pdf"] is not None
    assert len(stored_objects(storage_root)) == 1
    state = await services.signing_state(world.isp["id"])
    assert state.status == "signed_current" and state.active["id"] == signature["id"]
    pdf = await services.signed_pdf_file(state.active)
    assert pdf["content_type"] == "application/pdf" and pdf["tenant"] == world.isp["id"]
    assert await audit_actions(world.isp["id"]) == ["coc.signed"]


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"signatory_name": "   "}, "signatory_name"),
        ({"confirmed": False}, "confirm"),
        ({"shown_hash": "0" * 64}, "version"),
        ({"version_id": "not-a-number"}, "version"),
        ({"signed_pdf": Upload("kodi.pdf", EXE_BYTES)}, "signed_pdf"),
        ({"signed_pdf": Upload("skanim.png", bytes.fromhex("89504e470d0a1a0a") + b"\x00" * 40)}, "signed_pdf"),
    ],
)
async def test_bad_signing_input_changes_nothing(world, storage_root, changes, field):
    before = await snapshot()
    with pytest.raises(ValidationFailed) as refused:
        await _sign(world, **changes)
    assert field in refused.value.errors
    assert await snapshot() == before
    assert stored_objects(storage_root) == []


async def test_draft_and_superseded_versions_cannot_be_signed(world):
    actor = actor_of(world.reg_admin)
    draft = await services.create_draft(world.regulator, version_input("2027.1"), actor)
    before = await snapshot()
    with pytest.raises(ValidationFailed) as on_draft:
        await _sign(world, version_id=draft["id"], shown_hash="")
    assert "nuk është publikuar" in on_draft.value.errors["version"]
    assert await snapshot() == before
    await services.publish_version(world.regulator, draft["id"], actor, confirmed=True)
    before = await snapshot()
    with pytest.raises(ValidationFailed) as on_old:
        await _sign(world)  # the page was opened on 2026.1, which is now superseded
    assert "2026.1" in on_old.value.errors["version"] and "zëvendësuar" in on_old.value.errors["version"]
    assert await snapshot() == before


async def test_signing_twice_is_refused(world):
    await _sign(world)
    before = await snapshot()
    with pytest.raises(ValidationFailed) as again:
        await _sign(world)
    assert "e ka nënshkruar tashmë" in again.value.errors["version"]
    assert await snapshot() == before


async def test_new_version_asks_for_re_signing_until_signed_again(world):
    first = await sign(world.isp, world.isp_admin, world.version)
    second_version = await publish(world.regulator, world.reg_admin, "2027.1", copy_current=True)
    state = await services.signing_state(world.isp["id"])
    assert state.status == "signed_old_version"
    assert state.active["id"] == first["id"]
    registry = {r["organisation"]: r for r in await services.registry(RegistryFilters())}
    assert registry["AlbaNet Test sh.p.k."]["status"] == "signed_old_version"
    assert registry["AlbaNet Test sh.p.k."]["version_label"] == "2026.1"
    public = await services.public_signatories()
    assert [(r["organisation"], r["version"], r["current_version"]) for r in public] == [
        ("AlbaNet Test sh.p.k.", "2026.1", False)
    ]
    second = await sign(world.isp, world.isp_admin, second_version)
    state = await services.signing_state(world.isp["id"])
    assert state.status == "signed_current"
    assert [s["id"] for s in state.history] == [second["id"], first["id"]]
    assert second["signed_hash"] == second_version["content_hash"] != first["signed_hash"]
    public = await services.public_signatories()
    assert [(r["version"], r["hash"], r["current_version"]) for r in public] == [
        ("2027.1", second_version["content_hash"], True)
    ]


async def test_withdrawal_needs_a_reason_and_keeps_history(world):
    signature = await sign(world.isp, world.isp_admin, world.version)
    actor = actor_of(world.isp_admin)
    before = await snapshot()
    with pytest.raises(ValidationFailed) as no_reason:
        await services.withdraw_signature(world.isp, signature["id"], "  \n ", actor)
    assert "reason" in no_reason.value.errors
    assert await snapshot() == before
    await services.withdraw_signature(world.isp, signature["id"], "Ristrukturim i shoqërisë", actor)
    state = await services.signing_state(world.isp["id"])
    assert state.status == "withdrawn" and state.active is None
    assert state.history[0]["withdrawal_reason"] == "Ristrukturim i shoqërisë"
    assert state.history[0]["withdrawn_by"] == world.isp_admin.user["id"]
    assert await services.public_signatories() == []
    assert [r["status"] for r in await services.registry(RegistryFilters(status="withdrawn"))] == ["withdrawn"]
    with pytest.raises(ValidationFailed):
        await services.withdraw_signature(world.isp, signature["id"], "Përsëri", actor)
    # Signing again after a withdrawal starts a new signature; the withdrawn one stays in the history.
    again = await sign(world.isp, world.isp_admin, world.version)
    state = await services.signing_state(world.isp["id"])
    assert state.status == "signed_current" and [s["id"] for s in state.history] == [again["id"], signature["id"]]
    assert await audit_actions(world.isp["id"]) == ["coc.signed", "coc.signature_withdrawn", "coc.signed"]


async def test_only_the_signature_in_effect_can_be_withdrawn(world):
    first = await sign(world.isp, world.isp_admin, world.version)
    second_version = await publish(world.regulator, world.reg_admin, "2027.1", copy_current=True)
    await sign(world.isp, world.isp_admin, second_version)
    before = await snapshot()
    with pytest.raises(ValidationFailed):
        await services.withdraw_signature(world.isp, first["id"], "Versioni i vjetër", actor_of(world.isp_admin))
    assert await snapshot() == before


async def test_registry_lists_every_isp_and_filters(world, factory):
    ngo = await factory.tenant("ngo", slug="ojf-test", name="OJF Test")
    ngo_admin = await factory.member(ngo, "admin")
    await factory.tenant("ngo", slug="ojf-pa-kod", name="OJF pa Kod")  # never signed: not in the registry
    await sign(world.isp, world.isp_admin, world.version)
    await sign(ngo, ngo_admin, world.version)
    rows = await services.registry(RegistryFilters())
    assert [(r["organisation"], r["status"]) for r in rows] == [
        ("AlbaNet Test sh.p.k.", "signed_current"), ("OJF Test", "signed_current"),
        ("Shqiponja Test sh.a.", "not_signed"),
    ]
    assert [r["organisation"] for r in await services.registry(RegistryFilters(kind="ngo"))] == ["OJF Test"]
    assert [r["organisation"] for r in await services.registry(RegistryFilters(status="not_signed"))] == [
        "Shqiponja Test sh.a."
    ]
    by_version = await services.registry(RegistryFilters(version=str(world.version["id"])))
    assert {r["organisation"] for r in by_version} == {"AlbaNet Test sh.p.k.", "OJF Test"}
    assert RegistryFilters.from_query({"kind": "regulator", "status": "x", "version": "1;drop"}) == RegistryFilters()
