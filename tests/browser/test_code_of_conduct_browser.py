"""An ISP administrator signs the Code of Conduct and logs a measure with an evidence file, in headless Chromium."""

import pytest

from portal.code_of_conduct import measures, services
from tests.browser.conftest import save_screenshot, sign_in
from tests.code_of_conduct.conftest import PDF_BYTES, publish

pytestmark = pytest.mark.browser

EVIDENCE = "muaji,url_te_bllokuara\n2026-02,512\n2026-03,731\n"


async def test_isp_admin_signs_the_code_and_logs_a_measure_with_evidence(
    factory, live_server, browser_page, screenshot_dir, tmp_path
):
    regulator = await factory.tenant("regulator", slug="akcesk-b", name="AKCESK")
    version = await publish(regulator, await factory.member(regulator, "admin"), "2026.1")
    isp = await factory.tenant("isp", slug="albanet-coc", name="AlbaNet Fiber sh.p.k.")
    admin = await factory.member(isp, "admin", email="arta.leka@albanet.test")
    signed_copy = tmp_path / "kodi-i-nenshkruar.pdf"
    signed_copy.write_bytes(PDF_BYTES)
    evidence = tmp_path / "raport-bllokimi-2026.csv"
    evidence.write_text(EVIDENCE, encoding="utf-8")
    page = browser_page

    await sign_in(page, live_server, admin.email, admin.password)
    await page.goto(f"{live_server}/t/albanet-coc/code-of-conduct")
    assert "Pa nënshkruar" in await page.content()
    await page.click("a[href='/t/albanet-coc/code-of-conduct/sign']")
    await page.wait_for_load_state("networkidle")
    assert version["content_hash"] in await page.locator("[data-testid=fingerprint]").inner_text()
    await page.fill("#f-signatory_name", "Arta Leka")
    await page.fill("#f-signatory_title", "Drejtore Ekzekutive")
    await page.check("input[name=confirm]")
    await page.set_input_files("#f-signed_pdf", str(signed_copy))
    await save_screenshot(page, screenshot_dir, "code-of-conduct-1-sign-form")
    await page.click("form[action$='/sign'] button[type=submit]")
    await page.wait_for_load_state("networkidle")
    assert page.url.endswith("/t/albanet-coc/code-of-conduct")
    content = await page.content()
    assert "Organizata juaj e nënshkroi Kodin e Sjelljes" in content
    assert "kodi-i-nenshkruar.pdf" in content and "Arta Leka" in content
    await save_screenshot(page, screenshot_dir, "code-of-conduct-2-signed")
    state = await services.signing_state(isp["id"])
    assert state.status == "signed_current" and state.active["signed_hash"] == version["content_hash"]

    await page.goto(f"{live_server}/t/albanet-coc/code-measures/new")
    await page.fill("#f-title", "Bllokimi automatik i listës së URL-ve")
    await page.fill("#f-description", "Lista e bllokimit zbatohet çdo orë në serverat DNS.")
    await page.select_option("#f-category", "filtering")
    await page.select_option("#f-status", "done")
    await page.fill("#f-start_date", "2026-02-10")
    await page.fill("#f-end_date", "2026-03-31")
    z1 = next(c for c in version["commitments"] if c["code"] == "Z1")
    await page.check(f"#c-{z1['id']}")
    await page.locator("input[name=indicator_name]").nth(0).fill("URL të listuara të bllokuara")
    await page.locator("input[name=indicator_value]").nth(0).fill("1243")
    await page.set_input_files("#f-evidence", str(evidence))
    await save_screenshot(page, screenshot_dir, "code-of-conduct-3-measure-form")
    await page.click("form[action$='/new'] button[type=submit]")
    await page.wait_for_load_state("networkidle")
    assert await page.locator("h1").inner_text() == "Bllokimi automatik i listës së URL-ve"
    content = await page.content()
    assert "raport-bllokimi-2026.csv" in content and "1&nbsp;243" in content  # Albanian digit grouping
    await save_screenshot(page, screenshot_dir, "code-of-conduct-4-measure")

    # The evidence comes back through the portal, byte for byte.
    async with page.expect_download() as download_info:
        await page.click("text=raport-bllokimi-2026.csv")
    download = await download_info.value
    assert (await download.path()).read_text(encoding="utf-8") == EVIDENCE
    rows = await measures.tenant_measures(isp["id"], measures.MeasureFilters())
    assert [r["title"] for r in rows] == ["Bllokimi automatik i listës së URL-ve"]
    assert [c["code"] for c in rows[0]["commitments"]] == ["Z1"]
