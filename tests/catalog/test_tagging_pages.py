"""The folksonomy's pages: tagging from the listing page, tag pages, the cloud and people's own tags."""

import re

import pytest
from django.test import Client

from catalog import tagging
from catalog.models import Tag, TaggedListing
from tests.factories import ListingFactory, ShopFactory, UserFactory
from tests.sharing import share_tagging

pytestmark = pytest.mark.django_db


def _signed_in(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def _flat(html: str) -> str:
    """The page without its layout's line breaks and indentation (spaces within a line kept)."""
    return re.sub(r"\s+", " ", re.sub(r">\s*\n\s*<", "><", html))


def _applications():
    return sorted(TaggedListing.objects.values_list("tag__name", "content_object_id", "tagged_by__username"))


# --- Tagging from the listing page -------------------------------------------------------------------


def test_a_shopper_adds_a_tag_from_the_listing_page(shop, buyer):
    listing = ListingFactory(shop=shop)
    client = _signed_in(buyer)

    response = client.post(f"/listings/{listing.pk}/tags/", {"name": "  Pressed Flowers "})

    assert response.status_code == 302
    assert response["Location"] == f"/listings/{listing.pk}/#tags"
    assert _applications() == [("pressed flowers", listing.pk, "bea")]
    page = client.get(response["Location"]).content.decode()
    assert "Tagged “pressed flowers”." in page
    assert f'action="/listings/{listing.pk}/tags/pressed-flowers/remove/"' in page


def test_a_refused_tag_shows_the_reason_beside_what_was_typed(shop, buyer):
    listing = ListingFactory(shop=shop)

    response = _signed_in(buyer).post(f"/listings/{listing.pk}/tags/", {"name": "x" * 51})

    assert response.status_code == 400
    content = response.content.decode()
    assert f'value="{"x" * 51}"' in content
    assert '<p class="error" role="alert">A tag can be at most 50 characters long (this one has 51).</p>' in content
    assert 'aria-invalid="true"' in content
    assert TaggedListing.objects.count() == 0 and Tag.objects.count() == 0


def test_adding_a_tag_needs_signing_in_and_the_csrf_token(client, shop, buyer):
    listing = ListingFactory(shop=shop)

    anonymous = client.post(f"/listings/{listing.pk}/tags/", {"name": "maps"})
    forged = _signed_in(buyer, enforce_csrf_checks=True).post(f"/listings/{listing.pk}/tags/", {"name": "maps"})

    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    assert forged.status_code == 403
    assert TaggedListing.objects.count() == 0


@pytest.mark.parametrize("status", ["draft", "paused"])
def test_listings_not_for_sale_cannot_be_tagged_by_outsiders_they_do_not_exist(shop, buyer, status):
    listing = ListingFactory(shop=shop, status=status)

    response = _signed_in(buyer).post(f"/listings/{listing.pk}/tags/", {"name": "maps"})

    assert response.status_code == 404
    assert TaggedListing.objects.count() == 0


def test_a_sold_out_listing_shows_its_tags_but_takes_no_new_ones(shop, buyer, other_buyer):
    listing = ListingFactory(shop=shop, status="active")
    tagging.tag_apply(listing=listing, user=other_buyer, name="maps")
    listing.status, listing.quantity = "sold_out", 0
    listing.save()
    client = _signed_in(buyer)

    content = client.get(f"/listings/{listing.pk}/").content.decode()
    refused = client.post(f"/listings/{listing.pk}/tags/", {"name": "atlas"})

    assert 'rel="tag" class="tag-chip">maps</a>' in content
    assert "Tags can be added while the listing is for sale." in content
    assert refused.status_code == 400
    assert "Only listings for sale can be tagged." in refused.content.decode()
    assert _applications() == [("maps", listing.pk, "otto")]


def test_the_shop_adds_seller_tags_to_its_own_draft(shop, shop_owner):
    draft = ListingFactory(shop=shop, status="draft", published_at=None)

    response = _signed_in(shop_owner).post(f"/listings/{draft.pk}/tags/", {"name": "maps"})

    assert response.status_code == 302
    assert list(TaggedListing.objects.values_list("is_seller_tag", flat=True)) == [True]


def test_people_remove_their_own_tag_and_never_anyone_elses(shop, buyer, other_buyer):
    listing = ListingFactory(shop=shop)
    tagging.tag_apply(listing=listing, user=buyer, name="maps")
    tagging.tag_apply(listing=listing, user=other_buyer, name="atlas")
    client = _signed_in(buyer)

    others = client.post(f"/listings/{listing.pk}/tags/atlas/remove/")
    own = client.post(f"/listings/{listing.pk}/tags/maps/remove/")

    assert others.status_code == 404
    assert own.status_code == 302 and own["Location"] == f"/listings/{listing.pk}/#tags"
    assert _applications() == [("atlas", listing.pk, "otto")]


# --- The tag page -----------------------------------------------------------------------------------


def test_the_tag_page_lists_what_carries_the_tag_who_applied_it_and_related_tags(shop, other_shop, buyer):
    # given listings tagged "maps" (one through its synonym), by three people, with other tags
    first = ListingFactory(shop=shop, title="Old Bristol")
    second = ListingFactory(shop=other_shop, title="Atlas of Wessex")
    draft = ListingFactory(shop=shop, title="Draft chart", status="draft")
    people = [buyer, UserFactory(username="p2"), UserFactory(username="p3")]
    tagging.tag_apply(listing=first, user=people[0], name="maps")
    tagging.tag_apply(listing=first, user=people[1], name="maps")
    tagging.tag_apply(listing=second, user=people[2], name="maps")
    tagging.tag_apply(listing=first, user=people[0], name="bristol")
    tagging.tag_apply(listing=first, user=people[0], name="history")
    tagging.tag_apply(listing=second, user=people[2], name="history")
    tagging.tag_apply(listing=ListingFactory(shop=shop), user=people[2], name="cookery")
    TaggedListing.objects.create(tag=Tag.objects.create(name="charts"), content_object=draft, tagged_by=people[1])

    content = _flat(Client().get("/tags/maps/").content.decode())

    assert "Applied by 3 people to 2 listings for sale." in content
    assert content.index("Atlas of Wessex") < content.index("Old Bristol")  # newest first
    assert "Draft chart" not in content
    assert (
        '<ul class="popular-tag-list"><li><a href="/tags/history/" rel="tag">history</a> <span class="muted">(2)</span>'
        '</li><li><a href="/tags/bristol/" rel="tag">bristol</a> <span class="muted">(1)</span></li></ul>'
    ) in content
    assert "cookery" not in content
    assert '<a href="/accounts/login/?next=/tags/maps/">Log in</a> to follow this tag' in content


def test_a_synonyms_page_leads_to_its_main_tag(staff_user):
    tomato = Tag.objects.create(name="tomato")
    tagging.tag_merge(synonym=Tag.objects.create(name="tomahto"), into=tomato, actor=staff_user)

    response = Client().get("/tags/tomahto/?page=2")

    assert response.status_code == 302
    assert response["Location"] == "/tags/tomato/?page=2"
    assert "Also known as “tomahto”." in Client().get("/tags/tomato/").content.decode()


@pytest.mark.parametrize("viewer", ["anonymous", "buyer", "shop_owner"])
def test_a_hidden_tags_page_does_not_exist_except_for_moderators(request, staff_user, viewer):
    tag = Tag.objects.create(name="rude")
    tagging.tag_hide(tag=tag, actor=staff_user, reason="Insulting")
    client = Client() if viewer == "anonymous" else _signed_in(request.getfixturevalue(viewer))

    assert client.get("/tags/rude/").status_code == 404
    moderator_view = _signed_in(staff_user).get("/tags/rude/")
    assert moderator_view.status_code == 200
    assert "Hidden by a moderator (Stella Staff, " in moderator_view.content.decode()
    assert "Insulting. Only moderators see this page." in moderator_view.content.decode()


def test_a_persons_own_listings_under_a_tag(shop, buyer, other_buyer):
    mine = ListingFactory(shop=shop, title="Noticed by Bea")
    theirs = ListingFactory(shop=shop, title="Noticed by Otto")
    tagging.tag_apply(listing=mine, user=buyer, name="maps")
    tagging.tag_apply(listing=theirs, user=other_buyer, name="maps")

    share_tagging(buyer)
    content = Client().get("/tags/maps/?by=bea").content.decode()

    assert "What Bea Buyer tagged “maps”" in content
    assert "Noticed by Bea" in content and "Noticed by Otto" not in content
    assert Client().get("/tags/maps/?by=nobody").status_code == 404


def test_tags_in_any_script_have_their_own_page(shop, buyer):
    tagging.tag_apply(listing=ListingFactory(shop=shop, title="Tee"), user=buyer, name="Café")
    tagging.tag_apply(listing=ListingFactory(shop=shop, title="Kana"), user=buyer, name="本")

    assert Client().get("/tags/café/").status_code == 200
    assert "Kana" in Client().get("/tags/本/").content.decode()


def test_an_unknown_tag_is_not_found(client):
    assert client.get("/tags/nothing-here/").status_code == 404


@pytest.mark.parametrize("size", [1, 6])
def test_the_tag_page_costs_the_same_whatever_it_lists(django_assert_num_queries, size):
    for number in range(size):
        listing = ListingFactory(shop=ShopFactory())
        for person_number in range(size):
            person = UserFactory(username=f"p{number}-{person_number}")
            tagging.tag_apply(listing=listing, user=person, name="maps")
            tagging.tag_apply(listing=listing, user=person, name=f"other {person_number}")
    client = Client()

    # tag, people, synonyms, related; listings counted, listed, their images, their tags
    with django_assert_num_queries(8):
        response = client.get("/tags/maps/")

    assert response.content.decode().count('class="browse-card"') == size


# --- The cloud --------------------------------------------------------------------------------------


def test_the_cloud_weighs_tags_by_use_and_shows_no_hidden_tag_or_synonym(shop, staff_user):
    listings = [ListingFactory(shop=shop) for _ in range(3)]
    people = [UserFactory() for _ in range(10)]
    for person in people:
        tagging.tag_apply(listing=listings[0], user=person, name="maps")
    for person in people[:3]:
        tagging.tag_apply(listing=listings[1], user=person, name="atlas")
    tagging.tag_apply(listing=listings[2], user=people[0], name="bristol")
    tagging.tag_apply(listing=listings[2], user=people[0], name="rude")
    tagging.tag_hide(tag=Tag.objects.get(name="rude"), actor=staff_user, reason="Insulting")
    tagging.tag_merge(synonym=Tag.objects.create(name="chart"), into=Tag.objects.get(name="maps"), actor=staff_user)

    content = _flat(Client().get("/tags/").content.decode())

    assert (
        '<ul class="tag-cloud" aria-label="Tags by use">'
        '<li><a class="tag-weight-3" href="/tags/atlas/" rel="tag">atlas'
        '<span class="visually-hidden"> (3 uses)</span></a></li>'
        '<li><a class="tag-weight-1" href="/tags/bristol/" rel="tag">bristol'
        '<span class="visually-hidden"> (1 use)</span></a></li>'
        '<li><a class="tag-weight-5" href="/tags/maps/" rel="tag">maps'
        '<span class="visually-hidden"> (10 uses)</span></a></li></ul>'
    ) in content


def test_finding_a_tag_by_its_start_or_a_synonyms(shop, buyer, staff_user):
    tagging.tag_apply(listing=ListingFactory(shop=shop), user=buyer, name="tomato")
    tagging.tag_apply(listing=ListingFactory(shop=shop), user=buyer, name="tomb raiders")
    tomato = Tag.objects.get(name="tomato")
    tagging.tag_merge(synonym=Tag.objects.create(name="pomodoro"), into=tomato, actor=staff_user)

    by_start = _flat(Client().get("/tags/?q=TOM").content.decode())
    by_synonym = _flat(Client().get("/tags/?q=pomo").content.decode())

    assert 'href="/tags/tomato/"' in by_start and 'href="/tags/tomb-raiders/"' in by_start
    assert 'href="/tags/tomato/"' in by_synonym and "tomb" not in by_synonym


@pytest.mark.parametrize("size", [1, 8])
def test_the_cloud_is_one_query(django_assert_num_queries, shop, size):
    listing = ListingFactory(shop=shop)
    for number in range(size):
        tagging.tag_apply(listing=listing, user=UserFactory(), name=f"tag {number}")

    with django_assert_num_queries(1):
        response = Client().get("/tags/")

    assert response.content.decode().count('rel="tag"') == size


# --- A person's own tags on their profile ----------------------------------------------------------------


def test_the_profile_lists_the_persons_tags_with_their_latest_listings(shop, buyer, other_buyer, staff_user):
    listings = [ListingFactory(shop=shop, title=f"Map {number}") for number in range(5)]
    for listing in listings:
        tagging.tag_apply(listing=listing, user=buyer, name="maps")
    tagging.tag_apply(listing=listings[0], user=buyer, name="bristol")
    tagging.tag_apply(listing=listings[0], user=buyer, name="rude")
    tagging.tag_hide(tag=Tag.objects.get(name="rude"), actor=staff_user, reason="Insulting")
    tagging.tag_apply(listing=listings[1], user=other_buyer, name="atlas")
    draft = ListingFactory(shop=shop, title="Draft map", status="draft")
    TaggedListing.objects.create(tag=Tag.objects.get(name="maps"), content_object=draft, tagged_by=buyer)
    share_tagging(buyer)

    section = _flat(Client().get("/people/bea/").content.decode())
    section = section[section.index('<section class="person-tags"') :]

    assert '<h2 id="person-tags-title">Bea Buyer\u2019s tags</h2>' in section
    assert (
        '<div><dt><a class="tag-chip" href="/tags/bristol/?by=bea" rel="tag">bristol</a> '
        '<span class="muted">1 listing</span></dt>'
        f'<dd><a href="/listings/{listings[0].pk}/">Map 0</a></dd></div>'
    ) in section
    assert (
        '<div><dt><a class="tag-chip" href="/tags/maps/?by=bea" rel="tag">maps</a> '
        f'<span class="muted">5 listings</span></dt><dd><a href="/listings/{listings[4].pk}/">Map 4</a></dd>'
        f'<dd><a href="/listings/{listings[3].pk}/">Map 3</a></dd>'
        f'<dd><a href="/listings/{listings[2].pk}/">Map 2</a></dd>'
        '<dd><a href="/tags/maps/?by=bea">and 2 more</a></dd></div>'
    ) in section
    assert "rude" not in section and "atlas" not in section and "Draft map" not in section


def test_ones_own_profile_invites_tagging_when_there_is_nothing_yet(buyer):
    content = _signed_in(buyer).get("/people/bea/").content.decode()

    assert "Your tags" in content
    assert "You have not tagged anything yet" in content


@pytest.mark.parametrize("size", [1, 6])
def test_the_profiles_tags_cost_two_queries_whatever_their_number(django_assert_num_queries, shop, buyer, size):
    for _ in range(size):
        listing = ListingFactory(shop=shop)
        for tag_number in range(size):
            tagging.tag_apply(listing=listing, user=buyer, name=f"tag {tag_number}")
    share_tagging(buyer)

    # the person; whether they share their tagging with this visitor, then their tags counted and
    # their latest listings; the reviews' two: the person's latest reviews and the shops' feedback
    # on them; what the profile shows of the social layer: follow counts, the activity shared with
    # this visitor (its ids, then the activities), their lists
    with django_assert_num_queries(10):
        response = Client().get("/people/bea/")

    index = response.content.decode().split('<section class="person-tags"')[1]
    assert index.count('class="tag-chip"') == size
