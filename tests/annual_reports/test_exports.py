"""The yearly export: XLSX read back, CSV zip, PDF text, storage, the regulators' API, no-data refusal."""

import io
import zipfile

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from portal import worker
from portal.annual_reports import exports, services
from portal.core.db import execute, system_transaction
from portal.core.errors import ValidationFailed
from portal.tenants.api_keys import create_api_key
from tests.annual_reports.conftest import T0, YEAR, hours, issue, set_times, submitted_report
from tests.code_of_conduct.conftest import actor_of, stored_objects


@pytest.fixture
async def year_with_data(world, hotline):
    report = await submitted_report(world)
    await services.decide(world.akep, report["id"], {"revision": "1", "decision": "accept", "note": "Në rregull."},
                          actor_of(world.akep_officer))
    refs = await issue(hotline, [world.isp["slug"]], 2)
    await set_times(refs[0], world.isp["id"], sent=T0, due=T0 + hours(24), acknowledged=T0 + hours(1), actioned=T0 + hours(6))
    await set_times(refs[1], world.isp["id"], sent=T0, due=T0 + hours(24), acknowledged=T0 + hours(2), actioned=T0 + hours(50))
    return world


async def export_count() -> int:
    async with system_transaction():
        rows = await execute("SELECT COUNT(*) AS n FROM audit_entry WHERE action = 'annual_report.exported'")
    return rows[0]["n"]


async def test_xlsx_has_a_sheet_per_table_with_the_figures(year_with_data, storage_root):
    world = year_with_data
    export = await exports.build(world.akcesk, YEAR, "xlsx", actor_of(world.akcesk_admin))
    book = load_workbook(io.BytesIO(export.data))
    assert book.sheetnames == ["Përmbledhje", "Nënshkruesit", "Raportet vjetore", "Heqje", "Veprimet sipas kategorisë (DSA)",
                               "Masat", "Përshkrimet", "Shqyrtimet"]
    by_category = {row[0]: row for row in book["Veprimet sipas kategorisë (DSA)"].iter_rows(min_row=2, values_only=True)}
    assert by_category["Material i abuzimit seksual me fëmijë"] == (
        "Material i abuzimit seksual me fëmijë", "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
        "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL", 2, 2, 0, 0, 0)  # requested, blocked, removed, disputed, open
    assert by_category["Gjithsej"][3:] == (2, 2, 0, 0, 0)
    takedown = {row[0]: row for row in book["Heqje"].iter_rows(min_row=2, values_only=True)}
    albanet = takedown["AlbaNet sh.p.k."]
    assert albanet[1:4] == (2, 2, 2)  # received, acknowledged, actioned
    assert albanet[5] == 1 and albanet[8] == 28 and albanet[9] == 50 and albanet[10] == 50  # median and p90 hours to action, % on time
    reports = {row[0]: row for row in book["Raportet vjetore"].iter_rows(min_row=2, values_only=True)}
    assert reports["AlbaNet sh.p.k."][1] == "Pranuar" and reports["Shqiponja sh.a."][1] == "Pa dorëzuar"
    narratives = list(book["Përshkrimet"].iter_rows(min_row=2, values_only=True))
    assert ("AlbaNet sh.p.k.", 1, "Z1", "Bllokuam çdo URL të listës brenda ditës.") == narratives[0][:4]
    [review] = list(book["Shqyrtimet"].iter_rows(min_row=2, values_only=True))
    assert review[2] == "Pranuar" and review[3] == world.akep_officer.email and review[6] == "Në rregull."
    assert any(path.name == export.filename for path in stored_objects(storage_root))


async def test_csv_zip_has_one_file_per_table(year_with_data, storage_root):
    export = await exports.build(year_with_data.akcesk, YEAR, "zip", actor_of(year_with_data.akcesk_admin))
    archive = zipfile.ZipFile(io.BytesIO(export.data))
    names = archive.namelist()
    assert len(names) == 8 and all(name.endswith(".csv") for name in names)
    assert "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL,2,2,0,0,0" in archive.read(names[4]).decode("utf-8-sig")
    takedown = archive.read(names[3]).decode("utf-8-sig")
    assert "AlbaNet sh.p.k.,2,2,2" in takedown


async def test_pdf_has_cover_summary_sections_and_albanian_letters(year_with_data, storage_root):
    export = await exports.build(year_with_data.akcesk, YEAR, "pdf", actor_of(year_with_data.akcesk_admin))
    assert export.data.startswith(b"%PDF")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(export.data)).pages)
    assert "Raporti vjetor për zbatimin e Kodit të Sjelljes" in text
    assert "Përmbledhje e shifrave" in text and "AlbaNet sh.p.k." in text and "Shqiponja sh.a." in text
    assert "Bllokuam çdo URL të listës brenda ditës." in text  # ë and ç survive
    assert "Pranuar" in text and year_with_data.akep_officer.email in text
    assert "Veprimet sipas kategorisë (DSA)" in text and "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL" in text
    assert await export_count() == 1


async def test_year_without_data_is_refused_and_nothing_is_stored(world, storage_root):
    before = stored_objects(storage_root)
    with pytest.raises(ValidationFailed) as caught:
        await exports.build(world.akcesk, YEAR - 4, "xlsx", actor_of(world.akcesk_admin))
    assert str(YEAR - 4) in caught.value.errors["year"]
    assert stored_objects(storage_root) == before and await export_count() == 0


async def test_dashboard_export_buttons_queue_a_background_export(year_with_data, client_factory, storage_root):
    world = year_with_data
    regulator = await client_factory(world.akcesk_viewer)
    dashboard = await regulator.get(f"/t/akcesk/annual-report-dashboard?year={YEAR}")
    assert 'action="/t/akcesk/annual-report-exports"' in dashboard.text and 'value="xlsx"' in dashboard.text
    requested = await regulator.post("/t/akcesk/annual-report-exports", {"year": str(YEAR), "file_format": "xlsx"})
    assert requested.status_code == 303 and requested.headers["location"].startswith("/t/akcesk/annual-report-exports")
    isp = await client_factory(world.isp_admin)
    assert (await isp.get(f"/t/albanet/annual-report-dashboard?year={YEAR}")).status_code == 403
    outsider = await isp.get(f"/t/akcesk/annual-report-exports?year={YEAR}")
    assert outsider.status_code == 404 and "kodi-i-sjelljes" not in outsider.text
    empty = await regulator.post("/t/akcesk/annual-report-exports", {"year": str(YEAR - 4), "file_format": "pdf"})
    assert empty.status_code == 422 and "Nuk ka ende të dhëna për vitin" in empty.text


async def test_api_export_for_regulator_keys_only(year_with_data, client, storage_root):
    world = year_with_data
    secret, _row = await create_api_key(world.akcesk, name="Eksport", scopes=["read"], actor=actor_of(world.akcesk_admin))
    isp_secret, _row = await create_api_key(world.isp, name="ISP", scopes=["read"], actor=actor_of(world.isp_admin))
    auth = {"Authorization": f"Bearer {secret}"}
    for file_format in ("xlsx", "zip", "pdf"):
        queued = await client.get(f"/api/v1/annual-reports/{YEAR}/export.{file_format}", headers=auth)
        assert queued.status_code == 202
    assert await worker.run_exports() + await worker.run_exports() + await worker.run_exports() == 3
    for file_format, magic in (("xlsx", b"PK"), ("zip", b"PK"), ("pdf", b"%PDF")):
        response = await client.get(f"/api/v1/annual-reports/{YEAR}/export.{file_format}", headers=auth)
        assert response.status_code == 200 and response.content.startswith(magic)
    refused = await client.get(f"/api/v1/annual-reports/{YEAR}/export.xlsx", headers={"Authorization": f"Bearer {isp_secret}"})
    assert refused.status_code == 403 and b"PK" not in refused.content[:2]
    assert (await client.get(f"/api/v1/annual-reports/{YEAR}/export.xlsx")).status_code == 401
    empty = await client.get(f"/api/v1/annual-reports/{YEAR - 4}/export.xlsx", headers=auth)
    assert empty.status_code == 422
    assert (await client.get(f"/api/v1/annual-reports/{YEAR}/export.docx", headers=auth)).status_code == 404
