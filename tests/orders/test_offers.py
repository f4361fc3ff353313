"""Offers through the services: a shop's private offer to one buyer (its own price and shipping,
ordered on acceptance), and a buyer's offer the shop accepts, declines or counters, with the
copy reserved once agreed. Refusals change nothing."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from catalog.models import Listing
from notifications.models import Notification
from orders import services
from orders.lifecycle import Actor
from orders.models import Checkout, Offer, Order
from orders.tasks import run_deal_timers
from social.models import Activity, RecommendationEvent
from tests.factories import ListingFactory
from tests.orders.conftest import offer_snapshot

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
MONDAY = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def at(moment):
    return time_machine.travel(moment, tick=False)


def titles(user):
    return list(Notification.objects.filter(recipient=user).order_by("pk").values_list("title", flat=True))


def _private(listing, maker, **changes):
    values = {
        "buyer_username": "bea",
        "price": "15.00",
        "shipping_charge": "12.00",
        "ship_to": "JP",
        "valid_days": 7,
        "message": "I don't usually ship abroad, but for you…",
    }
    return services.private_offer_make(listing=listing, actor=maker, **{**values, **changes})


@pytest.fixture
def homebody(shop):
    """Olive's Books ships within Britain only."""
    shop.ships_to = []
    shop.save(update_fields=["ships_to"])
    return shop


# --- Private offers ---------------------------------------------------------------------------


def test_a_shop_that_does_not_ship_abroad_offers_shipping_to_japan_and_the_buyer_orders_it(
    homebody, atlas, shop_staff, buyer, japan_address, shop_owner
):
    with at(MONDAY):
        offer = _private(atlas, shop_staff)
    assert (offer.kind, offer.state, offer.price, offer.shipping_charge, offer.ship_to.code) == (
        "private",
        "open",
        Decimal("15.00"),
        Decimal("12.00"),
        "JP",
    )
    assert offer.signed_as == "Sam Staff"
    assert offer.respond_by == MONDAY + datetime.timedelta(days=7)
    assert offer.get_absolute_url() == f"/offers/{offer.token}/" and len(offer.token) >= 32
    assert titles(buyer) == ["Sam Staff made you an offer on An Atlas of Rivers"]

    with at(MONDAY + datetime.timedelta(days=1)):
        order = services.offer_order(
            offer=offer, actor=buyer, address_id=japan_address.pk, payment_method="bank_transfer", note="Thank you!"
        )

    offer.refresh_from_db()
    assert (offer.state, offer.order_id) == ("ordered", order.pk)
    assert (order.state, order.items_total, order.shipping_total, order.total) == (
        "new",
        Decimal("15.00"),
        Decimal("12.00"),
        Decimal("27.00"),
    )
    assert (order.ship_country.code, order.ship_city, order.buyer_note, order.payment_method) == (
        "JP",
        "Tokyo",
        "Thank you!",
        "bank_transfer",
    )
    assert [(item.title, item.unit_price, item.quantity) for item in order.items.all()] == [
        ("An Atlas of Rivers", Decimal("15.00"), 1)
    ]
    assert Listing.objects.get(pk=atlas.pk).quantity == 1  # the same stock take as a checkout
    assert [(e.transition, e.message) for e in order.events.all()] == [
        ("placed", "Bea Buyer placed the order."),
        (
            "offer",
            "From a private offer by Sam Staff of Olive's Books: 15.00 GBP, shipping to Japan 12.00 GBP.",
        ),
    ]
    assert {d.timer for d in order.deadlines.all()} == {"accept", "cancel_unaccepted"}
    assert titles(shop_owner) == [f"New order #{order.pk} from Bea Buyer"]
    assert [e.transition for e in offer.events.all()] == ["made", "order"]
    # a purchase like a checkout's: counted for recommendations and the buyer's activity
    assert list(RecommendationEvent.objects.filter(user=buyer).values_list("kind", "listing_id")) == [
        ("purchase", atlas.pk)
    ]
    assert Activity.objects.filter(actor=buyer, kind="bought", listing=atlas).exists()


def test_ordering_a_private_offer_twice_gives_the_same_order(atlas, shop_owner, buyer, japan_address):
    offer = _private(atlas, shop_owner)

    first = services.offer_order(offer=offer, actor=buyer, address_id=japan_address.pk)
    again = services.offer_order(offer=offer, actor=buyer, address_id=japan_address.pk)

    assert first.pk == again.pk
    assert Order.objects.count() == 1
    assert Checkout.objects.get().idempotency_key == f"offer-{offer.pk}"


def test_the_private_offers_shipping_is_for_its_country_only(atlas, shop_owner, buyer, buyer_address):
    offer = _private(atlas, shop_owner)
    before = offer_snapshot(offer)

    with pytest.raises(ValidationError) as refused:
        services.offer_order(offer=offer, actor=buyer, address_id=buyer_address.pk)

    assert refused.value.message_dict == {
        "address": ["This offer's shipping is for Japan: choose an address in Japan."]
    }
    assert offer_snapshot(offer) == before
    assert Order.objects.count() == 0


def test_an_expired_private_offer_cannot_be_ordered_even_before_the_timer_ran(atlas, shop_owner, buyer, japan_address):
    with at(MONDAY):
        offer = _private(atlas, shop_owner, valid_days=2)
    before = offer_snapshot(offer)

    with at(MONDAY + datetime.timedelta(days=2, minutes=1)), pytest.raises(ValidationError) as refused:
        services.offer_order(offer=offer, actor=buyer, address_id=japan_address.pk)

    assert refused.value.message_dict == {"offer": ["This offer expired on 4 March 2026, 10:00 UTC."]}
    assert offer_snapshot(offer) == before
    assert Order.objects.count() == 0 and Checkout.objects.count() == 0


def test_the_timer_expires_an_unanswered_private_offer_and_tells_both_sides(atlas, shop_owner, buyer):
    with at(MONDAY):
        offer = _private(atlas, shop_owner, valid_days=2)

    with at(MONDAY + datetime.timedelta(days=1)):
        assert run_deal_timers()["offers_expired"] == 0
    with at(MONDAY + datetime.timedelta(days=2, minutes=5)):
        assert run_deal_timers() == {"offers_expired": 1, "reservations_released": 0, "decisions_final": 0}
        assert run_deal_timers()["offers_expired"] == 0

    offer.refresh_from_db()
    assert (offer.state, offer.closed_at) == ("expired", MONDAY + datetime.timedelta(days=2, minutes=5))
    assert offer.events.last().message == "The offer expired: the buyer did not answer in time."
    assert titles(buyer)[-1] == "Offer on An Atlas of Rivers: expired"
    assert titles(shop_owner)[-1] == "Offer on An Atlas of Rivers: expired"


def test_someone_elses_private_offer_cannot_be_ordered(atlas, shop_owner, buyer, other_buyer, other_buyer_address):
    offer = _private(atlas, shop_owner)
    before = offer_snapshot(offer)

    with pytest.raises(PermissionDenied):
        services.offer_order(offer=offer, actor=other_buyer, address_id=other_buyer_address.pk)

    assert offer_snapshot(offer) == before


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"price": "0"}, {"price": ["Enter a price above zero."]}),
        ({"price": "-5"}, {"price": ["Enter a price above zero."]}),
        ({"price": "1000000"}, {"price": ["Enter a price of at most 999,999.99: larger amounts are typing mistakes."]}),
        ({"price": "12.345"}, {"price": ["Enter the price with at most two decimals."]}),
        ({"price": "a lot"}, {"price": ["Enter the price as a number, for example 12.50."]}),
        ({"price": "NaN"}, {"price": ["Enter the price as a number, for example 12.50."]}),
        ({"shipping_charge": "-1"}, {"shipping_charge": ["The shipping charge cannot be negative."]}),
        ({"buyer_username": "nobody"}, {"buyer": ["There is no one called “nobody” on Plural."]}),
        (
            {"buyer_username": "sam"},
            {"buyer": ["Sam Staff is one of the people of Olive's Books: offers go to buyers."]},
        ),
        ({"ship_to": "XX"}, {"ship_to": ["Choose the country."]}),
        ({"valid_days": 31}, {"valid_days": ["Enter between 1 and 30 days."]}),
        (
            {"price": "0", "buyer_username": ""},
            {
                "buyer": ["Enter the username of the person the offer is for."],
                "price": ["Enter a price above zero."],
            },
        ),
    ],
)
def test_a_private_offer_with_bad_input_is_refused_and_nothing_is_made(
    atlas, shop_owner, shop_staff, buyer, changes, errors
):
    with pytest.raises(ValidationError) as refused:
        _private(atlas, shop_owner, **changes)

    assert refused.value.message_dict == errors
    assert Offer.objects.count() == 0


def test_only_the_shops_people_make_its_private_offers(atlas, other_shop_owner, buyer):
    with pytest.raises(PermissionDenied):
        _private(atlas, other_shop_owner)
    assert Offer.objects.count() == 0


def test_a_private_offer_on_a_sold_out_listing_is_refused(shop, shop_owner, buyer):
    listing = ListingFactory(shop=shop, quantity=0, status="sold_out", title="Gone")

    with pytest.raises(ValidationError) as refused:
        _private(listing, shop_owner)

    assert refused.value.message_dict == {
        "listing": ["“Gone” is not on sale with a copy in stock, so it cannot be offered."]
    }


def test_the_buyer_declines_a_private_offer_and_the_shop_may_withdraw_an_open_one(atlas, shop_owner, buyer):
    declined = _private(atlas, shop_owner)
    services.offer_decline(offer=declined, actor=buyer, by=Actor.BUYER, message="Too dear, sorry.")
    withdrawn = _private(atlas, shop_owner)
    services.offer_withdraw(offer=withdrawn, actor=shop_owner, by=Actor.SHOP)

    declined.refresh_from_db()
    withdrawn.refresh_from_db()
    assert (declined.state, declined.events.last().message, declined.events.last().note) == (
        "declined",
        "Bea Buyer declined the private offer.",
        "Too dear, sorry.",
    )
    assert (withdrawn.state, withdrawn.events.last().message) == (
        "withdrawn",
        "Olive Owner of Olive's Books withdrew the offer.",
    )
    before = offer_snapshot(withdrawn)
    with pytest.raises(ValidationError) as refused:
        services.offer_withdraw(offer=withdrawn, actor=shop_owner, by=Actor.SHOP)
    assert refused.value.message_dict == {"offer": ["This offer was withdrawn, so it cannot be withdrawn now."]}
    assert offer_snapshot(withdrawn) == before


# --- Buyers' offers ---------------------------------------------------------------------------


def test_a_shop_that_does_not_take_offers_refuses_them(atlas, buyer):
    with pytest.raises(ValidationError) as refused:
        services.offer_make(listing_id=atlas.pk, actor=buyer, price="15")

    assert refused.value.message_dict == {
        "listing": ["Olive's Books does not take offers: buy it at its price, or ask the shop."]
    }
    assert Offer.objects.count() == 0


def test_a_buyer_offers_the_shop_counters_and_the_buyer_accepts_the_copy_reserved(
    takes_offers, atlas, buyer, shop_owner, shop_staff, buyer_address, settings
):
    settings.ORDERS_OFFER_RESERVATION_PERIOD = datetime.timedelta(hours=48)
    with at(MONDAY):
        offer = services.offer_make(listing_id=atlas.pk, actor=buyer, price="14.00", message="Would you take 14?")
    assert (offer.kind, offer.state, offer.price, offer.respond_by) == (
        "buyer",
        "open",
        Decimal("14.00"),
        MONDAY + datetime.timedelta(days=3),
    )
    assert titles(shop_staff) == ["Bea Buyer made you an offer on An Atlas of Rivers"]

    with at(MONDAY + datetime.timedelta(hours=2)):
        services.offer_counter(offer=offer, actor=shop_staff, price="17.00", message="17 and it is yours.")
    offer.refresh_from_db()
    assert (offer.state, offer.counter_price, offer.respond_by) == (
        "countered",
        Decimal("17.00"),
        MONDAY + datetime.timedelta(days=3, hours=2),
    )
    assert titles(buyer)[-1] == "Offer on An Atlas of Rivers: counter-offer of 17.00 GBP"

    with at(MONDAY + datetime.timedelta(hours=3)):
        services.offer_accept(offer=offer, actor=buyer, by=Actor.BUYER)
    offer.refresh_from_db()
    assert (offer.state, offer.agreed_price, offer.reserved_until) == (
        "accepted",
        Decimal("17.00"),
        MONDAY + datetime.timedelta(hours=51),
    )
    assert Listing.objects.get(pk=atlas.pk).quantity == 1  # one copy is held for the buyer

    with at(MONDAY + datetime.timedelta(hours=5)):
        order = services.offer_order(offer=offer, actor=buyer, address_id=buyer_address.pk)

    assert (order.items_total, order.shipping_total, order.total) == (
        Decimal("17.00"),
        Decimal("3.00"),
        Decimal("20.00"),
    )
    assert Listing.objects.get(pk=atlas.pk).quantity == 1  # the reserved copy, not a second one
    assert order.events.last().message == "At the price agreed in an offer: 17.00 GBP (listed at 20.00 GBP)."
    assert [e.transition for e in Offer.objects.get(pk=offer.pk).events.all()] == [
        "made",
        "counter",
        "accept_counter",
        "order_reserved",
    ]


def test_others_can_still_buy_while_an_offer_waits_and_then_it_cannot_be_accepted(
    takes_offers, shop, buyer, other_buyer, other_buyer_address, shop_owner
):
    from tests.orders.conftest import place

    single = ListingFactory(shop=shop, title="Only One", price=Decimal("20.00"), quantity=1)
    offer = services.offer_make(listing_id=single.pk, actor=buyer, price="15")

    [order] = place(other_buyer, other_buyer_address, single)
    before = offer_snapshot(offer)

    with pytest.raises(ValidationError) as refused:
        services.offer_accept(offer=offer, actor=shop_owner, by=Actor.SHOP)

    assert order.state == "new"
    assert refused.value.message_dict == {
        "offer": ["“Only One” has been sold meanwhile: there is no copy left to reserve."]
    }
    assert offer_snapshot(offer) == before


def test_one_open_offer_per_buyer_per_listing(takes_offers, atlas, buyer, other_buyer, shop_owner):
    first = services.offer_make(listing_id=atlas.pk, actor=buyer, price="15")

    with pytest.raises(ValidationError) as refused:
        services.offer_make(listing_id=atlas.pk, actor=buyer, price="16")

    assert refused.value.message_dict == {
        "price": ["You already have an open offer on this listing: see it under Your offers, or withdraw it first."]
    }
    assert list(Offer.objects.values_list("pk", flat=True)) == [first.pk]
    services.offer_make(listing_id=atlas.pk, actor=other_buyer, price="16")  # someone else may
    services.offer_decline(offer=first, actor=shop_owner, by=Actor.SHOP)
    again = services.offer_make(listing_id=atlas.pk, actor=buyer, price="17")  # once the first is closed
    assert again.state == "open"


def test_the_database_keeps_one_open_offer_per_buyer_per_listing(takes_offers, atlas, buyer):
    from django.db import IntegrityError, transaction

    offer = services.offer_make(listing_id=atlas.pk, actor=buyer, price="15")
    offer.pk = None
    offer.token = "another-token"
    with pytest.raises(IntegrityError), transaction.atomic():
        offer.save()


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("0", "Enter a price above zero."),
        ("-1", "Enter a price above zero."),
        ("20.00", "Offer less than its price of 20.00 GBP: at that price you can simply buy it."),
        ("999999999", "Enter a price of at most 999,999.99: larger amounts are typing mistakes."),
    ],
)
def test_a_buyers_offer_must_be_a_price_below_the_listings(takes_offers, atlas, buyer, price, message):
    with pytest.raises(ValidationError) as refused:
        services.offer_make(listing_id=atlas.pk, actor=buyer, price=price)

    assert refused.value.message_dict == {"price": [message]}
    assert Offer.objects.count() == 0


def test_a_shops_person_cannot_make_an_offer_to_their_own_shop(takes_offers, atlas, shop_staff):
    with pytest.raises(ValidationError) as refused:
        services.offer_make(listing_id=atlas.pk, actor=shop_staff, price="15")
    assert refused.value.message_dict == {"listing": ["You cannot make an offer to your own shop."]}


def test_a_counter_must_lie_between_the_offer_and_the_listings_price(takes_offers, atlas, buyer, shop_owner):
    offer = services.offer_make(listing_id=atlas.pk, actor=buyer, price="15")
    before = offer_snapshot(offer)

    for price, message in [
        ("15.00", "Counter with more than the 15.00 GBP offered, or accept it."),
        ("20.00", "Counter with less than the listing's price of 20.00 GBP, or decline the offer."),
        ("0", "Enter a price above zero."),
    ]:
        with pytest.raises(ValidationError) as refused:
            services.offer_counter(offer=offer, actor=shop_owner, price=price)
        assert refused.value.message_dict == {"price": [message]}
    assert offer_snapshot(offer) == before


def test_a_counter_on_a_lapsed_offer_is_refused(takes_offers, atlas, buyer, shop_owner):
    with at(MONDAY):
        offer = services.offer_make(listing_id=atlas.pk, actor=buyer, price="15")
    with at(MONDAY + datetime.timedelta(days=3, minutes=1)):
        before = offer_snapshot(offer)
        with pytest.raises(ValidationError) as early:
            services.offer_counter(offer=offer, actor=shop_owner, price="17")
        assert offer_snapshot(offer) == before
        run_deal_timers()
        with pytest.raises(ValidationError) as late:
            services.offer_counter(offer=offer, actor=shop_owner, price="17")

    assert early.value.message_dict == {"offer": ["This offer expired on 5 March 2026, 10:00 UTC."]}
    assert late.value.message_dict == {"offer": ["This offer has expired, so it cannot be countered now."]}
    offer.refresh_from_db()
    assert (offer.state, offer.counter_price) == ("expired", None)
    assert offer.events.last().message == "The offer expired: Olive's Books did not answer in time."


def test_a_reservation_not_ordered_in_time_gives_the_copy_back(
    takes_offers, atlas, buyer, shop_owner, buyer_address, settings
):
    settings.ORDERS_OFFER_RESERVATION_PERIOD = datetime.timedelta(hours=48)
    with at(MONDAY):
        offer = services.offer_make(listing_id=atlas.pk, actor=buyer, price="15")
        services.offer_accept(offer=offer, actor=shop_owner, by=Actor.SHOP)
    assert Listing.objects.get(pk=atlas.pk).quantity == 1
    assert (
        titles(buyer)[-1]
        == "Offer on An Atlas of Rivers: accepted at 15.00 GBP, reserved until 4 March 2026, 10:00 UTC"
    )

    with at(MONDAY + datetime.timedelta(hours=47)):
        assert run_deal_timers()["reservations_released"] == 0
    with at(MONDAY + datetime.timedelta(hours=48, minutes=1)):
        assert run_deal_timers() == {"offers_expired": 0, "reservations_released": 1, "decisions_final": 0}
        assert run_deal_timers()["reservations_released"] == 0
        with pytest.raises(ValidationError) as refused:
            services.offer_order(offer=offer, actor=buyer, address_id=buyer_address.pk)

    offer.refresh_from_db()
    assert offer.state == "released"
    assert Listing.objects.get(pk=atlas.pk).quantity == 2  # back on sale, exactly once
    assert refused.value.message_dict == {
        "offer": ["This offer lapsed: its reservation ended, so it cannot be ordered now."]
    }
    assert titles(buyer)[-1] == "Offer on An Atlas of Rivers: the reservation ended: the copy is back on sale"
    assert Order.objects.count() == 0


def test_the_last_copy_reserved_goes_sold_out_and_comes_back_when_released(takes_offers, shop, buyer, shop_owner):
    single = ListingFactory(shop=shop, title="Only One", price=Decimal("20.00"), quantity=1)
    with at(MONDAY):
        offer = services.offer_make(listing_id=single.pk, actor=buyer, price="15")
        services.offer_accept(offer=offer, actor=shop_owner, by=Actor.SHOP)
    assert Listing.objects.filter(pk=single.pk).values_list("quantity", "status").get() == (0, "sold_out")

    with at(MONDAY + datetime.timedelta(days=3)):
        run_deal_timers()

    assert Listing.objects.filter(pk=single.pk).values_list("quantity", "status").get() == (1, "active")


def test_the_buyer_withdraws_or_declines_and_the_shop_is_told(takes_offers, atlas, buyer, shop_owner):
    withdrawn = services.offer_make(listing_id=atlas.pk, actor=buyer, price="15")
    services.offer_withdraw(offer=withdrawn, actor=buyer, by=Actor.BUYER)
    countered = services.offer_make(listing_id=atlas.pk, actor=buyer, price="15")
    services.offer_counter(offer=countered, actor=shop_owner, price="18")
    services.offer_decline(offer=countered, actor=buyer, by=Actor.BUYER)

    assert Offer.objects.get(pk=withdrawn.pk).state == "withdrawn"
    assert Offer.objects.get(pk=countered.pk).state == "declined"
    assert titles(shop_owner)[-3:] == [
        "Offer on An Atlas of Rivers: withdrawn by the buyer",
        "Bea Buyer made you an offer on An Atlas of Rivers",
        "Offer on An Atlas of Rivers: the counter-offer declined",
    ]


def test_the_wrong_side_cannot_take_the_other_sides_step(takes_offers, atlas, buyer, shop_owner, other_shop_owner):
    offer = services.offer_make(listing_id=atlas.pk, actor=buyer, price="15")
    before = offer_snapshot(offer)

    with pytest.raises(PermissionDenied):
        services.offer_accept(offer=offer, actor=other_shop_owner, by=Actor.SHOP)
    with pytest.raises(PermissionDenied):
        services.offer_accept(offer=offer, actor=shop_owner, by=Actor.BUYER)
    with pytest.raises(ValidationError) as refused:
        services.offer_accept(offer=offer, actor=buyer, by=Actor.BUYER)  # no counter-offer to accept

    assert refused.value.message_dict == {"offer": ["This offer is still open, so it cannot be accepted now."]}
    assert offer_snapshot(offer) == before
