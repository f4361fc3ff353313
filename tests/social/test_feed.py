"""The feed: what the people and shops I follow did that I may see, nearby and everyone;
cursor pages; the same answer from PostgreSQL's LATERAL query and the portable one; and a
fixed number of queries however many accounts one follows."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from catalog import services as catalog_services
from catalog import tagging
from social import recommendations, selectors, services
from social.models import Activity, ActivityKind, Audience, ListVisibility
from tests.factories import ListingFactory, ShopFactory, UserFactory
from tests.sharing import share

from .conftest import share_everything

pytestmark = pytest.mark.django_db


def _titles(page) -> list[str]:
    return [activity.listing.title if activity.listing_id else activity.shop.name for activity in page.activities]


def _buys(person, shop, title, *, at=None) -> Activity:
    listing = ListingFactory(shop=shop, title=title)
    with time_machine.travel(at or timezone.now(), tick=False):
        return services.activity_record(actor=person, kind=ActivityKind.BOUGHT, target=listing)


def test_the_feed_has_the_shared_activity_of_people_followed_and_new_listings_of_shops_followed(
    buyer, other_buyer, shop, shop_owner, other_shop
):
    share_everything(other_buyer)
    services.follow_create(follower=buyer, person=other_buyer)
    services.follow_create(follower=buyer, shop=shop)
    base = timezone.now()
    bought = _buys(other_buyer, other_shop, "Otto's record", at=base)
    # Olive lists in her shop; she shares nothing, but her shop's new listings are its news.
    with time_machine.travel(base + datetime.timedelta(minutes=1), tick=False):
        catalog_services.listing_create(
            shop=shop, actor=shop_owner, title="New at Olive's", price="5.00", condition="good", status="active"
        )
    _buys(UserFactory(username="unfollowed"), shop, "Somebody else's", at=base)

    page = selectors.following_feed(viewer=buyer)

    assert _titles(page) == ["New at Olive's", "Otto's record"]
    assert [activity.kind for activity in page.activities] == ["listed", "bought"]
    content = _page(buyer, "/feed/")
    assert 'New at <a href="/shops/olives-books/">Olive&#x27;s Books</a>' in content
    assert f'bought <a href="/listings/{bought.listing_id}/">Otto&#x27;s record</a> from' in content


def _page(person, url) -> str:
    from django.test import Client

    client = Client()
    client.force_login(person)
    return client.get(url).content.decode()


def test_a_listing_from_a_followed_shop_by_a_followed_person_is_shown_once(buyer, shop, shop_owner):
    share_everything(shop_owner)
    services.follow_create(follower=buyer, person=shop_owner)
    services.follow_create(follower=buyer, shop=shop)
    catalog_services.listing_create(
        shop=shop, actor=shop_owner, title="Herbarium", price="5.00", condition="good", status="active"
    )

    assert _titles(selectors.following_feed(viewer=buyer)) == ["Herbarium"]


def test_a_persons_listing_reaches_their_followers_as_far_as_they_share_it(buyer, shop, shop_owner):
    share(shop_owner, listed=Audience.ONLY_ME)
    services.follow_create(follower=buyer, person=shop_owner)
    catalog_services.listing_create(
        shop=shop, actor=shop_owner, title="Herbarium", price="5.00", condition="good", status="active"
    )

    assert _titles(selectors.following_feed(viewer=buyer)) == []
    services.follow_create(follower=buyer, shop=shop)
    assert _titles(selectors.following_feed(viewer=buyer)) == ["Herbarium"]


def test_a_draft_is_no_news_until_it_is_put_on_sale_and_only_the_first_time(buyer, shop, shop_owner):
    services.follow_create(follower=buyer, shop=shop)
    draft = catalog_services.listing_create(
        shop=shop, actor=shop_owner, title="Herbarium", price="5.00", condition="good", status="draft"
    )
    assert _titles(selectors.following_feed(viewer=buyer)) == []

    catalog_services.listing_set_status(listing=draft, actor=shop_owner, status="active")
    catalog_services.listing_set_status(listing=draft, actor=shop_owner, status="paused")
    assert _titles(selectors.following_feed(viewer=buyer)) == []  # paused: not for sale
    catalog_services.listing_set_status(listing=draft, actor=shop_owner, status="active")

    assert _titles(selectors.following_feed(viewer=buyer)) == ["Herbarium"]
    assert Activity.objects.filter(kind="listed").count() == 1


def test_the_feed_pages_with_a_cursor_newest_first_without_repeats(buyer, shop):
    base = timezone.now() - datetime.timedelta(days=1)
    followed = [UserFactory(username=f"friend{number}") for number in range(3)]
    for person in followed:
        share_everything(person)
        services.follow_create(follower=buyer, person=person)
    for number in range(45):
        _buys(followed[number % 3], shop, f"Item {number:02d}", at=base + datetime.timedelta(minutes=number // 2))

    seen, cursor = [], None
    while True:
        page = selectors.following_feed(viewer=buyer, cursor=cursor, size=20)
        seen += _titles(page)
        if page.next_cursor is None:
            break
        cursor = selectors.Cursor.decode(page.next)

    assert len(seen) == 45 and len(set(seen)) == 45
    stamps = list(Activity.objects.order_by("-created_at", "-pk").values_list("listing__title", flat=True))
    assert seen == stamps


def test_the_feed_narrows_to_a_kind(buyer, other_buyer, shop):
    share_everything(other_buyer)
    services.follow_create(follower=buyer, person=other_buyer)
    listing = ListingFactory(shop=shop, title="Tagged one")
    tagging.tag_apply(listing=listing, user=other_buyer, name="mosses")
    _buys(other_buyer, shop, "Bought one")

    assert _titles(selectors.following_feed(viewer=buyer, kinds=["tagged"])) == ["Tagged one"]
    assert _titles(selectors.following_feed(viewer=buyer, kinds=["bought"])) == ["Bought one"]
    assert "Tagged one" in _page(buyer, "/tags/following/")
    assert "Bought one" not in _page(buyer, "/tags/following/")


def test_nearby_is_people_of_my_country_or_town_who_shared_with_me(buyer, shop):
    buyer.country, buyer.city = "GB", "York"
    buyer.save()
    same_town = UserFactory(username="yorkie", country="GB", city="york")
    same_country = UserFactory(username="brummie", country="GB", city="Birmingham")
    abroad = UserFactory(username="dutch", country="NL", city="York")
    for person in (same_town, same_country, abroad):
        share_everything(person)
        _buys(person, shop, f"Bought by {person.username}")
    share_everything(buyer)
    _buys(buyer, shop, "Bought by me")

    country = selectors.nearby_feed(viewer=buyer, within=selectors.Nearby.COUNTRY)
    town = selectors.nearby_feed(viewer=buyer, within=selectors.Nearby.CITY)

    assert sorted(_titles(country)) == ["Bought by brummie", "Bought by yorkie"]
    assert _titles(town) == ["Bought by yorkie"]
    buyer.country = ""
    assert selectors.nearby_feed(viewer=buyer).activities == []


def test_everyone_shows_what_is_public_and_what_is_trending(buyer, other_buyer, shop, signed_in):
    share(other_buyer, bought=Audience.EVERYONE, favourited=Audience.EVERYONE)
    _buys(other_buyer, shop, "Public purchase")
    private_list = services.favourite_list_create(owner=other_buyer, name="Secret", visibility=ListVisibility.PRIVATE)
    services.favourite_add(
        owner=other_buyer, listing=ListingFactory(shop=shop, title="Kept to myself"), favourite_list=private_list
    )
    trending_listing = ListingFactory(shop=shop, title="Everybody looks")
    for number in range(3):
        person = UserFactory(username=f"looker{number}")
        recommendations.view_record(user=person, listing=trending_listing)
        tagging.tag_apply(listing=trending_listing, user=person, name="popular")
        services.follow_create(follower=person, shop=shop)
    recommendations.events_count()
    recommendations.trending_refresh()

    content = signed_in(None).get("/feed/everyone/").content.decode()

    assert "Public purchase" in content and "Kept to myself" not in content
    assert f'<a href="/listings/{trending_listing.pk}/">Everybody looks</a>' in content
    assert 'popular</a> <span class="muted">· 3 people tagging' in content
    assert "3 new followers" in content
    trending = signed_in(None).get("/api/trending/").json()
    assert {
        "kind": "item",
        "name": "Everybody looks",
        "url": f"/listings/{trending_listing.pk}/",
        "people": 3,
    } in trending


def test_trending_needs_enough_people_behind_an_item(shop):
    listing = ListingFactory(shop=shop)
    for number in range(2):
        recommendations.view_record(user=UserFactory(username=f"looker{number}"), listing=listing)
    recommendations.events_count()

    assert recommendations.trending_refresh() == {"items": 0, "tags": 0, "shops": 0}


def _mixed_world(buyer, count: int):
    """`count` people and shops followed by `buyer`, with activity of every audience."""
    levels = list(Audience)
    for number in range(count):
        person = UserFactory(username=f"person{count}x{number}")
        share(person, bought=levels[number % 4], tagged=levels[(number + 1) % 4])
        services.follow_create(follower=buyer, person=person)
        if number % 2:
            services.follow_create(follower=person, person=buyer)
        owned = ShopFactory(slug=f"shop-{count}-{number}", owner=person)
        services.follow_create(follower=buyer, shop=owned)
        _buys(person, owned, f"Bought {count}-{number}")
        listing = ListingFactory(shop=owned, title=f"Tagged {count}-{number}")
        tagging.tag_apply(listing=listing, user=person, name=f"topic {number % 3}")
        services.activity_record(actor=person, kind=ActivityKind.LISTED, target=listing)


@pytest.mark.parametrize("count", [3, 30])
def test_the_feed_costs_the_same_whoever_and_however_many_one_follows(
    buyer, count, signed_in, api, django_assert_num_queries
):
    _mixed_world(buyer, count)
    page_client, api_client = signed_in(buyer), api(buyer)

    # session, user, unread notifications and conversations; whether I chose what I share;
    # the feed's ids, its activities
    with django_assert_num_queries(7):
        page = page_client.get("/feed/")
    # the feed's ids, then its activities (authentication is forced: no session)
    with django_assert_num_queries(2):
        answer = api_client.get("/api/feed/")

    assert page.status_code == answer.status_code == 200
    assert len(answer.json()["results"]) == min(20, len(selectors._following_queryset(viewer=buyer, kinds=None)))


@pytest.mark.parametrize("count", [3, 30])
def test_nearby_and_everyone_cost_the_same_whatever_they_show(buyer, count, api, django_assert_num_queries):
    _mixed_world(buyer, count)
    client = api(buyer)

    with django_assert_num_queries(2):
        assert client.get("/api/feed/?view=nearby").status_code == 200
    with django_assert_num_queries(2):
        assert client.get("/api/feed/?view=everyone").status_code == 200


def test_postgresql_lateral_feed_answers_as_the_portable_query(buyer, require_postgresql):
    _mixed_world(buyer, 12)
    expected = list(
        selectors._following_queryset(viewer=buyer, kinds=None)
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)
    )
    assert connection.vendor == "postgresql" and len(expected) > 20

    seen, cursor = [], None
    while True:
        rows = selectors._following_ids_postgresql(viewer=buyer, cursor=cursor, rows=8, kinds=None)
        seen += [pk for pk, _ in rows]
        if len(rows) < 8:
            break
        cursor = selectors.Cursor(created_at=rows[-1][1], pk=rows[-1][0])
    tagged = [
        pk for pk, _ in selectors._following_ids_postgresql(viewer=buyer, cursor=None, rows=100, kinds=["tagged"])
    ]

    assert seen == expected
    assert tagged == list(
        selectors._following_queryset(viewer=buyer, kinds=["tagged"])
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)
    )
