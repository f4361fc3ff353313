"""The work page, the built-in price comparator: shipping, totals, sort order, currencies, queries."""

import datetime
from decimal import Decimal

import pytest
from django.test import Client

from catalog.models import Work
from catalog.selectors import work_comparison
from tests.factories import ListingFactory, ShopFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def work():
    return Work.objects.create(
        title="Mosses of Europe", creator="Ada Moss", identifier_kind="isbn", identifier="9780000000002"
    )


def _gbp_shop(name: str, *, domestic: str = "3.00", international: str = "9.00", ships_to=("NL", "DE")):
    return ShopFactory(
        name=name,
        country="GB",
        currency="GBP",
        domestic_first_item=Decimal(domestic),
        international_first_item=Decimal(international),
        ships_to=list(ships_to),
    )


def _eur_shop(name: str, *, domestic: str = "4.00", international: str = "12.00", ships_to=("GB",)):
    return ShopFactory(
        name=name,
        country="NL",
        currency="EUR",
        domestic_first_item=Decimal(domestic),
        international_first_item=Decimal(international),
        ships_to=list(ships_to),
    )


def _summary(comparison) -> list[tuple]:
    return [
        (group.currency, [(offer.shop.name, offer.price, offer.shipping, offer.total) for offer in group.offers])
        for group in comparison.groups
    ]


def test_copies_are_sorted_by_total_within_a_currency_not_by_price(work):
    # given a cheap copy with dear shipping and a dearer copy with cheap shipping, both to GB
    cheap_far = _gbp_shop("Far Books", domestic="9.00")
    dear_near = _gbp_shop("Near Books", domestic="1.00")
    ListingFactory(shop=cheap_far, work=work, price=Decimal("10.00"))
    ListingFactory(shop=dear_near, work=work, price=Decimal("15.00"))

    # when a viewer in the UK compares them
    comparison = work_comparison(work=work, country="GB")

    # then the total decides
    assert _summary(comparison) == [
        (
            "GBP",
            [
                ("Near Books", Decimal("15.00"), Decimal("1.00"), Decimal("16.00")),
                ("Far Books", Decimal("10.00"), Decimal("9.00"), Decimal("19.00")),
            ],
        )
    ]
    assert comparison.not_shipping == []


def test_copies_that_do_not_ship_to_the_viewer_come_last_and_apart(work):
    ships = _gbp_shop("Ships Books", ships_to=("NL",))
    stays = _gbp_shop("Stays Books", ships_to=())
    ListingFactory(shop=stays, work=work, price=Decimal("1.00"))
    ListingFactory(shop=ships, work=work, price=Decimal("20.00"))

    comparison = work_comparison(work=work, country="NL")

    assert _summary(comparison) == [("GBP", [("Ships Books", Decimal("20.00"), Decimal("9.00"), Decimal("29.00"))])]
    assert [(offer.shop.name, offer.ships, offer.total) for offer in comparison.not_shipping] == [
        ("Stays Books", False, None)
    ]


def test_currency_groups_lead_with_the_viewers_currency_and_never_add_across(work):
    # given copies priced in pounds and in euros
    gbp = _gbp_shop("Pound Books", ships_to=("NL",))
    eur_one = _eur_shop("Euro Books")
    eur_two = _eur_shop("Euro Records", domestic="2.00")
    ListingFactory(shop=gbp, work=work, price=Decimal("5.00"))
    ListingFactory(shop=eur_one, work=work, price=Decimal("6.00"))
    ListingFactory(shop=eur_two, work=work, price=Decimal("7.00"))

    # when a viewer in the Netherlands compares: euros first, sorted by total in euros
    in_nl = work_comparison(work=work, country="NL")
    # and when the same viewer asks for pounds first
    pounds_first = work_comparison(work=work, country="NL", currency="GBP")

    assert _summary(in_nl) == [
        (
            "EUR",
            [
                ("Euro Records", Decimal("7.00"), Decimal("2.00"), Decimal("9.00")),
                ("Euro Books", Decimal("6.00"), Decimal("4.00"), Decimal("10.00")),
            ],
        ),
        ("GBP", [("Pound Books", Decimal("5.00"), Decimal("9.00"), Decimal("14.00"))]),
    ]
    assert in_nl.currency == "EUR"
    assert [group.currency for group in pounds_first.groups] == ["GBP", "EUR"]
    assert pounds_first.currency == "GBP"


def test_without_a_country_copies_are_sorted_by_price_with_no_totals(work):
    first = _gbp_shop("First Books")
    second = _gbp_shop("Second Books", domestic="0.00")
    ListingFactory(shop=second, work=work, price=Decimal("8.00"))
    ListingFactory(shop=first, work=work, price=Decimal("7.00"))

    comparison = work_comparison(work=work, country=None)

    assert _summary(comparison) == [
        ("GBP", [("First Books", Decimal("7.00"), None, None), ("Second Books", Decimal("8.00"), None, None)])
    ]
    assert [offer.ships for offer in comparison.groups[0].offers] == [None, None]


def test_only_active_copies_in_stock_are_compared_and_vacations_come_after(work):
    open_shop = _gbp_shop("Open Books")
    away = _gbp_shop("Away Books", domestic="0.00")
    away.is_on_vacation = True
    away.save()
    ListingFactory(shop=open_shop, work=work, price=Decimal("30.00"))
    ListingFactory(shop=away, work=work, price=Decimal("1.00"))
    for status, quantity in (("draft", 1), ("paused", 1), ("sold_out", 0)):
        ListingFactory(shop=open_shop, work=work, price=Decimal("0.50"), status=status, quantity=quantity)

    comparison = work_comparison(work=work, country="GB")

    assert [(offer.shop.name, offer.is_on_vacation) for offer in comparison.groups[0].offers] == [
        ("Open Books", False),
        ("Away Books", True),
    ]


def test_work_page_shows_the_comparison_for_the_signed_in_persons_country(work, buyer):
    # given a buyer in Germany and copies from a British and a Dutch shop
    buyer.country = "DE"
    buyer.save(update_fields=["country"])
    gbp = _gbp_shop("Pound Books", ships_to=("DE",))
    eur = _eur_shop("Euro Books", ships_to=("GB",))
    gbp_copy = ListingFactory(shop=gbp, work=work, price=Decimal("5.00"))
    ListingFactory(shop=eur, work=work, price=Decimal("6.00"))
    client = Client()
    client.force_login(buyer)

    # when the buyer opens the work page
    content = client.get(f"/works/{work.pk}/").content.decode()

    # then the British copy is priced with shipping to Germany; the Dutch shop does not ship there
    assert "<h1>Mosses of Europe</h1>" in content
    assert '<option value="DE" selected>Germany</option>' in content
    assert "Priced in Pound sterling (GBP): 1 copy" in content
    assert "<td>5.00 GBP</td>" in content
    assert "<td>9.00 GBP</td>" in content
    assert "<strong>14.00 GBP</strong>" in content
    assert "Not shipped to Germany: 1 copy" in content
    assert "<td>Does not ship to Germany</td>" in content
    assert "Plural does not convert between them" in content
    assert content.index("Pound Books") < content.index("Euro Books")
    assert f'href="/listings/{gbp_copy.pk}/"' in content


def test_work_page_country_and_currency_selectors(client, work):
    _gbp_shop("Pound Books", ships_to=("NL",))
    ListingFactory(shop=_gbp_shop("Pound Books 2", ships_to=("NL",)), work=work, price=Decimal("5.00"))
    ListingFactory(shop=_eur_shop("Euro Books", ships_to=("GB",)), work=work, price=Decimal("6.00"))

    in_nl = client.get(f"/works/{work.pk}/?country=NL").content.decode()
    pounds_first = client.get(f"/works/{work.pk}/?country=NL&currency=GBP").content.decode()
    nowhere = client.get(f"/works/{work.pk}/").content.decode()

    assert in_nl.index("Priced in Euro (EUR)") < in_nl.index("Priced in Pound sterling (GBP)")
    assert "the EUR group comes first" in in_nl
    assert pounds_first.index("Priced in Pound sterling (GBP)") < pounds_first.index("Priced in Euro (EUR)")
    assert '<option value="GBP" selected>Pound sterling (GBP)</option>' in pounds_first
    assert "Choose your country to see shipping and totals; until then, copies are sorted by price." in nowhere


def test_unknown_work_is_not_found(client):
    assert client.get("/works/999999/").status_code == 404


def test_work_page_without_copies_says_so(client, work):
    assert "No shop has a copy for sale right now." in client.get(f"/works/{work.pk}/").content.decode()


@pytest.mark.parametrize("size", [1, 7])
def test_work_page_queries_do_not_grow_with_copies(django_assert_num_queries, work, size):
    for number in range(size):
        shop = _gbp_shop(f"Shop {number}") if number % 2 else _eur_shop(f"Shop {number}")
        ListingFactory(shop=shop, work=work, price=Decimal("5.00") + number)
    client = Client()

    # work, copies with shop and condition, their images; the recommendations (the pairs ranked
    # by who also looked and who also bought in one query, the work's totals: social.recommendations)
    with django_assert_num_queries(5):
        response = client.get(f"/works/{work.pk}/?country=GB")
    assert response.status_code == 200
    assert response.content.decode().count("See this copy") == size


def test_vacation_is_marked_on_the_work_page(client, work):
    away = _gbp_shop("Away Books")
    away.is_on_vacation = True
    away.vacation_until = datetime.date(2030, 1, 2)
    away.save()
    ListingFactory(shop=away, work=work)

    content = client.get(f"/works/{work.pk}/?country=GB").content.decode()

    assert "On vacation until 2 January 2030: cannot be bought yet" in content
