"""Drafting, comparing and publishing versions of the Code."""

import pytest

from portal.code_of_conduct import services
from portal.code_of_conduct.text import content_hash
from portal.core.db import execute, system_transaction
from portal.core.errors import Conflict, NotFound, ValidationFailed
from tests.code_of_conduct.conftest import (
    actor_of,
    audit_actions,
    commitment_input,
    log,
    publish,
    sign,
    snapshot,
    version_input,
)


async def test_first_publication_freezes_the_text_with_its_hash(world):
    version = world.version
    assert version["status"] == "published"
    assert version["content_hash"] == content_hash(version, version["commitments"])
    assert len(version["content_hash"]) == 64
    assert version["published_by"] == world.reg_admin.user["id"]
    assert [c["code"] for c in version["commitments"]] == ["Z1", "Z2", "Z3"]
    assert (await services.current_version())["id"] == version["id"]
    assert await audit_actions(world.regulator["id"]) == [
        "coc.version_drafted", "coc.commitment_added", "coc.commitment_added", "coc.commitment_added",
        "coc.version_published",
    ]


async def test_a_new_draft_copies_the_commitments_in_force_and_publishing_supersedes(world):
    actor = actor_of(world.reg_admin)
    draft = await services.create_draft(world.regulator, version_input("2027.1"), actor)
    copied = await services.get_version(draft["id"], include_drafts=True)
    assert [c["code"] for c in copied["commitments"]] == ["Z1", "Z2", "Z3"]
    assert {c["id"] for c in copied["commitments"]}.isdisjoint({c["id"] for c in world.version["commitments"]})
    # Drafts are for regulators only.
    with pytest.raises(NotFound):
        await services.get_version(draft["id"], include_drafts=False)
    published = await services.publish_version(world.regulator, draft["id"], actor, confirmed=True)
    old = await services.get_version(world.version["id"], include_drafts=False)
    assert old["status"] == "superseded" and old["superseded_at"] is not None
    assert old["content_hash"] == world.version["content_hash"]
    assert (await services.current_version())["id"] == draft["id"]
    # Same commitments but another label: the fingerprint differs, as the label is part of the text signed.
    assert published["content_hash"] != world.version["content_hash"]


async def test_published_versions_cannot_be_edited(world):
    actor = actor_of(world.reg_admin)
    version_id = world.version["id"]
    commitment_id = world.version["commitments"][0]["id"]
    before = await snapshot()
    with pytest.raises(Conflict):
        await services.update_draft(world.regulator, version_id, version_input("2026.1", title_en="Changed"), actor)
    with pytest.raises(Conflict):
        await services.add_commitment(world.regulator, version_id, commitment_input("Z9", "a", "b", "c", "d"), actor)
    with pytest.raises(Conflict):
        await services.update_commitment(
            world.regulator, version_id, commitment_id, commitment_input("Z1", "a", "b", "c", "d"), actor
        )
    with pytest.raises(Conflict):
        await services.remove_commitment(world.regulator, version_id, commitment_id, actor)
    with pytest.raises(Conflict):
        await services.publish_version(world.regulator, version_id, actor, confirmed=True)
    with pytest.raises(Conflict):
        await services.discard_draft(world.regulator, version_id, actor)
    assert await snapshot() == before


async def test_only_one_draft_and_unique_labels(world):
    actor = actor_of(world.reg_admin)
    with pytest.raises(ValidationFailed) as taken:
        await services.create_draft(world.regulator, version_input("2026.1"), actor)
    assert "label" in taken.value.errors
    await services.create_draft(world.regulator, version_input("2027.1"), actor)
    before = await snapshot()
    with pytest.raises(ValidationFailed) as second:
        await services.create_draft(world.regulator, version_input("2027.2"), actor)
    assert "2027.1" in second.value.errors["form"]
    assert await snapshot() == before


async def test_draft_input_is_checked(world):
    actor = actor_of(world.reg_admin)
    with pytest.raises(ValidationFailed) as bad:
        await services.create_draft(world.regulator, version_input("2027 one", title_sq=" ", title_en=""), actor)
    assert set(bad.value.errors) == {"label", "title_sq", "title_en"}
    draft = await services.create_draft(world.regulator, version_input("2027.1"), actor, copy_current=False)
    with pytest.raises(ValidationFailed) as missing:
        await services.add_commitment(world.regulator, draft["id"], commitment_input("Z 1", "", "t", "", "x"), actor)
    assert set(missing.value.errors) == {"code", "title_sq", "text_sq"}
    await services.add_commitment(world.regulator, draft["id"], commitment_input("Z1", "a", "b", "c", "d"), actor)
    with pytest.raises(ValidationFailed) as duplicate:
        await services.add_commitment(world.regulator, draft["id"], commitment_input("Z1", "a", "b", "c", "d"), actor)
    assert "Z1" in duplicate.value.errors["code"]


async def test_publishing_needs_confirmation_and_commitments(world):
    actor = actor_of(world.reg_admin)
    draft = await services.create_draft(world.regulator, version_input("2027.1"), actor, copy_current=False)
    before = await snapshot()
    with pytest.raises(ValidationFailed) as unconfirmed:
        await services.publish_version(world.regulator, draft["id"], actor, confirmed=False)
    assert "confirm" in unconfirmed.value.errors
    with pytest.raises(ValidationFailed) as empty:
        await services.publish_version(world.regulator, draft["id"], actor, confirmed=True)
    assert "form" in empty.value.errors
    assert await snapshot() == before
    assert (await services.current_version())["id"] == world.version["id"]


async def test_discarding_a_draft_removes_it_and_its_commitments(world):
    actor = actor_of(world.reg_admin)
    draft = await services.create_draft(world.regulator, version_input("2027.1"), actor)
    await services.discard_draft(world.regulator, draft["id"], actor)
    assert await services.draft_version() is None
    async with system_transaction():
        rows = await execute("SELECT id FROM coc_commitment WHERE version = {}", draft["id"])
    assert rows == []
    assert "coc.version_discarded" in await audit_actions(world.regulator["id"])


async def test_diff_lists_added_removed_reworded_and_the_measures_that_rest_on_them(world):
    actor = actor_of(world.reg_admin)
    await sign(world.isp, world.isp_admin, world.version)
    measure = await log(world.isp, world.isp_officer, world.version, codes=("Z1", "Z3"), title="Bllokimi DNS")
    untouched = await log(world.isp, world.isp_officer, world.version, codes=("Z2",), title="Formulari i raportimit")
    draft = await services.create_draft(world.regulator, version_input("2027.1", body_en="A new preamble."), actor)
    copied = {c["code"]: c for c in (await services.get_version(draft["id"], include_drafts=True))["commitments"]}
    await services.update_commitment(
        world.regulator, draft["id"], copied["Z1"]["id"],
        commitment_input("Z1", "Bllokimi i URL-ve brenda 12 orëve", "Blocking of listed URLs within 12 hours",
                         "Nënshkruesi bllokon URL-të e listuara brenda 12 orëve.",
                         "The signatory blocks listed URLs within 12 hours.", position=1),
        actor,
    )
    await services.remove_commitment(world.regulator, draft["id"], copied["Z3"]["id"], actor)
    await services.add_commitment(
        world.regulator, draft["id"], commitment_input("Z4", "Trajnimi", "Training", "Trajnon stafin.", "Trains staff."),
        actor,
    )
    diff = await services.diff_against_current(draft["id"])
    assert diff.base["id"] == world.version["id"]
    changes = {c.code: c for c in diff.commitments}
    assert {code: c.change for code, c in changes.items()} == {
        "Z1": "reworded", "Z2": "unchanged", "Z3": "removed", "Z4": "added",
    }
    assert [c.code for c in diff.commitments] == ["Z1", "Z2", "Z4", "Z3"]
    text_en = next(f for f in changes["Z1"].fields if f.name == "text_en")
    assert [(s.op, s.text) for s in text_en.segments if s.op != "equal"] == [("delete", "24"), ("insert", "12")]
    assert {f.name for f in changes["Z1"].fields} == {"title_sq", "title_en", "text_sq", "text_en"}
    assert [f.name for f in diff.header] == ["body_en"]
    assert diff.changed_count == 3
    affected = [(m["tenant_name"], m["code"], m["measure_id"]) for m in diff.affected_measures]
    assert affected == [("AlbaNet Test sh.p.k.", "Z1", measure["id"]), ("AlbaNet Test sh.p.k.", "Z3", measure["id"])]
    assert untouched["id"] not in {m["measure_id"] for m in diff.affected_measures}


async def test_publishing_asks_live_signatories_by_mail_to_sign_again(world):
    await sign(world.isp, world.isp_admin, world.version)
    await sign(world.other, world.other_admin, world.version)
    await services.withdraw_signature(world.other, (await services.signing_state(world.other["id"])).active["id"],
                                      "Rishikim i brendshëm", actor_of(world.other_admin))
    await publish(world.regulator, world.reg_admin, "2027.1", copy_current=True)
    async with system_transaction():
        mails = await execute("SELECT to_address, subject, body_text FROM outbox_message ORDER BY id")
    assert [m["to_address"] for m in mails] == [world.isp_admin.email]
    assert "2027.1" in mails[0]["subject"]
    assert "/t/albanet-test/code-of-conduct" in mails[0]["body_text"]
