"""From a public report to an ISP's action, in headless Chromium, with screenshots of each step."""

import pytest

from portal.core.db import execute, system_transaction
from tests.browser.conftest import save_screenshot, sign_in

pytestmark = pytest.mark.browser

REPORTED = "HTTP://Faqe-E-Keqe.example.AL:80/galeria/../foto?id=7#top"
NORMALISED = "http://faqe-e-keqe.example.al/foto?id=7"
DEFANGED = "hxxp://faqe-e-keqe[.]example[.]al/foto?id=7"


async def test_public_report_to_isp_action(factory, live_server, chromium, screenshot_dir):
    hotline = await factory.tenant("ngo", slug="linja-b", name="Linja Kombëtare e Raportimit", is_hotline=True)
    analyst = await factory.member(hotline, "analyst", email="analiste@linja.test")
    isp = await factory.tenant("isp", slug="albanet-b", name="AlbaNet Fiber sh.p.k.")
    officer = await factory.member(isp, "officer", email="noc@albanet.test")

    # 1. Anyone reports the page, without signing in.
    public = await (await chromium.new_context(viewport={"width": 1280, "height": 860})).new_page()
    await public.goto(f"{live_server}/report")
    await public.fill("#f-url", REPORTED)
    await public.select_option("#f-category", "csam")
    await public.fill("#f-description", "Fotografi të një fëmije")
    await save_screenshot(public, screenshot_dir, "takedown-1-public-report")
    await public.click("form[action='/report'] button[type=submit]")
    await public.wait_for_load_state("networkidle")
    receipt = (await public.locator("#receipt").inner_text()).strip()
    assert receipt.startswith("R-")
    await save_screenshot(public, screenshot_dir, "takedown-2-receipt")

    # 2. The hotline analyst sees it in the queue, defanged, and issues a blocking request.
    page = await (await chromium.new_context(viewport={"width": 1280, "height": 860})).new_page()
    await sign_in(page, live_server, analyst.email, analyst.password)
    await page.goto(f"{live_server}/t/linja-b/takedown/reports")
    content = await page.content()
    assert DEFANGED in content and f'href="{NORMALISED}' not in content
    assert await page.locator("button[data-copy-url]").first.get_attribute("data-copy-url") == NORMALISED
    await save_screenshot(page, screenshot_dir, "takedown-3-queue")
    await page.click("table a[href^='/t/linja-b/takedown/reports/']")
    await page.wait_for_load_state("networkidle")
    assert receipt in await page.content()
    await page.click("a[href^='/t/linja-b/takedown/requests/new?item=']")
    await page.wait_for_load_state("networkidle")
    await page.check("input[name=recipient][value='albanet-b']")
    await page.fill("#f-legal_basis", "Ligji nr. 9918/2008, neni 12; vendim i AKEP")
    await save_screenshot(page, screenshot_dir, "takedown-4-request-form")
    await page.click("form[action$='/requests/new'] button[type=submit]")
    await page.wait_for_load_state("networkidle")
    reference = page.url.rsplit("/", 1)[1]
    assert reference.startswith("TD-")
    await save_screenshot(page, screenshot_dir, "takedown-5-request-sent")

    # 3. The ISP's officer finds it in the inbox and marks it blocked.
    isp_page = await (await chromium.new_context(viewport={"width": 1280, "height": 860})).new_page()
    await sign_in(isp_page, live_server, officer.email, officer.password)
    await isp_page.goto(f"{live_server}/t/albanet-b/takedown/inbox")
    assert reference in await isp_page.content()
    await save_screenshot(isp_page, screenshot_dir, "takedown-6-isp-inbox")
    await isp_page.click(f"a[href='/t/albanet-b/takedown/inbox/{reference}']")
    await isp_page.wait_for_load_state("networkidle")
    content = await isp_page.content()
    assert DEFANGED in content and "Fotografi" not in content and receipt not in content
    await isp_page.fill("form[action$='/action'] #f-note", "Bllokuar në DNS (RPZ)")
    await isp_page.click("form[action$='/action'] button[type=submit]")
    await isp_page.wait_for_load_state("networkidle")
    await save_screenshot(isp_page, screenshot_dir, "takedown-7-isp-actioned")
    async with system_transaction():
        row = (await execute("SELECT status, outcome, acknowledged_at FROM takedown_assignment"))[0]
    assert row["status"] == "actioned" and row["outcome"] == "blocked" and row["acknowledged_at"] is not None

    # 4. The analyst sees the outcome on the request's timeline.
    await page.reload()
    content = await page.content()
    assert "Bllokuar në DNS (RPZ)" in content
    await save_screenshot(page, screenshot_dir, "takedown-8-issuer-sees-action")

    # 5. The figures of the year, per category beside the DSA's, count the block as one action.
    await page.click("nav a[href='/t/linja-b/takedown/figures']")
    await page.wait_for_load_state("networkidle")
    row = page.locator("tr", has_text="KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL")
    assert await row.locator("td").all_inner_texts() == ["1", "1", "1", "0", "0", "0"]
    await save_screenshot(page, screenshot_dir, "takedown-9-figures-by-category")
