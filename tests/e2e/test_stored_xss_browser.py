"""What people wrote, payloads included, never runs in the real browser: every page Bea, Olive
and the staff read, with the Content-Security-Policy switched off in the browser so that only
the escaping of what people wrote stands between a payload and `window.__xss`."""

import contextlib

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from tests.e2e.conftest import CHROMIUM_FLAGS
from tests.factories import TEST_PASSWORD
from tests.security.test_stored_xss import LONG_FIELDS, PAYLOADS, _writers, pages_to_read
from tests.security.world import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

READERS = {"buyer", "shop_owner", "staff", "anonymous"}


@pytest.fixture
def reading_list(transactional_db, settings):
    """Made before the browser opens: the ORM cannot run beside Playwright's event loop."""
    settings.DEBUG = False
    world = build_world()
    for position, (field, write) in enumerate(_writers(world)):
        payload = "\n".join(PAYLOADS) if field in LONG_FIELDS else PAYLOADS[position % len(PAYLOADS)]
        # A refusal stores nothing, which is safe: the page then shows the earlier text.
        with contextlib.suppress(ValidationError), transaction.atomic():
            write(payload)
    reads: dict[str, list[str]] = {}
    for path, role in pages_to_read(world):
        if role in READERS:
            reads.setdefault(role, []).append(path)
    usernames = {role: world.person(role).username for role in reads if world.person(role) is not None}
    return reads, usernames


def test_no_payload_runs_on_any_page(reading_list, require_chromium, live_server):
    from playwright.sync_api import sync_playwright

    reads, usernames = reading_list
    ran = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS)
        for role, paths in reads.items():
            context = browser.new_context(base_url=live_server.url, bypass_csp=True)
            context.set_default_timeout(10_000)
            page = context.new_page()
            page.on("dialog", lambda dialog: (ran.append(f"dialog {dialog.message}"), dialog.dismiss()))
            if role in usernames:
                page.goto("/accounts/login/")
                page.fill("input[name=login]", usernames[role])
                page.fill("input[name=password]", TEST_PASSWORD)
                page.get_by_role("button", name="Sign In").click()
                page.wait_for_url("**/")
            for path in paths:
                page.goto(path)
                page.wait_for_load_state("load")
                # Payloads that wait for a focus or a pointer get both.
                page.mouse.move(200, 300)
                page.keyboard.press("Tab")
                if page.evaluate("() => window.__xss !== undefined"):
                    ran.append(f"{path} as {role}")
            context.close()
        # The watch itself works: the same payload, unescaped, does set the flag.
        control = browser.new_page(bypass_csp=True)
        control.set_content('<img src="data:," onerror="window.__xss=1">')
        control.wait_for_function("() => window.__xss === 1")
        browser.close()

    assert ran == []
