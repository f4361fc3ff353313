"""Activity as other apps record it: what each kind of thing takes along when it goes, and the
call the reviews app makes (a target of its own, with the listing or shop it is about)."""

import pytest

from catalog import tagging, wantlists
from catalog.models import Category
from sellers import services as seller_services
from social import selectors, services
from social.models import Activity, ActivityKind, Audience
from tests.factories import ListingFactory
from tests.sharing import share

pytestmark = pytest.mark.django_db


def test_a_target_of_another_app_is_recorded_shown_and_removed_with_it(buyer, other_buyer, listing):
    share(buyer, reviewed=Audience.EVERYONE)
    services.follow_create(follower=other_buyer, person=buyer)
    review = Category.objects.create(name="Stands in for a review", slug="review-1")

    activity = services.activity_record(actor=buyer, kind="reviewed", target=review, listing=listing, shop=listing.shop)

    assert (activity.audience, activity.listing, activity.shop, activity.target_id) == (
        Audience.EVERYONE,
        listing,
        listing.shop,
        str(review.pk),
    )
    assert [entry.pk for entry in selectors.following_feed(viewer=other_buyer).activities] == [activity.pk]
    assert services.activities_remove_for(target=review) == 1
    assert selectors.following_feed(viewer=other_buyer).activities == []


def test_an_unknown_kind_is_a_programming_error(buyer, listing):
    with pytest.raises(ValueError, match="not an activity kind"):
        services.activity_record(actor=buyer, kind="liked", target=listing)
    assert Activity.objects.count() == 0


def test_opening_a_shop_tagging_and_wanting_are_recorded_seller_tags_are_not(buyer, shop, shop_owner):
    opened = seller_services.shop_create(owner=buyer, name="Bea's Prints", slug="beas-prints", country="GB")
    listing = ListingFactory(shop=shop)
    tagging.tag_apply(listing=listing, user=buyer, name="lichens")
    tagging.tag_apply(listing=listing, user=shop_owner, name="mosses")
    wantlists.want_create(user=buyer, text="ferns")

    kinds = sorted(Activity.objects.values_list("actor__username", "kind"))
    assert kinds == [("bea", "opened_shop"), ("bea", "tagged"), ("bea", "wanted")]
    assert Activity.objects.get(kind="opened_shop").shop == opened


def test_removing_a_tag_or_deleting_a_want_or_listing_takes_its_activity_along(buyer, shop):
    listing = ListingFactory(shop=shop)
    tagging.tag_apply(listing=listing, user=buyer, name="lichens")
    want = wantlists.want_create(user=buyer, text="ferns")
    services.activity_record(actor=buyer, kind=ActivityKind.BOUGHT, target=listing)

    tagging.tag_remove(listing=listing, user=buyer, slug="lichens")
    wantlists.want_delete(want=want, user=buyer)
    assert list(Activity.objects.values_list("kind", flat=True)) == ["bought"]
    listing.delete()
    assert Activity.objects.count() == 0
