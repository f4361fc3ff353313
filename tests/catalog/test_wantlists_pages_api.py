"""Want list pages and API: writing, changing and deleting one's wants, others' private wants
unseen (404), public wants on show, and the demand view for the shop's people only."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from catalog import wantlists
from catalog.models import Category, Want, Work
from tests.factories import ListingFactory

pytestmark = pytest.mark.django_db


def _client(person) -> Client:
    client = Client()
    if person is not None:
        client.force_login(person)
    return client


def _api(person) -> APIClient:
    client = APIClient()
    if person is not None:
        client.force_authenticate(person)
    return client


@pytest.fixture
def lichens():
    return Work.objects.create(title="Lichens of Britain", identifier_kind="isbn", identifier="9780000000002")


def test_writing_a_want_on_the_page(buyer, lichens):
    client = _client(buyer)
    offered = client.get(f"/wants/?work={lichens.pk}").content.decode()
    assert "Every copy of <strong>Lichens of Britain</strong>" in offered

    response = client.post(
        "/wants/",
        {"work": lichens.pk, "max_price": "15", "currency": "GBP", "min_condition": "fine", "visibility": "public"},
    )

    want = Want.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/wants/{want.pk}/"
    page = client.get(f"/wants/{want.pk}/").content.decode()
    assert "Lichens of Britain" in page and "at most 15.00 GBP" in page and "fine or better" in page


def test_a_refused_want_shows_what_was_typed_and_saves_nothing(buyer):
    response = _client(buyer).post(
        "/wants/", {"text": "Lichens of the coast", "max_price": "-4", "currency": "GBP", "visibility": "private"}
    )

    content = response.content.decode()
    assert response.status_code == 400
    assert "The most you would pay cannot be below zero." in content
    assert 'value="Lichens of the coast"' in content and 'value="-4"' in content
    assert Want.objects.count() == 0


def test_another_persons_private_want_cannot_be_seen_or_touched(buyer, other_buyer):
    private = wantlists.want_create(user=buyer, text="lichens")
    public = wantlists.want_create(user=buyer, text="mosses", visibility="public")

    for person in (other_buyer, None):
        assert _client(person).get(f"/wants/{private.pk}/").status_code == 404
        assert _api(person).get(f"/api/wants/{private.pk}/").status_code == 404
        assert _client(person).get(f"/wants/{public.pk}/").status_code == 200
        assert _api(person).get(f"/api/wants/{public.pk}/").json()["text"] == "mosses"
    otto = _client(other_buyer)
    assert otto.get(f"/wants/{public.pk}/edit/").status_code == 404
    assert otto.post(f"/wants/{public.pk}/delete/").status_code == 404
    assert _api(other_buyer).patch(f"/api/wants/{public.pk}/", {"text": "x"}, format="json").status_code == 404
    assert _api(other_buyer).delete(f"/api/wants/{private.pk}/").status_code == 404

    listed = _client(None).get("/people/bea/wants/").content.decode()
    assert "mosses" in listed and "lichens" not in listed
    assert [row["text"] for row in _api(None).get("/api/people/bea/wants/").json()["results"]] == ["mosses"]
    assert sorted(Want.objects.values_list("text", flat=True)) == ["lichens", "mosses"]


def test_wants_through_the_api(buyer, lichens):
    client = _api(buyer)

    created = client.post(
        "/api/wants/", {"work": lichens.pk, "max_price": "12.50", "currency": "GBP", "tags": ["signed"]}, format="json"
    )
    refused = client.post("/api/wants/", {"text": "lichens", "max_price": "-1", "currency": "GBP"}, format="json")

    assert created.status_code == 201
    body = created.json()
    assert body | {"id": 0, "url": "", "created_at": ""} == {
        "id": 0,
        "url": "",
        "text": "",
        "tags": ["signed"],
        "work": lichens.pk,
        "work_title": "Lichens of Britain",
        "max_price": "12.50",
        "currency": "GBP",
        "min_condition": None,
        "ships_to_me": False,
        "visibility": "private",
        "is_active": True,
        "created_at": "",
    }
    assert refused.status_code == 400
    assert refused.json() == {"max_price": ["The most you would pay cannot be below zero."]}
    changed = client.patch(f"/api/wants/{body['id']}/", {"max_price": "9", "is_active": False}, format="json").json()
    assert (changed["max_price"], changed["is_active"]) == ("9.00", False)
    assert [row["id"] for row in client.get("/api/wants/").json()["results"]] == [body["id"]]
    assert client.delete(f"/api/wants/{body['id']}/").status_code == 204
    assert Want.objects.count() == 0


def test_demand_is_for_the_shops_people_only(
    buyer, other_buyer, shop, shop_owner, shop_staff, other_shop_owner, lichens
):
    ListingFactory(shop=shop, category=Category.objects.create(name="Botany", slug="botany"), work=lichens)
    wantlists.want_create(user=buyer, work=lichens.pk)
    wantlists.want_create(user=other_buyer, work=lichens.pk)

    for person in (shop_owner, shop_staff):
        page = _client(person).get("/shops/olives-books/demand/").content.decode()
        assert "Lichens of Britain</a>" in page and "<td>2</td>" in page
        assert "bea" not in page.split("<main")[1] and "Otto" not in page.split("<main")[1]
        api_answer = _api(person).get("/api/shops/olives-books/demand/").json()
        assert api_answer["works"][0] | {"url": ""} == {
            "work": lichens.pk,
            "title": "Lichens of Britain",
            "creator": "",
            "url": "",
            "people": 2,
            "listed_here": 1,
        }
    for person in (buyer, other_shop_owner, None):
        assert _client(person).get("/shops/olives-books/demand/").status_code == 404
        assert _api(person).get("/api/shops/olives-books/demand/").status_code == 404
    assert "What people want" in _client(shop_owner).get("/shops/olives-books/dashboard/").content.decode()
