"""A real headless Chromium (Debian's package, driven by Playwright) against real
instances on loopback. No browser is downloaded: scripts/setup installs `chromium`
with apt-get; without it these tests are skipped with the reason."""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.admin import PASSWORD, add_account
from tests.support.instance import Instance

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Page

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@asynccontextmanager
async def chromium(
    profile: Path, *, javascript: bool = True, bypass_csp: bool = False
) -> AsyncIterator[BrowserContext]:
    """Debian's Chromium with a fresh profile directory (skips when it is missing).
    `bypass_csp` only for tools injected into the page (the accessibility audit)."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (scripts/setup installs it with apt-get)")
    if importlib.util.find_spec("playwright") is None:
        pytest.skip("the playwright package is not installed (pip install -e '.[dev]')")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=ARGS,
            locale="fr-FR",
            java_script_enabled=javascript,
            bypass_csp=bypass_csp,
        )
        context.set_default_timeout(15_000)
        try:
            yield context
        finally:
            await context.close()


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[BrowserContext]:
    async with chromium(tmp_path / "chromium-profile") as context:
        yield context


async def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def logged_in(context: BrowserContext, instance: Instance, role: str = "owner") -> Page:
    """A page logged in to the instance's admin, through the login form."""
    await add_account(instance, "camille", role)
    page = await context.new_page()
    await page.goto(f"{instance.base_url}/admin")
    assert page.url.startswith(f"{instance.base_url}/admin/login?next=")
    await page.fill("#login", "camille")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{instance.base_url}/admin")
    return page
