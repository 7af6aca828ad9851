"""A live portal process and headless Chromium (Debian's package) driven by Playwright.

The portal runs as a separate `portal serve` process against the same test database, so the
browser sees exactly what the tests created through the services.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests import environment

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _unavailable(reason: str) -> None:
    if environment.IN_CI:
        pytest.fail(f"browser tests cannot run under CI=true: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def live_server(database) -> str:
    port = _free_port()
    env = dict(os.environ, PORTAL_INPROCESS_WORKER="false")
    process = subprocess.Popen(
        [sys.executable, "-m", "portal.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode(errors="replace") if process.stdout else ""
            pytest.fail(f"the portal process exited early:\n{output}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("the portal process did not answer /healthz within 30 s")
    yield base_url
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
async def chromium():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        _unavailable("Debian's chromium is not installed (apt-get install -y chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@pytest.fixture
async def browser_page(chromium):
    context = await chromium.new_context(viewport={"width": 1280, "height": 860}, locale="sq-AL")
    page = await context.new_page()
    yield page
    await context.close()


@pytest.fixture
def screenshot_dir() -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR


async def save_screenshot(page, directory: Path, name: str) -> Path:
    path = directory / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


async def sign_in(page, base_url: str, email: str, password: str) -> None:
    await page.goto(f"{base_url}/login")
    await page.fill("#f-email", email)
    await page.fill("#f-password", password)
    await page.click("form.stack button[type=submit]")
    await page.wait_for_load_state("networkidle")
