"""Files attached to commitment sections: upload, checks, the snapshot, frozen revisions, carry-over, access."""

import hashlib

import pytest

from portal.annual_reports import services
from portal.core.db import execute, system_transaction
from portal.core.errors import Conflict
from tests.annual_reports.conftest import NARRATIVE, YEAR
from tests.code_of_conduct.conftest import EXE_BYTES, PDF_BYTES, actor_of, stored_objects
from tests.isolation import assert_outsider_gets_nothing

BASE = "/t/albanet/annual-reports"
CSV_BYTES = "muaji,url\njanar,1243\n".encode()


async def attachment_rows() -> list[dict]:
    async with system_transaction():
        return await execute("SELECT * FROM annual_report_attachment ORDER BY id")


@pytest.fixture
async def draft_with_file(world, client_factory, storage_root):
    officer = await client_factory(world.isp_officer)
    saved = await officer.post(f"{BASE}/{YEAR}", NARRATIVE, files=[
        ("Z1__attachments", ("plani-i-bllokimit.pdf", PDF_BYTES, "application/pdf")),
        ("Z1__attachments", ("shifrat.csv", CSV_BYTES, "text/csv")),
    ])
    assert saved.status_code == 303
    return officer


async def test_upload_lists_and_downloads_the_files(world, draft_with_file, client_factory, storage_root):
    viewer = await client_factory(world.isp_viewer)
    report = await services.organisation_report(world.isp["id"], YEAR)
    files = report["current"]["attachments"]["Z1"]
    assert [f["filename"] for f in files] == ["plani-i-bllokimit.pdf", "shifrat.csv"]
    page = await viewer.get(f"{BASE}/{YEAR}")
    assert "plani-i-bllokimit.pdf" in page.text and f'href="{BASE}/{YEAR}/attachments/{files[0]["id"]}"' in page.text
    download = await viewer.get(f"{BASE}/{YEAR}/attachments/{files[0]['id']}")
    assert download.status_code == 200 and download.content == PDF_BYTES
    assert download.headers["content-security-policy"] == "sandbox"
    assert len(stored_objects(storage_root)) == 2
    async with system_transaction():
        audited = await execute("SELECT action FROM audit_entry WHERE tenant_id = {} AND action LIKE 'annual_report.%'"
                                " ORDER BY id", world.isp["id"])
    assert [a["action"] for a in audited] == ["annual_report.started", "annual_report.attachment_downloaded"]


async def test_a_file_of_the_wrong_kind_is_refused_and_the_form_kept(world, client_factory, storage_root):
    officer = await client_factory(world.isp_officer)
    refused = await officer.post(f"{BASE}/{YEAR}", NARRATIVE, files=[
        ("Z2__attachments", ("raporti.pdf", EXE_BYTES, "application/pdf")),
        ("Z1__attachments", ("plani.pdf", PDF_BYTES, "application/pdf")),
    ])
    assert refused.status_code == 422
    assert "raporti.pdf: Ky lloj skedari nuk pranohet." in refused.text
    assert NARRATIVE["Z1__done"] in refused.text  # what was typed stays
    assert stored_objects(storage_root) == [] and await attachment_rows() == []
    assert await services.organisation_report(world.isp["id"], YEAR) is None


async def test_snapshot_lists_the_files_and_they_stay_after_submission(world, draft_with_file, client_factory,
                                                                        storage_root):
    admin = await client_factory(world.isp_admin)
    assert (await admin.post(f"{BASE}/{YEAR}/submit", {"revision": "1"})).status_code == 303
    report = await services.organisation_report(world.isp["id"], YEAR)
    snapshot = report["current"]["snapshot"]
    assert snapshot["attachments"] == {"Z1": [
        {"name": "plani-i-bllokimit.pdf", "size": len(PDF_BYTES), "sha256": hashlib.sha256(PDF_BYTES).hexdigest(),
         "content_type": "application/pdf"},
        {"name": "shifrat.csv", "size": len(CSV_BYTES), "sha256": hashlib.sha256(CSV_BYTES).hexdigest(),
         "content_type": "text/csv"},
    ]}
    assert report["current"]["content_hash"] == services.content_hash(snapshot)
    pdf = report["current"]["attachments"]["Z1"][0]
    # frozen: the remove route refuses and the service too; the file is still there
    removed = await admin.post(f"{BASE}/{YEAR}/attachments/{pdf['id']}/remove", {}, follow_redirects=True)
    assert "nuk mund të hiqet" in removed.text
    with pytest.raises(Conflict):
        await services.remove_attachment(world.isp, YEAR, pdf["id"], actor_of(world.isp_admin))
    assert len(await attachment_rows()) == 2 and len(stored_objects(storage_root)) == 2
    assert "Hiq" not in (await admin.get(f"{BASE}/{YEAR}")).text.split("plani-i-bllokimit.pdf")[1][:300]


async def test_a_new_revision_carries_the_files_over(world, draft_with_file, client_factory, storage_root):
    report = await services.submit(world.isp, YEAR, 1, actor_of(world.isp_admin))
    await services.decide(world.akcesk, report["id"], {"revision": "1", "decision": "return", "note": "Shtoni Z2."},
                          actor_of(world.akcesk_admin))
    officer = draft_with_file
    assert (await officer.post(f"{BASE}/{YEAR}", NARRATIVE)).status_code == 303
    report = await services.organisation_report(world.isp["id"], YEAR)
    first, second = services.revision_of(report, 1), services.revision_of(report, 2)
    assert [f["sha256"] for f in second["attachments"]["Z1"]] == [f["sha256"] for f in first["attachments"]["Z1"]]
    carried = second["attachments"]["Z1"][0]
    assert carried["id"] != first["attachments"]["Z1"][0]["id"] and carried["file"] == first["attachments"]["Z1"][0]["file"]
    # the draft's copy can go; revision 1 keeps its file, readable by the ISP and by regulators
    removed = await officer.post(f"{BASE}/{YEAR}/attachments/{carried['id']}/remove", {})
    assert removed.status_code == 303
    report = await services.organisation_report(world.isp["id"], YEAR)
    assert [f["filename"] for f in report["current"]["attachments"]["Z1"]] == ["shifrat.csv"]
    assert len(stored_objects(storage_root)) == 2
    old = first["attachments"]["Z1"][0]
    assert (await officer.get(f"{BASE}/{YEAR}/attachments/{old['id']}")).content == PDF_BYTES
    regulator = await client_factory(world.akep_officer)
    assert (await regulator.get(f"/t/akep/annual-report-reviews/{report['id']}/attachments/{old['id']}")).content == PDF_BYTES
    # a file only the draft had is deleted with it
    assert (await officer.post(f"{BASE}/{YEAR}", NARRATIVE, files=[
        ("Z3__attachments", ("shenime.txt", b"Vetem ne draft.\n", "text/plain"))])).status_code == 303
    report = await services.organisation_report(world.isp["id"], YEAR)
    draft_only = report["current"]["attachments"]["Z3"][0]
    assert len(stored_objects(storage_root)) == 3
    await officer.post(f"{BASE}/{YEAR}/attachments/{draft_only['id']}/remove", {})
    assert len(stored_objects(storage_root)) == 2


async def test_downloads_are_checked_per_organisation(world, draft_with_file, client_factory, storage_root):
    report = await services.organisation_report(world.isp["id"], YEAR)
    pdf = report["current"]["attachments"]["Z1"][0]
    regulator = await client_factory(world.akcesk_viewer)
    review_url = f"/t/akcesk/annual-report-reviews/{report['id']}/attachments/{pdf['id']}"
    # a draft's files are the organisation's own until it submits
    assert (await regulator.get(review_url)).status_code == 404
    await services.submit(world.isp, YEAR, 1, actor_of(world.isp_admin))
    review_page = await regulator.get(f"/t/akcesk/annual-report-reviews/{report['id']}")
    assert review_url in review_page.text
    assert (await regulator.get(review_url)).content == PDF_BYTES
    other = await client_factory(world.other_admin)
    await assert_outsider_gets_nothing(other, "GET", f"{BASE}/{YEAR}/attachments/{pdf['id']}", ["%PDF"])
    own_slug = await other.get(f"/t/shqiponja/annual-reports/{YEAR}/attachments/{pdf['id']}")
    assert own_slug.status_code == 404 and not own_slug.content.startswith(b"%PDF")
    assert (await other.get(f"/t/shqiponja/annual-report-reviews/{report['id']}/attachments/{pdf['id']}")).status_code == 403
    ngo = await client_factory(world.ngo_admin)
    assert (await ngo.get(f"/t/ngo-x/annual-reports/{YEAR}/attachments/{pdf['id']}")).status_code == 403
    async with system_transaction():
        [entry] = await execute("SELECT detail FROM audit_entry WHERE tenant_id = {}"
                                " AND action = 'annual_report.attachment_downloaded'", world.akcesk["id"])
    assert str(world.isp["id"]) in str(entry["detail"])
