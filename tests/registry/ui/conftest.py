"""A real chromium (Debian's, driven by playwright) against a real registry on a socket.

The browser is never downloaded: ``executable_path`` names the system's chromium, which
``make system-deps`` installs (debian-packages.txt). Outside CI the tests skip when it is
missing; with ``CI`` set they fail instead. Screenshots go to ``test-artifacts/ui/``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from woa_registry import RegistrySettings

from .._support import LiveServer

CHROMIUM = Path(os.environ.get("WOA_TEST_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "ui"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: run `make system-deps`")
        pytest.skip(f"{CHROMIUM} is missing (make system-deps installs it)")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        await context.close()


@pytest.fixture
def ui_settings(tmp_path: Path) -> RegistrySettings:
    return RegistrySettings(
        database_url=f"sqlite:///{tmp_path}/registry.db",
        key_file=tmp_path / "registry-key.pem",
        mdns_enabled=False,
        lease_min_seconds=1,
        lease_default_seconds=1,
        sweep_interval_seconds=0.2,
        rate_per_did=0,
        rate_per_address=0,
    )


@pytest.fixture
def registry(ui_settings: RegistrySettings) -> Iterator[LiveServer]:
    server = LiveServer(ui_settings).start()
    try:
        yield server
    finally:
        server.stop()
