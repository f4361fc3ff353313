"""The listing page: who may see it, what it shows, shipping to the viewer, and its query count."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from catalog.models import Category, Listing, ListingImage, Tag, TaggedListing, Work
from sellers.models import ShopMember
from tests.factories import ListingFactory, UserFactory

pytestmark = pytest.mark.django_db


def _client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _add_images(listing: Listing, count: int) -> None:
    for position in range(count):
        ListingImage.objects.create(
            listing=listing,
            position=position,
            thumbnail=ContentFile(b"thumb", name=f"t{position}.webp"),
            large=ContentFile(b"large", name=f"l{position}.webp"),
            alt_text=f"side {position}",
        )


def _tag(listing: Listing, name: str, person, *, is_seller_tag: bool = False) -> Tag:
    tag, _ = Tag.objects.get_or_create(name=name, defaults={"slug": name.replace(" ", "-")})
    TaggedListing.objects.create(tag=tag, content_object=listing, tagged_by=person, is_seller_tag=is_seller_tag)
    return tag


# --- Visibility ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["draft", "paused"])
@pytest.mark.parametrize("viewer", ["anonymous", "buyer", "other_shop_owner"])
def test_hidden_listing_is_not_found_for_outsiders(request, shop, status, viewer):
    # given a listing that is not on sale
    listing = ListingFactory(shop=shop, status=status, title="Hidden herbarium")
    user = None if viewer == "anonymous" else request.getfixturevalue(viewer)

    # when an outsider opens it
    response = _client_for(user).get(f"/listings/{listing.pk}/")

    # then it is as if it did not exist
    assert response.status_code == 404
    assert b"Hidden herbarium" not in response.content


@pytest.mark.parametrize("status", ["draft", "paused"])
@pytest.mark.parametrize("person", ["shop_owner", "shop_staff"])
def test_hidden_listing_is_visible_to_the_shops_people(request, shop, status, person):
    listing = ListingFactory(shop=shop, status=status, title="Hidden herbarium")

    response = _client_for(request.getfixturevalue(person)).get(f"/listings/{listing.pk}/")

    assert response.status_code == 200
    content = response.content.decode()
    assert "Hidden herbarium" in content
    shown_status = "a draft" if status == "draft" else "paused"
    assert f"This listing is {shown_status}: only the people of Olive&#x27;s Books can see it." in content
    assert f"/shops/olives-books/dashboard/listings/{listing.pk}/" in content


@pytest.mark.parametrize("status", ["active", "sold_out"])
def test_active_and_sold_out_listings_are_public(client, shop, status):
    listing = ListingFactory(shop=shop, status=status, quantity=0 if status == "sold_out" else 1)

    response = client.get(f"/listings/{listing.pk}/")

    assert response.status_code == 200
    assert ("Sold out." in response.content.decode()) is (status == "sold_out")
    assert "can see it." not in response.content.decode()


def test_unknown_listing_is_not_found(client):
    assert client.get("/listings/999999/").status_code == 404


# --- What the page shows -----------------------------------------------------------------------


def test_listing_page_shows_the_item_the_shop_and_its_people(client, shop, shop_staff):
    # given a listing with every attribute, pictures and a description
    ShopMember.objects.filter(user=shop_staff).update(title="Maps and atlases")
    listing = ListingFactory(
        shop=shop,
        title="The Lichen Atlas",
        creator="Ada Moss",
        publisher="Moss Press",
        year=1987,
        format="Hardcover",
        price=Decimal("24.00"),
        description_html="<p>Slight <em>foxing</em>.</p>",
    )
    _add_images(listing, 2)

    # when a visitor opens it
    content = client.get(f"/listings/{listing.pk}/").content.decode()

    # then the item, the shop card and the people behind it are shown
    for text in (
        '<h1 id="listing-title">The Lichen Atlas</h1>',
        "by Ada Moss",
        "<dd>Moss Press</dd>",
        "<dd>1987</dd>",
        "<dd>Hardcover</dd>",
        "<dd>Good</dd>",
        "24.00 GBP",
        "<p>Slight <em>foxing</em>.</p>",
        '<a href="/shops/olives-books/">Olive&#x27;s Books</a>',
        "Bristol, United Kingdom",
        "<strong>Olive Owner</strong>",
        "<strong>Sam Staff</strong>",
        "Maps and atlases",
        "Picture 2 of 2: side 1",
    ):
        assert text in content, text
    assert content.count(f"/media/listings/{listing.pk}/l0") >= 1
    assert "Edit this listing" not in content


def test_shipping_uses_the_signed_in_persons_country(shop, buyer):
    # given a buyer in the Netherlands, where the GB shop ships at 9.00 + 2.50
    buyer.country = "NL"
    buyer.save(update_fields=["country"])
    listing = ListingFactory(shop=shop, price=Decimal("12.50"))

    content = _client_for(buyer).get(f"/listings/{listing.pk}/").content.decode()

    assert "Shipping to Netherlands: <strong>9.00 GBP</strong>, 2.50 GBP for each additional item." in content
    assert "Price with shipping: <strong>21.50 GBP</strong>" in content
    assert '<option value="NL" selected>Netherlands</option>' in content


def test_country_selector_overrides_and_works_for_anyone(client, shop):
    listing = ListingFactory(shop=shop, price=Decimal("12.50"))

    domestic = client.get(f"/listings/{listing.pk}/?country=gb").content.decode()
    nowhere = client.get(f"/listings/{listing.pk}/?country=JP").content.decode()
    unknown = client.get(f"/listings/{listing.pk}/?country=ZZ").content.decode()

    assert "Shipping to United Kingdom: <strong>3.00 GBP</strong>, 1.00 GBP for each additional item." in domestic
    assert "Price with shipping: <strong>15.50 GBP</strong>" in domestic
    assert "Olive&#x27;s Books does not ship to Japan." in nowhere
    assert "Price with shipping" not in nowhere
    assert "Choose your country to see what shipping costs." in unknown


def test_vacation_notice_says_when_the_item_can_be_bought(client, shop):
    shop.is_on_vacation = True
    shop.vacation_until = datetime.date(2030, 8, 15)
    shop.vacation_message = "Gone foraging."
    shop.save()
    listing = ListingFactory(shop=shop)

    content = client.get(f"/listings/{listing.pk}/").content.decode()

    assert (
        "Olive&#x27;s Books is on vacation: this item cannot be bought until 15 August 2030. “Gone foraging.”"
        in content
    )


def test_breadcrumbs_lead_from_the_root_category(client, shop):
    books = Category.objects.create(name="Books", slug="books")
    nature = Category.objects.create(name="Nature", slug="nature", parent=books)
    listing = ListingFactory(shop=shop, category=nature, title="Mosses")

    content = client.get(f"/listings/{listing.pk}/").content.decode()

    assert (
        f'<li><a href="/categories/{books.pk}-books/">Books</a></li>'
        f'<li><a href="/categories/{nature.pk}-nature/">Nature</a></li>'
        f'\n    <li><span aria-current="page">Mosses</span></li>'
    ) in content


def test_other_copies_of_the_same_work_link_the_work_page(client, shop, other_shop):
    work = Work.objects.create(title="Mosses", identifier_kind="isbn", identifier="9780000000002")
    listing = ListingFactory(shop=shop, work=work)
    ListingFactory(shop=other_shop, work=work, price=Decimal("8.00"))
    ListingFactory(shop=other_shop, work=work, status="draft", price=Decimal("1.00"))
    ListingFactory(shop=other_shop, work=work, quantity=0, status="sold_out", price=Decimal("2.00"))

    content = client.get(f"/listings/{listing.pk}/").content.decode()

    assert "8.00 EUR, good</a> from Oscar&#x27;s Records" in content
    assert "1.00 EUR" not in content
    assert "2.00 EUR" not in content
    assert f'<a href="/works/{work.pk}/">Compare every copy with shipping</a>' in content


# --- Query count ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 6])
def test_listing_page_queries_do_not_grow_with_images_tags_people_or_copies(
    django_assert_num_queries, shop, other_shop, size
):
    # given a listing with `size` pictures, tags, extra people and other copies
    work = Work.objects.create(title="Mosses", identifier_kind="isbn", identifier="9780000000002")
    category = Category.objects.create(name="Books", slug="books")
    listing = ListingFactory(shop=shop, work=work, category=category)
    _add_images(listing, size)
    for number in range(size):
        person = UserFactory(username=f"tagger{number}")
        _tag(listing, f"tag {number}", person)
        ShopMember.objects.create(shop=shop, user=UserFactory(username=f"helper{number}"))
        ListingFactory(shop=other_shop, work=work)
    client = Client()
    client.get(f"/listings/{listing.pk}/")  # the first visit puts the shop's completion rate in the cache

    # then the page costs: the listing (with its shop, the shop's order terms and rating summary,
    # the category and its ancestors), images, people, other copies, tags; the recommendations'
    # two (the pairs ranked both ways, the item's totals: social.recommendations); the reviews
    # with their tally (one query); the shop's completion rate comes from the cache
    with django_assert_num_queries(8):
        response = client.get(f"/listings/{listing.pk}/")
    assert response.status_code == 200
    assert response.content.decode().count('rel="tag"') == size


# --- Tags -------------------------------------------------------------------------------------


def test_tag_section_shows_the_shops_tags_apart_with_counts_and_removal_of_ones_own(shop, shop_owner, buyer):
    # given a listing the shop tagged "maps" (a shopper too), and shoppers tagged "atlas"
    listing = ListingFactory(shop=shop, title="Mosses")
    _tag(listing, "maps", shop_owner, is_seller_tag=True)
    _tag(listing, "maps", buyer)
    _tag(listing, "atlas", buyer)
    _tag(listing, "atlas", UserFactory(username="third"))

    # when the shopper who tagged opens the page
    content = _client_for(buyer).get(f"/listings/{listing.pk}/").content.decode()

    # then the shop's tags come under the shop's name, shoppers' tags apart, each counted
    section = re.sub(r"\s+", " ", content[content.index('<section class="listing-tags"') :])
    section = section[: section.index("</section>")]
    assert '<h3 class="tag-group-title">From Olive&#x27;s Books</h3>' in section
    assert (
        '<a href="/tags/maps/" rel="tag" class="tag-chip tag-chip-shop">maps</a> '
        '<span class="muted tag-count">and 1 shopper</span>'
    ) in section
    assert '<h3 class="tag-group-title">From shoppers</h3>' in section
    assert (
        '<a href="/tags/atlas/" rel="tag" class="tag-chip">atlas</a> <span class="muted tag-count">2 people</span>'
        in (section)
    )
    # and the viewer may remove their own two applications, and nothing else
    assert section.count('class="tag-remove"') == 2
    assert f'action="/listings/{listing.pk}/tags/atlas/remove/"' in section
    assert 'name="name"' in section and 'data-tag-autocomplete="/api/tags/"' in section


def test_tag_section_asks_anonymous_visitors_to_log_in_and_offers_no_buttons(client, shop, buyer):
    listing = ListingFactory(shop=shop)
    _tag(listing, "maps", buyer)

    content = client.get(f"/listings/{listing.pk}/").content.decode()

    assert f'<a href="/accounts/login/?next=/listings/{listing.pk}/">Log in</a> to tag this listing' in content
    assert 'class="tag-remove"' not in content
    assert 'class="tag-form"' not in content
