import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from catalog.models import Listing, ListingImage
from sellers.models import Shop, ShopMember
from tests.factories import ListingFactory, ShopFactory
from tests.images import image_bytes, upload

pytestmark = pytest.mark.django_db

OUTSIDERS = ["anonymous", "buyer", "other_shop_owner"]
INSIDERS = ["shop_owner", "shop_staff"]


def _listing_post(**overrides):
    return {
        "title": "The Odyssey",
        "creator": "Homer",
        "publisher": "",
        "year": "",
        "format": "Paperback",
        "identifier": "0-14-044913-2",
        "condition": "good",
        "category": "",
        "description": "A *good* copy",
        "price": "12.50",
        "currency": "GBP",
        "quantity": "2",
        "sku": "OD-1",
        "status": "active",
    } | overrides


# --- Opening a shop -------------------------------------------------------


def test_open_a_shop_page(as_user, buyer):
    client = as_user(buyer)

    page = client.get("/shops/new/")
    response = client.post(
        "/shops/new/",
        {"name": "Bea's Maps", "slug": "beas-maps", "tagline": "", "country": "FR", "city": "Lyon", "currency": "EUR"},
    )

    assert page.status_code == 200
    assert response.status_code == 302
    assert response["Location"] == "/shops/beas-maps/dashboard/"
    shop = Shop.objects.get(slug="beas-maps")
    assert ShopMember.objects.get(shop=shop).user == buyer


def test_open_a_shop_with_a_taken_slug_keeps_what_was_typed(as_user, buyer, shop):
    response = as_user(buyer).post(
        "/shops/new/", {"name": "Copy Books", "slug": "olives-books", "country": "GB", "currency": "GBP"}
    )

    assert response.status_code == 200
    assert "The address shops/olives-books/ is taken. Please choose another." in response.text
    assert 'value="Copy Books"' in response.text
    assert Shop.objects.count() == 1


def test_open_a_shop_needs_sign_in(client):
    response = client.get("/shops/new/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_csrf_is_required_to_open_a_shop(buyer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(buyer)

    response = client.post("/shops/new/", {"name": "X", "slug": "x", "country": "GB", "currency": "GBP"})

    assert response.status_code == 403
    assert Shop.objects.count() == 0


# --- Storefront -----------------------------------------------------------


def test_storefront_shows_branding_people_policies_and_only_listings_on_sale(client, shop, shop_staff):
    shop.payment_methods = ["card"]
    shop.returns_policy = "Within 14 days."
    shop.save()
    ShopMember.objects.filter(user=shop_staff).update(title="Records")
    ListingFactory(shop=shop, title="On sale")
    ListingFactory(shop=shop, title="All gone", status="sold_out", quantity=0)
    ListingFactory(shop=shop, title="Secret draft", status="draft", published_at=None)
    ListingFactory(shop=shop, title="Resting", status="paused")

    response = client.get("/shops/olives-books/")

    assert response.status_code == 200
    text = response.text
    assert "Olive&#x27;s Books" in text
    assert "On sale" in text and "All gone" in text
    assert "Secret draft" not in text and "Resting" not in text
    assert "Olive Owner" in text and "Sam Staff" in text and "Records" in text
    assert "Ships to United Kingdom and France, Germany, Netherlands." in text
    assert "Card" in text and "Within 14 days." in text
    assert "Dashboard" not in text


def test_storefront_vacation_banner(client, shop):
    shop.is_on_vacation = True
    shop.vacation_until = datetime.date(2030, 1, 15)
    shop.vacation_message = "Gone fishing"
    shop.save()

    response = client.get("/shops/olives-books/")

    assert "on vacation until 15 January 2030" in response.text
    assert "Gone fishing" in response.text


def test_storefront_search_sort_and_tag_filter(client, shop, buyer):
    from catalog.models import Tag, TaggedListing

    cheap = ListingFactory(shop=shop, title="Birds of Britain", price=Decimal("3.00"))
    dear = ListingFactory(shop=shop, title="Atlas of Lichens", price=Decimal("30.00"), creator="Moss")
    tag = Tag.objects.create(name="nature", slug="nature")
    TaggedListing.objects.create(tag=tag, content_object=cheap, tagged_by=buyer)

    by_price = client.get("/shops/olives-books/?sort=-price")
    by_title = client.get("/shops/olives-books/?sort=title")
    searched = client.get("/shops/olives-books/?q=lichens")
    tagged = client.get("/shops/olives-books/?tag=nature")

    assert [item.pk for item in by_price.context["page"].object_list] == [dear.pk, cheap.pk]
    assert [item.pk for item in by_title.context["page"].object_list] == [dear.pk, cheap.pk]
    assert [item.pk for item in searched.context["page"].object_list] == [dear.pk]
    assert [item.pk for item in tagged.context["page"].object_list] == [cheap.pk]


def test_storefront_shows_management_links_to_members(as_user, shop, shop_staff):
    response = as_user(shop_staff).get("/shops/olives-books/")

    assert reverse("sellers:dashboard", kwargs={"slug": "olives-books"}) in response.text


def test_unknown_shop_is_404(client, db):
    assert client.get("/shops/nowhere/").status_code == 404


def _fill_storefront(shop, buyer, count):
    from catalog.models import Tag, TaggedListing

    tags = [Tag.objects.create(name=f"tag {shop.pk} {n}", slug=f"tag-{shop.pk}-{n}") for n in range(3)]
    for _ in range(count):
        listing = ListingFactory(shop=shop)
        for tag in tags:
            TaggedListing.objects.create(tag=tag, content_object=listing, tagged_by=buyer)
        ListingImage.objects.create(listing=listing, thumbnail="x.webp", large="y.webp")


@pytest.mark.parametrize("count", [2, 12])
def test_storefront_query_count_does_not_grow(client, shop, buyer, count, django_assert_num_queries):
    _fill_storefront(shop, buyer, count)

    # shop, people, status counts (which give the page's count), page, tags, images, shop tag cloud,
    # completion rate and return window,
    # the reviews' four: rating summary row, last 12 months' rows, top reviews, praise, the
    # buyers' thank-you notes shown with their consent ("kind words": one query), and its
    # followers counted (social.selectors.shop_follow_summary)
    with django_assert_num_queries(14):
        response = client.get("/shops/olives-books/")

    assert len(response.context["page"].object_list) == count


@pytest.mark.parametrize("count", [2, 12])
def test_dashboard_query_count_does_not_grow(as_user, shop, shop_owner, buyer, count, django_assert_num_queries):
    _fill_storefront(shop, buyer, count)
    ListingFactory(shop=shop, status="draft")
    client = as_user(shop_owner)

    # session, user, shop, status counts (which also give the page's count), page, tags, images,
    # unread notifications, messages
    with django_assert_num_queries(9):
        response = client.get("/shops/olives-books/dashboard/")

    assert len(response.context["page"].object_list) == count + 1


# --- Access matrix for every page that shows or changes a shop's private side ---


def _private_pages(shop, listing, image):
    slug = shop.slug
    return [
        ("get", f"/shops/{slug}/edit/", None),
        ("get", f"/shops/{slug}/people/", None),
        ("get", f"/shops/{slug}/dashboard/", None),
        ("get", f"/shops/{slug}/dashboard/listings/new/", None),
        ("get", f"/shops/{slug}/dashboard/listings/{listing.pk}/", None),
        ("get", f"/shops/{slug}/dashboard/listings/{listing.pk}/delete/", None),
        ("post", f"/shops/{slug}/edit/", {"section": "details", "details-name": "Hijacked", "details-country": "GB"}),
        ("post", f"/shops/{slug}/edit/", {"section": "vacation", "vacation-is_on_vacation": "on"}),
        ("post", f"/shops/{slug}/people/", {"action": "add", "username": "otto"}),
        ("post", f"/shops/{slug}/dashboard/", {"action": "pause", "listing_ids": [listing.pk]}),
        ("post", f"/shops/{slug}/dashboard/listings/new/", _listing_post(sku="NEW")),
        ("post", f"/shops/{slug}/dashboard/listings/{listing.pk}/", _listing_post(title="Hijacked")),
        ("post", f"/shops/{slug}/dashboard/listings/{listing.pk}/status/", {"status": "paused"}),
        ("post", f"/shops/{slug}/dashboard/listings/{listing.pk}/images/{image.pk}/remove/", {}),
        ("post", f"/shops/{slug}/dashboard/listings/{listing.pk}/duplicate/", {}),
        ("post", f"/shops/{slug}/dashboard/listings/{listing.pk}/delete/", {}),
    ]


def _snapshot(shop):
    return (
        list(Shop.objects.filter(pk=shop.pk).values()),
        list(ShopMember.objects.filter(shop=shop).values()),
        list(Listing.objects.filter(shop=shop).values()),
        list(ListingImage.objects.filter(listing__shop=shop).values()),
    )


@pytest.mark.parametrize("role", OUTSIDERS)
def test_outsiders_cannot_see_or_change_a_shops_private_pages(as_user, people, shop, other_shop, other_buyer, role):
    listing = ListingFactory(shop=shop, sku="S1")
    image = ListingImage.objects.create(listing=listing, thumbnail="x.webp", large="y.webp")
    client = as_user(people(role))
    before = _snapshot(shop)

    for method, url, data in _private_pages(shop, listing, image):
        response = getattr(client, method)(url, data or {})
        if role == "anonymous":
            assert response.status_code == 302, url
            assert response["Location"].startswith("/accounts/login/"), url
        else:
            assert response.status_code == 404, (method, url)

    assert _snapshot(shop) == before


@pytest.mark.parametrize("role", INSIDERS)
def test_insiders_can_use_every_private_page(as_user, people, shop, other_buyer, role):
    listing = ListingFactory(shop=shop, sku="S1")
    image = ListingImage.objects.create(listing=listing, thumbnail="x.webp", large="y.webp")
    client = as_user(people(role))

    for method, url, data in _private_pages(shop, listing, image):
        if method == "post" and url.endswith("/people/") and role == "shop_staff":
            continue  # only the owner adds people: tested below
        response = getattr(client, method)(url, data or {})
        assert response.status_code in {200, 302}, (method, url, response.status_code)


# --- Listings from the dashboard ------------------------------------------


def test_create_a_listing_with_an_image(as_user, shop, shop_staff):
    data = _listing_post() | {"image": upload(image_bytes())}

    response = as_user(shop_staff).post("/shops/olives-books/dashboard/listings/new/", data)

    listing = Listing.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/shops/olives-books/dashboard/listings/{listing.pk}/"
    assert (listing.title, listing.sku, listing.status, listing.quantity) == ("The Odyssey", "OD-1", "active", 2)
    assert listing.work.identifier == "9780140449136"
    assert listing.images.count() == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"price": "-5"}, "The price must be at least 0.01."),
        ({"price": "5000000"}, "The price can be at most 999999.99."),
        ({"quantity": "-1"}, "The quantity cannot be below zero."),
        ({"identifier": "978-0-14-044913-0"}, "978-0-14-044913-0 is not a valid ISBN: its check digit is wrong."),
        ({"currency": "XYZ"}, "Select a valid choice. XYZ is not one of the available choices."),
    ],
)
def test_bad_listing_input_is_shown_on_the_form_and_nothing_saved(as_user, shop, shop_owner, overrides, message):
    response = as_user(shop_owner).post("/shops/olives-books/dashboard/listings/new/", _listing_post(**overrides))

    assert response.status_code == 200
    assert message in response.text
    assert 'value="The Odyssey"' in response.text
    assert Listing.objects.count() == 0


def test_reused_sku_and_non_image_are_refused(as_user, shop, shop_owner):
    ListingFactory(shop=shop, sku="OD-1")
    client = as_user(shop_owner)

    reused = client.post("/shops/olives-books/dashboard/listings/new/", _listing_post())
    not_image = client.post(
        "/shops/olives-books/dashboard/listings/new/",
        _listing_post(sku="OD-2") | {"image": upload(b"GIF89a nonsense", name="x.gif")},
    )

    assert "Another listing in this shop already has the SKU OD-1." in reused.text
    assert "This file is not an image we can read." in not_image.text
    assert Listing.objects.count() == 1


def test_edit_pause_duplicate_and_delete(as_user, shop, shop_owner):
    listing = ListingFactory(shop=shop, sku="S1", title="Old title")
    client = as_user(shop_owner)
    base = f"/shops/olives-books/dashboard/listings/{listing.pk}/"

    client.post(base, _listing_post(title="New title", sku="S1"))
    client.post(f"{base}status/", {"status": "paused"})
    listing.refresh_from_db()
    assert (listing.title, listing.status) == ("New title", "paused")

    duplicate = client.post(f"{base}duplicate/")
    copy = Listing.objects.exclude(pk=listing.pk).get()
    assert duplicate["Location"] == f"/shops/olives-books/dashboard/listings/{copy.pk}/"
    assert (copy.status, copy.sku) == ("draft", "")

    confirm = client.get(f"{base}delete/")
    assert "Delete “New title”?" in confirm.text
    client.post(f"{base}delete/")
    assert list(Listing.objects.values_list("pk", flat=True)) == [copy.pk]


def test_dashboard_lists_drafts_and_filters(as_user, shop, shop_owner, other_shop):
    ListingFactory(shop=shop, title="Draft map", status="draft", published_at=None)
    ListingFactory(shop=shop, title="Active atlas")
    ListingFactory(shop=other_shop, title="Not mine")
    client = as_user(shop_owner)

    everything = client.get("/shops/olives-books/dashboard/")
    drafts = client.get("/shops/olives-books/dashboard/?status=draft")
    searched = client.get("/shops/olives-books/dashboard/?q=atlas")

    assert {item.title for item in everything.context["page"].object_list} == {"Draft map", "Active atlas"}
    assert [item.title for item in drafts.context["page"].object_list] == ["Draft map"]
    assert [item.title for item in searched.context["page"].object_list] == ["Active atlas"]


def test_dashboard_bulk_price_change(as_user, shop, shop_owner):
    first = ListingFactory(shop=shop, price=Decimal("10.00"))
    second = ListingFactory(shop=shop, price=Decimal("20.00"))

    response = as_user(shop_owner).post(
        "/shops/olives-books/dashboard/", {"action": "price", "percent": "-10", "listing_ids": [first.pk, second.pk]}
    )

    assert response.status_code == 302
    assert sorted(Listing.objects.values_list("price", flat=True)) == [Decimal("9.00"), Decimal("18.00")]


def test_dashboard_bulk_refuses_another_shops_listing(as_user, shop, shop_owner, other_shop):
    theirs = ListingFactory(shop=other_shop)

    response = as_user(shop_owner).post(
        "/shops/olives-books/dashboard/", {"action": "pause", "listing_ids": [theirs.pk]}
    )

    assert response.status_code == 200
    assert "Some of the chosen listings are not in this shop." in response.text
    theirs.refresh_from_db()
    assert theirs.status == "active"


# --- Shop editing and people ----------------------------------------------


def test_edit_shop_details_policies_and_vacation(as_user, shop, shop_staff):
    client = as_user(shop_staff)

    client.post(
        "/shops/olives-books/edit/",
        {
            "section": "details",
            "details-name": "Olive's Books & Maps",
            "details-tagline": "",
            "details-about": "Hello",
            "details-country": "GB",
            "details-city": "Bath",
            "details-logo": upload(image_bytes()),
        },
    )
    client.post(
        "/shops/olives-books/edit/",
        {
            "section": "policies",
            "policies-currency": "GBP",
            "policies-ships_to": ["IE"],
            "policies-domestic_first_item": "2.00",
            "policies-domestic_additional_item": "0.50",
            "policies-international_first_item": "8.00",
            "policies-international_additional_item": "2.00",
            "policies-returns_policy": "",
            "policies-payment_methods": ["card"],
            "policies-processing_days": "3",
        },
    )
    until = (timezone.localdate() + datetime.timedelta(days=5)).isoformat()
    client.post(
        "/shops/olives-books/edit/",
        {
            "section": "vacation",
            "vacation-is_on_vacation": "on",
            "vacation-vacation_message": "Back soon",
            "vacation-vacation_until": until,
        },
    )

    shop.refresh_from_db()
    assert (shop.name, shop.city, shop.about_html) == ("Olive's Books & Maps", "Bath", "<p>Hello</p>")
    assert bool(shop.logo_small)
    assert ([c.code for c in shop.ships_to], shop.payment_methods, shop.processing_days) == (["IE"], ["card"], 3)
    assert (shop.is_on_vacation, shop.vacation_message, shop.vacation_until.isoformat()) == (True, "Back soon", until)


def test_edit_shop_refuses_a_non_image_logo(as_user, shop, shop_owner):
    response = as_user(shop_owner).post(
        "/shops/olives-books/edit/",
        {
            "section": "details",
            "details-name": "Renamed",
            "details-country": "GB",
            "details-logo": upload(b"%PDF-1.4", name="logo.png"),
        },
    )

    assert response.status_code == 200
    assert "This file is not an image we can read." in response.text
    shop.refresh_from_db()
    assert (shop.name, bool(shop.logo_small)) == ("Olive's Books", False)


def test_owner_adds_a_person_staff_cannot(as_user, shop, shop_owner, shop_staff, buyer):
    refused = as_user(shop_staff).post("/shops/olives-books/people/", {"action": "add", "username": "bea"})
    added = as_user(shop_owner).post(
        "/shops/olives-books/people/", {"action": "add", "username": "bea", "title": "Maps"}
    )

    assert "Only the shop&#x27;s owner can add people." in refused.text
    assert added.status_code == 302
    assert ShopMember.objects.get(shop=shop, user=buyer).title == "Maps"


def test_other_shop_is_untouched_by_the_first_shops_people(as_user, shop_owner, other_shop):
    response = as_user(shop_owner).get(f"/shops/{other_shop.slug}/dashboard/")

    assert response.status_code == 404
    assert ShopFactory._meta.model.objects.get(pk=other_shop.pk).name == "Oscar's Records"


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/shops/olives-books/dashboard/", {"action": "pause"}),
        ("/shops/olives-books/dashboard/listings/new/", _listing_post()),
        ("/shops/olives-books/edit/", {"section": "vacation", "vacation-is_on_vacation": "on"}),
    ],
)
def test_state_changes_need_the_csrf_token(shop, shop_owner, url, data):
    listing = ListingFactory(shop=shop)
    client = Client(enforce_csrf_checks=True)
    client.force_login(shop_owner)
    before = _snapshot(shop)

    response = client.post(url, data | {"listing_ids": [listing.pk]})

    assert response.status_code == 403
    assert _snapshot(shop) == before


def test_storefront_paginates_and_keeps_the_query(client, shop):
    for number in range(30):
        ListingFactory(shop=shop, title=f"Atlas {number:02d}")

    first = client.get("/shops/olives-books/?q=atlas&sort=title")
    second = client.get("/shops/olives-books/?q=atlas&sort=title&page=2")

    assert len(first.context["page"].object_list) == 24
    assert "?q=atlas&amp;sort=title&amp;page=2" in first.text
    assert [item.title for item in second.context["page"].object_list] == [f"Atlas {n:02d}" for n in range(24, 30)]


def test_dashboard_row_buttons_pause_and_duplicate(as_user, shop, shop_owner):
    listing = ListingFactory(shop=shop)
    client = as_user(shop_owner)

    page = client.get("/shops/olives-books/dashboard/")
    client.post(f"/shops/olives-books/dashboard/listings/{listing.pk}/status/", {"status": "paused", "action": "pause"})

    assert f'formaction="/shops/olives-books/dashboard/listings/{listing.pk}/status/"' in page.text
    listing.refresh_from_db()
    assert listing.status == "paused"
