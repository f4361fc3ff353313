"""Recommendations counted from views and purchases: co-occurrence per item, incremental and
idempotent, a minimum number of people behind every figure, the network switch, and a person
switching the use of their own data off."""

from decimal import Decimal

import pytest
from django.db import transaction

from catalog.models import Work
from social import recommendations
from social.models import ItemPair, ItemStats, PersonItem, RecommendationEvent
from social.recommendations import Scope
from tests.factories import ListingFactory, UserFactory
from tests.sharing import share

pytestmark = pytest.mark.django_db


def work(title: str, number: int) -> Work:
    return Work.objects.create(title=title, creator="Ada Moss", identifier_kind="manual", identifier=f"W{number}")


@pytest.fixture
def catalogue(shop):
    """Four works on sale, one copy each, and a listing that is no copy of a known work."""
    items = {}
    for number, title in enumerate(["Lichens", "Mosses", "Ferns", "Fungi"], 1):
        items[title] = ListingFactory(shop=shop, title=f"{title} of Britain", work=work(title, number))
    items["Print"] = ListingFactory(shop=shop, title="Heron print", work=None)
    return items


def people(count: int, prefix: str = "reader") -> list:
    return [UserFactory(username=f"{prefix}{number}") for number in range(count)]


def looked(person, *listings) -> None:
    for listing in listings:
        recommendations.view_record(user=person, listing=listing)


def bought(person, *listings) -> None:
    with transaction.atomic():
        recommendations.purchases_record(user=person, listings=list(listings))


def titles(found) -> list[tuple[str, int]]:
    return [(entry.title, entry.people) for entry in found]


def for_listing(listing, *, viewer=None, scope=Scope.EVERYONE):
    return recommendations.recommendations_for(viewer=viewer, scope=scope, listing=listing)


def test_three_people_who_looked_at_both_make_a_recommendation_two_do_not(catalogue):
    lichens, mosses, ferns = catalogue["Lichens"], catalogue["Mosses"], catalogue["Ferns"]
    for person in people(3):
        looked(person, lichens, mosses)
    for person in people(2, "other"):
        looked(person, lichens, ferns)

    assert recommendations.events_count() == 10

    shown = for_listing(lichens)
    assert titles(shown.also_viewed) == [("Mosses", 3)]
    assert shown.also_bought == []
    assert (shown.viewers, shown.buyers) == (5, 0)
    assert shown.bought_percent is None
    assert titles(for_listing(ferns).also_viewed) == []


def test_a_work_is_one_item_whichever_copy_was_looked_at(catalogue, other_shop):
    lichens = catalogue["Lichens"]
    other_copy = ListingFactory(shop=other_shop, title="Lichens, second copy", work=lichens.work)
    readers = people(3)
    looked(readers[0], lichens, catalogue["Print"])
    looked(readers[1], other_copy, catalogue["Print"])
    looked(readers[2], lichens, other_copy, catalogue["Print"])
    recommendations.events_count()

    assert titles(for_listing(catalogue["Print"]).also_viewed) == [("Lichens", 3)]
    assert titles(
        recommendations.recommendations_for(viewer=None, scope=Scope.EVERYONE, work=lichens.work).also_viewed
    ) == [("Heron print", 3)]
    assert PersonItem.objects.filter(user=readers[2]).count() == 2


def test_buying_counts_as_looking_and_the_share_who_bought_needs_enough_people(catalogue):
    lichens, mosses = catalogue["Lichens"], catalogue["Mosses"]
    buyers = people(3, "buyer")
    for person in buyers:
        bought(person, lichens, mosses)
    looked(UserFactory(username="browser"), lichens)
    recommendations.events_count()

    shown = for_listing(lichens)
    assert titles(shown.also_bought) == [("Mosses", 3)]
    assert titles(shown.also_viewed) == [("Mosses", 3)]
    assert (shown.viewers, shown.buyers, shown.bought_percent) == (4, 3, 75)

    # With two buyers, "N% bought it" would point at too few people.
    ItemStats.objects.filter(item__work=lichens.work).update(buyers=2)
    assert for_listing(lichens).bought_percent is None


def test_counting_is_incremental_and_counts_each_person_once_however_often_or_twice_run(catalogue):
    lichens, mosses = catalogue["Lichens"], catalogue["Mosses"]
    readers = people(3)
    for person in readers:
        looked(person, lichens, mosses, lichens, mosses)
    assert recommendations.events_count() == 12
    assert recommendations.events_count() == 0
    first = list(ItemPair.objects.values_list("viewers", "buyers"))

    for person in readers:
        bought(person, lichens, mosses)
    assert recommendations.events_count() == 6

    assert first == [(3, 0), (3, 0)]
    assert sorted(ItemPair.objects.values_list("viewers", "buyers")) == [(3, 3), (3, 3)]
    assert RecommendationEvent.objects.count() == 0
    assert titles(for_listing(mosses).also_bought) == [("Lichens", 3)]


def test_items_that_cannot_be_bought_now_are_not_recommended(catalogue):
    lichens, mosses, print_ = catalogue["Lichens"], catalogue["Mosses"], catalogue["Print"]
    for person in people(3):
        looked(person, lichens, mosses, print_)
    recommendations.events_count()
    mosses.status = "paused"
    mosses.save()
    print_.status = "sold_out"
    print_.quantity = 0
    print_.save()

    assert titles(for_listing(lichens).also_viewed) == []
    assert titles(for_listing(mosses).also_viewed) == [("Lichens", 3)]


def test_the_network_switch_counts_only_the_people_i_follow(catalogue, buyer):
    from social import services

    lichens, mosses, ferns = catalogue["Lichens"], catalogue["Mosses"], catalogue["Ferns"]
    followed, others = people(3, "friend"), people(4, "crowd")
    for person in followed:
        bought(person, lichens, ferns)
        services.follow_create(follower=buyer, person=person)
    for person in others:
        bought(person, lichens, mosses)
    recommendations.events_count()

    everyone = for_listing(lichens, viewer=buyer, scope=Scope.EVERYONE)
    network = for_listing(lichens, viewer=buyer, scope=Scope.NETWORK)

    assert titles(everyone.also_bought) == [("Mosses", 4), ("Ferns", 3)]
    assert titles(network.also_bought) == [("Ferns", 3)]
    assert (network.viewers, network.buyers, network.bought_percent) == (3, 3, 100)
    assert network.is_network and not everyone.is_network

    # Unfollowing one of them leaves too few people behind the figures.
    services.follow_delete(follower=buyer, person=followed[0])
    fewer = for_listing(lichens, viewer=buyer, scope=Scope.NETWORK)
    assert fewer.also_bought == [] and fewer.bought_percent is None


def test_a_visitor_asking_for_the_network_gets_everyone(catalogue):
    assert recommendations.parse_scope("network", viewer=None) == Scope.EVERYONE


def test_switching_the_use_of_ones_data_off_takes_exactly_it_out_of_every_count(catalogue, buyer):
    lichens, mosses, ferns = catalogue["Lichens"], catalogue["Mosses"], catalogue["Ferns"]
    for person in people(3):
        bought(person, lichens, mosses)
    bought(buyer, lichens, mosses, ferns)
    recommendations.events_count()
    assert titles(for_listing(lichens).also_bought) == [("Mosses", 4)]

    share(buyer, use_for_recommendations=False)

    assert titles(for_listing(lichens).also_bought) == [("Mosses", 3)]
    assert sorted(ItemPair.objects.values_list("viewers", "buyers")) == [(3, 3), (3, 3)]
    assert ItemStats.objects.get(item__work=lichens.work).viewers == 3
    assert ItemStats.objects.get(item__work=ferns.work).viewers == 0
    assert not PersonItem.objects.filter(user=buyer).exists()

    # And what they do from now on is not recorded at all.
    looked(buyer, ferns)
    bought(buyer, ferns)
    assert not RecommendationEvent.objects.filter(user=buyer).exists()


def test_forgetting_a_person_undoes_the_pairs_of_their_window_exactly(catalogue, buyer, monkeypatch):
    monkeypatch.setattr(recommendations, "PAIR_WINDOW", 2)
    listings = [catalogue[title] for title in ("Lichens", "Mosses", "Ferns", "Fungi", "Print")]
    looked(buyer, *listings)
    recommendations.events_count()
    # Each item paired with the two counted before it: 4 + 3 ... = 7 pairs, both directions.
    assert ItemPair.objects.filter(viewers=1).count() == 14
    assert not ItemPair.objects.filter(item__work=listings[0].work, other__work=listings[3].work).exists()

    recommendations.person_forget(user_id=buyer.pk)

    assert ItemPair.objects.count() == 0
    assert sorted(ItemStats.objects.values_list("viewers", flat=True)) == [0, 0, 0, 0, 0]


def test_views_of_visitors_and_of_people_who_switched_off_are_not_recorded(catalogue, buyer):
    assert recommendations.view_record(user=None, listing=catalogue["Lichens"]) is False
    share(buyer, use_for_recommendations=False)
    assert recommendations.view_record(user=buyer, listing=catalogue["Lichens"]) is False
    assert RecommendationEvent.objects.count() == 0


def test_events_of_a_person_who_switched_off_before_the_count_are_dropped(catalogue, buyer):
    looked(buyer, catalogue["Lichens"], catalogue["Mosses"])
    share(buyer, use_for_recommendations=False)

    assert recommendations.events_count() == 0
    assert RecommendationEvent.objects.count() == 0
    assert PersonItem.objects.count() == 0


@pytest.mark.parametrize("size", [1, 5])
def test_recommendations_cost_two_queries_for_everyone_and_four_for_the_network(
    catalogue, shop, buyer, size, django_assert_num_queries
):
    from social import services

    lichens = catalogue["Lichens"]
    others = [ListingFactory(shop=shop, title=f"Extra {n}", price=Decimal("3.00")) for n in range(size)]
    for person in people(3):
        bought(person, lichens, *others)
        services.follow_create(follower=buyer, person=person)
    recommendations.events_count()

    # the pairs ranked by who also looked and who also bought (one query), the item's totals
    with django_assert_num_queries(2):
        everyone = for_listing(lichens, viewer=buyer)
    with django_assert_num_queries(4):
        network = for_listing(lichens, viewer=buyer, scope=Scope.NETWORK)

    assert len(everyone.also_bought) == len(network.also_bought) == size
    assert [entry.url for entry in network.also_bought] == [entry.url for entry in everyone.also_bought]
