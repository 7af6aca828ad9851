"""HTTP: the Code page, drafting and publishing versions, signing and withdrawing, signed copies."""

import pytest

from portal.code_of_conduct import services
from portal.code_of_conduct.labels import label
from portal.core.db import execute, system_transaction
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
from tests.isolation import assert_outsider_gets_nothing


def code(tenant: dict, suffix: str = "") -> str:
    return f"/t/{tenant['slug']}/code-of-conduct{suffix}"


async def draft(world, label: str = "2027.1") -> dict:
    created = await services.create_draft(world.regulator, version_input(label), actor_of(world.reg_admin))
    return await services.get_version(created["id"], include_drafts=True)


# --- the Code page and versions ----------------------------------------------------------------


async def test_code_page_shows_the_version_in_force_and_the_signing_state(world, client_factory):
    viewer = await client_factory(world.isp_viewer)
    page = await viewer.get(code(world.isp))
    assert page.status_code == 200
    assert world.version["content_hash"] in page.text
    assert "Pa nënshkruar" in page.text
    assert "Nënshkruaj versionin 2026.1" not in page.text  # viewers cannot sign
    admin = await client_factory(world.isp_admin)
    assert "Nënshkruaj versionin 2026.1" in (await admin.get(code(world.isp))).text
    await sign(world.isp, world.isp_admin, world.version, name="Arta Leka")
    page = await admin.get(code(world.isp))
    assert "Ka nënshkruar versionin në fuqi" in page.text and "Arta Leka" in page.text
    outsider = await client_factory(world.other_admin)
    await assert_outsider_gets_nothing(outsider, "GET", code(world.isp), ["AlbaNet Test", "Arta Leka"])


async def test_regulators_see_figures_and_drafts(world, client_factory):
    await sign(world.isp, world.isp_admin, world.version)
    pending = await draft(world)
    regulator = await client_factory(world.reg_viewer)
    page = await regulator.get(code(world.regulator))
    assert page.status_code == 200
    assert "1 / 2" in page.text  # one of the two ISPs signed the version in force
    assert "2027.1" in page.text
    assert (await regulator.get(code(world.regulator, f"/versions/{pending['id']}"))).status_code == 200
    isp = await client_factory(world.isp_viewer)
    # A draft does not exist for anyone but the regulators.
    assert (await isp.get(code(world.isp, f"/versions/{pending['id']}"))).status_code == 404
    assert "2027.1" not in (await isp.get(code(world.isp))).text


async def test_version_page_renders_markdown_safely(world, client_factory):
    actor = actor_of(world.reg_admin)
    created = await services.create_draft(
        world.regulator, version_input("2027.1", body_sq="**Parime** <script>alert('x')</script>"), actor
    )
    regulator = await client_factory(world.reg_admin)
    page = await regulator.get(code(world.regulator, f"/versions/{created['id']}"))
    assert "<strong>Parime</strong>" in page.text
    assert "<script>alert" not in page.text and "&lt;script&gt;" in page.text
    isp = await client_factory(world.isp_viewer)
    published = await isp.get(code(world.isp, f"/versions/{world.version['id']}"))
    assert published.status_code == 200 and "Bllokimi i URL-ve brenda 24 orëve" in published.text
    outsider = await client_factory(world.other_admin)
    await assert_outsider_gets_nothing(outsider, "GET", code(world.isp, f"/versions/{world.version['id']}"), ["AlbaNet Test"])


# --- drafting (regulator administrators) -------------------------------------------------------

DRAFT_ROUTES = [
    ("GET", "/versions/new"),
    ("POST", "/versions/new"),
    ("GET", "/versions/{draft}/edit"),
    ("POST", "/versions/{draft}/edit"),
    ("GET", "/versions/{draft}/commitments/new"),
    ("POST", "/versions/{draft}/commitments/new"),
    ("GET", "/versions/{draft}/commitments/{commitment}/edit"),
    ("POST", "/versions/{draft}/commitments/{commitment}/edit"),
    ("POST", "/versions/{draft}/commitments/{commitment}/remove"),
    ("POST", "/versions/{draft}/publish"),
    ("POST", "/versions/{draft}/discard"),
]


@pytest.mark.parametrize("method, route", DRAFT_ROUTES)
async def test_drafting_routes_refuse_officers_and_outsiders(world, client_factory, method, route):
    pending = await draft(world)
    path = code(world.regulator, route.format(draft=pending["id"], commitment=pending["commitments"][0]["id"]))
    form = version_input("2027.9") | {"code": "Z9", "title_sq": "a", "title_en": "b", "text_sq": "c", "text_en": "d",
                                      "confirm": "on"}
    before = await snapshot()
    officer = await client_factory(world.reg_officer)
    response = await (officer.get(path) if method == "GET" else officer.post(path, form))
    assert response.status_code == 403
    outsider = await client_factory(world.isp_admin)
    await assert_outsider_gets_nothing(outsider, method, path, ["AKCESK Test", "2027.1"], form)
    # An ISP administrator on its own organisation's address: the permission belongs to regulators only.
    own = code(world.isp, route.format(draft=pending["id"], commitment=pending["commitments"][0]["id"]))
    response = await (outsider.get(own) if method == "GET" else outsider.post(own, form))
    assert response.status_code == 403
    assert await snapshot() == before


async def test_regulator_admin_drafts_edits_and_publishes(world, client_factory):
    admin = await client_factory(world.reg_admin)
    form_page = await admin.get(code(world.regulator, "/versions/new"))
    assert form_page.status_code == 200 and "Kodi i Sjelljes për Sigurinë në Internet" in form_page.text
    created = await admin.post(code(world.regulator, "/versions/new"), version_input("2027.1") | {"copy_commitments": "on"})
    assert created.status_code == 303
    pending = await services.draft_version()
    assert created.headers["location"] == code(world.regulator, f"/versions/{pending['id']}")
    base = code(world.regulator, f"/versions/{pending['id']}")
    assert (await admin.get(base + "/edit")).status_code == 200
    saved = await admin.post(base + "/edit", version_input("2027.1", body_en="A new preamble."))
    assert saved.status_code == 303
    added = await admin.post(base + "/commitments/new", {
        "code": "Z4", "title_sq": "Trajnimi i stafit", "title_en": "Staff training",
        "text_sq": "Trajnon stafin çdo vit.", "text_en": "Trains staff every year.", "position": "",
    })
    assert added.status_code == 303
    version = await services.get_version(pending["id"], include_drafts=True)
    z1 = next(c for c in version["commitments"] if c["code"] == "Z1")
    z2 = next(c for c in version["commitments"] if c["code"] == "Z2")
    assert (await admin.get(base + f"/commitments/{z1['id']}/edit")).status_code == 200
    reworded = await admin.post(base + f"/commitments/{z1['id']}/edit", {
        "code": "Z1", "position": "1", "title_sq": z1["title_sq"], "title_en": z1["title_en"],
        "text_sq": "Nënshkruesi bllokon URL-të e listuara brenda 12 orëve.",
        "text_en": "The signatory blocks listed URLs within 12 hours.",
    })
    assert reworded.status_code == 303
    assert (await admin.post(base + f"/commitments/{z2['id']}/remove", {})).status_code == 303
    changes = await admin.get(base + "/changes")
    assert changes.status_code == 200
    assert "<del>24</del><ins>12</ins>" in changes.text
    for change in ("reworded", "removed", "added", "unchanged"):
        assert label("change", change) in changes.text
    refused = await admin.post(base + "/publish", {})
    assert refused.status_code == 422 and "përfundimtar" in refused.text
    assert (await services.current_version())["id"] == world.version["id"]
    published = await admin.post(base + "/publish", {"confirm": "on"})
    assert published.status_code == 303
    current = await services.current_version()
    assert current["id"] == pending["id"] and current["status"] == "published"
    after = await admin.get(published.headers["location"])
    assert current["content_hash"] in after.text
    # Published: the edit pages answer that it cannot be changed, and nothing changes.
    before = await snapshot()
    assert (await admin.get(base + "/edit")).status_code == 409
    assert (await admin.post(base + "/edit", version_input("2027.1", title_en="Other"))).status_code == 409
    assert (await admin.post(base + f"/commitments/{z1['id']}/remove", {})).status_code == 409
    assert await snapshot() == before
    assert await audit_actions(world.regulator["id"]) == [
        "coc.version_drafted", "coc.commitment_added", "coc.commitment_added", "coc.commitment_added",
        "coc.version_published", "coc.version_drafted", "coc.version_updated", "coc.commitment_added",
        "coc.commitment_updated", "coc.commitment_removed", "coc.version_published",
    ]


async def test_bad_draft_input_keeps_what_was_typed(world, client_factory):
    admin = await client_factory(world.reg_admin)
    before = await snapshot()
    response = await admin.post(code(world.regulator, "/versions/new"), version_input("2026.1", title_en="Titull i shtypur"))
    assert response.status_code == 422
    assert "Ekziston tashmë një version me këtë etiketë." in response.text
    assert 'value="Titull i shtypur"' in response.text
    assert await snapshot() == before
    pending = await draft(world)
    before = await snapshot()
    response = await admin.post(code(world.regulator, f"/versions/{pending['id']}/commitments/new"), {
        "code": "Z1", "title_sq": "Dublikatë", "title_en": "", "text_sq": "Tekst", "text_en": "Text",
    })
    assert response.status_code == 422
    assert "Shkruani titullin e shkurtër në anglisht." in response.text
    assert 'value="Dublikatë"' in response.text
    response = await admin.post(code(world.regulator, f"/versions/{pending['id']}/commitments/new"), {
        "code": "Z1", "title_sq": "Dublikatë", "title_en": "Duplicate", "text_sq": "Tekst", "text_en": "Text",
    })
    assert response.status_code == 422
    assert "Ky version ka tashmë një angazhim Z1." in response.text
    assert 'value="Duplicate"' in response.text
    assert await snapshot() == before


async def test_changes_page_is_for_regulators(world, client_factory):
    pending = await draft(world)
    viewer = await client_factory(world.reg_viewer)
    page = await viewer.get(code(world.regulator, f"/versions/{pending['id']}/changes"))
    assert page.status_code == 200 and "Publiko versionin" not in page.text  # viewers see, cannot publish
    isp = await client_factory(world.isp_admin)
    assert (await isp.get(code(world.isp, f"/versions/{pending['id']}/changes"))).status_code == 403
    await assert_outsider_gets_nothing(
        isp, "GET", code(world.regulator, f"/versions/{pending['id']}/changes"), ["AKCESK Test", "2027.1"]
    )


# --- signing -----------------------------------------------------------------------------------


def sign_form(version: dict, **changes) -> dict:
    return {
        "version_id": str(version["id"]), "content_hash": version["content_hash"], "signatory_name": "Arta Leka",
        "signatory_title": "Drejtore Ekzekutive", "confirm": "on",
    } | changes


async def test_isp_admin_signs_with_a_paper_copy(world, client_factory, storage_root):
    admin = await client_factory(world.isp_admin)
    form = await admin.get(code(world.isp, "/sign"))
    assert form.status_code == 200
    assert world.version["content_hash"] in form.text
    assert 'name="content_hash" value="' + world.version["content_hash"] in form.text
    response = await admin.post(
        code(world.isp, "/sign"), sign_form(world.version),
        files={"signed_pdf": ("kodi-i-nenshkruar.pdf", PDF_BYTES, "application/pdf")},
    )
    assert response.status_code == 303
    state = await services.signing_state(world.isp["id"])
    assert state.status == "signed_current"
    assert state.active["signed_hash"] == world.version["content_hash"]
    assert state.active["signed_by"] == world.isp_admin.user["id"]
    assert state.active["signed_ip"] == "127.0.0.1"
    assert state.active["pdf_filename"] == "kodi-i-nenshkruar.pdf"
    assert len(stored_objects(storage_root)) == 1
    page = await admin.get(code(world.isp))
    assert world.version["content_hash"] in page.text and "kodi-i-nenshkruar.pdf" in page.text


async def test_signing_routes_refuse_officers_regulators_and_outsiders(world, client_factory):
    before = await snapshot()
    officer = await client_factory(world.isp_officer)
    assert (await officer.get(code(world.isp, "/sign"))).status_code == 403
    assert (await officer.post(code(world.isp, "/sign"), sign_form(world.version))).status_code == 403
    regulator = await client_factory(world.reg_admin)
    assert (await regulator.get(code(world.regulator, "/sign"))).status_code == 403
    outsider = await client_factory(world.other_admin)
    await assert_outsider_gets_nothing(outsider, "GET", code(world.isp, "/sign"), ["AlbaNet Test"])
    await assert_outsider_gets_nothing(outsider, "POST", code(world.isp, "/sign"), ["AlbaNet Test"], sign_form(world.version))
    assert await snapshot() == before


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"signatory_name": "  "}, "Shkruani emrin e plotë të personit që nënshkruan."),
        ({"confirm": ""}, "Konfirmoni që e keni lexuar versionin"),
        ({"content_hash": "f" * 64}, "Teksti i Kodit ndryshoi pasi e hapët këtë faqe."),
    ],
)
async def test_bad_signing_input_is_refused_and_keeps_what_was_typed(world, client_factory, storage_root, changes, message):
    admin = await client_factory(world.isp_admin)
    before = await snapshot()
    response = await admin.post(code(world.isp, "/sign"), sign_form(world.version, signatory_title="Administratore", **changes))
    assert response.status_code == 422
    assert message in response.text
    assert 'value="Administratore"' in response.text
    assert await snapshot() == before and stored_objects(storage_root) == []


async def test_a_version_published_while_the_page_was_open_cannot_be_signed(world, client_factory):
    admin = await client_factory(world.isp_admin)
    opened = await admin.get(code(world.isp, "/sign"))
    assert world.version["content_hash"] in opened.text
    newer = await publish(world.regulator, world.reg_admin, "2027.1", copy_current=True)
    before = await snapshot()
    response = await admin.post(code(world.isp, "/sign"), sign_form(world.version, signatory_name="Arta Leka"))
    assert response.status_code == 422
    assert "Versioni 2026.1 është zëvendësuar nga një version më i ri." in response.text
    # The page now shows the version in force, keeps the name, and asks for the confirmation again.
    assert 'name="content_hash" value="' + newer["content_hash"] in response.text
    assert 'value="Arta Leka"' in response.text
    assert 'name="confirm" checked' not in response.text
    assert await snapshot() == before


async def test_a_draft_version_cannot_be_signed_over_http(world, client_factory):
    pending = await draft(world)
    admin = await client_factory(world.isp_admin)
    before = await snapshot()
    response = await admin.post(code(world.isp, "/sign"), sign_form(pending, content_hash=""))
    assert response.status_code == 422
    assert "nuk është publikuar" in response.text
    assert await snapshot() == before


async def test_a_signed_copy_that_is_not_a_pdf_is_refused(world, client_factory, storage_root):
    admin = await client_factory(world.isp_admin)
    before = await snapshot()
    response = await admin.post(
        code(world.isp, "/sign"), sign_form(world.version), files={"signed_pdf": ("kodi.pdf", EXE_BYTES, "application/pdf")}
    )
    assert response.status_code == 422
    assert "Ky lloj skedari nuk pranohet" in response.text
    assert await snapshot() == before and stored_objects(storage_root) == []


# --- withdrawal and signed copies --------------------------------------------------------------


async def test_withdrawal_over_http(world, client_factory):
    signature = await sign(world.isp, world.isp_admin, world.version)
    path = code(world.isp, f"/signatures/{signature['id']}/withdraw")
    officer = await client_factory(world.isp_officer)
    before = await snapshot()
    assert (await officer.get(path)).status_code == 403
    assert (await officer.post(path, {"reason": "x"})).status_code == 403
    outsider = await client_factory(world.other_admin)
    await assert_outsider_gets_nothing(outsider, "GET", path, ["Arta Leka"])
    await assert_outsider_gets_nothing(outsider, "POST", path, ["Arta Leka"], {"reason": "x"})
    # Another organisation's signature id under one's own address does not exist either.
    own = code(world.other, f"/signatures/{signature['id']}/withdraw")
    await assert_outsider_gets_nothing(outsider, "GET", own, ["Arta Leka"])
    await assert_outsider_gets_nothing(outsider, "POST", own, ["Arta Leka"], {"reason": "x"})
    admin = await client_factory(world.isp_admin)
    assert (await admin.get(path)).status_code == 200
    empty = await admin.post(path, {"reason": "  "})
    assert empty.status_code == 422 and "Shkruani arsyen e tërheqjes së nënshkrimit." in empty.text
    assert await snapshot() == before
    done = await admin.post(path, {"reason": "Rishikim ligjor i brendshëm"})
    assert done.status_code == 303
    page = await admin.get(code(world.isp))
    assert "Nënshkrim i tërhequr" in page.text and "Rishikim ligjor i brendshëm" in page.text
    assert (await services.signing_state(world.isp["id"])).status == "withdrawn"


async def test_signed_copy_download_is_checked_and_audited(world, client_factory):
    from portal.code_of_conduct.files import Upload

    signature = await sign(world.isp, world.isp_admin, world.version, pdf=Upload("kodi.pdf", PDF_BYTES))
    path = code(world.isp, f"/signatures/{signature['id']}/signed-copy")
    viewer = await client_factory(world.isp_viewer)
    response = await viewer.get(path)
    assert response.status_code == 200 and response.content == PDF_BYTES
    assert response.headers["content-type"].startswith("application/pdf")
    assert "attachment" in response.headers["content-disposition"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "coc.signed_pdf_downloaded" in await audit_actions(world.isp["id"])
    outsider = await client_factory(world.other_admin)
    await assert_outsider_gets_nothing(outsider, "GET", path, ["%PDF"])
    await assert_outsider_gets_nothing(outsider, "GET", code(world.other, f"/signatures/{signature['id']}/signed-copy"), ["%PDF"])
    async with system_transaction():
        downloads = await execute("SELECT COUNT(*) AS n FROM audit_entry WHERE action = 'coc.signed_pdf_downloaded'")
    assert downloads[0]["n"] == 1
