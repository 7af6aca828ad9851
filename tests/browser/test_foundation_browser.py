"""A person signs in, switches language and organisation, in headless Chromium."""

import pytest

from tests.browser.conftest import save_screenshot, sign_in

pytestmark = pytest.mark.browser


async def test_sign_in_switch_language_and_tenant(factory, live_server, browser_page, screenshot_dir):
    isp = await factory.tenant("isp", slug="albanet-b", name="AlbaNet Fiber sh.p.k.", nipt="L11234561E")
    ngo = await factory.tenant("ngo", slug="femijet-b", name="Fondacioni Fëmijët Online")
    admin = await factory.member(isp, "admin", email="drita@albanet.test")
    await factory.member(ngo, "officer", email="drita@albanet.test")
    page = browser_page

    await sign_in(page, live_server, admin.email, admin.password)
    assert page.url.endswith("/t/albanet-b/")
    assert await page.locator("h1").inner_text() == "AlbaNet Fiber sh.p.k."
    assert await page.locator("html").get_attribute("lang") == "sq"
    assert "Anëtarë aktivë" in await page.content()
    await save_screenshot(page, screenshot_dir, "foundation-1-overview-sq")

    await page.click(".lang-switch button[value=en]")
    await page.wait_for_load_state("networkidle")
    assert await page.locator("html").get_attribute("lang") == "en"
    assert "Active members" in await page.content()
    await save_screenshot(page, screenshot_dir, "foundation-2-overview-en")

    await page.click("summary[aria-label='Switch organisation']")
    await page.click("a[href='/t/femijet-b/']")
    await page.wait_for_load_state("networkidle")
    assert await page.locator("h1").inner_text() == "Fondacioni Fëmijët Online"
    assert "Active members" in await page.content()
    await save_screenshot(page, screenshot_dir, "foundation-3-switched-tenant")

    # The language choice is remembered on the account: a new browser signs in in English.
    await page.context.clear_cookies()
    await sign_in(page, live_server, admin.email, admin.password)
    assert await page.locator("html").get_attribute("lang") == "en"
    # ...and the active organisation follows the last one used.
    assert page.url.endswith("/t/femijet-b/")
