"""HTTP: the regulators' registry with exports, and every signatory's measures with evidence."""

import csv
import io

import pytest
from openpyxl import load_workbook

from portal.code_of_conduct import measures, services
from portal.code_of_conduct.files import Upload
from portal.code_of_conduct.labels import label
from portal.code_of_conduct.services import RegistryFilters
from portal.core.i18n import gettext
from tests.code_of_conduct.conftest import CSV_BYTES, PDF_BYTES, actor_of, audit_actions, log, publish, sign, snapshot
from tests.isolation import assert_outsider_gets_nothing


def registry(tenant: dict, suffix: str = "") -> str:
    return f"/t/{tenant['slug']}/code-registry{suffix}"


def oversight(tenant: dict, suffix: str = "") -> str:
    return f"/t/{tenant['slug']}/signatory-measures{suffix}"


@pytest.fixture
async def populated(world, factory):
    """AlbaNet signed and logged measures (one deleted); Shqiponja signed 2026.1 then a newer version came out."""
    await sign(world.isp, world.isp_admin, world.version, pdf=Upload("kodi-albanet.pdf", PDF_BYTES))
    await sign(world.other, world.other_admin, world.version, name="=HYPERLINK(\"http://x\")")
    kept = await log(world.isp, world.isp_officer, world.version, title="Bllokimi DNS",
                     evidence=[Upload("raport-bllokimi.csv", CSV_BYTES)])
    gone = await log(world.isp, world.isp_officer, world.version, codes=("Z3",), title="Paketa familjare e sigurt",
                     category="parental_controls", start_date="2025-01-10", end_date="2025-02-10")
    await measures.delete_measure(world.isp, gone["id"], "E regjistruar dy herë", actor_of(world.isp_officer))
    newer = await publish(world.regulator, world.reg_admin, "2027.1", copy_current=True)
    await sign(world.isp, world.isp_admin, newer)
    return {"kept": kept, "gone": gone, "newer": newer}


async def test_registry_page_and_filters(world, populated, client_factory):
    viewer = await client_factory(world.reg_viewer)
    page = await viewer.get(registry(world.regulator))
    assert page.status_code == 200
    assert "AlbaNet Test sh.p.k." in page.text and "Shqiponja Test sh.a." in page.text
    assert label("signing_status", "signed_current") in page.text
    assert label("signing_status", "signed_old_version") in page.text
    old = await viewer.get(registry(world.regulator, "?status=signed_old_version"))
    assert "Shqiponja Test sh.a." in old.text and "AlbaNet Test sh.p.k." not in old.text
    by_version = await viewer.get(registry(world.regulator, f"?version={populated['newer']['id']}"))
    assert "AlbaNet Test sh.p.k." in by_version.text and "Shqiponja Test sh.a." not in by_version.text
    ngos = await viewer.get(registry(world.regulator, "?kind=ngo"))
    assert "AlbaNet Test sh.p.k." not in ngos.text


async def test_csv_export_opens_with_the_csv_module(world, populated, client_factory):
    viewer = await client_factory(world.reg_viewer)
    response = await viewer.get(registry(world.regulator, "/export.csv"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header[0] == gettext("Organisation") and len(header) == 12
    by_name = {row[0]: dict(zip(header, row)) for row in body}
    albanet = by_name["AlbaNet Test sh.p.k."]
    assert albanet[gettext("Version")] == "2027.1"
    assert albanet[gettext("Fingerprint (SHA-256)")] == populated["newer"]["content_hash"]
    assert albanet[gettext("Measures logged")] == "1"
    # A name that a spreadsheet would run as a formula is neutralised.
    assert by_name["Shqiponja Test sh.a."][gettext("Signatory")].startswith("'=")
    only_old = await viewer.get(registry(world.regulator, "/export.csv?status=signed_old_version"))
    names = [row[0] for row in csv.reader(io.StringIO(only_old.content.decode("utf-8-sig")))][1:]
    assert names == ["Shqiponja Test sh.a."]
    assert await audit_actions(world.regulator["id"], "coc.registry_exported") == ["coc.registry_exported"] * 2


async def test_xlsx_export_opens_with_openpyxl(world, populated, client_factory):
    viewer = await client_factory(world.reg_viewer)
    response = await viewer.get(registry(world.regulator, "/export.xlsx"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    by_name = {row[0]: dict(zip(header, row)) for row in rows[1:]}
    assert set(by_name) == {"AlbaNet Test sh.p.k.", "Shqiponja Test sh.a."}
    assert by_name["AlbaNet Test sh.p.k."][gettext("Fingerprint (SHA-256)")] == populated["newer"]["content_hash"]
    assert by_name["AlbaNet Test sh.p.k."][gettext("Signed on")].year >= 2026  # a real date cell, not text
    assert by_name["Shqiponja Test sh.a."][gettext("Signatory")].startswith("'=")
    assert by_name["Shqiponja Test sh.a."][gettext("Status")] == label("signing_status", "signed_old_version")


async def test_registry_routes_three_way_access(world, populated, client_factory):
    signature = (await services.signature_history(world.isp["id"]))[-1]  # the one with the paper copy
    routes = ["", "/export.csv", "/export.xlsx", f"/organisations/{world.isp['id']}",
              f"/signatures/{signature['id']}/signed-copy"]
    viewer = await client_factory(world.reg_viewer)
    for suffix in routes:
        assert (await viewer.get(registry(world.regulator, suffix))).status_code == 200, suffix
    isp_admin = await client_factory(world.isp_admin)
    for suffix in routes:
        # An ISP has no registry, not even under its own address ...
        assert (await isp_admin.get(registry(world.isp, suffix))).status_code == 403, suffix
        # ... and the regulator's address does not exist for it.
        await assert_outsider_gets_nothing(isp_admin, "GET", registry(world.regulator, suffix),
                                           ["Shqiponja Test", "HYPERLINK", "%PDF"])


async def test_registry_organisation_page_and_signed_copy(world, populated, client_factory):
    viewer = await client_factory(world.reg_viewer)
    page = await viewer.get(registry(world.regulator, f"/organisations/{world.isp['id']}"))
    assert "2026.1" in page.text and "2027.1" in page.text and "kodi-albanet.pdf" in page.text
    assert (await viewer.get(registry(world.regulator, "/organisations/999999"))).status_code == 404
    signature = (await services.signature_history(world.isp["id"]))[-1]
    download = await viewer.get(registry(world.regulator, f"/signatures/{signature['id']}/signed-copy"))
    assert download.status_code == 200 and download.content == PDF_BYTES
    assert "coc.signed_pdf_downloaded" in await audit_actions(world.regulator["id"])
    no_copy = (await services.signature_history(world.other["id"]))[0]
    assert (await viewer.get(registry(world.regulator, f"/signatures/{no_copy['id']}/signed-copy"))).status_code == 404


async def test_regulators_see_every_signatorys_measures_including_deleted(world, populated, client_factory):
    viewer = await client_factory(world.reg_viewer)
    page = await viewer.get(oversight(world.regulator))
    assert page.status_code == 200
    assert "Bllokimi DNS" in page.text and "Paketa familjare e sigurt" in page.text
    assert "E regjistruar dy herë" in page.text
    only_deleted = await viewer.get(oversight(world.regulator, "?status=deleted"))
    assert "Paketa familjare e sigurt" in only_deleted.text and "Bllokimi DNS" not in only_deleted.text
    by_code = await viewer.get(oversight(world.regulator, "?commitment=Z3"))
    assert "Paketa familjare e sigurt" in by_code.text and "Bllokimi DNS" not in by_code.text
    by_year = await viewer.get(oversight(world.regulator, "?year=2025"))
    assert "Paketa familjare e sigurt" in by_year.text and "Bllokimi DNS" not in by_year.text
    by_category = await viewer.get(oversight(world.regulator, "?category=filtering"))
    assert "Bllokimi DNS" in by_category.text and "Paketa familjare e sigurt" not in by_category.text
    by_org = await viewer.get(oversight(world.regulator, f"?tenant={world.other['id']}"))
    assert "Bllokimi DNS" not in by_org.text
    detail = await viewer.get(oversight(world.regulator, f"/{populated['gone']['id']}"))
    assert detail.status_code == 200 and "E regjistruar dy herë" in detail.text
    assert f"/code-measures/{populated['gone']['id']}/edit" not in detail.text  # read-only for regulators


async def test_regulator_evidence_download_is_audited_and_checked(world, populated, client_factory):
    kept = await measures.get_measure(world.isp["id"], populated["kept"]["id"])
    evidence = kept["evidence"][0]
    path = oversight(world.regulator, f"/{kept['id']}/evidence/{evidence['id']}")
    viewer = await client_factory(world.reg_viewer)
    before = await snapshot()
    response = await viewer.get(path)
    assert response.status_code == 200 and response.content == CSV_BYTES
    assert response.headers["content-type"].startswith("text/csv")
    after = await snapshot()
    new_entries = after["audit_entry"][len(before["audit_entry"]):]
    assert [(e["action"], e["tenant_id"], e["actor_user_id"]) for e in new_entries] == [
        ("coc.evidence_downloaded", world.regulator["id"], world.reg_viewer.user["id"])
    ]
    # An evidence id of another measure is not found.
    other = await log(world.isp, world.isp_officer, populated["newer"], title="Tjetër")
    assert (await viewer.get(oversight(world.regulator, f"/{other['id']}/evidence/{evidence['id']}"))).status_code == 404
    isp_admin = await client_factory(world.isp_admin)
    for suffix in ("", f"/{kept['id']}", f"/{kept['id']}/evidence/{evidence['id']}"):
        assert (await isp_admin.get(oversight(world.isp, suffix))).status_code == 403
        await assert_outsider_gets_nothing(isp_admin, "GET", oversight(world.regulator, suffix), ["muaji,url"])


async def test_registry_counts_follow_the_filters(world, populated):
    assert {r["organisation"]: r["measures"] for r in await services.registry(RegistryFilters())} == {
        "AlbaNet Test sh.p.k.": 1, "Shqiponja Test sh.a.": 0,
    }
