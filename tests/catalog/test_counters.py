"""The maintained listing counts (catalog.counters): right after every path that changes
listings or their tags, put right by the reconciliation when they drifted, and the pages that
read them costing the same number of queries at page sizes 10 and 50."""

import importlib

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from catalog import counters, services, tagging, tasks
from catalog.models import (
    Category,
    CategoryListingCount,
    Condition,
    Listing,
    ShopListingCount,
    ShopTagCount,
    Tag,
    TaggedListing,
    TagListingCount,
)
from tests.factories import ListingFactory, ShopFactory, UserFactory

pytestmark = pytest.mark.django_db


def _shop_counts(shop) -> dict[str, int]:
    return {status: count for status, count in counters.shop_listing_counts(shop_id=shop.pk).items() if count}


def _tag_count(name: str) -> int:
    return TagListingCount.objects.filter(tag__name=name).values_list("listings", flat=True).first() or 0


def _shop_tag_count(shop, name: str) -> int:
    return ShopTagCount.objects.filter(shop=shop, tag__name=name).values_list("listings", flat=True).first() or 0


def _category_count(category) -> int:
    return counters.active_listings_in_categories(category_ids=[category.pk])


def _assert_exact() -> None:
    """The triggers left every count as an exact recount finds it."""
    assert counters.recount_all().corrected == dict.fromkeys(
        ["shoplistingcount", "categorylistingcount", "taglistingcount", "shoptagcount"], 0
    )


@pytest.fixture
def category():
    return Category.objects.create(name="Mosses", slug="mosses")


def _create(shop, actor, category, **fields):
    values = {"title": "Mosses of Britain", "price": "12.50", "condition": "good", "category": category} | fields
    return services.listing_create(shop=shop, actor=actor, **values)


def test_creating_counts_the_listing_in_its_status(shop, shop_owner, category):
    _create(shop, shop_owner, category, status="active")
    _create(shop, shop_owner, category, status="draft")
    _create(shop, shop_owner, category, status="active", quantity=0)  # settles as sold out

    assert _shop_counts(shop) == {"active": 1, "draft": 1, "sold_out": 1}
    assert _category_count(category) == 1
    _assert_exact()


def test_editing_moves_the_counts(shop, shop_owner, category):
    other = Category.objects.create(name="Lichens", slug="lichens")
    listing = _create(shop, shop_owner, category, status="active")
    tagging.tag_apply(listing=listing, user=shop_owner, name="moss")

    services.listing_update(listing=listing, actor=shop_owner, category=other, price="9.00")

    assert _category_count(category) == 0
    assert _category_count(other) == 1
    assert _shop_counts(shop) == {"active": 1}
    assert _tag_count("moss") == 1
    _assert_exact()


def test_a_status_change_moves_the_listing_and_its_tags(shop, shop_owner, buyer, other_buyer, category):
    listing = _create(shop, shop_owner, category, status="active")
    # two people applying the same tag: the listing still counts once for it
    tagging.tag_apply(listing=listing, user=buyer, name="moss")
    tagging.tag_apply(listing=listing, user=other_buyer, name="moss")
    assert (_tag_count("moss"), _shop_tag_count(shop, "moss")) == (1, 1)

    services.listing_set_status(listing=listing, actor=shop_owner, status="paused")

    assert _shop_counts(shop) == {"paused": 1}
    assert _category_count(category) == 0
    assert (_tag_count("moss"), _shop_tag_count(shop, "moss")) == (0, 0)

    services.listing_set_status(listing=listing, actor=shop_owner, status="active")

    assert _shop_counts(shop) == {"active": 1}
    assert (_tag_count("moss"), _shop_tag_count(shop, "moss")) == (1, 1)
    _assert_exact()


def test_removing_the_last_application_of_a_tag_uncounts_it(shop, buyer, other_buyer):
    listing = ListingFactory(shop=shop)
    tagging.tag_apply(listing=listing, user=buyer, name="moss")
    tagging.tag_apply(listing=listing, user=other_buyer, name="moss")

    tagging.tag_remove(listing=listing, user=buyer, slug="moss")
    assert _tag_count("moss") == 1
    tagging.tag_remove(listing=listing, user=other_buyer, slug="moss")
    assert (_tag_count("moss"), _shop_tag_count(shop, "moss")) == (0, 0)
    _assert_exact()


def test_deleting_a_listing_a_shop_or_a_category_leaves_no_count_behind(shop, shop_owner, buyer, category):
    listing = _create(shop, shop_owner, category, status="active")
    kept = _create(shop, shop_owner, category, status="active")
    tagging.tag_apply(listing=listing, user=buyer, name="moss")
    tagging.tag_apply(listing=kept, user=buyer, name="moss")

    services.listing_delete(listing=listing, actor=shop_owner)

    assert _shop_counts(shop) == {"active": 1}
    assert _category_count(category) == 1
    assert (_tag_count("moss"), _shop_tag_count(shop, "moss")) == (1, 1)

    category.delete()  # its listings keep going, uncategorised
    assert CategoryListingCount.objects.count() == 0
    assert _shop_counts(shop) == {"active": 1}

    shop.delete()
    assert not ShopListingCount.objects.exists()
    assert not ShopTagCount.objects.exists()
    assert _tag_count("moss") == 0
    _assert_exact()


def test_an_order_taking_the_last_copy_makes_the_listing_sold_out_in_the_counts(shop, buyer, category):
    listing = ListingFactory(shop=shop, category=category, quantity=2)
    tagging.tag_apply(listing=listing, user=buyer, name="moss")

    assert services.listing_stock_take(listing_id=listing.pk, quantity=2)

    assert _shop_counts(shop) == {"sold_out": 1}
    assert _category_count(category) == 0
    # no longer for sale on the tag page, still shown (sold out) on the storefront
    assert (_tag_count("moss"), _shop_tag_count(shop, "moss")) == (0, 1)

    services.listing_stock_return(listing_id=listing.pk, quantity=1)

    assert _shop_counts(shop) == {"active": 1}
    assert (_tag_count("moss"), _category_count(category)) == (1, 1)
    _assert_exact()


def test_bulk_writes_are_counted_like_single_ones(shop, shop_owner, buyer, category):
    # given listings and tags written in bulk, as the inventory import writes them
    other_shop = ShopFactory()
    good = Condition.objects.get(slug="good")
    made = Listing.objects.bulk_create(
        [
            Listing(
                shop=target,
                category=category,
                condition=good,
                title=f"Moss {number}",
                price="5.00",
                currency="GBP",
                status="active",
            )
            for number, target in enumerate([shop] * 5 + [other_shop] * 2)
        ]
    )
    moss = Tag.objects.create(name="moss", slug="moss")
    TaggedListing.objects.bulk_create(
        [TaggedListing(tag=moss, content_object=listing, tagged_by=buyer) for listing in made]
        + [TaggedListing(tag=moss, content_object=made[0], tagged_by=shop_owner, is_seller_tag=True)]
    )

    assert _shop_counts(shop) == {"active": 5}
    assert _shop_counts(other_shop) == {"active": 2}
    assert _category_count(category) == 7
    assert (_tag_count("moss"), _shop_tag_count(shop, "moss"), _shop_tag_count(other_shop, "moss")) == (7, 5, 2)

    # when the shop pauses three of them at once, and a plain update puts one in a draft
    services.listings_bulk_pause(shop=shop, actor=shop_owner, listing_ids=[listing.pk for listing in made[:3]])
    Listing.objects.filter(pk=made[3].pk).update(status="draft")

    assert _shop_counts(shop) == {"active": 1, "paused": 3, "draft": 1}
    assert _category_count(category) == 3
    assert (_tag_count("moss"), _shop_tag_count(shop, "moss")) == (3, 1)
    _assert_exact()


def test_merging_tags_counts_each_listing_once_under_the_main_tag(shop, buyer, other_buyer):
    moderator = UserFactory(username="mod", is_staff=True)
    both = ListingFactory(shop=shop)
    only_synonym = ListingFactory(shop=shop)
    tagging.tag_apply(listing=both, user=buyer, name="tomato")
    tagging.tag_apply(listing=both, user=other_buyer, name="tomahto")
    tagging.tag_apply(listing=only_synonym, user=buyer, name="tomahto")

    tagging.tag_merge(synonym=Tag.objects.get(name="tomahto"), into=Tag.objects.get(name="tomato"), actor=moderator)

    assert (_tag_count("tomato"), _tag_count("tomahto")) == (2, 0)
    assert (_shop_tag_count(shop, "tomato"), _shop_tag_count(shop, "tomahto")) == (2, 0)
    _assert_exact()


def test_reconciliation_corrects_drifted_counts_and_then_finds_nothing(shop, buyer, category):
    listing = ListingFactory(shop=shop, category=category)
    tagging.tag_apply(listing=listing, user=buyer, name="moss")
    # given counts written around the triggers: wrong, missing, and left for nothing
    ShopListingCount.objects.filter(shop=shop).update(listings=40)
    CategoryListingCount.objects.all().delete()
    TagListingCount.objects.filter(tag__name="moss").update(listings=0)
    ShopTagCount.objects.create(shop=ShopFactory(), tag=Tag.objects.get(name="moss"), listings=3)

    tasks.reconcile_counts.apply()

    assert _shop_counts(shop) == {"active": 1}
    assert _category_count(category) == 1
    assert _tag_count("moss") == 1
    assert list(ShopTagCount.objects.values_list("shop_id", "listings")) == [(shop.pk, 1)]
    _assert_exact()


# --- The pages reading the counts ------------------------------------------------------------------


def test_the_pages_show_the_maintained_counts(shop, buyer, category):
    for _ in range(3):
        tagging.tag_apply(listing=ListingFactory(shop=shop, category=category), user=buyer, name="moss")
    ListingFactory(shop=shop, category=category, status="paused")
    ListingFactory(shop=shop, status="sold_out", quantity=0)

    assert (
        'For sale in Mosses <span class="muted">(3)</span>'
        in Client().get(category.get_absolute_url()).content.decode()
    )
    assert "to 3 listings for sale." in Client().get("/tags/moss/").content.decode()
    assert '<p class="muted">4 listings</p>' in Client().get(f"/shops/{shop.slug}/").content.decode()


def test_the_tag_page_says_more_than_when_the_people_outnumber_the_cap(monkeypatch, shop):
    listing = ListingFactory(shop=shop)
    for number in range(3):
        tagging.tag_apply(listing=listing, user=UserFactory(username=f"tagger{number}"), name="moss")

    assert "Applied by 3 people to 1 listing for sale." in Client().get("/tags/moss/").content.decode()
    monkeypatch.setattr(tagging, "PEOPLE_COUNT_CAP", 2)
    monkeypatch.setitem(tagging.tag_people.__kwdefaults__, "cap", 2)
    assert "Applied by more than 2 people to 1 listing for sale." in Client().get("/tags/moss/").content.decode()


def _fill(shop, buyer, category, count: int) -> None:
    tag = Tag.objects.create(name="moss", slug="moss")
    for _ in range(count):
        listing = ListingFactory(shop=shop, category=category)
        TaggedListing.objects.create(tag=tag, content_object=listing, tagged_by=buyer)


@pytest.mark.parametrize(
    ("setting", "path", "signed_in"),
    [
        ("catalog.views:CATEGORY_PAGE_SIZE", "category", False),
        ("catalog.tag_views:TAG_PAGE_SIZE", "/tags/moss/", False),
        ("sellers.views:STOREFRONT_PAGE_SIZE", "/shops/olives-books/", False),
        ("sellers.views:DASHBOARD_PAGE_SIZE", "/shops/olives-books/dashboard/", True),
    ],
)
def test_pages_cost_the_same_queries_at_page_sizes_10_and_50(
    monkeypatch, as_user, shop, shop_owner, buyer, category, setting, path, signed_in
):
    _fill(shop, buyer, category, 60)
    client = as_user(shop_owner) if signed_in else Client()
    address = category.get_absolute_url() if path == "category" else path
    module_name, name = setting.split(":")
    module = importlib.import_module(module_name)
    counted = []
    for size in (10, 50):
        monkeypatch.setattr(module, name, size)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(address)
        assert response.status_code == 200
        assert len(response.context["listing_page" if "listing_page" in response.context else "page"]) == size
        counted.append(len(queries))
    assert counted[0] == counted[1] <= 15
