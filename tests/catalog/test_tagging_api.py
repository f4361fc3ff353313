"""The folksonomy's API: who may read, tag, remove, follow and moderate, and what each answers."""

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from catalog import tagging
from catalog.models import Tag, TagFollow, TaggedListing
from tests.factories import ListingFactory, ShopFactory, UserFactory
from tests.sharing import share_tagging

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(request):
    def make(role=None, *, csrf=False):
        """A client for `role` (anonymous for None); with csrf, a real session that must send the token."""
        client = APIClient(enforce_csrf_checks=csrf)
        if role is not None and csrf:
            client.force_login(request.getfixturevalue(role))
        elif role is not None:
            client.force_authenticate(request.getfixturevalue(role))
        return client

    return make


def _applications():
    return sorted(TaggedListing.objects.values_list("tag__name", "content_object_id", "tagged_by__username"))


def _tags_snapshot():
    return list(Tag.objects.order_by("pk").values()), _applications(), list(TagFollow.objects.values())


# --- Reading ----------------------------------------------------------------------------------------


def test_tags_are_listed_most_used_first_without_hidden_tags_or_synonyms(api, shop, staff_user):
    listing = ListingFactory(shop=shop)
    for person in [UserFactory() for _ in range(3)]:
        tagging.tag_apply(listing=listing, user=person, name="maps")
    tagging.tag_apply(listing=listing, user=UserFactory(), name="atlas")
    tagging.tag_apply(listing=listing, user=UserFactory(), name="rude")
    tagging.tag_hide(tag=Tag.objects.get(name="rude"), actor=staff_user, reason="Insulting")
    tagging.tag_merge(synonym=Tag.objects.create(name="chart"), into=Tag.objects.get(name="maps"), actor=staff_user)

    response = api().get("/api/tags/")

    assert response.status_code == 200
    assert response.json()["results"] == [
        {"name": "maps", "slug": "maps", "url": "/tags/maps/", "uses": 3},
        {"name": "atlas", "slug": "atlas", "url": "/tags/atlas/", "uses": 1},
    ]


def test_autocomplete_matches_the_start_of_a_name_or_a_synonym_as_tags_are_stored(api, shop, buyer, staff_user):
    tagging.tag_apply(listing=ListingFactory(shop=shop), user=buyer, name="tomato")
    tagging.tag_apply(listing=ListingFactory(shop=shop), user=buyer, name="tomb raiders")
    tagging.tag_apply(listing=ListingFactory(shop=shop), user=buyer, name="atlas")
    tagging.tag_merge(synonym=Tag.objects.create(name="tomahto"), into=Tag.objects.get(name="tomato"), actor=staff_user)

    def names(query):
        return [tag["name"] for tag in api().get("/api/tags/", {"q": query, "page_size": 8}).json()["results"]]

    assert names("  TOM") == ["tomato", "tomb raiders"]
    assert names("tomah") == ["tomato"]
    assert names("\uff34\uff2f\uff2d\uff22") == ["tomb raiders"]  # full-width TOMB
    assert names("zz") == []
    assert names("%") == []


def test_the_tags_one_follows(api, buyer):
    tagging.tag_follow(user=buyer, tag=Tag.objects.create(name="maps"))
    Tag.objects.create(name="atlas")

    assert [tag["name"] for tag in api("buyer").get("/api/tags/", {"following": "true"}).json()["results"]] == ["maps"]
    assert api().get("/api/tags/", {"following": "true"}).json()["results"] == []


@pytest.mark.parametrize("size", [1, 8])
def test_the_tag_list_is_two_queries(api, django_assert_num_queries, size):
    for number in range(size):
        Tag.objects.create(name=f"tag {number}", use_count=number)

    with django_assert_num_queries(2):
        response = api().get("/api/tags/", {"q": "tag"})

    assert len(response.json()["results"]) == size


def test_a_tags_detail(api, shop, buyer, other_buyer, staff_user):
    listing = ListingFactory(shop=shop)
    tagging.tag_apply(listing=listing, user=buyer, name="maps")
    tagging.tag_apply(listing=listing, user=other_buyer, name="maps")
    tagging.tag_apply(listing=listing, user=other_buyer, name="bristol")
    tagging.tag_follow(user=buyer, tag=Tag.objects.get(name="maps"))
    tagging.tag_merge(synonym=Tag.objects.create(name="chart"), into=Tag.objects.get(name="maps"), actor=staff_user)

    detail = api("buyer").get("/api/tags/chart/")

    assert detail.status_code == 200
    assert detail.json() == {
        "name": "maps",
        "slug": "maps",
        "url": "/tags/maps/",
        "uses": 2,
        "people": 2,
        "synonyms": ["chart"],
        "related": [{"name": "bristol", "slug": "bristol", "url": "/tags/bristol/", "listings": 1}],
        "is_following": True,
        "is_hidden": False,
        "hidden_reason": "",
    }


@pytest.mark.parametrize("role", [None, "buyer", "shop_owner"])
def test_a_hidden_tag_is_not_found_except_by_moderators(api, staff_user, role):
    tagging.tag_hide(tag=Tag.objects.create(name="rude"), actor=staff_user, reason="Insulting")

    for path in ["/api/tags/rude/", "/api/tags/rude/listings/"]:
        assert api(role).get(path).status_code == 404
        assert api("staff_user").get(path).status_code == 200
    assert api("staff_user").get("/api/tags/rude/").json()["hidden_reason"] == "Insulting"


@pytest.mark.parametrize("size", [1, 6])
def test_a_tags_listings_are_paginated_in_fixed_queries(api, django_assert_num_queries, size):
    for _ in range(size):
        listing = ListingFactory(shop=ShopFactory())
        for tag_number in range(size):
            tagging.tag_apply(listing=listing, user=UserFactory(), name=f"tag {tag_number}")
    ListingFactory(status="draft")

    # tag, its synonyms (their ids pick the plan); listings counted, listed, their images, their tags
    with django_assert_num_queries(6):
        response = api().get("/api/tags/tag-0/listings/")

    assert response.json()["count"] == size
    assert {item["shop"]["slug"] for item in response.json()["results"]} == set(
        TaggedListing.objects.values_list("content_object__shop__slug", flat=True)
    )


def test_a_tags_listings_by_one_person(api, shop, buyer, other_buyer):
    mine, theirs = ListingFactory(shop=shop), ListingFactory(shop=shop)
    tagging.tag_apply(listing=mine, user=buyer, name="maps")
    tagging.tag_apply(listing=theirs, user=other_buyer, name="maps")
    # Until Bea shares her tagging, what she tagged is hers alone.
    assert api().get("/api/tags/maps/listings/", {"by": "bea"}).status_code == 404
    share_tagging(buyer)

    response = api().get("/api/tags/maps/listings/", {"by": "bea"})

    assert [item["id"] for item in response.json()["results"]] == [mine.pk]
    assert api().get("/api/tags/maps/listings/", {"by": "nobody"}).status_code == 404


def test_a_listings_tags(api, shop, shop_owner, buyer):
    listing = ListingFactory(shop=shop)
    tagging.tag_apply(listing=listing, user=shop_owner, name="maps")
    tagging.tag_apply(listing=listing, user=buyer, name="atlas")

    response = api("buyer").get(f"/api/listings/{listing.pk}/tags/")

    assert response.json() == [
        {
            "name": "maps",
            "slug": "maps",
            "url": "/tags/maps/",
            "people": 1,
            "shoppers": 0,
            "from_shop": True,
            "applied_by_me": False,
        },
        {
            "name": "atlas",
            "slug": "atlas",
            "url": "/tags/atlas/",
            "people": 1,
            "shoppers": 1,
            "from_shop": False,
            "applied_by_me": True,
        },
    ]
    assert api().get(f"/api/listings/{ListingFactory(shop=shop, status='draft').pk}/tags/").status_code == 404


def test_a_persons_tags(api, shop, buyer):
    listing = ListingFactory(shop=shop, title="Old Bristol")
    tagging.tag_apply(listing=listing, user=buyer, name="maps")
    assert api().get("/api/people/bea/tags/").status_code == 404
    share_tagging(buyer)

    assert api().get("/api/people/bea/tags/").json() == [
        {
            "name": "maps",
            "slug": "maps",
            "url": "/tags/maps/?by=bea",
            "listing_count": 1,
            "listings": [{"id": listing.pk, "title": "Old Bristol", "url": f"/listings/{listing.pk}/"}],
        }
    ]
    assert api().get("/api/people/nobody/tags/").status_code == 404


# --- Tagging ----------------------------------------------------------------------------------------


def test_tagging_a_listing(api, shop, buyer):
    listing = ListingFactory(shop=shop)
    client = api("buyer")

    created = client.post(f"/api/listings/{listing.pk}/tags/", {"name": " Old  MAPS "}, format="json")
    again = client.post(f"/api/listings/{listing.pk}/tags/", {"name": "old maps"}, format="json")

    assert created.status_code == 201
    assert created.json()["tag"] == {"name": "old maps", "slug": "old-maps", "url": "/tags/old-maps/", "uses": 1}
    assert (created.json()["listing"], created.json()["is_seller_tag"]) == (listing.pk, False)
    assert again.status_code == 200
    assert _applications() == [("old maps", listing.pk, "bea")]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Enter a tag."),
        ("x" * 51, "A tag can be at most 50 characters long (this one has 51)."),
        ("...", "A tag needs at least one letter or digit: punctuation alone is not a tag."),
    ],
)
def test_a_refused_tag_is_a_400_saying_why_and_nothing_is_saved(api, shop, name, message):
    listing = ListingFactory(shop=shop)

    response = api("buyer").post(f"/api/listings/{listing.pk}/tags/", {"name": name}, format="json")

    assert response.status_code == 400
    assert response.json() == {"name": [message]}
    assert Tag.objects.count() == 0 and TaggedListing.objects.count() == 0


def test_anonymous_callers_and_forged_requests_cannot_tag(api, shop):
    listing = ListingFactory(shop=shop)

    anonymous = api().post(f"/api/listings/{listing.pk}/tags/", {"name": "maps"}, format="json")
    forged = api("buyer", csrf=True).post(f"/api/listings/{listing.pk}/tags/", {"name": "maps"}, format="json")

    assert anonymous.status_code == 403
    assert forged.status_code == 403
    assert "CSRF" in forged.json()["detail"]
    assert TaggedListing.objects.count() == 0


def test_a_session_with_its_csrf_token_tags(api, shop):
    listing = ListingFactory(shop=shop)
    client = api("buyer", csrf=True)
    client.get(f"/listings/{listing.pk}/")  # the page with the add-tag form sets the CSRF cookie

    response = client.post(
        f"/api/listings/{listing.pk}/tags/",
        {"name": "maps"},
        format="json",
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )

    assert response.status_code == 201
    assert _applications() == [("maps", listing.pk, "bea")]


def test_outsiders_cannot_tag_listings_not_for_sale_they_do_not_exist(api, shop):
    draft = ListingFactory(shop=shop, status="draft")

    response = api("buyer").post(f"/api/listings/{draft.pk}/tags/", {"name": "maps"}, format="json")

    assert response.status_code == 404
    assert TaggedListing.objects.count() == 0


def test_only_the_person_who_applied_a_tag_removes_it(api, shop, buyer, other_buyer):
    listing = ListingFactory(shop=shop)
    tagging.tag_apply(listing=listing, user=buyer, name="maps")

    assert api().delete(f"/api/listings/{listing.pk}/tags/maps/").status_code == 403
    assert api("other_buyer").delete(f"/api/listings/{listing.pk}/tags/maps/").status_code == 404
    assert api("shop_owner").delete(f"/api/listings/{listing.pk}/tags/maps/").status_code == 404
    assert _applications() == [("maps", listing.pk, "bea")]

    assert api("buyer").delete(f"/api/listings/{listing.pk}/tags/maps/").status_code == 204
    assert _applications() == []
    assert Tag.objects.get(name="maps").use_count == 0


# --- Following --------------------------------------------------------------------------------------


def test_following_and_unfollowing_a_tag(api, buyer):
    Tag.objects.create(name="maps")
    client = api("buyer")

    followed = client.post("/api/tags/maps/follow/")
    assert followed.status_code == 201
    assert followed.json()["tag"]["slug"] == "maps"
    assert list(TagFollow.objects.values_list("user__username", "tag__name")) == [("bea", "maps")]

    assert client.delete("/api/tags/maps/follow/").status_code == 204
    assert client.delete("/api/tags/maps/follow/").status_code == 404
    assert api().post("/api/tags/maps/follow/").status_code == 403
    assert TagFollow.objects.count() == 0


@pytest.mark.parametrize("size", [1, 6])
def test_new_listings_under_followed_tags(api, django_assert_num_queries, shop, buyer, size):
    tagger = UserFactory()
    for number in range(size):
        tagging.tag_follow(user=buyer, tag=Tag.objects.get_or_create(name=f"topic {number}")[0])
        tagging.tag_apply(listing=ListingFactory(shop=shop), user=tagger, name=f"topic {number}")
    tagging.tag_apply(listing=ListingFactory(shop=shop), user=tagger, name="unfollowed")
    client = api("buyer")

    # listings counted, listed, their images, their tags
    with django_assert_num_queries(4):
        response = client.get("/api/tags/following/")

    assert response.json()["count"] == size
    assert all(item["tagged_at"] for item in response.json()["results"])
    assert api().get("/api/tags/following/").status_code == 403


# --- Moderation -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "status"), [(None, 403), ("buyer", 404), ("shop_owner", 404)])
def test_moderation_endpoints_do_not_exist_for_non_moderators(api, role, status):
    Tag.objects.create(name="tomato")
    Tag.objects.create(name="tomahto")
    hidden = Tag.objects.create(name="rude", is_hidden=True, hidden_reason="Insulting")
    before = _tags_snapshot()
    client = api(role)

    assert client.post("/api/tags/tomahto/merge/", {"into": "tomato"}, format="json").status_code == status
    assert client.post("/api/tags/tomato/hide/", {"reason": "No"}, format="json").status_code == status
    assert client.post(f"/api/tags/{hidden.slug}/unhide/").status_code == status
    assert _tags_snapshot() == before


def test_moderators_merge_hide_and_unhide(api, shop, buyer):
    tagging.tag_apply(listing=ListingFactory(shop=shop), user=buyer, name="tomahto")
    Tag.objects.create(name="tomato")
    client = api("staff_user")

    merged = client.post("/api/tags/tomahto/merge/", {"into": "Tomato"}, format="json")
    unknown = client.post("/api/tags/tomato/merge/", {"into": "nothing"}, format="json")
    hidden = client.post("/api/tags/tomato/hide/", {"reason": "Spam"}, format="json")
    no_reason = client.post("/api/tags/tomato/hide/", {"reason": " "}, format="json")
    shown = client.post("/api/tags/tomato/unhide/")
    not_hidden = client.post("/api/tags/tomato/unhide/")

    assert merged.status_code == 200
    assert merged.json() | {"uses": None} == {
        "name": "tomahto",
        "slug": "tomahto",
        "url": "/tags/tomahto/",
        "uses": None,
        "is_hidden": False,
        "hidden_reason": "",
        "merged_into": "tomato",
    }
    assert _applications()[0][0] == "tomato"
    assert (unknown.status_code, unknown.json()) == (400, {"into": ["No tag is called “nothing”."]})
    assert (hidden.status_code, hidden.json()["is_hidden"], hidden.json()["hidden_reason"]) == (200, True, "Spam")
    assert (no_reason.status_code, no_reason.json()) == (
        400,
        {"reason": ["Give the reason for hiding the tag: it is kept with the decision."]},
    )
    assert (shown.status_code, shown.json()["is_hidden"]) == (200, False)
    assert (not_hidden.status_code, not_hidden.json()) == (400, {"tag": ["“tomato” is not hidden."]})


def test_the_tag_endpoints_are_in_the_schema_without_warnings(tmp_path):
    schema_file = tmp_path / "schema.yml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(schema_file))

    schema = schema_file.read_text()
    for path in [
        "/api/tags/:",
        "/api/tags/{slug}/:",
        "/api/tags/{slug}/listings/:",
        "/api/tags/{slug}/follow/:",
        "/api/tags/following/:",
        "/api/tags/{slug}/merge/:",
        "/api/tags/{slug}/hide/:",
        "/api/tags/{slug}/unhide/:",
        "/api/listings/{id}/tags/:",
        "/api/listings/{id}/tags/{slug}/:",
        "/api/people/{username}/tags/:",
    ]:
        assert path in schema
