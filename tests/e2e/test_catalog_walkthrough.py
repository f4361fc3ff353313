"""A newcomer, in the real browser: opens a shop, lists ten items by hand and a thousand by file,
tags another shop's item, finds things by search, tag and condition, opens a tag page, and
compares the copies of one work across shops by total with shipping to her country.

The world and its numbers are in tests/catalog/walkthrough.py, shared with the same walk
through the API (tests/catalog/test_api_walkthrough.py). With a broker (REDIS_URL) and
PostgreSQL the thousand rows go to a real worker on the `imports` queue and the page follows
its progress; otherwise Celery runs the import in the web process, as `make run` does.
"""

import pytest
from django.conf import settings
from playwright.sync_api import expect

from catalog.models import Listing, TaggedListing
from sellers.models import InventoryImport
from tests.catalog import walkthrough
from tests.e2e.conftest import from_database
from tests.factories import TEST_PASSWORD
from tests.workers import remove_redis_traces, running_worker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOP, SLUG = "Nia's Nautical Books", "nias-nautical-books"
IMPORT_TIMEOUT_MS = 90_000


@pytest.fixture
def world(transactional_db):
    """Made before the browser opens: the ORM cannot run beside Playwright's event loop."""
    return walkthrough.make_catalog()


@pytest.fixture
def import_worker(request, tmp_path):
    """A Celery worker on the `imports` queue when there is a broker and a database another
    process can reach (PostgreSQL); otherwise None, and tasks run in the live server's thread."""
    if not (settings.REDIS_URL and settings.IS_POSTGRESQL):
        request.getfixturevalue("eager_tasks")
        yield None
        return
    remove_redis_traces(settings.REDIS_URL, "imports")
    try:
        with running_worker(
            queues=["imports"],
            hostname="imports-walkthrough",
            log_path=tmp_path / "worker.log",
            # where the live server stores the upload
            env={"PLURAL_PRIVATE_MEDIA_ROOT": str(settings.PRIVATE_MEDIA_ROOT)},
        ) as worker:
            yield worker
    finally:
        remove_redis_traces(settings.REDIS_URL, "imports")


def _cells(table) -> list[list[str]]:
    return [row.locator("th, td").all_inner_texts() for row in table.locator("tbody tr").all()]


def _nias_listings() -> dict:
    listings = Listing.objects.filter(shop__slug=SLUG)
    return {
        "count": listings.count(),
        "statuses": sorted(set(listings.values_list("status", flat=True))),
        "hobbit_work": listings.get(sku="HAND-01").work_id,
    }


def _after_the_import(*, pride_work: int) -> dict:
    job = InventoryImport.objects.get(shop__slug=SLUG)
    pride = Listing.objects.filter(work_id=pride_work)
    return {
        "counts": (job.status, job.created_count, job.updated_count, job.rejected_count),
        "listings": Listing.objects.filter(shop__slug=SLUG).count(),
        "emma_price": str(Listing.objects.get(shop__slug=SLUG, sku="HAND-02").price),
        "pride_copies": sorted(pride.values_list("shop__slug", flat=True)),
    }


def test_a_newcomer_opens_a_shop_lists_imports_tags_searches_and_compares_in_the_browser(
    world, import_worker, page, live_server, tmp_path
):
    # --- Nia signs in and opens a shop. ---
    page.goto("/accounts/login/")
    page.fill("input[name=login]", "nia")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{live_server.url}/")
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Your shops").click()
    expect(page.get_by_role("heading", name="Open a shop")).to_be_visible()
    page.get_by_role("textbox", name="Name", exact=True).fill(SHOP)
    page.get_by_label("Shop address").fill(SLUG)
    page.get_by_label("Tagline").fill("Books of the sea")
    page.get_by_label("Country").select_option("GB")
    page.get_by_label("City").fill("Whitby")
    page.get_by_label("Currency").select_option("GBP")
    page.get_by_role("button", name="Open the shop").click()
    expect(page.get_by_text(f"{SHOP} is open. Add its details and your first listings.")).to_be_visible()
    expect(page.get_by_role("heading", name=f"{SHOP}: dashboard")).to_be_visible()
    manage = page.get_by_role("navigation", name=f"Manage {SHOP}")

    # --- Ten listings by hand, on sale at once; the Hobbit typed as an ISBN-10. ---
    for title, creator, identifier, condition, price, sku in walkthrough.HAND_LISTINGS:
        manage.get_by_role("link", name="New listing").click()
        page.get_by_label("Title").fill(title)
        page.get_by_label("Author or artist").fill(creator)
        page.get_by_label("ISBN, EAN or catalog number").fill(identifier)
        page.get_by_label("Condition").select_option(label=condition)
        page.get_by_label("Price").fill(price)
        page.get_by_label("SKU").fill(sku)
        page.get_by_label("Status").select_option("active")
        page.get_by_role("button", name="Save listing").click()
        expect(page.get_by_text(f"“{title}” has been saved.")).to_be_visible()
    manage.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_text("10 active · 0 drafts · 0 paused · 0 sold out")).to_be_visible()
    assert from_database(_nias_listings) == {"count": 10, "statuses": ["active"], "hobbit_work": world["hobbit_work"]}

    # --- A thousand by file; the report says what became of every row. ---
    stock = tmp_path / "stock.csv"
    stock.write_text(walkthrough.inventory_file(), encoding="utf-8")
    manage.get_by_role("link", name="Import a file").click()
    page.get_by_label("Inventory file").set_input_files(str(stock))
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_text("stock.csv was received: 1,000 rows.")).to_be_visible(timeout=IMPORT_TIMEOUT_MS)
    try:
        # While the worker runs, the page refreshes itself until every row is done.
        expect(page.get_by_text("All 1,000 rows done")).to_be_visible(timeout=IMPORT_TIMEOUT_MS)
    except AssertionError:
        if import_worker is not None:
            print(import_worker.log()[-4000:])
        raise
    filters = page.get_by_role("navigation", name="Show rows")
    expect(filters.get_by_role("link")).to_have_text(["All (1,000)", "Created (995)", "Updated (1)", "Rejected (4)"])
    filters.get_by_role("link", name="Rejected (4)").click()
    expect(page.get_by_role("link", name="Rejected (4)")).to_have_attribute("aria-current", "page")
    report = page.get_by_role("table", name="What became of each row of the file")
    assert [(int(line), sku, message) for line, sku, _, _, message in _cells(report)] == walkthrough.REJECTED_ROWS
    assert from_database(lambda: _after_the_import(pride_work=world["pride_work"])) == {
        "counts": ("done", walkthrough.CREATED, walkthrough.UPDATED, walkthrough.REJECTED),
        "listings": 10 + walkthrough.CREATED,
        "emma_price": str(walkthrough.UPDATED_PRICE),
        "pride_copies": ["nias-nautical-books"] * 3 + ["olives-books"],
    }

    # --- Tagging another shop's item. ---
    page.goto("/shops/olives-books/")
    page.get_by_role("link", name="The Lighthouse Atlas of Wessex").click()
    page.get_by_label("Add a tag").fill("Sea Charts")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_text("Tagged “sea charts”.")).to_be_visible()
    tags = page.get_by_role("region", name="Tags")
    expect(tags.get_by_role("heading", name="From shoppers")).to_be_visible()
    expect(tags.get_by_role("link", name="sea charts")).to_be_visible()
    assert from_database(
        lambda: list(
            TaggedListing.objects.filter(content_object_id=world["atlas"]).values_list(
                "tag__name", "tagged_by__username", "is_seller_tag"
            )
        )
    ) == [("sea charts", "nia", False)]

    # --- Finding things: the search box, then a tag, then a condition, cheapest first. ---
    page.get_by_label("Search Plural").fill("lighthouse")
    page.get_by_label("Search Plural").press("Enter")
    expect(page.get_by_role("heading", name="Results for “lighthouse”")).to_be_visible()
    expect(page.get_by_role("heading", name=f"Listings ({walkthrough.LIGHTHOUSE_MATCHES})")).to_be_visible()
    page.get_by_role("checkbox", name=f"sea charts {walkthrough.SEA_CHARTS_MATCHES}", exact=True).check()
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("heading", name=f"Listings ({walkthrough.SEA_CHARTS_MATCHES})")).to_be_visible()
    fine = len(walkthrough.FINE_SEA_CHARTS_BY_PRICE)
    page.get_by_role("checkbox", name=f"Fine {fine}", exact=True).check()
    page.get_by_label("Sort by").select_option("price")
    page.get_by_role("button", name="Apply").click()
    results = page.get_by_role("region", name=f"Listings ({fine})")
    expect(results.get_by_role("heading", level=3)).to_have_text(
        [title for title, _ in walkthrough.FINE_SEA_CHARTS_BY_PRICE]
    )
    expect(results.locator(".price")).to_have_text(
        [f"{price} GBP" for _, price in walkthrough.FINE_SEA_CHARTS_BY_PRICE]
    )
    expect(page.get_by_role("checkbox", name=f"sea charts {fine}", exact=True)).to_be_checked()

    # --- The tag's page, from a result's tag. ---
    results.get_by_role("link", name="sea charts").first.click()
    expect(page.get_by_role("heading", name="Tagged “sea charts”")).to_be_visible()
    expect(
        page.get_by_text(
            f"Applied by {walkthrough.SEA_CHARTS_PEOPLE} people to {walkthrough.SEA_CHARTS_LISTINGS} listings for sale."
        )
    ).to_be_visible()
    expect(page.get_by_role("complementary", name="Related tags").get_by_role("listitem")).to_have_text(
        ["maritime (50)"]
    )
    newest = page.get_by_role("region", name="For sale").get_by_role("heading", level=3).first
    expect(newest).to_have_text("Lighthouse Keeper's Log, volume 1000")

    # --- Comparing the copies of the Hobbit, by total with shipping to Nia's country. ---
    page.get_by_label("Search Plural").fill("hobbit")
    page.get_by_label("Search Plural").press("Enter")
    found = page.get_by_role("region", name="Listings (5)")
    found.get_by_role("article").filter(has_text=SHOP).get_by_role("link", name="The Hobbit").click()
    page.get_by_role("link", name="Compare every copy with shipping").click()
    expect(page.get_by_role("heading", name="The Hobbit", exact=True)).to_be_visible()
    expect(page.get_by_text(f"ISBN {walkthrough.HOBBIT_ISBN}")).to_be_visible()
    expect(page.get_by_label("Shipping to")).to_have_value("GB")
    pounds = page.get_by_role("table", name="Priced in Pound sterling (GBP): 3 copies")
    assert [(shop, price, shipping, total) for shop, _, price, shipping, total, _ in _cells(pounds)] == [
        (f"{SHOP} United Kingdom", "10.00 GBP", "0.00 GBP", "10.00 GBP"),
        ("Olive's Books United Kingdom", "8.00 GBP", "3.00 GBP", "11.00 GBP"),
        ("Highland Books United Kingdom", "5.00 GBP", "6.50 GBP", "11.50 GBP"),
    ]
    euros = page.get_by_role("table", name="Priced in Euro (EUR): 1 copy")
    assert [(shop, total) for shop, _, _, _, total, _ in _cells(euros)] == [("Oscar's Boeken Netherlands", "13.00 EUR")]
    elsewhere = page.get_by_role("table", name="Not shipped to United Kingdom: 1 copy")
    assert [(shop, shipping) for shop, _, _, shipping, _ in _cells(elsewhere)] == [
        ("Tess's Bücher Germany", "Does not ship to United Kingdom")
    ]
