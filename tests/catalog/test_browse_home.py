"""The home page: new arrivals, popular tags, featured shops, the promises, and its query count."""

import datetime
import re

import pytest
from django.core.files.base import ContentFile
from django.db.models import F
from django.test import Client
from django.utils import timezone

from catalog import tagging
from catalog.models import ListingImage, Tag, TaggedListing
from tests.factories import ListingFactory, ShopFactory, UserFactory

pytestmark = pytest.mark.django_db


def _apply(tag: Tag, listing, count: int, *, prefix: str) -> None:
    """`count` people's applications of `tag`, counted in its use count as catalog.tagging does."""
    for number in range(count):
        person = UserFactory(username=f"{prefix}{number}")
        TaggedListing.objects.create(tag=tag, content_object=listing, tagged_by=person)
    Tag.objects.filter(pk=tag.pk).update(use_count=F("use_count") + count)


def test_new_arrivals_are_the_latest_active_listings(client, shop):
    now = timezone.now()
    ListingFactory(shop=shop, title="Older moss book", published_at=now - datetime.timedelta(days=2))
    ListingFactory(shop=shop, title="Newest moss book", published_at=now)
    ListingFactory(shop=shop, title="Draft moss book", status="draft", published_at=None)
    ListingFactory(shop=shop, title="Paused moss book", status="paused")

    content = client.get("/").content.decode()

    assert '<h2 id="new-arrivals-title">New arrivals</h2>' in content
    assert content.index("Newest moss book") < content.index("Older moss book")
    assert "Draft moss book" not in content
    assert "Paused moss book" not in content


def test_popular_tags_are_ranked_by_applications_and_skip_hidden_ones(client, shop):
    listing = ListingFactory(shop=shop)
    lichens = Tag.objects.create(name="lichens", slug="lichens")
    mosses = Tag.objects.create(name="mosses", slug="mosses")
    rude = Tag.objects.create(name="rude", slug="rude", is_hidden=True, hidden_reason="Offensive")
    _apply(mosses, listing, 1, prefix="m")
    _apply(lichens, listing, 3, prefix="l")
    _apply(rude, listing, 5, prefix="r")

    content = client.get("/").content.decode()

    assert '<a href="/tags/lichens/" rel="tag">lichens</a> <span class="muted">(3)</span>' in content
    assert '<a href="/tags/mosses/" rel="tag">mosses</a> <span class="muted">(1)</span>' in content
    assert content.index("/tags/lichens/") < content.index("/tags/mosses/")
    assert "/tags/rude/" not in content


def test_a_merged_synonym_counts_for_its_main_tag(client, shop, staff_user):
    listing = ListingFactory(shop=shop)
    tomato = Tag.objects.create(name="tomato", slug="tomato")
    tomahto = Tag.objects.create(name="tomahto", slug="tomahto")
    _apply(tomato, listing, 1, prefix="a")
    _apply(tomahto, listing, 2, prefix="b")
    tagging.tag_merge(synonym=tomahto, into=tomato, actor=staff_user)

    content = client.get("/").content.decode()

    assert '<a href="/tags/tomato/" rel="tag">tomato</a> <span class="muted">(3)</span>' in content
    assert "/tags/tomahto/" not in content


def test_featured_shops_have_the_most_active_listings(client):
    busy = ShopFactory(name="Busy Books", slug="busy-books")
    quiet = ShopFactory(name="Quiet Books", slug="quiet-books")
    drafts_only = ShopFactory(name="Draft Books", slug="draft-books")
    for _ in range(3):
        ListingFactory(shop=busy)
    ListingFactory(shop=quiet)
    ListingFactory(shop=quiet, status="paused")
    ListingFactory(shop=drafts_only, status="draft")

    content = client.get("/").content.decode()

    featured = content[content.index('<h2 id="featured-shops-title">Featured shops</h2>') :]
    assert "Bristol, United Kingdom · 3 items for sale" in featured
    assert "Bristol, United Kingdom · 1 item for sale" in featured
    assert featured.index('href="/shops/busy-books/"') < featured.index('href="/shops/quiet-books/"')
    assert 'href="/shops/draft-books/"' not in featured


def test_empty_catalog_still_shows_the_promises(client):
    content = client.get("/").content.decode()

    assert "What we promise" in content
    assert "New arrivals" not in content
    assert "Popular tags" not in content
    assert "Featured shops" not in content


@pytest.mark.parametrize("size", [1, 8])
def test_home_page_queries_do_not_grow(django_assert_num_queries, size):
    # given `size` shops, each with a listing carrying an image and `size` tags
    tagger = UserFactory(username="tagger")
    for _ in range(size):
        listing = ListingFactory(shop=ShopFactory())
        ListingImage.objects.create(
            listing=listing, thumbnail=ContentFile(b"t", name="t.webp"), large=ContentFile(b"l", name="l.webp")
        )
        for tag_number in range(size):
            tag, _ = Tag.objects.get_or_create(name=f"tag{tag_number}", slug=f"tag{tag_number}")
            TaggedListing.objects.create(tag=tag, content_object=listing, tagged_by=tagger)
    client = Client()

    # new arrivals, their images, their tags, popular tags, featured shops
    with django_assert_num_queries(5):
        response = client.get("/")
    assert response.content.decode().count('class="browse-card"') == size


def test_cards_show_main_tags_counted_by_people_and_never_hidden_ones(client, shop):
    # given a listing tagged "tomato" by one person and its synonym "tomahto" by two, and a hidden tag
    listing = ListingFactory(shop=shop, title="Kitchen garden")
    tomato = Tag.objects.create(name="tomato", slug="tomato")
    tomahto = Tag.objects.create(name="tomahto", slug="tomahto", merged_into=tomato)
    garden = Tag.objects.create(name="garden", slug="garden")
    rude = Tag.objects.create(name="rude", slug="rude", is_hidden=True, hidden_reason="Offensive")
    _apply(tomato, listing, 1, prefix="a")
    _apply(tomahto, listing, 2, prefix="b")
    _apply(garden, listing, 1, prefix="c")
    _apply(rude, listing, 4, prefix="d")

    content = client.get("/").content.decode()

    card = content[content.index("Kitchen garden") :]
    assert (
        '<ul class="card-tags" aria-label="Tags">'
        '<li><a href="/tags/tomato/" rel="tag">tomato</a></li>'
        '<li><a href="/tags/garden/" rel="tag">garden</a></li></ul>'
    ) in re.sub(r">\s+<", "><", card)
