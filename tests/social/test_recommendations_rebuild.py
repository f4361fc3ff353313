"""The full rebuild of the recommendation tables from the orders: the same rows as counting
the events one by one, nothing changed by a second run, and the people whose data is not used
left out as the incremental path leaves them."""

import pytest
from django.core.management import call_command

from catalog.models import Work
from social import recommendations, services, tasks
from social.models import ItemPair, ItemStats, PersonItem, RecommendationItem
from tests.factories import ListingFactory, ShopFactory, UserFactory

from .buying import buy

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue():
    """Two copies of one work in two shops, two more works and two listings of no known work."""
    shop = ShopFactory(slug="herbarium", payment_methods=["bank_transfer"])
    other_shop = ShopFactory(slug="print-room", payment_methods=["bank_transfer"])
    lichens = Work.objects.create(title="Lichens", creator="Ada Moss", identifier_kind="manual", identifier="W1")
    items = {"Lichens": ListingFactory(shop=shop, title="Lichens of Britain", work=lichens, quantity=50)}
    items["Lichens again"] = ListingFactory(shop=other_shop, title="Lichens, a copy", work=lichens, quantity=50)
    for number, title in enumerate(["Mosses", "Ferns"], 2):
        work = Work.objects.create(title=title, creator="Ada Moss", identifier_kind="manual", identifier=f"W{number}")
        items[title] = ListingFactory(shop=shop, title=f"{title} of Britain", work=work, quantity=50)
    items["Print"] = ListingFactory(shop=other_shop, title="Heron print", work=None, quantity=50)
    items["Map"] = ListingFactory(shop=shop, title="Old map", work=None, quantity=50)
    return items


def tables() -> dict:
    return {
        "items": list(
            RecommendationItem.objects.order_by("work_id", "listing_id").values_list("work_id", "listing_id")
        ),
        "people": list(
            PersonItem.objects.order_by("user_id", "item_id").values_list(
                "user_id", "item_id", "view_number", "viewed_at", "purchase_number", "bought_at"
            )
        ),
        "stats": list(ItemStats.objects.order_by("item_id").values_list("item_id", "viewers", "buyers")),
        "pairs": list(
            ItemPair.objects.order_by("item_id", "other_id").values_list("item_id", "other_id", "viewers", "buyers")
        ),
    }


def shop_around(catalogue) -> list:
    """Five people look and buy, each in their own order; one buys a second copy of a work."""
    c = catalogue
    shoppers = [UserFactory(username=f"shopper{number}") for number in range(5)]
    for number, person in enumerate(shoppers):
        recommendations.view_record(user=person, listing=c["Mosses"])
        buy(person, c["Lichens"], c["Print"], key=f"first-{number}")
        recommendations.view_record(user=person, listing=c["Ferns"])
        if number % 2 == 0:
            buy(person, c["Map"], c["Lichens again"], key=f"second-{number}")
        if number == 4:
            buy(person, c["Mosses"], key="third")
    return shoppers


def test_the_rebuild_gives_exactly_the_rows_counting_the_events_gave(catalogue):
    shop_around(catalogue)
    recommendations.events_count()
    counted = tables()
    assert counted["pairs"] and any(buyers >= 3 for *_, buyers in counted["pairs"])

    rebuilt = recommendations.recommendations_rebuild()

    assert tables() == counted
    assert rebuilt.changed == 0
    assert rebuilt.purchases == sum(1 for row in counted["people"] if row[4] is not None) == 5 * 2 + 3 * 1 + 1
    assert rebuilt.pairs == len(counted["pairs"])


def test_running_it_twice_changes_nothing(catalogue):
    shop_around(catalogue)
    # Counted before: the rebuild has it all to do (the waiting events it counts first are views).
    recommendations.events_count()
    ItemPair.objects.all().delete()
    ItemStats.objects.all().delete()
    PersonItem.objects.update(purchase_number=None, bought_at=None)

    first = recommendations.recommendations_rebuild()
    after_first = tables()
    second = recommendations.recommendations_rebuild()

    assert tables() == after_first
    assert second.changed == 0 and first.changed == first.purchases + len(after_first["stats"]) + first.pairs
    assert (second.purchases, second.pairs) == (first.purchases, first.pairs)


def test_from_empty_tables_it_counts_the_purchases_as_the_events_would(catalogue, buyer):
    shop_around(catalogue)
    recommendations.events_count()

    def without_moments(snapshot):
        return {
            **snapshot,
            "people": [(user, item, view, purchase) for user, item, view, _, purchase, _ in snapshot["people"]],
        }

    # Views are counted nowhere but PersonItem: only a world of purchases can be rebuilt from nothing.
    PersonItem.objects.filter(purchase_number__isnull=True).delete()
    ItemPair.objects.all().delete()
    ItemStats.objects.all().delete()
    only_bought = UserFactory(username="quiet")
    buy(only_bought, catalogue["Mosses"], catalogue["Ferns"], key="quiet")
    PersonItem.objects.all().delete()
    RecommendationItem.objects.all().delete()
    recommendations.recommendations_rebuild()
    rebuilt = without_moments(tables())

    PersonItem.objects.all().delete()
    ItemPair.objects.all().delete()
    ItemStats.objects.all().delete()
    for person in [*_shoppers(), only_bought]:
        recommendations.purchases_record(user=person, listings=_bought_in_order(person))
    recommendations.events_count()
    recounted = without_moments(tables())

    assert rebuilt == recounted
    assert {row[1] for row in rebuilt["people"] if row[0] == only_bought.pk} == set(
        RecommendationItem.objects.filter(work__title__in=["Mosses", "Ferns"]).values_list("pk", flat=True)
    )


def _shoppers():
    from accounts.models import User

    return list(User.objects.filter(username__startswith="shopper").order_by("pk"))


def _bought_in_order(person):
    from orders.models import OrderItem

    return [
        line.listing for line in OrderItem.objects.filter(order__buyer=person).select_related("listing").order_by("pk")
    ]


def test_people_who_switched_the_use_of_their_data_off_are_left_out_as_counting_leaves_them(catalogue, buyer):
    c = catalogue
    shoppers = shop_around(catalogue)
    # Bea buys, switches off (forgotten), buys while off, switches on and buys again: only the
    # last purchase counts. The first shopper switches off and stays off.
    buy(buyer, c["Lichens"], c["Print"], key="bea-1")
    services.recommendations_use_set(user=buyer, use_for_recommendations=False)
    buy(buyer, c["Ferns"], key="bea-2")
    services.recommendations_use_set(user=buyer, use_for_recommendations=True)
    buy(buyer, c["Map"], c["Mosses"], key="bea-3")
    services.recommendations_use_set(user=shoppers[0], use_for_recommendations=False)
    recommendations.events_count()
    counted = tables()

    rebuilt = recommendations.recommendations_rebuild()

    assert tables() == counted
    assert rebuilt.changed == 0
    assert not PersonItem.objects.filter(user=shoppers[0]).exists()
    bea = set(PersonItem.objects.filter(user=buyer).values_list("item__work__title", "item__listing__title"))
    assert bea == {("Mosses", None), (None, "Old map")}


def test_the_command_and_the_task_rebuild_too(catalogue, capsys):
    shop_around(catalogue)

    call_command("recommendations_rebuild")
    counted = tables()
    assert "Recounted 14 purchases" in capsys.readouterr().out

    assert tasks.rebuild_recommendations.apply().get() == 0
    assert tables() == counted
