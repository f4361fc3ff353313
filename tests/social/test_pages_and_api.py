"""The social layer on other pages (listing, work, storefront, profile), the pages that need
signing in, CSRF, and the recommendation endpoint."""

import pytest
from django.db import transaction
from django.test import Client

from catalog.models import Category, Work
from social import recommendations, services
from social.models import Audience, Favourite, Follow, RecommendationEvent
from tests.factories import ListingFactory, UserFactory
from tests.sharing import share

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/feed/", "/feed/nearby/", "/sharing/", "/activity/", "/favourites/", "/wants/"])
def test_personal_pages_ask_visitors_to_sign_in(path):
    response = Client().get(path)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


def test_the_account_menu_leads_to_the_feed_favourites_and_wants(buyer, signed_in):
    content = signed_in(buyer).get("/").content.decode()

    for link in ('href="/feed/">Feed</a>', 'href="/favourites/">Favourites</a>', 'href="/wants/">Wants</a>'):
        assert link in content
    assert 'href="/feed/everyone/">What everyone is doing</a>' in Client().get("/").content.decode()


def test_saving_a_listing_from_its_page(buyer, listing, signed_in):
    client = signed_in(buyer)
    page = client.get(f"/listings/{listing.pk}/").content.decode()
    assert "Save to favourites" in page

    response = client.post(f"/listings/{listing.pk}/favourite/", {"next": f"/listings/{listing.pk}/"}, follow=True)

    assert "Saved to “Favourites”." in response.content.decode()
    assert "Saved in <a" in response.content.decode()
    favourite = Favourite.objects.get()
    assert (favourite.listing, favourite.favourite_list.owner) == (listing, buyer)


def test_a_shop_person_and_a_visitor_see_no_favourite_button_the_visitor_is_invited(listing, shop_owner, signed_in):
    assert "Save to favourites" not in signed_in(shop_owner).get(f"/listings/{listing.pk}/").content.decode()
    assert "to save this to your favourites" in signed_in(None).get(f"/listings/{listing.pk}/").content.decode()


def test_a_visit_of_a_listing_counts_as_looking_at_it_for_shoppers_only(buyer, listing, shop, shop_owner, signed_in):
    draft = ListingFactory(shop=shop, status="draft")
    signed_in(buyer).get(f"/listings/{listing.pk}/")
    signed_in(None).get(f"/listings/{listing.pk}/")
    signed_in(shop_owner).get(f"/listings/{listing.pk}/")
    signed_in(shop_owner).get(f"/listings/{draft.pk}/")
    work = Work.objects.create(title="Mosses", identifier_kind="manual", identifier="M1")
    signed_in(buyer).get(f"/works/{work.pk}/")

    assert set(RecommendationEvent.objects.values_list("user__username", "listing_id", "work_id")) == {
        ("bea", None, work.pk),
        ("bea", listing.pk, None),
    }


@pytest.mark.parametrize("size", [1, 5])
def test_a_signed_in_shoppers_listing_page_costs_the_same_whatever_it_recommends(
    buyer, shop, size, signed_in, django_assert_num_queries
):
    work = Work.objects.create(title="Lichens", identifier_kind="manual", identifier="L1")
    category = Category.objects.create(name="Botany", slug="botany")
    listing = ListingFactory(shop=shop, title="Lichens", work=work, category=category)
    others = [ListingFactory(shop=shop, title=f"Other {number}") for number in range(size)]
    for number in range(3):
        person = UserFactory(username=f"reader{number}")
        with transaction.atomic():
            recommendations.purchases_record(user=person, listings=[listing, *others])
    recommendations.events_count()
    services.favourite_add(owner=buyer, listing=others[0])
    client = signed_in(buyer)
    client.get(f"/listings/{listing.pk}/")  # the first visit puts the shop's completion rate in the cache

    # session, user, unread notifications and conversations; the listing page's own five (the
    # listing with its shop, the shop's order terms and rating summary, the category and its
    # ancestors; images, people, other copies, tags); the view recorded unless the viewer
    # switched that off (one statement); the recommendations' two (the pairs ranked both ways,
    # the item's totals); the viewer's lists for the favourite button; the viewer's open offer;
    # the reviews with their tally and the viewer's votes (one query)
    with django_assert_num_queries(15):
        response = client.get(f"/listings/{listing.pk}/")

    assert response.content.decode().count(" people</span></li>") == 2 * size


def test_the_switch_between_everyone_and_people_i_follow(buyer, shop, signed_in):
    lichens, mosses, ferns = (ListingFactory(shop=shop, title=title) for title in ("Lichens", "Mosses", "Ferns"))
    for number in range(3):
        friend = UserFactory(username=f"friend{number}")
        services.follow_create(follower=buyer, person=friend)
        with transaction.atomic():
            recommendations.purchases_record(user=friend, listings=[lichens, ferns])
    for number in range(4):
        with transaction.atomic():
            recommendations.purchases_record(user=UserFactory(username=f"crowd{number}"), listings=[lichens, mosses])
    recommendations.events_count()
    client = signed_in(buyer)

    everyone = client.get(f"/listings/{lichens.pk}/").content.decode()
    network = client.get(f"/listings/{lichens.pk}/?recommend=network").content.decode()

    assert "People who bought this also bought" in everyone
    assert everyone.index(">Mosses</a>") < everyone.index(">Ferns</a>")
    assert "People you follow who bought this also bought" in network
    assert ">Ferns</a>" in network and ">Mosses</a>" not in network
    assert "<strong>100%</strong> of the people you follow who looked at this bought it." in network
    visitor = Client().get(f"/listings/{lichens.pk}/?recommend=network").content.decode()
    assert "People who bought this also bought" in visitor and "(log in)" in visitor


@pytest.mark.parametrize("level", list(Audience))
def test_recommendations_never_show_one_persons_purchase_whatever_they_share(buyer, other_buyer, shop, api, level):
    share(other_buyer, bought=level)
    services.follow_create(follower=buyer, person=other_buyer)
    lichens, mosses = ListingFactory(shop=shop, title="Lichens"), ListingFactory(shop=shop, title="Mosses")
    with transaction.atomic():
        recommendations.purchases_record(user=other_buyer, listings=[lichens, mosses])
    recommendations.events_count()

    for scope in ("everyone", "network"):
        answer = api(buyer).get("/api/recommendations/", {"listing": lichens.pk, "scope": scope}).json()
        assert answer == {
            "scope": scope,
            "also_viewed": [],
            "also_bought": [],
            "bought_percent": None,
            "min_support": 3,
        }
    page = Client().get(f"/listings/{lichens.pk}/").content.decode()
    assert "Nothing to show yet: a figure appears once at least 3 people are behind it" in page
    assert "otto" not in page.lower()


def test_the_recommendation_endpoint_refuses_what_it_cannot_answer(shop, api, buyer):
    draft = ListingFactory(shop=shop, status="draft")

    assert api().get("/api/recommendations/", {"listing": 1, "scope": "network"}).json() == {
        "scope": ["Sign in to count over the people you follow."]
    }
    assert api(buyer).get("/api/recommendations/", {"scope": "network"}).json() == {
        "non_field_errors": ["Name either a listing or a work."]
    }
    assert api(buyer).get("/api/recommendations/", {"listing": 1, "scope": "friends"}).status_code == 400
    assert api(buyer).get("/api/recommendations/", {"listing": draft.pk}).status_code == 404
    assert api(buyer).get("/api/recommendations/", {"work": 999}).status_code == 404


def test_following_a_shop_from_its_storefront(buyer, shop, signed_in):
    client = signed_in(buyer)
    assert "0 followers" in client.get("/shops/olives-books/").content.decode()

    followed = client.post(
        "/shops/olives-books/follow/", {"next": "/shops/olives-books/"}, follow=True
    ).content.decode()
    assert "You follow Olive&#x27;s Books: its new listings come to your feed." in followed
    assert "1 follower</a>" in followed and ">Unfollow<" in followed

    client.post("/shops/olives-books/unfollow/")
    assert not Follow.objects.exists()
    assert "Save this shop" in client.get("/shops/olives-books/").content.decode()


def test_following_a_person_from_their_profile_and_being_followed_back(buyer, other_buyer, signed_in):
    bea, otto = signed_in(buyer), signed_in(other_buyer)
    bea.post("/people/otto/follow/")

    assert "Follows you" in otto.get("/people/bea/").content.decode()
    assert "1 follower</a>" in bea.get("/people/otto/").content.decode()
    assert ">Unfollow<" in bea.get("/people/otto/").content.decode()
    assert "Follow<span" not in bea.get("/people/bea/").content.decode()  # no button on one's own profile


def test_follow_forms_need_the_csrf_token(buyer, other_buyer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(buyer)

    assert client.post("/people/otto/follow/").status_code == 403
    assert client.post(f"/listings/{ListingFactory().pk}/favourite/").status_code == 403
    assert not Follow.objects.exists() and not Favourite.objects.exists()


def test_the_feed_invites_choosing_what_to_share_until_one_has(buyer, signed_in):
    assert "Nothing you do is shown to anyone yet." in signed_in(buyer).get("/feed/").content.decode()
    share(buyer)
    assert "Nothing you do is shown to anyone yet." not in signed_in(buyer).get("/feed/").content.decode()


def test_a_broken_older_link_shows_the_newest_with_a_message(buyer, signed_in):
    content = signed_in(buyer).get("/feed/?before=garbage").content.decode()

    assert "This link to older activity is not valid. Showing the newest instead." in content
