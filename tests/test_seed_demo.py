from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from django.core.management import CommandError, call_command

from accounts.demo import DEMO_PASSWORD
from accounts.models import User
from messaging.models import Conversation, Message
from orders.models import Checkout, Order
from sellers.models import Shop

pytestmark = pytest.mark.django_db


def _snapshot():
    return list(User.objects.order_by("username").values_list("username", "display_name", "country", "city", "bio"))


def test_seed_demo_is_deterministic_and_idempotent():
    call_command("seed_demo", seed=7, stdout=None)
    first = _snapshot()
    call_command("seed_demo", seed=7)

    assert _snapshot() == first
    assert len(first) == 24
    assert EmailAddress.objects.filter(verified=True, primary=True).count() == 24
    assert User.objects.get(username="amara1").check_password(DEMO_PASSWORD)


def test_seed_demo_holds_a_couple_of_conversations_once(eager_tasks):
    call_command("seed_demo", seed=7)
    call_command("seed_demo", seed=7)

    conversations = {c.subject: c for c in Conversation.objects.select_related("shop", "listing")}
    assert sorted(conversations) == ["Do you buy collections?", "The Times Atlas of the World, 1967"]
    about_atlas = conversations["The Times Atlas of the World, 1967"]
    assert about_atlas.shop.slug == "harbour-lights-books" and about_atlas.listing.sku == "DEMO-ATLAS"
    assert list(about_atlas.messages.values_list("author__username", "for_shop")) == [
        ("chiara3", False),
        ("amara1", True),
        ("bruno2", True),
        ("bruno2", True),  # a private offer, made in the conversation
    ]
    offer_message = about_atlas.messages.get(offer__isnull=False)
    assert (offer_message.offer.price, offer_message.offer.buyer.username) == (Decimal("42.00"), "chiara3")
    assert Message.objects.count() == 6


def test_seed_demo_with_another_seed_gives_other_people():
    call_command("seed_demo", seed=7)
    first = _snapshot()
    # Orders and shops keep their people (protected keys): they go first.
    Order.objects.all().delete()
    Checkout.objects.all().delete()
    Shop.objects.all().delete()
    User.objects.all().delete()

    call_command("seed_demo", seed=8)

    assert _snapshot() != first


def test_seed_demo_refuses_production_without_explicit_consent(settings):
    settings.IS_PRODUCTION = True

    with pytest.raises(CommandError, match="Refusing"):
        call_command("seed_demo")

    assert User.objects.count() == 0


def _demo_catalog():
    """The listings of --listings' demo shops (the demo orders bring shops of their own)."""
    from catalog.models import Listing

    return Listing.objects.filter(shop__slug__startswith="demo-shop-")


def _catalog_snapshot():
    from catalog.models import TaggedListing

    listings = list(
        _demo_catalog().order_by("sku").values_list("sku", "shop__slug", "title", "price", "status", "published_at")
    )
    return listings, TaggedListing.objects.count()


def test_seed_demo_listings_is_deterministic_idempotent_and_searchable():
    from catalog import search
    from catalog.models import Listing, SearchDocument

    call_command("seed_demo", seed=7, listings=60)
    first = _catalog_snapshot()
    call_command("seed_demo", seed=7, listings=60)

    assert _catalog_snapshot() == first
    assert _demo_catalog().count() == 60
    assert _demo_catalog().values("shop").distinct().count() == 12
    indexed = Listing.objects.filter(status__in=["active", "sold_out"]).count()
    assert SearchDocument.objects.count() == indexed
    # Zipf-like titles: the most common words are in many titles, invented ones in few, others in none.
    common = search.search_listings(params=search.SearchParams(text="history", sort="newest"))
    assert common.count > 0
    assert search.search_listings(params=search.SearchParams(text="zzyzxqq")).count == 0


def test_seed_demo_listings_grows_to_a_larger_count_keeping_the_first_ones():

    call_command("seed_demo", seed=7, listings=20)
    first = _catalog_snapshot()[0]
    call_command("seed_demo", seed=7, listings=30)

    assert _demo_catalog().count() == 30
    assert _catalog_snapshot()[0][:20] == first


def test_seed_demo_refuses_a_negative_number_of_listings():
    with pytest.raises(CommandError, match="zero or more"):
        call_command("seed_demo", listings=-1)


def _social_snapshot():
    from catalog.models import Want
    from social.models import Activity, Favourite, Follow, ItemPair, PersonItem, SharingConsent

    return {
        "follows": sorted(
            (follower, person or "", shop or "")
            for follower, person, shop in Follow.objects.values_list(
                "follower__username", "person__username", "shop__slug"
            )
        ),
        "consents": SharingConsent.objects.count(),
        "favourites": Favourite.objects.count(),
        "wants": sorted(Want.objects.values_list("user__username", "text")),
        "activities": Activity.objects.count(),
        "counted": PersonItem.objects.count(),
        "pairs": sorted(ItemPair.objects.values_list("item_id", "other_id", "viewers", "buyers")),
    }


def test_seed_demo_gives_people_follows_choices_lists_wants_and_recommendations_once():
    call_command("seed_demo", seed=7)
    first = _social_snapshot()
    call_command("seed_demo", seed=7)

    assert _social_snapshot() == first
    assert first["consents"] == 24
    assert len(first["follows"]) > 24 and first["favourites"] > 0 and len(first["wants"]) == 12
    assert first["counted"] > 0 and first["pairs"]
