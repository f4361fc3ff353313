"""Key pages run under the Content-Security-Policy in the real browser without one violation:
every script and style they need comes from our own files."""

import pytest

from catalog import tagging
from tests.factories import TEST_PASSWORD, ListingFactory, ShopFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def listing(transactional_db):
    """Made before the browser opens: the ORM cannot run beside Playwright's event loop."""
    UserFactory(username="bea", display_name="Bea Buyer", email="bea@example.com")
    shop = ShopFactory(name="Olive's Books", slug="olives-books")
    listing = ListingFactory(shop=shop, title="Atlas of Wessex")
    tagging.tag_apply(listing=listing, user=UserFactory(username="early"), name="maps")
    return listing


def watch_violations(page) -> list[str]:
    """Collect every CSP violation the page reports, from the console and from the DOM event."""
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => "
        "console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    return violations


def test_key_pages_show_no_policy_violation(listing, page):
    violations = watch_violations(page)

    for path in ("/", "/search/?q=atlas", f"/listings/{listing.pk}/", "/shops/olives-books/", "/tags/", "/status/"):
        page.goto(path)
        page.wait_for_load_state("load")
    page.goto("/search/?q=at")
    with page.expect_response(lambda response: "/api/search/suggestions/" in response.url) as suggested:
        page.locator("#site-search-q").press_sequentially("atl", delay=30)
    assert suggested.value.ok
    page.goto("/accounts/login/")
    page.fill("input[name=login]", "bea")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/")
    for path in (f"/listings/{listing.pk}/", "/accounts/profile/", "/orders/", "/messages/", "/notifications/"):
        page.goto(path)
        page.wait_for_load_state("load")

    assert violations == []


def test_the_api_explorer_runs_its_script_from_a_file(listing, page):
    violations = watch_violations(page)

    page.goto("/api/docs/")
    page.wait_for_selector(".swagger-ui .info", timeout=15_000)

    assert violations == []
