"""The real browser: Playwright driving Debian's Chromium against the live test server."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from tests.conftest import CHROMIUM

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def from_database(query):
    """The result of `query()`, a database read run in a thread of its own.

    Playwright's sync API keeps an event loop in the test's thread, where Django refuses
    database work; a short-lived thread also closes its connection when it is done."""

    def run():
        try:
            return query()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


@pytest.fixture
def page(require_chromium, live_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        context = browser.new_context(base_url=live_server.url)
        context.set_default_timeout(10_000)
        yield context.new_page()
        context.close()
        browser.close()
