"""Favourite lists and follow lists are shown exactly to whom their owners chose, pages and
API alike; bad input is refused with a clear message and saves nothing."""

import pytest

from social import services
from social.models import Activity, Audience, Favourite, FavouriteList, Follow, ListVisibility
from tests.factories import ListingFactory
from tests.sharing import share

pytestmark = pytest.mark.django_db

VIEWERS = ("self", "friend", "fan", "stranger", "anonymous")
LIST_SEEN_BY = {
    ListVisibility.PRIVATE: {"self"},
    ListVisibility.FOLLOWERS: {"self", "friend", "fan"},
    ListVisibility.PUBLIC: set(VIEWERS),
}


@pytest.fixture
def cast(buyer, other_buyer, fan, stranger):
    services.follow_create(follower=buyer, person=other_buyer)
    services.follow_create(follower=other_buyer, person=buyer)
    return {"self": buyer, "friend": other_buyer, "fan": fan, "stranger": stranger, "anonymous": None}


@pytest.fixture
def clients(cast, signed_in, api):
    return {name: (signed_in(person), api(person)) for name, person in cast.items()}


def _status(clients, viewer, url) -> int:
    page_client, api_client = clients[viewer]
    return (api_client if url.startswith("/api/") else page_client).get(url).status_code


# --- Favourite lists ------------------------------------------------------------------------------------


@pytest.mark.parametrize("visibility", list(ListVisibility))
def test_a_list_is_seen_exactly_by_whom_its_owner_chose(cast, clients, shop, visibility):
    listing = ListingFactory(shop=shop, title="Mosses of Wales")
    herbarium = services.favourite_list_create(owner=cast["self"], name="Herbarium", visibility=visibility)
    services.favourite_add(owner=cast["self"], listing=listing, favourite_list=herbarium)
    allowed = LIST_SEEN_BY[visibility]

    for viewer in VIEWERS:
        expected = 200 if viewer in allowed else 404
        assert _status(clients, viewer, f"/favourites/{herbarium.pk}/") == expected, viewer
        assert _status(clients, viewer, f"/api/favourite-lists/{herbarium.pk}/") == expected, viewer
        assert _status(clients, viewer, f"/api/favourite-lists/{herbarium.pk}/items/") == expected, viewer
        for url in ("/people/bea/", "/people/bea/favourites/", "/api/people/bea/favourite-lists/"):
            page_client, api_client = clients[viewer]
            content = (api_client if url.startswith("/api/") else page_client).get(url).content.decode()
            assert ("Herbarium" in content) == (viewer in allowed), (viewer, url)


def test_making_a_list_private_takes_its_favourites_out_of_every_feed_and_back(cast, clients, shop):
    share(cast["self"], favourited=Audience.EVERYONE)
    listing = ListingFactory(shop=shop, title="Mosses of Wales")
    herbarium = services.favourite_list_create(owner=cast["self"], name="Herbarium", visibility=ListVisibility.PUBLIC)
    services.favourite_add(owner=cast["self"], listing=listing, favourite_list=herbarium)
    everyone = clients["stranger"][1]
    assert "Mosses of Wales" in everyone.get("/api/feed/?view=everyone").content.decode()

    services.favourite_list_update(favourite_list=herbarium, owner=cast["self"], visibility=ListVisibility.PRIVATE)
    assert Activity.objects.get().audience == Audience.ONLY_ME
    assert "Mosses of Wales" not in everyone.get("/api/feed/?view=everyone").content.decode()
    assert "Mosses of Wales" not in clients["friend"][1].get("/api/feed/").content.decode()

    services.favourite_list_update(favourite_list=herbarium, owner=cast["self"], visibility=ListVisibility.FOLLOWERS)
    assert "Mosses of Wales" not in everyone.get("/api/feed/?view=everyone").content.decode()
    assert "Mosses of Wales" in clients["friend"][1].get("/api/feed/").content.decode()
    assert Activity.objects.get().audience == Audience.FOLLOWERS


def test_a_favourite_in_a_private_list_stays_private_whatever_is_shared(cast, clients, shop):
    share(cast["self"], favourited=Audience.EVERYONE)
    services.favourite_add(owner=cast["self"], listing=ListingFactory(shop=shop, title="Mosses of Wales"))

    assert FavouriteList.objects.get().name == "Favourites"
    assert FavouriteList.objects.get().visibility == ListVisibility.PRIVATE
    assert Activity.objects.get().audience == Audience.ONLY_ME
    for viewer in ("friend", "fan", "stranger"):
        assert "Mosses of Wales" not in clients[viewer][0].get("/people/bea/").content.decode()


def test_removing_a_favourite_removes_its_activity(cast, shop):
    share(cast["self"], favourited=Audience.EVERYONE)
    favourite = services.favourite_add(owner=cast["self"], listing=ListingFactory(shop=shop))

    services.favourite_remove(owner=cast["self"], favourite=favourite)

    assert Favourite.objects.count() == 0
    assert Activity.objects.count() == 0


def test_favouriting_a_deleted_or_hidden_listing_is_refused_and_saves_nothing(cast, clients, shop, api):
    draft = ListingFactory(shop=shop, status="draft")
    gone = ListingFactory(shop=shop)
    gone_id = gone.pk
    gone.delete()
    bea_page, bea_api = clients["self"]

    assert bea_page.post(f"/listings/{gone_id}/favourite/").status_code == 404
    assert bea_page.post(f"/listings/{draft.pk}/favourite/").status_code == 404
    response = bea_api.post("/api/favourites/", {"listing": gone_id}, format="json")
    assert response.status_code == 400
    assert response.json() == {"listing": ["There is no such listing: it may have been deleted."]}
    response = bea_api.post("/api/favourites/", {"listing": draft.pk}, format="json")
    assert response.json() == {"listing": ["There is no such listing: it may have been deleted."]}
    with pytest.raises(Exception, match="Only listings that are for sale can be saved"):
        services.favourite_add(owner=cast["self"], listing=draft)

    assert Favourite.objects.count() == FavouriteList.objects.count() == Activity.objects.count() == 0


def test_nobody_saves_to_or_changes_someone_elses_list(cast, clients, shop):
    listing = ListingFactory(shop=shop)
    herbarium = services.favourite_list_create(owner=cast["self"], name="Herbarium", visibility=ListVisibility.PUBLIC)
    favourite = services.favourite_add(owner=cast["self"], listing=listing, favourite_list=herbarium)
    otto_page, otto_api = clients["friend"]

    response = otto_api.post("/api/favourites/", {"listing": listing.pk, "favourite_list": herbarium.pk}, format="json")
    assert response.status_code == 400
    assert response.json() == {"favourite_list": ["Choose one of your own lists."]}
    assert otto_page.post(f"/listings/{listing.pk}/favourite/", {"list": herbarium.pk}).status_code == 404
    assert otto_api.patch(f"/api/favourite-lists/{herbarium.pk}/", {"name": "Mine"}, format="json").status_code == 404
    assert otto_api.delete(f"/api/favourite-lists/{herbarium.pk}/").status_code == 404
    assert otto_api.delete(f"/api/favourites/{favourite.pk}/").status_code == 404
    assert otto_page.post(f"/favourites/{herbarium.pk}/delete/").status_code == 404
    assert otto_page.post(f"/favourites/items/{favourite.pk}/remove/").status_code == 404
    assert otto_page.get(f"/favourites/{herbarium.pk}/edit/").status_code == 404

    herbarium.refresh_from_db()
    assert herbarium.name == "Herbarium"
    assert list(Favourite.objects.values_list("favourite_list_id", flat=True)) == [herbarium.pk]
    assert not FavouriteList.objects.filter(owner=cast["friend"]).exists()


def test_a_list_name_must_be_given_and_unique(cast, clients):
    services.favourite_list_create(owner=cast["self"], name="Herbarium")
    bea_page, bea_api = clients["self"]

    taken = bea_api.post("/api/favourite-lists/", {"name": "  herbarium "}, format="json")
    empty = bea_api.post("/api/favourite-lists/", {"name": "   "}, format="json")
    odd = bea_api.post("/api/favourite-lists/", {"name": "Ferns", "visibility": 1}, format="json")
    page = bea_page.post("/favourites/", {"name": "HERBARIUM", "visibility": "0"})

    assert taken.status_code == empty.status_code == odd.status_code == 400
    assert taken.json() == {"name": ["You already have a list called “herbarium”."]}
    assert empty.json() == {"name": ["Give the list a name."]}
    assert odd.json() == {"visibility": ["Choose who sees the list: only you, your followers or everyone."]}
    assert page.status_code == 400
    assert "You already have a list called “HERBARIUM”." in page.content.decode()
    assert 'value="HERBARIUM"' in page.content.decode()
    assert list(FavouriteList.objects.values_list("name", flat=True)) == ["Herbarium"]


def test_lists_through_the_api(cast, clients, shop):
    listing = ListingFactory(shop=shop, title="Mosses of Wales", price="7.00")
    bea_api = clients["self"][1]

    created = bea_api.post("/api/favourite-lists/", {"name": "Herbarium", "visibility": 3}, format="json")
    assert created.status_code == 201
    list_id = created.json()["id"]
    saved = bea_api.post("/api/favourites/", {"listing": listing.pk, "favourite_list": list_id}, format="json")
    shop_saved = bea_api.post("/api/favourites/", {"shop": shop.slug}, format="json")
    items = clients["anonymous"][1].get(f"/api/favourite-lists/{list_id}/items/").json()

    assert saved.status_code == shop_saved.status_code == 201
    assert created.json() | {"id": 0, "created_at": ""} == {
        "id": 0,
        "name": "Herbarium",
        "url": f"/favourites/{list_id}/",
        "owner": {"username": "bea", "name": "Bea Buyer", "url": "/people/bea/"},
        "visibility": 3,
        "item_count": 0,
        "created_at": "",
    }
    assert [item["listing"]["title"] for item in items["results"]] == ["Mosses of Wales"]
    assert shop_saved.json()["shop"]["slug"] == shop.slug
    assert (
        sorted(bea_api.get("/api/favourite-lists/").json()["results"], key=lambda row: row["name"])[0]["name"]
        == "Favourites"
    )
    assert bea_api.delete(f"/api/favourites/{saved.json()['id']}/").status_code == 204
    assert clients["anonymous"][1].get(f"/api/favourite-lists/{list_id}/items/").json()["results"] == []


# --- Follows --------------------------------------------------------------------------------------------


def test_following_oneself_is_refused_everywhere_and_saves_nothing(cast, clients):
    bea_page, bea_api = clients["self"]

    page = bea_page.post("/people/bea/follow/", follow=True)
    api_answer = bea_api.post("/api/follows/", {"person": "bea"}, format="json")
    with pytest.raises(Exception, match="You cannot follow yourself"):
        services.follow_create(follower=cast["self"], person=cast["self"])

    assert "You cannot follow yourself." in page.content.decode()
    assert api_answer.status_code == 400
    assert api_answer.json() == {"person": ["You cannot follow yourself."]}
    assert not Follow.objects.filter(follower=cast["self"], person=cast["self"]).exists()


def test_follow_input_names_one_existing_person_or_shop(clients, shop):
    bea_api = clients["self"][1]

    assert bea_api.post("/api/follows/", {}, format="json").json() == {
        "non_field_errors": ["Name either a person or a shop."]
    }
    assert bea_api.post("/api/follows/", {"person": "nobody"}, format="json").json() == {
        "person": ["There is no such person."]
    }
    assert bea_api.post("/api/follows/", {"shop": "no-shop"}, format="json").json() == {
        "shop": ["There is no such shop."]
    }
    first = bea_api.post("/api/follows/", {"shop": shop.slug}, format="json")
    again = bea_api.post("/api/follows/", {"shop": shop.slug}, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert Follow.objects.filter(shop=shop).count() == 1
    assert bea_api.delete(f"/api/follows/shops/{shop.slug}/").status_code == 204
    assert bea_api.delete(f"/api/follows/shops/{shop.slug}/").status_code == 404


@pytest.mark.parametrize("level", list(Audience))
def test_whom_a_person_follows_is_shown_to_the_audience_they_chose(cast, clients, shop, level):
    services.follow_create(follower=cast["self"], shop=shop)
    share(cast["self"], follows=level)
    allowed = {
        Audience.ONLY_ME: {"self"},
        Audience.FOLLOWED_BACK: {"self", "friend"},
        Audience.FOLLOWERS: {"self", "friend", "fan"},
        Audience.EVERYONE: set(VIEWERS),
    }[level]

    for viewer in VIEWERS:
        page_client, api_client = clients[viewer]
        following = page_client.get("/people/bea/following/").content.decode()
        following_api = [row["shop"] for row in api_client.get("/api/people/bea/following/").json()["results"]]
        shop_followers = [
            row["follower"]["username"]
            for row in api_client.get(f"/api/shops/{shop.slug}/followers/").json()["results"]
        ]
        assert (f'href="{shop.get_absolute_url()}"' in following.split("<main")[1]) == (viewer in allowed), viewer
        assert (any(entry and entry["slug"] == shop.slug for entry in following_api)) == (viewer in allowed), viewer
        assert ("bea" in shop_followers) == (viewer in allowed), viewer


def test_a_person_always_sees_their_own_followers_others_as_the_followers_chose(cast, clients):
    share(cast["fan"], follows=Audience.ONLY_ME)
    share(cast["friend"], follows=Audience.EVERYONE)

    mine = [
        row["follower"]["username"] for row in clients["self"][1].get("/api/people/bea/followers/").json()["results"]
    ]
    seen_by_stranger = [
        row["follower"]["username"]
        for row in clients["stranger"][1].get("/api/people/bea/followers/").json()["results"]
    ]

    assert sorted(mine) == ["fay", "otto"]
    assert seen_by_stranger == ["otto"]
    profile = clients["stranger"][0].get("/people/bea/").content.decode()
    assert "2 followers" in profile  # counts are shown, not who


def test_removing_a_follower_needs_them_to_follow(cast, clients):
    assert clients["self"][0].post("/followers/sid/remove/").status_code == 404
    assert clients["self"][1].delete("/api/followers/fay/").status_code == 204
    assert not Follow.objects.filter(follower=cast["fan"], person=cast["self"]).exists()
    assert Follow.objects.filter(follower=cast["friend"], person=cast["self"]).exists()


@pytest.mark.parametrize("size", [2, 12])
def test_follower_pages_cost_the_same_whatever_their_length(cast, signed_in, size, django_assert_num_queries):
    from tests.factories import UserFactory

    for number in range(size):
        follower = UserFactory(username=f"reader{number}")
        share(follower, follows=Audience.EVERYONE)
        services.follow_create(follower=follower, person=cast["self"])
    client = signed_in(cast["stranger"])

    # session, user, unread notifications and conversations; the person; the followers counted,
    # then listed
    with django_assert_num_queries(7):
        response = client.get("/people/bea/followers/")
    assert response.content.decode().count('class="person-chip"') == size
