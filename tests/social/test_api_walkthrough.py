"""The two friends' story through the API alone: following, sharing choices, a favourite and a
purchase seen exactly as chosen, withdrawal, the network switch, and a want matched once."""

from decimal import Decimal

import pytest
from django.db import transaction

from catalog.models import Work
from social import recommendations, services
from tests.factories import ListingFactory, ShopFactory, UserFactory

pytestmark = pytest.mark.django_db

ISBN = "9780000000002"


def _texts(response) -> list[str]:
    return [row["summary"] for row in response.json()["results"]]


def test_two_friends_through_the_api(api, django_capture_on_commit_callbacks, eager_tasks):
    olive = UserFactory(username="olive")
    shop = ShopFactory(name="Olive's Books", slug="olives-books", owner=olive, payment_methods=["bank_transfer"])
    mosses = ListingFactory(shop=shop, title="Mosses of Wales", price=Decimal("9.00"), quantity=5)
    atlas = ListingFactory(shop=shop, title="An Atlas of Rivers", price=Decimal("20.00"), quantity=5)
    ferns, fungi = (
        ListingFactory(shop=shop, title="Ferns", quantity=9),
        ListingFactory(shop=shop, title="Fungi", quantity=9),
    )
    lichens = Work.objects.create(title="Lichens of Britain", identifier_kind="isbn", identifier=ISBN)
    bea_user, otto_user = (
        UserFactory(username="bea", display_name="Bea"),
        UserFactory(username="otto", display_name="Otto"),
    )
    bea, otto, shop_side = api(bea_user), api(otto_user), api(olive)

    # They follow each other.
    assert bea.post("/api/follows/", {"person": "otto"}, format="json").status_code == 201
    assert otto.post("/api/follows/", {"person": "bea"}, format="json").status_code == 201

    # Bea reads the explanation and chooses: favourites for followers, purchases private.
    offered = bea.get("/api/sharing/").json()
    choice = {**offered["defaults"], "favourited": 2, "use_for_recommendations": True}
    chosen = bea.put("/api/sharing/", {**choice, "wording_version": offered["wording_version"]}, format="json")
    assert chosen.status_code == 200 and chosen.json()["audiences"]["bought"] == 0

    # A list for her followers, the mosses saved to it; the atlas bought.
    botany = bea.post("/api/favourite-lists/", {"name": "Botany", "visibility": 2}, format="json").json()
    saved = bea.post("/api/favourites/", {"listing": mosses.pk, "favourite_list": botany["id"]}, format="json")
    assert saved.status_code == 201
    address = bea.post(
        "/api/addresses/", {"full_name": "Bea", "line1": "4 Mill Lane", "city": "York", "country": "GB"}, format="json"
    ).json()
    assert bea.post("/api/cart/items/", {"listing": atlas.pk}, format="json").status_code == 201
    with django_capture_on_commit_callbacks(execute=True):
        placed = bea.post("/api/checkout/", {"idempotency_key": "bea-1", "address": address["id"]}, format="json")
    assert placed.status_code == 201

    assert _texts(otto.get("/api/feed/")) == ["Bea saved Mosses of Wales"]

    # Purchases for the people she follows back: Otto sees it now, and then she withdraws it.
    bea.put("/api/sharing/", {**choice, "bought": 1, "wording_version": offered["wording_version"]}, format="json")
    assert _texts(otto.get("/api/feed/")) == ["Bea bought An Atlas of Rivers", "Bea saved Mosses of Wales"]
    bought = next(row for row in bea.get("/api/activity/").json()["results"] if row["kind"] == "bought")
    assert bea.delete(f"/api/activity/{bought['id']}/").status_code == 204
    assert _texts(otto.get("/api/feed/")) == ["Bea saved Mosses of Wales"]
    assert _texts(otto.get("/api/people/bea/activity/")) == ["Bea saved Mosses of Wales"]
    assert _texts(api().get("/api/people/bea/activity/")) == []

    # The network switch changes the recommendations.
    for number in range(3):
        botanist = UserFactory(username=f"botanist{number}")
        services.follow_create(follower=otto_user, person=botanist)
        with transaction.atomic():
            recommendations.purchases_record(user=botanist, listings=[mosses, ferns])
    for number in range(4):
        with transaction.atomic():
            recommendations.purchases_record(user=UserFactory(username=f"crowd{number}"), listings=[mosses, fungi])
    recommendations.events_count()
    everyone = otto.get("/api/recommendations/", {"listing": mosses.pk}).json()
    network = otto.get("/api/recommendations/", {"listing": mosses.pk, "scope": "network"}).json()
    assert [row["title"] for row in everyone["also_bought"]] == ["Fungi", "Ferns"]
    assert [row["title"] for row in network["also_bought"]] == ["Ferns"]
    assert network["bought_percent"] == 100

    # Otto wants the lichens under 20 GBP; the shop lists a copy at 25, then one at 15.
    want = otto.post("/api/wants/", {"work": lichens.pk, "max_price": "20", "currency": "GBP"}, format="json")
    assert want.status_code == 201
    for title, price in (("Lichens, worn", "25.00"), ("Lichens, fine", "15.00")):
        with django_capture_on_commit_callbacks(execute=True):
            listed = shop_side.post(
                "/api/shops/olives-books/listings/",
                {"title": title, "price": price, "condition": "good", "identifier": ISBN, "status": "active"},
                format="json",
            )
        assert listed.status_code == 201

    notifications = otto.get("/api/notifications/").json()["results"]
    assert [row["title"] for row in notifications if row["kind"] == "wantlist.matched"] == [
        "Found for your want list: Lichens, fine"
    ]
