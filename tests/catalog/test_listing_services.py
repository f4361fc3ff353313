from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from catalog.models import Condition, Listing, ListingImage, Work
from catalog.services import (
    listing_add_image,
    listing_create,
    listing_delete,
    listing_duplicate,
    listing_remove_image,
    listing_set_status,
    listing_update,
    listings_bulk_change_price,
    listings_bulk_pause,
)
from tests.factories import ListingFactory
from tests.images import image_bytes, upload

pytestmark = pytest.mark.django_db


def _create(shop, actor, **overrides):
    values = {"title": "The Odyssey", "price": "12.50", "condition": "good"} | overrides
    return listing_create(shop=shop, actor=actor, **values)


def test_owner_creates_a_draft_in_the_shop_currency(shop, shop_owner):
    listing = _create(shop, shop_owner, description="*Fine* copy <script>x</script>")

    listing.refresh_from_db()
    assert listing.shop == shop
    assert listing.price == Decimal("12.50")
    assert listing.currency == "GBP"
    assert listing.status == "draft"
    assert listing.published_at is None
    assert listing.condition.slug == "good"
    assert listing.description_html == "<p><em>Fine</em> copy </p>"


def test_staff_creates_an_active_listing_which_is_published(shop, shop_staff):
    listing = _create(shop, shop_staff, status="active", quantity=3, condition=Condition.objects.get(slug="fine"))

    assert listing.status == "active"
    assert listing.published_at is not None
    assert listing.quantity == 3


def test_active_without_stock_is_sold_out(shop, shop_owner):
    listing = _create(shop, shop_owner, status="active", quantity=0)

    assert listing.status == "sold_out"


@pytest.mark.parametrize("who", ["buyer", "other_shop_owner"])
def test_outsiders_cannot_create(request, shop, who):
    actor = request.getfixturevalue(who)

    with pytest.raises(PermissionDenied):
        _create(shop, actor)

    assert Listing.objects.count() == 0


def test_anonymous_cannot_create(shop):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        _create(shop, AnonymousUser())

    assert Listing.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"price": "-1"}, "price", "The price must be at least 0.01."),
        ({"price": "0"}, "price", "The price must be at least 0.01."),
        ({"price": "1000000"}, "price", "The price can be at most 999999.99."),
        ({"price": "12.345"}, "price", "The price can have at most two decimal places."),
        ({"price": "twelve"}, "price", "Enter a price as a number, for example 12.50."),
        ({"price": "NaN"}, "price", "Enter a price as a number, for example 12.50."),
        ({"currency": "XYZ"}, "currency", "XYZ is not a currency Plural accepts."),
        ({"quantity": -1}, "quantity", "The quantity cannot be below zero."),
        ({"quantity": "2.5"}, "quantity", "Enter the number of copies as a whole number."),
        ({"title": "  "}, "title", "Enter a title."),
        ({"condition": "mint"}, "condition", "Choose one of the conditions."),
        ({"status": "gone"}, "status", "gone is not a listing status."),
        ({"year": 3000}, "year", f"Enter a year between 1000 and {timezone.now().year + 1}."),
        (
            {"identifier": "978-0-14-044913-0"},
            "identifier",
            "978-0-14-044913-0 is not a valid ISBN: its check digit is wrong.",
        ),
    ],
)
def test_bad_input_is_refused_and_nothing_saved(shop, shop_owner, overrides, field, message):
    with pytest.raises(ValidationError) as refused:
        _create(shop, shop_owner, **overrides)

    assert refused.value.message_dict[field] == [message]
    assert Listing.objects.count() == 0
    assert Work.objects.count() == 0


def test_a_sku_is_unique_within_a_shop_only(shop, shop_owner, other_shop, other_shop_owner):
    _create(shop, shop_owner, sku="A-1")
    _create(other_shop, other_shop_owner, sku="A-1")

    with pytest.raises(ValidationError) as refused:
        _create(shop, shop_owner, sku="A-1", title="Another")

    assert refused.value.message_dict == {"sku": ["Another listing in this shop already has the SKU A-1."]}
    assert Listing.objects.filter(shop=shop).count() == 1


def test_identifier_links_copies_from_different_shops_to_one_work(shop, shop_owner, other_shop, other_shop_owner):
    first = _create(shop, shop_owner, identifier="0-14-044913-2", creator="Homer")
    second = _create(other_shop, other_shop_owner, identifier="9780140449136", title="Odyssey (Penguin)")

    assert first.work_id == second.work_id
    work = Work.objects.get()
    assert (work.identifier_kind, work.identifier, work.title, work.creator) == (
        "isbn",
        "9780140449136",
        "The Odyssey",
        "Homer",
    )


def test_update_changes_only_given_fields_and_refuses_outsiders(shop, shop_owner, other_shop_owner):
    listing = _create(shop, shop_owner, sku="S1")

    with pytest.raises(PermissionDenied):
        listing_update(listing=listing, actor=other_shop_owner, price="1.00")
    listing_update(listing=listing, actor=shop_owner, price="15", quantity=4)

    listing.refresh_from_db()
    assert (listing.price, listing.quantity, listing.sku, listing.title) == (Decimal("15.00"), 4, "S1", "The Odyssey")


def test_refused_update_leaves_the_listing_and_the_instance_unchanged(shop, shop_owner):
    listing = _create(shop, shop_owner)

    with pytest.raises(ValidationError):
        listing_update(listing=listing, actor=shop_owner, title="New", price="-3")

    assert listing.title == "The Odyssey"
    listing.refresh_from_db()
    assert (listing.title, listing.price) == ("The Odyssey", Decimal("12.50"))


def test_set_status_publishes_once_and_pauses(shop, shop_owner):
    listing = _create(shop, shop_owner)

    listing = listing_set_status(listing=listing, actor=shop_owner, status="active")
    published_at = listing.published_at
    listing = listing_set_status(listing=listing, actor=shop_owner, status="paused")
    listing = listing_set_status(listing=listing, actor=shop_owner, status="active")

    assert listing.status == "active"
    assert listing.published_at == published_at


def test_duplicate_is_a_draft_without_sku(shop, shop_owner, buyer):
    listing = _create(shop, shop_owner, sku="S1", status="active", identifier="9780140449136")

    with pytest.raises(PermissionDenied):
        listing_duplicate(listing=listing, actor=buyer)
    copy = listing_duplicate(listing=listing, actor=shop_owner)

    assert copy.pk != listing.pk
    assert (copy.status, copy.sku, copy.title, copy.work_id, copy.published_at) == (
        "draft",
        "",
        "The Odyssey",
        listing.work_id,
        None,
    )
    assert Listing.objects.count() == 2


def test_delete(shop, shop_owner, buyer):
    listing = _create(shop, shop_owner)

    with pytest.raises(PermissionDenied):
        listing_delete(listing=listing, actor=buyer)
    assert Listing.objects.count() == 1
    listing_delete(listing=listing, actor=shop_owner)

    assert Listing.objects.count() == 0


def test_images_are_resized_limited_and_removable(shop, shop_owner, settings):
    listing = _create(shop, shop_owner)

    image = listing_add_image(listing=listing, actor=shop_owner, upload=upload(image_bytes(size=(2400, 1200))))

    from PIL import Image

    with Image.open(image.thumbnail.path) as thumbnail:
        assert thumbnail.size == (240, 240)
    with Image.open(image.large.path) as large:
        assert large.size == (1200, 600)
    for _ in range(7):
        listing_add_image(listing=listing, actor=shop_owner, upload=upload(image_bytes()))
    with pytest.raises(ValidationError) as refused:
        listing_add_image(listing=listing, actor=shop_owner, upload=upload(image_bytes()))
    assert refused.value.message_dict == {"image": ["A listing can have at most 8 images."]}
    assert list(listing.images.values_list("position", flat=True)) == list(range(8))

    listing_remove_image(listing=listing, actor=shop_owner, image_id=image.pk)
    assert listing.images.count() == 7


def test_non_image_upload_is_refused(shop, shop_owner, other_shop_owner):
    listing = _create(shop, shop_owner)

    with pytest.raises(ValidationError) as refused:
        listing_add_image(listing=listing, actor=shop_owner, upload=upload(b"<html>hi</html>", name="x.png"))
    with pytest.raises(PermissionDenied):
        listing_add_image(listing=listing, actor=other_shop_owner, upload=upload(image_bytes()))

    assert list(refused.value.message_dict) == ["image"]
    assert ListingImage.objects.count() == 0


def test_bulk_pause_pauses_listings_on_sale(shop, shop_owner):
    active = ListingFactory(shop=shop)
    draft = ListingFactory(shop=shop, status="draft")

    changed = listings_bulk_pause(shop=shop, actor=shop_owner, listing_ids=[active.pk, draft.pk])

    assert changed == 1
    assert Listing.objects.get(pk=active.pk).status == "paused"
    assert Listing.objects.get(pk=draft.pk).status == "draft"


def test_bulk_actions_refuse_listings_of_another_shop(shop, shop_owner, other_shop, other_shop_owner):
    mine = ListingFactory(shop=shop)
    theirs = ListingFactory(shop=other_shop)

    with pytest.raises(ValidationError):
        listings_bulk_pause(shop=shop, actor=shop_owner, listing_ids=[mine.pk, theirs.pk])
    with pytest.raises(PermissionDenied):
        listings_bulk_pause(shop=other_shop, actor=shop_owner, listing_ids=[theirs.pk])

    assert set(Listing.objects.values_list("status", flat=True)) == {"active"}


def test_bulk_change_price_rounds_to_cents(shop, shop_staff):
    first = ListingFactory(shop=shop, price=Decimal("12.50"))
    second = ListingFactory(shop=shop, price=Decimal("9.99"))

    listings_bulk_change_price(shop=shop, actor=shop_staff, listing_ids=[first.pk, second.pk], percent=Decimal("-10"))

    assert Listing.objects.get(pk=first.pk).price == Decimal("11.25")
    assert Listing.objects.get(pk=second.pk).price == Decimal("8.99")


def test_bulk_change_price_is_all_or_nothing(shop, shop_owner):
    cheap = ListingFactory(shop=shop, price=Decimal("0.01"))
    dear = ListingFactory(shop=shop, price=Decimal("900000.00"))

    with pytest.raises(ValidationError) as refused:
        listings_bulk_change_price(shop=shop, actor=shop_owner, listing_ids=[cheap.pk, dear.pk], percent="50")

    assert "No price was changed." in refused.value.message_dict["percent"][0]
    assert Listing.objects.get(pk=cheap.pk).price == Decimal("0.01")
    assert Listing.objects.get(pk=dear.pk).price == Decimal("900000.00")


def test_bulk_add_tag_applies_the_tag_to_each_listing_as_the_seller(shop, shop_owner, buyer):
    from catalog.models import TaggedListing
    from catalog.services import listings_bulk_add_tag

    first = ListingFactory(shop=shop)
    second = ListingFactory(shop=shop)

    with pytest.raises(PermissionDenied):
        listings_bulk_add_tag(shop=shop, actor=buyer, listing_ids=[first.pk], name="maps")
    changed = listings_bulk_add_tag(shop=shop, actor=shop_owner, listing_ids=[first.pk, second.pk], name="Maps")

    assert changed == 2
    applications = TaggedListing.objects.order_by("content_object_id")
    assert [(item.content_object_id, item.tagged_by_id) for item in applications] == [
        (first.pk, shop_owner.pk),
        (second.pk, shop_owner.pk),
    ]


def test_a_sku_taken_by_a_concurrent_write_is_a_validation_error(shop, shop_owner, monkeypatch):
    # Given a listing whose sku another request saved after this one's sku check had passed
    from catalog import services

    _create(shop, shop_owner, sku="RACE")
    original = services._clean_listing_fields

    def check_before_the_other_request_saved(**kwargs):
        cleaned, errors = original(**(kwargs | {"fields": kwargs["fields"] | {"sku": "FREE"}}))
        return cleaned | {"sku": "RACE"}, errors

    monkeypatch.setattr(services, "_clean_listing_fields", check_before_the_other_request_saved)

    # When this request saves, the database's unique constraint refuses it
    with pytest.raises(ValidationError) as refused:
        _create(shop, shop_owner, sku="RACE", title="Second")

    # Then the person gets the usual message and nothing more is saved
    assert refused.value.message_dict == {"sku": ["Another listing in this shop already has the SKU RACE."]}
    assert Listing.objects.filter(shop=shop).count() == 1
