"""Following tags: notifications of new listings carrying them, and the followed tags' page."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from catalog import tagging
from catalog.models import Tag, TagFollow, TagFollowNotice, TaggedListing
from catalog.services import listing_set_status
from notifications.models import Delivery, Notification
from tests.factories import ListingFactory, UserFactory

pytestmark = pytest.mark.django_db


def _notifications():
    return list(Notification.objects.order_by("pk").values_list("recipient__username", "kind", "title", "url"))


def _follow(user, name: str) -> Tag:
    tag, _ = Tag.objects.get_or_create(name=name)
    tagging.tag_follow(user=user, tag=tag)
    return tag


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- Notifications ----------------------------------------------------------------------------------


def test_followers_hear_of_a_listing_once_whichever_followed_tags_it_gets(shop, buyer, other_buyer):
    # given Bea follows "maps" and "atlas"
    _follow(buyer, "maps")
    _follow(buyer, "atlas")
    listing = ListingFactory(shop=shop, title="Old Bristol")

    # when Otto tags the listing "maps", then "atlas", and a third person "maps" too
    tagging.tag_apply(listing=listing, user=other_buyer, name="Maps")
    tagging.tag_apply(listing=listing, user=other_buyer, name="atlas")
    tagging.tag_apply(listing=listing, user=UserFactory(username="third"), name="maps")

    # then Bea was told once, in her digest by default
    assert _notifications() == [("bea", "tag.listed", "New under “maps”: Old Bristol", f"/listings/{listing.pk}/")]
    assert list(Delivery.objects.values_list("mode", flat=True)) == ["digest"]
    assert list(TagFollowNotice.objects.values_list("user__username", "listing_id")) == [("bea", listing.pk)]


def test_the_person_who_tags_is_not_told_of_their_own_tagging(shop, buyer):
    _follow(buyer, "maps")

    tagging.tag_apply(listing=ListingFactory(shop=shop), user=buyer, name="maps")

    assert _notifications() == []


def test_a_listing_tagged_before_it_is_for_sale_is_announced_when_it_goes_on_sale(shop, shop_owner, buyer):
    # given a draft the shop tagged "maps", followed by Bea
    _follow(buyer, "maps")
    draft = ListingFactory(shop=shop, status="draft", published_at=None, title="Atlas of Wessex")
    tagging.tag_apply(listing=draft, user=shop_owner, name="maps")
    assert _notifications() == []

    # when the shop puts it on sale, pauses it and puts it on sale again
    listing_set_status(listing=draft, actor=shop_owner, status="active")
    listing_set_status(listing=draft, actor=shop_owner, status="paused")
    listing_set_status(listing=draft, actor=shop_owner, status="active")

    # then Bea heard of it once
    assert _notifications() == [("bea", "tag.listed", "New under “maps”: Atlas of Wessex", f"/listings/{draft.pk}/")]


def test_followers_of_a_hidden_tag_hear_nothing(shop, shop_owner, buyer, staff_user):
    tag = _follow(buyer, "maps")
    draft = ListingFactory(shop=shop, status="draft", published_at=None)
    tagging.tag_apply(listing=draft, user=shop_owner, name="maps")
    tagging.tag_hide(tag=tag, actor=staff_user, reason="Spam")

    listing_set_status(listing=draft, actor=shop_owner, status="active")

    assert _notifications() == []


def test_following_a_synonym_follows_its_main_tag_and_twice_is_once(buyer, staff_user):
    tomato = Tag.objects.create(name="tomato")
    tagging.tag_merge(synonym=Tag.objects.create(name="tomahto"), into=tomato, actor=staff_user)

    tagging.tag_follow(user=buyer, tag=Tag.objects.get(name="tomahto"))
    tagging.tag_follow(user=buyer, tag=tomato)

    assert list(TagFollow.objects.values_list("user__username", "tag__name")) == [("bea", "tomato")]
    assert tagging.tag_unfollow(user=buyer, tag=tomato) is True
    assert tagging.tag_unfollow(user=buyer, tag=tomato) is False


# --- The followed tags' page -------------------------------------------------------------------------


def test_the_page_lists_listings_under_followed_tags_latest_tagged_first(shop, buyer, other_buyer):
    # given Bea follows "maps"; an older listing is tagged "maps" after a newer one
    _follow(buyer, "maps")
    newer = ListingFactory(shop=shop, title="Newer atlas")
    older = ListingFactory(shop=shop, title="Older atlas", published_at=timezone.now() - datetime.timedelta(days=30))
    tagging.tag_apply(listing=newer, user=other_buyer, name="maps")
    tagging.tag_apply(listing=older, user=other_buyer, name="maps")
    TaggedListing.objects.filter(content_object=newer).update(created_at=timezone.now() - datetime.timedelta(hours=2))
    tagging.tag_apply(listing=ListingFactory(shop=shop, title="Cookbook"), user=other_buyer, name="cookery")
    paused = ListingFactory(shop=shop, title="Paused atlas")
    tagging.tag_apply(listing=paused, user=other_buyer, name="maps")
    paused.status = "paused"
    paused.save()

    content = _signed_in(buyer).get("/tags/following/").content.decode()

    assert content.index("Older atlas") < content.index("Newer atlas")
    assert "Cookbook" not in content
    assert "Paused atlas" not in content
    assert '<a class="tag-chip" href="/tags/maps/" rel="tag">maps</a>' in content
    assert 'action="/tags/maps/unfollow/"' in content


def test_the_followed_tags_page_needs_signing_in(client):
    response = client.get("/tags/following/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/tags/following/"


@pytest.mark.parametrize("size", [1, 6])
def test_the_followed_tags_page_costs_the_same_whatever_it_lists(django_assert_num_queries, shop, buyer, size):
    tagger = UserFactory()
    for number in range(size):
        _follow(buyer, f"topic {number}")
        listing = ListingFactory(shop=shop)
        for tag_number in range(size):
            tagging.tag_apply(listing=listing, user=tagger, name=f"topic {tag_number}")
    client = _signed_in(buyer)

    # session, user, unread notifications and conversations; followed tags; listings counted,
    # listed, their images, their tags; what the people followed tagged (one query: there is none
    # to load, see test_feed_pages)
    with django_assert_num_queries(10):
        response = client.get("/tags/following/")

    assert response.content.decode().count('class="browse-card"') == size


def test_follow_and_unfollow_from_the_tag_page(shop, buyer):
    Tag.objects.create(name="maps")
    client = _signed_in(buyer)

    followed = client.post("/tags/maps/follow/")
    assert followed.status_code == 302 and followed["Location"] == "/tags/maps/"
    assert list(TagFollow.objects.values_list("user__username", "tag__name")) == [("bea", "maps")]
    assert 'action="/tags/maps/unfollow/"' in client.get("/tags/maps/").content.decode()

    unfollowed = client.post("/tags/maps/unfollow/", {"next": "/tags/following/"})
    assert unfollowed["Location"] == "/tags/following/"
    assert TagFollow.objects.count() == 0


def test_following_is_refused_to_anonymous_visitors_and_without_the_csrf_token(client, buyer):
    Tag.objects.create(name="maps")

    response = client.post("/tags/maps/follow/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")

    guarded = Client(enforce_csrf_checks=True)
    guarded.force_login(buyer)
    assert guarded.post("/tags/maps/follow/").status_code == 403
    assert TagFollow.objects.count() == 0


def test_a_hidden_tag_cannot_be_followed_it_does_not_exist(buyer, staff_user):
    tag = Tag.objects.create(name="rude")
    tagging.tag_hide(tag=tag, actor=staff_user, reason="Insulting")

    assert _signed_in(buyer).post("/tags/rude/follow/").status_code == 404
    assert TagFollow.objects.count() == 0
