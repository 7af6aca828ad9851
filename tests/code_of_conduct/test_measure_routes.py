"""HTTP: an organisation's measures: list and views, logging, editing, evidence, deletion."""

import pytest

from portal.code_of_conduct import measures, services
from portal.code_of_conduct.files import Upload
from portal.core.i18n import gettext
from portal.core.settings import get_settings
from tests.code_of_conduct.conftest import (
    CSV_BYTES,
    EXE_BYTES,
    PDF_BYTES,
    audit_actions,
    log,
    publish,
    sign,
    snapshot,
    stored_objects,
)
from tests.isolation import assert_outsider_gets_nothing


def path(tenant: dict, suffix: str = "") -> str:
    return f"/t/{tenant['slug']}/code-measures{suffix}"


@pytest.fixture
async def signed(world):
    await sign(world.isp, world.isp_admin, world.version)
    await sign(world.other, world.other_admin, world.version)
    return world


def form(version: dict, codes=("Z1",), **changes) -> dict:
    return {
        "title": "Fushata në shkolla", "description": "Takime me prindër dhe mësues.", "category": "subscriber_awareness",
        "status": "done", "start_date": "2026-02-09", "end_date": "2026-02-28",
        "commitments": [str(c["id"]) for c in version["commitments"] if c["code"] in codes],
        "indicator_name": ["Shtrirja e fushatës", "Shkolla të vizituara", ""],
        "indicator_value": ["15 000", "12", ""],
    } | changes


async def test_logging_a_measure_with_evidence(signed, client_factory, storage_root):
    world = signed
    officer = await client_factory(world.isp_officer)
    new = await officer.get(path(world.isp, "/new"))
    assert new.status_code == 200 and "Z1" in new.text and "Bllokimi i URL-ve brenda 24 orëve" in new.text
    response = await officer.post(
        path(world.isp, "/new"), form(world.version, codes=("Z1", "Z2")),
        files=[("evidence", ("prezantimi.pdf", PDF_BYTES, "application/pdf")),
               ("evidence", ("pjesemarresit.csv", CSV_BYTES, "text/csv"))],
    )
    assert response.status_code == 303, response.text[:500]
    rows = await measures.tenant_measures(world.isp["id"], measures.MeasureFilters())
    assert len(rows) == 1
    measure = await measures.get_measure(world.isp["id"], rows[0]["id"])
    assert response.headers["location"] == path(world.isp, f"/{measure['id']}")
    assert measure["indicators"] == [{"name": "Shtrirja e fushatës", "value": 15000}, {"name": "Shkolla të vizituara", "value": 12}]
    assert [c["code"] for c in measure["commitments"]] == ["Z1", "Z2"]
    assert sorted(e["filename"] for e in measure["evidence"]) == ["pjesemarresit.csv", "prezantimi.pdf"]
    assert len(stored_objects(storage_root)) == 2
    page = await officer.get(response.headers["location"])
    assert "Fushata në shkolla" in page.text and "prezantimi.pdf" in page.text
    assert "15\xa0000" in page.text  # the number as Albanian readers write it


async def test_measure_pages_three_way_access(signed, client_factory):
    world = signed
    measure = await log(world.isp, world.isp_officer, world.version, title="Bllokimi DNS i AlbaNet",
                        evidence=[Upload("raport.csv", CSV_BYTES)])
    evidence_id = (await measures.get_measure(world.isp["id"], measure["id"]))["evidence"][0]["id"]
    secrets = ["Bllokimi DNS i AlbaNet", "AlbaNet Test"]
    viewer = await client_factory(world.isp_viewer)
    # Everyone in the organisation reads.
    for suffix in ("", f"/{measure['id']}", f"/{measure['id']}/evidence/{evidence_id}"):
        assert (await viewer.get(path(world.isp, suffix))).status_code == 200, suffix
    before = await snapshot()
    # A viewer cannot log, edit, add evidence or delete.
    for method, suffix in [("GET", "/new"), ("POST", "/new"), ("GET", f"/{measure['id']}/edit"),
                           ("POST", f"/{measure['id']}/edit"), ("POST", f"/{measure['id']}/evidence"),
                           ("GET", f"/{measure['id']}/delete"), ("POST", f"/{measure['id']}/delete")]:
        response = await (viewer.get(path(world.isp, suffix)) if method == "GET"
                          else viewer.post(path(world.isp, suffix), form(world.version) | {"reason": "x"}))
        assert response.status_code == 403, (method, suffix)
    # A regulator's own address has no measures pages (regulators use the signatories' view).
    regulator = await client_factory(world.reg_admin)
    assert (await regulator.get(path(world.regulator))).status_code == 403
    # Another organisation: 404 under this organisation's address, and 404 for this id under its own.
    outsider = await client_factory(world.other_officer)
    for method, suffix in [("GET", ""), ("GET", "/new"), ("POST", "/new"), ("GET", f"/{measure['id']}"),
                           ("GET", f"/{measure['id']}/edit"), ("POST", f"/{measure['id']}/edit"),
                           ("POST", f"/{measure['id']}/evidence"), ("GET", f"/{measure['id']}/evidence/{evidence_id}"),
                           ("GET", f"/{measure['id']}/delete"), ("POST", f"/{measure['id']}/delete")]:
        await assert_outsider_gets_nothing(outsider, method, path(world.isp, suffix), secrets,
                                           form(world.version) | {"reason": "x"})
        if suffix.startswith(f"/{measure['id']}"):
            await assert_outsider_gets_nothing(outsider, method, path(world.other, suffix), secrets,
                                               form(world.version) | {"reason": "x"})
    assert "Bllokimi DNS i AlbaNet" not in (await outsider.get(path(world.other))).text
    assert await snapshot() == before


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"title": ""}, "Shkruani një titull për masën."),
        ({"end_date": "2026-01-01"}, "Data e përfundimit nuk mund të jetë para datës së fillimit."),
        ({"commitments": []}, "Zgjidhni të paktën një angazhim"),
        ({"indicator_value": ["shumë", "12", ""]}, "nuk është numër"),
        ({"category": ""}, "Zgjidhni një kategori."),
    ],
)
async def test_bad_measure_input_keeps_what_was_typed(signed, client_factory, storage_root, changes, message):
    world = signed
    officer = await client_factory(world.isp_officer)
    before = await snapshot()
    response = await officer.post(
        path(world.isp, "/new"), form(world.version, description="Përshkrim i shtypur", **changes),
        files={"evidence": ("a.csv", CSV_BYTES, "text/csv")},
    )
    assert response.status_code == 422
    assert message in response.text
    assert "Përshkrim i shtypur" in response.text
    assert 'value="Shkolla të vizituara"' in response.text
    assert await snapshot() == before and stored_objects(storage_root) == []


async def test_a_commitment_of_another_version_is_refused(signed, client_factory):
    world = signed
    newer = await publish(world.regulator, world.reg_admin, "2027.1", copy_current=True)
    officer = await client_factory(world.isp_officer)
    before = await snapshot()
    response = await officer.post(path(world.isp, "/new"), form(newer))
    assert response.status_code == 422
    assert "Zgjidhni angazhime të versionit 2026.1" in response.text
    assert 'value="Fushata në shkolla"' in response.text
    assert await snapshot() == before


async def test_evidence_of_a_disallowed_type_is_refused(signed, client_factory, storage_root):
    world = signed
    officer = await client_factory(world.isp_officer)
    before = await snapshot()
    response = await officer.post(
        path(world.isp, "/new"), form(world.version), files={"evidence": ("raport.pdf", EXE_BYTES, "application/pdf")}
    )
    assert response.status_code == 422
    assert "raport.pdf: Ky lloj skedari nuk pranohet" in response.text
    assert 'value="Fushata në shkolla"' in response.text
    assert await snapshot() == before and stored_objects(storage_root) == []


async def test_evidence_over_the_size_limit_is_refused(signed, client_factory, storage_root, monkeypatch):
    world = signed
    measure = await log(world.isp, world.isp_officer, world.version)
    officer = await client_factory(world.isp_officer)
    monkeypatch.setenv("PORTAL_MAX_UPLOAD_BYTES", str(64 * 1024))
    get_settings.cache_clear()
    before = await snapshot()
    big = PDF_BYTES + b"0" * (65 * 1024)
    response = await officer.post(path(world.isp, f"/{measure['id']}/evidence"), {},
                                  files={"evidence": ("raport-vjetor.pdf", big, "application/pdf")})
    assert response.status_code == 422
    assert "raport-vjetor.pdf" in response.text and "MB" in response.text
    assert await snapshot() == before and stored_objects(storage_root) == []
    response = await officer.post(path(world.isp, "/new"), form(world.version),
                                  files={"evidence": ("raport-vjetor.pdf", big, "application/pdf")})
    assert response.status_code == 422 and 'value="Fushata në shkolla"' in response.text
    assert await snapshot() == before and stored_objects(storage_root) == []


async def test_editing_over_http_keeps_history(signed, client_factory):
    world = signed
    measure = await log(world.isp, world.isp_officer, world.version)
    officer = await client_factory(world.isp_officer)
    edit = await officer.get(path(world.isp, f"/{measure['id']}/edit"))
    assert edit.status_code == 200 and 'value="Bllokimi automatik i listës së URL-ve"' in edit.text
    bad = await officer.post(path(world.isp, f"/{measure['id']}/edit"), form(world.version, start_date="2026-13-01"))
    assert bad.status_code == 422 and "VVVV-MM-DD" in bad.text
    saved = await officer.post(path(world.isp, f"/{measure['id']}/edit"), form(world.version, status="done"))
    assert saved.status_code == 303
    page = await officer.get(path(world.isp, f"/{measure['id']}"))
    assert "Fushata në shkolla" in page.text
    assert world.isp_officer.user["full_name"] in page.text  # who changed it, in the history
    history = (await measures.get_measure(world.isp["id"], measure["id"]))["history"]
    assert [h["action"] for h in history] == ["edited", "created"]
    changed = {c["field"] for c in history[0]["changes"]}
    assert {"title", "category", "status", "start_date", "end_date", "indicators"} <= changed
    start = next(c for c in history[0]["changes"] if c["field"] == "start_date")
    year, month, day = str(start["after"])[:10].split("-")
    assert f"<ins>{day}.{month}.{year}</ins>" in page.text  # dates in the history read as local dates


async def test_adding_and_downloading_evidence_is_audited(signed, client_factory, storage_root):
    world = signed
    measure = await log(world.isp, world.isp_officer, world.version)
    officer = await client_factory(world.isp_officer)
    added = await officer.post(path(world.isp, f"/{measure['id']}/evidence"), {},
                               files={"evidence": ("foto-trajnimi.png", bytes.fromhex("89504e470d0a1a0a") + b"\x00" * 64,
                                                   "image/png")})
    assert added.status_code == 303
    detail = await measures.get_measure(world.isp["id"], measure["id"])
    evidence = detail["evidence"][0]
    assert evidence["filename"] == "foto-trajnimi.png" and detail["history"][0]["action"] == "evidence_added"
    download = await officer.get(path(world.isp, f"/{measure['id']}/evidence/{evidence['id']}"))
    assert download.status_code == 200 and download.content.startswith(bytes.fromhex("89504e47"))
    assert download.headers["content-type"] == "image/png"
    assert "coc.evidence_downloaded" in await audit_actions(world.isp["id"])
    empty = await officer.post(path(world.isp, f"/{measure['id']}/evidence"), {})
    assert empty.status_code == 422 and gettext("Choose a file to upload.") in empty.text


async def test_deleting_over_http_needs_a_reason(signed, client_factory):
    world = signed
    measure = await log(world.isp, world.isp_officer, world.version, title="Masë e regjistruar gabim")
    officer = await client_factory(world.isp_officer)
    assert (await officer.get(path(world.isp, f"/{measure['id']}/delete"))).status_code == 200
    before = await snapshot()
    empty = await officer.post(path(world.isp, f"/{measure['id']}/delete"), {"reason": " "})
    assert empty.status_code == 422 and "Shkruani arsyen e fshirjes së masës." in empty.text
    assert await snapshot() == before
    done = await officer.post(path(world.isp, f"/{measure['id']}/delete"), {"reason": "U regjistrua dy herë"})
    assert done.status_code == 303
    link = f'href="{path(world.isp)}/{measure["id"]}">Masë e regjistruar gabim</a>'
    listing = await officer.get(path(world.isp))
    assert link not in listing.text
    deleted = await officer.get(path(world.isp, "?status=deleted"))
    assert link in deleted.text and "U regjistrua dy herë" in deleted.text
    assert (await officer.get(path(world.isp, f"/{measure['id']}/edit"))).status_code == 409


async def test_list_filters_and_summary(signed, client_factory):
    world = signed
    z2 = next(c for c in world.version["commitments"] if c["code"] == "Z2")
    await log(world.isp, world.isp_officer, world.version, codes=("Z1",), title="Masë e vitit 2025",
              start_date="2025-03-01", end_date="2025-04-01")
    await log(world.isp, world.isp_officer, world.version, codes=("Z2",), title="Masë e vitit 2026",
              start_date="2026-03-01", end_date="2026-04-01", category="reporting_channel")
    viewer = await client_factory(world.isp_viewer)
    page = await viewer.get(path(world.isp))
    assert "Masë e vitit 2025" in page.text and "Masë e vitit 2026" in page.text
    assert f"?commitment={z2['id']}&amp;year=2026" in page.text
    only_2025 = await viewer.get(path(world.isp, "?year=2025"))
    assert "Masë e vitit 2025" in only_2025.text and "Masë e vitit 2026" not in only_2025.text
    by_commitment = await viewer.get(path(world.isp, f"?commitment={z2['id']}"))
    assert "Masë e vitit 2026" in by_commitment.text and "Masë e vitit 2025" not in by_commitment.text
    by_category = await viewer.get(path(world.isp, "?category=reporting_channel"))
    assert "Masë e vitit 2026" in by_category.text and "Masë e vitit 2025" not in by_category.text


async def test_unsigned_organisation_is_sent_to_sign_first(world, client_factory):
    officer = await client_factory(world.isp_officer)
    page = await officer.get(path(world.isp, "/new"))
    assert page.status_code == 200 and "duhet të nënshkruajë Kodin e Sjelljes" in page.text
    assert 'name="title"' not in page.text
    before = await snapshot()
    response = await officer.post(path(world.isp, "/new"), form(world.version))
    assert response.status_code == 422
    assert await snapshot() == before
    assert (await services.signing_state(world.isp["id"])).status == "not_signed"


async def test_typed_text_is_shown_as_text_never_as_markup(signed, client_factory):
    world = signed
    payload = "<script>alert('x')</script>"
    officer = await client_factory(world.isp_officer)
    response = await officer.post(path(world.isp, "/new"), form(
        world.version, title=f"Masë {payload}", description=f"Përshkrim {payload}",
        indicator_name=[f"Tregues {payload}", "", ""], indicator_value=["3", "", ""],
    ))
    assert response.status_code == 303
    page = await officer.get(response.headers["location"])
    listing = await officer.get(path(world.isp))
    for html in (page.text, listing.text):
        assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    admin = await client_factory(world.isp_admin)
    signed_state = await services.signing_state(world.isp["id"])
    withdraw = await admin.post(
        f"/t/{world.isp['slug']}/code-of-conduct/signatures/{signed_state.active['id']}/withdraw", {"reason": payload}
    )
    assert withdraw.status_code == 303
    code_page = await admin.get(f"/t/{world.isp['slug']}/code-of-conduct")
    assert "<script>alert" not in code_page.text and "&lt;script&gt;alert" in code_page.text
