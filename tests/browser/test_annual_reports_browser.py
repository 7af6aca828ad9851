"""An ISP files its annual report; AKCESK returns it with a comment, the ISP resubmits, AKEP accepts (headless Chromium)."""

import pytest

from portal import worker
from portal.annual_reports import services
from tests.annual_reports.conftest import YEAR
from tests.browser.conftest import save_screenshot, sign_in
from tests.code_of_conduct.conftest import publish, sign

pytestmark = pytest.mark.browser


async def switch_user(page, base_url: str, member) -> None:
    await page.context.clear_cookies()
    await sign_in(page, base_url, member.email, member.password)


async def test_submit_return_resubmit_accept(factory, live_server, browser_page, screenshot_dir):
    akcesk = await factory.tenant("regulator", slug="akcesk-ar", name="AKCESK")
    akep = await factory.tenant("regulator", slug="akep-ar", name="AKEP")
    akcesk_admin = await factory.member(akcesk, "admin", email="reviewer@akcesk-ar.test")
    akep_admin = await factory.member(akep, "admin", email="reviewer@akep-ar.test")
    version = await publish(akcesk, akcesk_admin, "2026.1")
    isp = await factory.tenant("isp", slug="albanet-ar", name="AlbaNet Fiber sh.p.k.", contact_point_name="Klajdi Dervishi")
    isp_admin = await factory.member(isp, "admin", email="arta.leka@albanet-ar.test")
    await sign(isp, isp_admin, version)
    page = browser_page
    report_url = f"{live_server}/t/albanet-ar/annual-reports/{YEAR}"

    await sign_in(page, live_server, isp_admin.email, isp_admin.password)
    await page.goto(report_url)
    assert "Klajdi Dervishi" in await page.content()
    for code, text in (("Z1", "Bllokuam çdo URL brenda ditës."), ("Z2", "Hapëm formën e raportimit."),
                       ("Z3", "Kontroll prindëror falas.")):
        await page.fill(f"#f-{code}__done", text)
    await page.click(f"form[action='/t/albanet-ar/annual-reports/{YEAR}'] button[type=submit]")
    await page.wait_for_load_state("networkidle")
    await save_screenshot(page, screenshot_dir, "annual-report-1-draft")
    await page.click(f"form[action='/t/albanet-ar/annual-reports/{YEAR}/submit'] button[type=submit]")
    await page.wait_for_load_state("networkidle")
    assert "Rishikimi 1 i raportit u dorëzua." in await page.content()
    await save_screenshot(page, screenshot_dir, "annual-report-2-submitted")
    report = await services.organisation_report(isp["id"], YEAR)

    await switch_user(page, live_server, akcesk_admin)
    await page.goto(f"{live_server}/t/akcesk-ar/annual-report-reviews?year={YEAR}")
    await page.click(f"a[href='/t/akcesk-ar/annual-report-reviews/{report['id']}']")
    await page.wait_for_load_state("networkidle")
    await page.fill("#f-comment__Z2", "Ku ndodhet forma? Jepni adresën.")
    await page.select_option("#f-decision", "return")
    await page.fill("#f-note", "Plotësoni Z2.")
    await save_screenshot(page, screenshot_dir, "annual-report-3-review")
    await page.click(f"form[action='/t/akcesk-ar/annual-report-reviews/{report['id']}/decision'] button[type=submit]")
    await page.wait_for_load_state("networkidle")
    assert "Raporti u kthye për ndryshime." in await page.content()

    await switch_user(page, live_server, isp_admin)
    await page.goto(report_url)
    content = await page.content()
    assert "Ku ndodhet forma? Jepni adresën." in content and "reviewer@akcesk-ar.test" in content
    await save_screenshot(page, screenshot_dir, "annual-report-4-returned")
    await page.fill("#f-Z2__done", "Hapëm formën e raportimit në albanet.al/raporto.")
    await page.click(f"form[action='/t/albanet-ar/annual-reports/{YEAR}'] button[type=submit]")
    await page.wait_for_load_state("networkidle")
    await page.click(f"form[action='/t/albanet-ar/annual-reports/{YEAR}/submit'] button[type=submit]")
    await page.wait_for_load_state("networkidle")
    assert "Rishikimi 2 i raportit u dorëzua." in await page.content()

    await switch_user(page, live_server, akep_admin)
    await page.goto(f"{live_server}/t/akep-ar/annual-report-reviews/{report['id']}")
    await page.select_option("#f-decision", "accept")
    await page.click(f"form[action='/t/akep-ar/annual-report-reviews/{report['id']}/decision'] button[type=submit]")
    await page.wait_for_load_state("networkidle")
    content = await page.content()
    assert "Raporti u pranua." in content and "reviewer@akep-ar.test" in content and "reviewer@akcesk-ar.test" in content
    await save_screenshot(page, screenshot_dir, "annual-report-5-accepted")
    await page.goto(f"{live_server}/t/akep-ar/annual-report-dashboard?year={YEAR}")
    await save_screenshot(page, screenshot_dir, "annual-report-6-dashboard")

    # a background export: requested on the page, built by the worker, the link appears by htmx polling
    await page.goto(f"{live_server}/t/akep-ar/annual-report-exports?year={YEAR}")
    await page.select_option("#f-file_format", "xlsx")
    await page.click("form[action='/t/akep-ar/annual-report-exports'] button[type=submit]")
    await page.wait_for_load_state("networkidle")
    assert "Eksporti po përgatitet." in await page.content()
    await page.wait_for_selector("progress", state="attached")
    assert await worker.run_exports() == 1
    link = await page.wait_for_selector("a[href$='/download']", timeout=15000)
    await save_screenshot(page, screenshot_dir, "annual-report-7-export")
    async with page.expect_download() as download_info:
        await link.click()
    download = await download_info.value
    assert download.suggested_filename == f"kodi-i-sjelljes-raporti-vjetor-{YEAR}.xlsx"
    final = await services.organisation_report(isp["id"], YEAR)
    assert (final["status"], final["revision"]) == ("accepted", 2)
    assert services.revision_of(final, 1)["snapshot"]["narratives"]["Z2"]["done"] == "Hapëm formën e raportimit."
