"""Tag moderation: the staff page, the tag page's moderator tools and the Django admin's actions."""

import pytest
from django.core.management import call_command
from django.test import Client

from catalog import tagging
from catalog.models import Listing, Tag, TaggedListing
from tests.factories import ListingFactory, UserFactory

pytestmark = pytest.mark.django_db


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _tags():
    return list(Tag.objects.order_by("name").values_list("name", "merged_into__name", "is_hidden", "hidden_reason"))


@pytest.mark.parametrize("role", ["anonymous", "buyer", "shop_owner"])
def test_the_moderation_pages_do_not_exist_for_non_moderators(request, role):
    client = Client() if role == "anonymous" else _signed_in(request.getfixturevalue(role))
    Tag.objects.create(name="tomato")
    Tag.objects.create(name="tomahto")
    before = _tags()

    assert client.get("/tags/moderation/").status_code == 404
    for path, data in [
        ("/tags/moderation/merge/", {"tag": "tomahto", "into": "tomato"}),
        ("/tags/moderation/hide/", {"tag": "tomato", "reason": "No"}),
        ("/tags/moderation/unhide/", {"tag": "tomato"}),
    ]:
        assert client.post(path, data).status_code == 404
    assert _tags() == before


def test_a_moderator_merges_synonyms_on_the_moderation_page(shop, buyer, staff_user):
    tagging.tag_apply(listing=ListingFactory(shop=shop), user=buyer, name="tomahto")
    Tag.objects.create(name="tomato")
    client = _signed_in(staff_user)

    response = client.post("/tags/moderation/merge/", {"tag": "Tomahto", "into": "tomato"})

    assert response.status_code == 302 and response["Location"] == "/tags/moderation/"
    assert _tags() == [("tomahto", "tomato", False, ""), ("tomato", None, False, "")]
    page = client.get("/tags/moderation/").content.decode()
    assert "“tomahto” now leads to “tomato”." in page
    assert '<tr><td>tomahto</td><td><a href="/tags/tomato/">tomato</a></td><td>Stella Staff</td>' in page


def test_a_refused_merge_shows_what_was_typed_and_why(staff_user):
    Tag.objects.create(name="tomato")
    before = _tags()

    response = _signed_in(staff_user).post("/tags/moderation/merge/", {"tag": "tomato", "into": "tomatoes"})

    assert response.status_code == 400
    content = response.content.decode()
    assert 'value="tomatoes"' in content
    assert "No tag is called “tomatoes”." in content
    assert _tags() == before

    itself = _signed_in(staff_user).post("/tags/moderation/merge/", {"tag": "tomato", "into": "TOMATO"})
    assert "A tag cannot be merged into itself or into one of its synonyms." in itself.content.decode()
    assert _tags() == before


def test_a_moderator_hides_with_a_reason_and_shows_again(shop, buyer, staff_user):
    listing = ListingFactory(shop=shop, title="Old Bristol")
    tagging.tag_apply(listing=listing, user=buyer, name="rude")
    client = _signed_in(staff_user)

    no_reason = client.post("/tags/moderation/hide/", {"tag": "rude", "reason": ""})
    assert no_reason.status_code == 400
    assert _tags() == [("rude", None, False, "")]

    hidden = client.post("/tags/moderation/hide/", {"tag": "rude", "reason": "Insulting", "next": "/tags/rude/"})
    assert hidden["Location"] == "/tags/rude/"
    assert _tags() == [("rude", None, True, "Insulting")]
    assert "rude" not in Client().get(f"/listings/{listing.pk}/").content.decode()
    assert "<td>Insulting</td>" in client.get("/tags/moderation/").content.decode()

    client.post("/tags/moderation/unhide/", {"tag": "rude"})
    assert _tags() == [("rude", None, False, "")]
    assert 'rel="tag" class="tag-chip">rude</a>' in Client().get(f"/listings/{listing.pk}/").content.decode()


def test_the_tag_page_offers_moderators_their_tools_and_nobody_else(buyer, staff_user):
    Tag.objects.create(name="maps")

    assert 'action="/tags/moderation/hide/"' in _signed_in(staff_user).get("/tags/maps/").content.decode()
    assert 'action="/tags/moderation/hide/"' not in _signed_in(buyer).get("/tags/maps/").content.decode()


# --- The Django admin -----------------------------------------------------------------------------------


@pytest.fixture
def operator(db):
    return UserFactory(username="opal", display_name="Opal Operator", is_staff=True, is_superuser=True)


def test_the_admin_hides_tags_after_asking_for_the_reason(operator):
    rude = Tag.objects.create(name="rude")
    client = _signed_in(operator)
    chosen = {"action": "hide_tags", "_selected_action": [rude.pk]}

    asked = client.post("/admin/catalog/tag/", chosen)
    refused = client.post("/admin/catalog/tag/", chosen | {"apply": "1", "reason": ""})
    assert asked.status_code == 200 and 'name="reason"' in asked.content.decode()
    assert refused.status_code == 200 and _tags() == [("rude", None, False, "")]

    done = client.post("/admin/catalog/tag/", chosen | {"apply": "1", "reason": "Insulting"})

    assert done.status_code == 302
    assert _tags() == [("rude", None, True, "Insulting")]
    assert Tag.objects.get().hidden_by == operator

    client.post("/admin/catalog/tag/", {"action": "unhide_tags", "_selected_action": [rude.pk]})
    assert _tags() == [("rude", None, False, "")]


def test_the_admin_merges_synonyms_through_the_same_rules(shop, buyer, operator):
    tagging.tag_apply(listing=ListingFactory(shop=shop), user=buyer, name="tomahto")
    tomato, tomahto = Tag.objects.create(name="tomato"), Tag.objects.get(name="tomahto")
    client = _signed_in(operator)

    response = client.post(
        "/admin/catalog/tag/",
        {"action": "merge_tags", "_selected_action": [tomato.pk, tomahto.pk], "apply": "1", "into": "tomato"},
        follow=True,
    )

    content = response.content.decode()
    assert "“tomato”: A tag cannot be merged into itself or into one of its synonyms." in content
    assert "Now leading to “tomato”: tomahto." in content
    assert _tags() == [("tomahto", "tomato", False, ""), ("tomato", None, False, "")]
    assert list(TaggedListing.objects.values_list("tag__name", flat=True)) == ["tomato"]


def test_the_admin_counts_uses_again(shop, buyer, operator):
    listing = ListingFactory(shop=shop)
    tagging.tag_apply(listing=listing, user=buyer, name="maps")
    Listing.objects.filter(pk=listing.pk).delete()

    _signed_in(operator).post(
        "/admin/catalog/tag/", {"action": "recount_tags", "_selected_action": [Tag.objects.get().pk]}
    )

    assert Tag.objects.get().use_count == 0


# --- Demo data --------------------------------------------------------------------------------------


def test_demo_data_tags_the_listings_for_sale_and_running_it_again_adds_nothing(shop):
    for _ in range(5):
        ListingFactory(shop=shop)

    call_command("seed_demo", seed=7)
    first = sorted(TaggedListing.objects.values_list("tag__name", "content_object_id", "tagged_by__username"))
    call_command("seed_demo", seed=7)

    assert first
    assert sorted(TaggedListing.objects.values_list("tag__name", "content_object_id", "tagged_by__username")) == first
    assert all(not is_seller for is_seller in TaggedListing.objects.values_list("is_seller_tag", flat=True))
