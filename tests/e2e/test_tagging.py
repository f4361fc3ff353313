"""A shopper tags a listing in the real browser: autocomplete while typing, a refused tag, removal."""

import pytest
from playwright.sync_api import expect

from catalog import tagging
from catalog.models import TaggedListing
from tests.e2e.conftest import from_database
from tests.factories import TEST_PASSWORD, ListingFactory, ShopFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def listing(transactional_db):
    """Made before the browser opens: the ORM cannot run beside Playwright's event loop."""
    UserFactory(username="bea", display_name="Bea Buyer", email="bea@example.com")
    tagging.tag_apply(listing=ListingFactory(), user=UserFactory(username="early"), name="maps and charts")
    return ListingFactory(shop=ShopFactory(name="Olive's Books"), title="Atlas of Wessex")


def test_a_shopper_tags_with_autocomplete_sees_a_refusal_and_removes_their_tag(listing, page):

    page.goto("/accounts/login/")
    page.fill("input[name=login]", "bea")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/")
    page.goto(f"/listings/{listing.pk}/")

    # typing offers the tags already in use
    box = page.get_by_label("Add a tag")
    box.press_sequentially("MAPS", delay=30)
    page.locator("#tag-suggestions option").first.wait_for(state="attached", timeout=5_000)
    suggestions = page.eval_on_selector_all("#tag-suggestions option", "options => options.map(o => o.value)")
    assert suggestions == ["maps and charts"]

    # a tag of punctuation alone is refused, keeping what was typed
    box.fill("?!")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_text("A tag needs at least one letter or digit")).to_be_visible()
    assert page.get_by_label("Add a tag").input_value() == "?!"

    page.get_by_label("Add a tag").fill("Maps and  Charts")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_text("Tagged “maps and charts”.")).to_be_visible()
    assert from_database(TaggedListing.objects.filter(content_object_id=listing.pk).count) == 1
    section = page.get_by_role("region", name="Tags")
    expect(section.get_by_role("link", name="maps and charts")).to_be_visible()

    section.get_by_role("button", name="Remove your tag “maps and charts”").click()
    expect(page.get_by_text("Your tag was removed.")).to_be_visible()
    assert from_database(TaggedListing.objects.filter(content_object_id=listing.pk).count) == 0
