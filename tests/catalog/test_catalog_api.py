"""The read-only catalog API: listings with filters and ordering, one listing, works with totals, categories."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.models import Category, Condition, Listing, ListingImage, Work
from tests.factories import ListingFactory, ShopFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def _titles(response) -> list[str]:
    return [item["title"] for item in response.json()["results"]]


# --- /api/listings/ ------------------------------------------------------------------------


def test_listings_are_active_only_newest_first(api, shop):
    now = timezone.now()
    ListingFactory(shop=shop, title="Old", published_at=now - datetime.timedelta(days=1))
    ListingFactory(shop=shop, title="New", published_at=now)
    for status in ("draft", "paused"):
        ListingFactory(shop=shop, title=status, status=status)
    ListingFactory(shop=shop, title="sold out", status="sold_out", quantity=0)

    response = api.get("/api/listings/")

    assert response.status_code == 200
    assert response.json()["count"] == 2
    assert _titles(response) == ["New", "Old"]


def test_listing_item_shape(api, shop):
    listing = ListingFactory(shop=shop, title="Mosses", creator="Ada Moss", year=1990, price=Decimal("12.50"))
    ListingImage.objects.create(
        listing=listing, thumbnail=ContentFile(b"t", name="t.webp"), large=ContentFile(b"l", name="l.webp")
    )

    item = api.get("/api/listings/").json()["results"][0]

    assert item["id"] == listing.pk
    assert item["url"] == f"/listings/{listing.pk}/"
    assert item["price"] == "12.50"
    assert item["currency"] == "GBP"
    assert item["year"] == 1990
    assert item["condition"] == {"slug": "good", "name": "Good", "rank": 5}
    assert item["shop"]["slug"] == "olives-books"
    assert item["shop"]["url"] == "/shops/olives-books/"
    assert item["shop"]["is_on_vacation"] is False
    assert item["thumbnail"].startswith(f"/media/listings/{listing.pk}/t")


def test_listings_filter_by_shop_condition_work_currency_and_price(api, shop, other_shop):
    work = Work.objects.create(title="Mosses", identifier_kind="isbn", identifier="9780000000002")
    fine = Condition.objects.get(slug="fine")
    ListingFactory(shop=shop, title="Cheap", price=Decimal("5.00"))
    ListingFactory(shop=shop, title="Fine copy", price=Decimal("20.00"), condition=fine, work=work)
    ListingFactory(shop=other_shop, title="Dutch copy", price=Decimal("15.00"), work=work)

    assert sorted(_titles(api.get("/api/listings/?shop=oscars-records"))) == ["Dutch copy"]
    assert _titles(api.get("/api/listings/?condition=fine")) == ["Fine copy"]
    assert sorted(_titles(api.get(f"/api/listings/?work={work.pk}"))) == ["Dutch copy", "Fine copy"]
    assert sorted(_titles(api.get("/api/listings/?currency=GBP"))) == ["Cheap", "Fine copy"]
    assert sorted(_titles(api.get("/api/listings/?min_price=10&max_price=16"))) == ["Dutch copy"]
    assert _titles(api.get("/api/listings/?shop=nobody")) == []


def test_listings_filter_by_category_includes_subcategories(api, shop):
    books = Category.objects.create(name="Books", slug="books")
    nature = Category.objects.create(name="Nature", slug="nature", parent=books)
    records = Category.objects.create(name="Records", slug="records")
    ListingFactory(shop=shop, title="Book", category=books)
    ListingFactory(shop=shop, title="Nature book", category=nature)
    ListingFactory(shop=shop, title="Record", category=records)

    assert sorted(_titles(api.get(f"/api/listings/?category={books.pk}"))) == ["Book", "Nature book"]
    assert _titles(api.get(f"/api/listings/?category={nature.pk}")) == ["Nature book"]
    assert _titles(api.get("/api/listings/?category=999999")) == []


def test_listings_ordering(api, shop):
    now = timezone.now()
    ListingFactory(shop=shop, title="Middle", price=Decimal("10.00"), published_at=now - datetime.timedelta(days=2))
    ListingFactory(shop=shop, title="Dear", price=Decimal("30.00"), published_at=now - datetime.timedelta(days=1))
    ListingFactory(shop=shop, title="Cheap", price=Decimal("5.00"), published_at=now)

    assert _titles(api.get("/api/listings/?ordering=price")) == ["Cheap", "Middle", "Dear"]
    assert _titles(api.get("/api/listings/?ordering=-price")) == ["Dear", "Middle", "Cheap"]
    assert _titles(api.get("/api/listings/?ordering=newest")) == ["Cheap", "Dear", "Middle"]
    assert _titles(api.get("/api/listings/?ordering=oldest")) == ["Middle", "Dear", "Cheap"]


@pytest.mark.parametrize("query", ["ordering=cheapest", "min_price=lots", "currency=XYZ", "work=abc", "category=books"])
def test_bad_filters_are_refused_with_the_field_named(api, query):
    response = api.get(f"/api/listings/?{query}")

    assert response.status_code == 400
    assert list(response.json()) == [query.split("=")[0]]


def test_listings_are_paginated(api, shop):
    Listing.objects.bulk_create(
        [
            Listing(
                shop=shop,
                title=f"Bulk {number}",
                condition=Condition.objects.get(slug="good"),
                price=Decimal("1.00"),
                currency="GBP",
                status="active",
                published_at=timezone.now(),
            )
            for number in range(25)
        ]
    )

    first = api.get("/api/listings/").json()
    second = api.get("/api/listings/?page=2").json()

    assert first["count"] == 25
    assert len(first["results"]) == 20
    assert first["next"].endswith("/api/listings/?page=2")
    assert len(second["results"]) == 5


@pytest.mark.parametrize("size", [2, 12])
def test_listing_list_queries_do_not_grow(api, django_assert_num_queries, size):
    for _ in range(size):
        listing = ListingFactory(shop=ShopFactory())
        for position in range(3):
            ListingImage.objects.create(
                listing=listing,
                position=position,
                thumbnail=ContentFile(b"t", name="t.webp"),
                large=ContentFile(b"l", name="l.webp"),
            )
    category = Category.objects.create(name="Books", slug="books")
    Listing.objects.update(category=category)

    # count, page (with shop and condition), images
    with django_assert_num_queries(3):
        assert len(api.get("/api/listings/").json()["results"]) == size
    # the category filter reads the tree once more
    with django_assert_num_queries(4):
        assert len(api.get(f"/api/listings/?category={category.pk}").json()["results"]) == size


def test_the_list_is_read_only(api, buyer, shop):
    api.force_authenticate(buyer)

    response = api.post("/api/listings/", {"title": "Sneaky", "shop": shop.pk}, format="json")

    assert response.status_code == 405
    assert Listing.objects.count() == 0


# --- /api/listings/<id>/ -------------------------------------------------------------------


def test_listing_detail_with_people_images_and_shipping(api, shop, shop_staff):
    listing = ListingFactory(shop=shop, price=Decimal("12.50"), description_html="<p>Nice.</p>")
    ListingImage.objects.create(
        listing=listing,
        thumbnail=ContentFile(b"t", name="t.webp"),
        large=ContentFile(b"l", name="l.webp"),
        alt_text="cover",
    )

    data = api.get(f"/api/listings/{listing.pk}/?country=NL").json()

    assert data["description_html"] == "<p>Nice.</p>"
    assert [image["alt_text"] for image in data["images"]] == ["cover"]
    assert [(person["name"], person["role"]) for person in data["people"]] == [
        ("Olive Owner", "owner"),
        ("Sam Staff", "staff"),
    ]
    assert data["shipping"] == {
        "country": "NL",
        "ships": True,
        "first_item": "9.00",
        "additional_item": "2.50",
        "currency": "GBP",
    }
    assert api.get(f"/api/listings/{listing.pk}/?country=JP").json()["shipping"]["ships"] is False
    assert api.get(f"/api/listings/{listing.pk}/").json()["shipping"]["ships"] is None
    assert api.get(f"/api/listings/{listing.pk}/?country=XX").status_code == 400


@pytest.mark.parametrize("status", ["draft", "paused"])
def test_hidden_listing_detail_only_for_the_shops_people(api, request, shop, shop_staff, status):
    listing = ListingFactory(shop=shop, status=status)

    for outsider in (None, request.getfixturevalue("buyer"), request.getfixturevalue("other_shop_owner")):
        api.force_authenticate(outsider)
        assert api.get(f"/api/listings/{listing.pk}/").status_code == 404
    for person in (request.getfixturevalue("shop_owner"), shop_staff):
        api.force_authenticate(person)
        response = api.get(f"/api/listings/{listing.pk}/")
        assert response.status_code == 200
        assert response.json()["status"] == status


# --- /api/works/<id>/ ----------------------------------------------------------------------


def test_work_comparison_with_totals_for_a_country(api):
    work = Work.objects.create(title="Mosses", identifier_kind="isbn", identifier="9780000000002")
    near = ShopFactory(name="Near", domestic_first_item=Decimal("1.00"))
    far = ShopFactory(name="Far", domestic_first_item=Decimal("9.00"))
    dutch = ShopFactory(name="Dutch", country="NL", currency="EUR", ships_to=[])
    ListingFactory(shop=far, work=work, price=Decimal("10.00"))
    ListingFactory(shop=near, work=work, price=Decimal("15.00"))
    ListingFactory(shop=dutch, work=work, price=Decimal("2.00"))

    data = api.get(f"/api/works/{work.pk}/?country=GB").json()

    assert data["work"]["title"] == "Mosses"
    assert data["country"] == "GB"
    assert data["currency"] == "GBP"
    assert [(group["currency"], group["is_chosen"]) for group in data["groups"]] == [("GBP", True)]
    offers = data["groups"][0]["offers"]
    assert [(offer["listing"]["shop"]["name"], offer["shipping"], offer["total"]) for offer in offers] == [
        ("Near", "1.00", "16.00"),
        ("Far", "9.00", "19.00"),
    ]
    assert [(offer["listing"]["shop"]["name"], offer["ships"]) for offer in data["not_shipping"]] == [("Dutch", False)]


def test_work_comparison_refuses_bad_country_and_currency(api):
    work = Work.objects.create(title="Mosses", identifier_kind="isbn", identifier="9780000000002")

    assert list(api.get(f"/api/works/{work.pk}/?country=XX").json()) == ["country"]
    assert list(api.get(f"/api/works/{work.pk}/?currency=XYZ").json()) == ["currency"]
    assert api.get("/api/works/999999/").status_code == 404


@pytest.mark.parametrize("size", [1, 6])
def test_work_endpoint_queries_do_not_grow(api, django_assert_num_queries, size):
    work = Work.objects.create(title="Mosses", identifier_kind="isbn", identifier="9780000000002")
    for _ in range(size):
        ListingFactory(shop=ShopFactory(), work=work)

    with django_assert_num_queries(3):
        data = api.get(f"/api/works/{work.pk}/?country=GB").json()
    assert len(data["groups"][0]["offers"]) == size


# --- /api/categories/ ----------------------------------------------------------------------


def test_category_tree(api, django_assert_num_queries):
    books = Category.objects.create(name="Books", slug="books")
    nature = Category.objects.create(name="Nature", slug="nature", parent=books)
    Category.objects.create(name="Records", slug="records")

    with django_assert_num_queries(1):
        data = api.get("/api/categories/").json()

    assert data == [
        {
            "id": books.pk,
            "name": "Books",
            "slug": "books",
            "url": f"/categories/{books.pk}-books/",
            "parent": None,
            "depth": 0,
            "children": [
                {
                    "id": nature.pk,
                    "name": "Nature",
                    "slug": "nature",
                    "url": f"/categories/{nature.pk}-nature/",
                    "parent": books.pk,
                    "depth": 1,
                    "children": [],
                }
            ],
        },
        {
            "id": Category.objects.get(slug="records").pk,
            "name": "Records",
            "slug": "records",
            "url": f"/categories/{Category.objects.get(slug='records').pk}-records/",
            "parent": None,
            "depth": 0,
            "children": [],
        },
    ]
