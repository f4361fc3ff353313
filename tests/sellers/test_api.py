from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from catalog.models import Listing, ListingImage
from sellers.models import Shop, ShopMember
from tests.factories import ListingFactory, ShopFactory
from tests.images import image_bytes, upload

pytestmark = pytest.mark.django_db

OUTSIDERS = ["anonymous", "buyer", "other_shop_owner"]
INSIDERS = ["shop_owner", "shop_staff"]


@pytest.fixture
def api(people):
    def make(role):
        client = APIClient()
        person = people(role)
        if person is not None:
            client.force_authenticate(person)
        return client

    return make


def _snapshot(shop):
    return (
        list(Shop.objects.filter(pk=shop.pk).values()),
        list(ShopMember.objects.filter(shop=shop).values()),
        list(Listing.objects.filter(shop=shop).values()),
        list(ListingImage.objects.filter(listing__shop=shop).values()),
    )


def test_shop_list_is_public_and_counts_only_listings_on_sale(api, shop, other_shop):
    ListingFactory(shop=shop)
    ListingFactory(shop=shop, status="draft", published_at=None)

    response = api("anonymous").get("/api/shops/")

    assert response.status_code == 200
    assert [item["slug"] for item in response.json()["results"]] == ["olives-books", "oscars-records"]
    olive = response.json()["results"][0]
    assert olive["listings_on_sale"] == 1
    assert [person["username"] for person in olive["people"]] == ["olive"]


@pytest.mark.parametrize("count", [1, 8])
def test_shop_list_query_count_does_not_grow(api, count, django_assert_num_queries):
    for _ in range(count):
        ShopFactory()

    with django_assert_num_queries(3):  # count, page, people
        response = api("anonymous").get("/api/shops/")

    assert len(response.json()["results"]) == count


def test_shop_detail_is_public_and_shows_no_drafts(api, shop):
    ListingFactory(shop=shop, status="draft", title="Secret draft", published_at=None)

    response = api("buyer").get("/api/shops/olives-books/")

    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["country"], body["currency"], body["ships_to"]) == (
        "Olive's Books",
        "GB",
        "GBP",
        ["DE", "FR", "NL"],
    )
    assert body["listings_on_sale"] == 0
    assert "Secret draft" not in response.content.decode()


def test_open_a_shop(api, buyer):
    response = api("buyer").post(
        "/api/shops/", {"name": "Bea's Maps", "slug": "beas-maps", "country": "FR", "currency": "EUR"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["slug"] == "beas-maps"
    assert ShopMember.objects.get(shop__slug="beas-maps").user == buyer


def test_open_a_shop_with_a_taken_slug(api, shop):
    response = api("buyer").post(
        "/api/shops/", {"name": "Copy", "slug": "olives-books", "country": "GB"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"slug": ["The address shops/olives-books/ is taken. Please choose another."]}
    assert Shop.objects.count() == 1


def test_anonymous_cannot_open_a_shop(api, db):
    response = api("anonymous").post("/api/shops/", {"name": "X", "slug": "x", "country": "GB"}, format="json")

    assert response.status_code == 403
    assert Shop.objects.count() == 0


def _member_requests(shop, listing, image):
    base = f"/api/shops/{shop.slug}"
    return [
        ("patch", f"{base}/", {"name": "Hijacked"}),
        ("patch", f"{base}/", {"is_on_vacation": True}),
        ("get", f"{base}/listings/", None),
        ("post", f"{base}/listings/", {"title": "New", "price": "3.00", "condition": "good"}),
        ("get", f"{base}/listings/{listing.pk}/", None),
        ("patch", f"{base}/listings/{listing.pk}/", {"price": "1.00"}),
        ("post", f"{base}/listings/bulk/", {"action": "pause", "listing_ids": [listing.pk]}),
        ("delete", f"{base}/listings/{listing.pk}/images/{image.pk}/", None),
        ("delete", f"{base}/listings/{listing.pk}/", None),
    ]


@pytest.mark.parametrize("role", OUTSIDERS)
def test_outsiders_get_404_and_change_nothing(api, shop, other_shop, role):
    listing = ListingFactory(shop=shop, status="draft", published_at=None)
    image = ListingImage.objects.create(listing=listing, thumbnail="x.webp", large="y.webp")
    client = api(role)
    before = _snapshot(shop)

    for method, url, data in _member_requests(shop, listing, image):
        response = getattr(client, method)(url, data, format="json") if data else getattr(client, method)(url)
        assert response.status_code == 404, (role, method, url, response.status_code)

    upload_response = client.post(
        f"/api/shops/{shop.slug}/listings/{listing.pk}/images/", {"image": upload(image_bytes())}, format="multipart"
    )
    assert upload_response.status_code == 404
    assert _snapshot(shop) == before


@pytest.mark.parametrize("role", INSIDERS)
def test_insiders_may_do_everything(api, shop, role):
    listing = ListingFactory(shop=shop)
    image = ListingImage.objects.create(listing=listing, thumbnail="x.webp", large="y.webp")
    client = api(role)

    for method, url, data in _member_requests(shop, listing, image):
        response = getattr(client, method)(url, data, format="json") if data else getattr(client, method)(url)
        assert response.status_code in {200, 201, 204}, (role, method, url, response.status_code, response.content)


def test_members_list_drafts_with_tags_and_images(api, shop, other_shop, buyer):
    from catalog.models import Tag, TaggedListing

    draft = ListingFactory(shop=shop, status="draft", published_at=None, title="Draft")
    ListingFactory(shop=other_shop, title="Not ours")
    TaggedListing.objects.create(
        tag=Tag.objects.create(name="maps", slug="maps"), content_object=draft, tagged_by=buyer
    )

    response = api("shop_staff").get("/api/shops/olives-books/listings/")

    assert response.status_code == 200
    results = response.json()["results"]
    assert [(item["title"], item["status"], item["tags"]) for item in results] == [("Draft", "draft", ["maps"])]


@pytest.mark.parametrize("count", [1, 8])
def test_member_listing_list_query_count_does_not_grow(api, shop, count, django_assert_num_queries):
    for _ in range(count):
        listing = ListingFactory(shop=shop)
        ListingImage.objects.create(listing=listing, thumbnail="x.webp", large="y.webp")
    client = api("shop_owner")

    # shop access, count, page, images prefetch, tags, first images
    with django_assert_num_queries(6):
        response = client.get("/api/shops/olives-books/listings/")

    assert len(response.json()["results"]) == count


def test_create_a_listing_via_api(api, shop):
    response = api("shop_owner").post(
        "/api/shops/olives-books/listings/",
        {"title": "Odyssey", "price": "9.99", "condition": "fine", "identifier": "0140449132", "status": "active"},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["price"], body["currency"], body["condition"], body["status"], body["identifier"]) == (
        "9.99",
        "GBP",
        "fine",
        "active",
        "0140449132",
    )
    assert Listing.objects.get().work.identifier == "9780140449136"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"price": "-1"}, "price"),
        ({"price": "99999999"}, "price"),
        ({"currency": "XYZ"}, "currency"),
        ({"quantity": -2}, "quantity"),
        ({"identifier": "9780140449130"}, "identifier"),
        ({"condition": "mint"}, "condition"),
    ],
)
def test_bad_listing_input_via_api_is_400_and_saves_nothing(api, shop, payload, field):
    response = api("shop_owner").post(
        "/api/shops/olives-books/listings/",
        {"title": "Odyssey", "price": "9.99", "condition": "fine"} | payload,
        format="json",
    )

    assert response.status_code == 400
    assert field in response.json()
    assert Listing.objects.count() == 0


def test_reused_sku_via_api(api, shop):
    ListingFactory(shop=shop, sku="A1")

    response = api("shop_owner").post(
        "/api/shops/olives-books/listings/",
        {"title": "X", "price": "1", "condition": "good", "sku": "A1"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"sku": ["Another listing in this shop already has the SKU A1."]}
    assert Listing.objects.count() == 1


def test_patch_changes_only_given_fields(api, shop):
    listing = ListingFactory(shop=shop, sku="A1", quantity=3)

    response = api("shop_owner").patch(
        f"/api/shops/olives-books/listings/{listing.pk}/", {"price": "20.00"}, format="json"
    )

    assert response.status_code == 200
    listing.refresh_from_db()
    assert (listing.price, listing.sku, listing.quantity) == (Decimal("20.00"), "A1", 3)


def test_upload_and_refuse_images_via_api(api, shop):
    listing = ListingFactory(shop=shop)
    client = api("shop_owner")

    good = client.post(
        f"/api/shops/olives-books/listings/{listing.pk}/images/", {"image": upload(image_bytes())}, format="multipart"
    )
    bad = client.post(
        f"/api/shops/olives-books/listings/{listing.pk}/images/",
        {"image": upload(b"<svg></svg>", name="x.png")},
        format="multipart",
    )

    assert good.status_code == 201
    assert bad.status_code == 400
    assert "image" in bad.json()
    assert listing.images.count() == 1


def test_bulk_price_change_via_api_is_all_or_nothing(api, shop):
    cheap = ListingFactory(shop=shop, price=Decimal("0.01"))
    normal = ListingFactory(shop=shop, price=Decimal("10.00"))
    client = api("shop_staff")

    refused = client.post(
        "/api/shops/olives-books/listings/bulk/",
        {"action": "price", "percent": "-90", "listing_ids": [cheap.pk, normal.pk]},
        format="json",
    )
    accepted = client.post(
        "/api/shops/olives-books/listings/bulk/",
        {"action": "price", "percent": "10", "listing_ids": [normal.pk]},
        format="json",
    )

    assert refused.status_code == 400
    assert accepted.json() == {"changed": 1}
    assert Listing.objects.get(pk=cheap.pk).price == Decimal("0.01")
    assert Listing.objects.get(pk=normal.pk).price == Decimal("11.00")


def test_shop_update_via_api(api, shop):
    response = api("shop_staff").patch(
        "/api/shops/olives-books/",
        {"tagline": "Maps too", "ships_to": ["IE"], "is_on_vacation": True, "vacation_message": "Away"},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["tagline"], body["ships_to"], body["is_on_vacation"], body["vacation_message"]) == (
        "Maps too",
        ["IE"],
        True,
        "Away",
    )


def test_shop_update_bad_input_is_400_and_changes_nothing(api, shop):
    response = api("shop_owner").patch(
        "/api/shops/olives-books/", {"name": "New", "domestic_first_item": "-3"}, format="json"
    )

    assert response.status_code == 400
    shop.refresh_from_db()
    assert (shop.name, shop.domestic_first_item) == ("Olive's Books", Decimal("3.00"))


def test_schema_builds_without_warnings():
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
