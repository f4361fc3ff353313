"""Operations the pages offered that the API lacked: the shop's people, copying a listing,
finding people. Each only for those the page allows."""

import pytest
from rest_framework.test import APIClient

from catalog.models import Listing
from sellers.models import ShopMember
from tests.factories import ListingFactory, UserFactory

pytestmark = pytest.mark.django_db


def signed_in(person) -> APIClient:
    client = APIClient()
    if person is not None:
        client.force_authenticate(person)
    return client


def test_the_owner_lists_adds_retitles_and_removes_staff(shop, shop_owner, shop_staff):
    newcomer = UserFactory(username="nina")
    owner = signed_in(shop_owner)

    listed = owner.get("/api/shops/olives-books/people/")
    added = owner.post("/api/shops/olives-books/people/", {"username": "nina", "title": "Packing"}, format="json")

    assert listed.status_code == 200
    assert [(person["username"], person["role"]) for person in listed.json()] == [("olive", "owner"), ("sam", "staff")]
    assert added.status_code == 201 and added.json()["title"] == "Packing"
    member_id = added.json()["id"]
    assert (
        owner.patch(f"/api/shops/olives-books/people/{member_id}/", {"title": "Shipping"}, format="json").json()[
            "title"
        ]
        == "Shipping"
    )
    assert owner.delete(f"/api/shops/olives-books/people/{member_id}/").status_code == 204
    assert not ShopMember.objects.filter(shop=shop, user=newcomer).exists()


def test_staff_may_retitle_and_remove_only_themselves(shop, shop_owner, shop_staff):
    staff = signed_in(shop_staff)
    own = ShopMember.objects.get(shop=shop, user=shop_staff)
    owner_row = ShopMember.objects.get(shop=shop, user=shop_owner)

    assert staff.post("/api/shops/olives-books/people/", {"username": "otto"}, format="json").status_code == 403
    assert (
        staff.patch(f"/api/shops/olives-books/people/{owner_row.pk}/", {"title": "x"}, format="json").status_code == 403
    )
    assert staff.delete(f"/api/shops/olives-books/people/{owner_row.pk}/").status_code == 403
    assert (
        staff.patch(f"/api/shops/olives-books/people/{own.pk}/", {"title": "Books"}, format="json").status_code == 200
    )
    assert staff.delete(f"/api/shops/olives-books/people/{own.pk}/").status_code == 204  # leaves
    assert list(ShopMember.objects.filter(shop=shop).values_list("user__username", flat=True)) == ["olive"]


@pytest.mark.parametrize("role", ["anonymous", "buyer", "other_shop_owner"])
def test_outsiders_do_not_see_or_change_the_shop_people(request, role, shop, shop_staff, other_shop):
    person = None if role == "anonymous" else request.getfixturevalue(role)
    client = signed_in(person)
    member = ShopMember.objects.get(shop=shop, user=shop_staff)

    assert client.get("/api/shops/olives-books/people/").status_code == 404
    assert client.post("/api/shops/olives-books/people/", {"username": "otto"}, format="json").status_code == 404
    assert client.delete(f"/api/shops/olives-books/people/{member.pk}/").status_code == 404
    assert ShopMember.objects.filter(shop=shop).count() == 2


def test_a_bad_username_is_refused_and_nothing_changes(shop, shop_owner):
    response = signed_in(shop_owner).post("/api/shops/olives-books/people/", {"username": "nobody"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"username": ["No one on Plural has the username nobody."]}
    assert ShopMember.objects.filter(shop=shop).count() == 1


def test_the_shop_people_copy_a_listing_as_a_draft(shop, shop_staff):
    listing = ListingFactory(shop=shop, title="Lichens")

    response = signed_in(shop_staff).post(f"/api/shops/olives-books/listings/{listing.pk}/duplicate/")

    assert response.status_code == 201
    copy = Listing.objects.get(pk=response.json()["id"])
    assert (copy.title, copy.status, copy.shop_id) == ("Lichens", "draft", shop.pk)


@pytest.mark.parametrize("role", ["anonymous", "buyer", "other_shop_owner"])
def test_outsiders_cannot_copy_a_listing(request, role, shop, other_shop):
    listing = ListingFactory(shop=shop)
    person = None if role == "anonymous" else request.getfixturevalue(role)

    response = signed_in(person).post(f"/api/shops/olives-books/listings/{listing.pk}/duplicate/")

    assert response.status_code == 404
    assert Listing.objects.count() == 1


def test_people_search_finds_active_people_by_name_or_city(buyer, other_buyer):
    UserFactory(username="bert", display_name="Bert Gone", is_active=False)
    other_buyer.city = "Beaune"
    other_buyer.save()

    response = APIClient().get("/api/people/?q=be")

    assert response.status_code == 200
    assert [person["username"] for person in response.json()] == ["bea", "otto"]
    assert "email" not in response.json()[0]


def test_people_search_needs_a_query():
    response = APIClient().get("/api/people/")

    assert response.status_code == 400
    assert "q" in response.json()
