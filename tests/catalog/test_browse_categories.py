"""Category pages: the index, breadcrumbs, subcategories, listings of the whole branch, pagination, queries."""

import pytest
from django.test import Client

from catalog.models import Category, Tag, TaggedListing
from catalog.selectors import category_tree
from tests.factories import ListingFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    books = Category.objects.create(name="Books", slug="books", position=1)
    nature = Category.objects.create(name="Nature", slug="nature", parent=books)
    mosses = Category.objects.create(name="Mosses", slug="mosses", parent=nature)
    birds = Category.objects.create(name="Birds", slug="birds", parent=nature)
    records = Category.objects.create(name="Records", slug="records", position=2)
    return {"books": books, "nature": nature, "mosses": mosses, "birds": birds, "records": records}


def test_tree_gives_ancestors_children_and_descendants_in_one_query(django_assert_num_queries, tree):
    with django_assert_num_queries(1):
        loaded = category_tree()

    assert [node.name for node in loaded.ancestors(tree["mosses"].pk)] == ["Books", "Nature"]
    assert [node.name for node in loaded.ancestors(tree["mosses"].pk, include_self=True)] == [
        "Books",
        "Nature",
        "Mosses",
    ]
    assert [node.name for node in loaded.get(tree["nature"].pk).children] == ["Birds", "Mosses"]
    assert sorted(loaded.descendant_ids(tree["books"].pk)) == sorted(
        [tree["books"].pk, tree["nature"].pk, tree["mosses"].pk, tree["birds"].pk]
    )
    assert [(node.name, node.depth) for node in loaded.walk()] == [
        ("Books", 0),
        ("Nature", 1),
        ("Birds", 2),
        ("Mosses", 2),
        ("Records", 0),
    ]


def test_category_page_has_breadcrumbs_and_subcategories(client, tree):
    nature = tree["nature"]

    content = client.get(f"/categories/{nature.pk}-nature/").content.decode()

    assert (
        '<li><a href="/categories/">All categories</a></li>\n'
        f'    <li><a href="/categories/{tree["books"].pk}-books/">Books</a></li>\n'
        '    <li><span aria-current="page">Nature</span></li>'
    ) in content
    assert (
        f'<li><a href="/categories/{tree["birds"].pk}-birds/">Birds</a></li>'
        f'<li><a href="/categories/{tree["mosses"].pk}-mosses/">Mosses</a></li>'
    ) in content


def test_category_page_lists_active_listings_of_the_category_and_its_descendants(client, shop, tree):
    ListingFactory(shop=shop, category=tree["nature"], title="Nature in general")
    ListingFactory(shop=shop, category=tree["mosses"], title="All about mosses")
    ListingFactory(shop=shop, category=tree["records"], title="A record")
    ListingFactory(shop=shop, category=tree["mosses"], title="A draft about mosses", status="draft")
    ListingFactory(shop=shop, category=tree["mosses"], title="A paused moss book", status="paused")

    content = client.get(f"/categories/{tree['books'].pk}-books/").content.decode()

    assert "Nature in general" in content
    assert "All about mosses" in content
    assert "A record" not in content
    assert "A draft about mosses" not in content
    assert "A paused moss book" not in content
    assert 'For sale in Books <span class="muted">(2)</span>' in content


def test_category_page_is_paginated(client, shop, tree):
    for number in range(25):
        ListingFactory(shop=shop, category=tree["birds"], title=f"Bird book {number:02d}")

    first = client.get(f"/categories/{tree['birds'].pk}-birds/").content.decode()
    second = client.get(f"/categories/{tree['birds'].pk}-birds/?page=2").content.decode()

    assert first.count('class="browse-card"') == 24
    assert "Page 1 of 2" in first
    assert '<a href="?page=2" rel="next">Next</a>' in first
    assert second.count('class="browse-card"') == 1
    assert "Bird book 00" in second


def test_wrong_slug_redirects_to_the_category_and_unknown_category_is_not_found(client, tree):
    response = client.get(f"/categories/{tree['birds'].pk}-old-name/")

    assert response.status_code == 301
    assert response["Location"] == f"/categories/{tree['birds'].pk}-birds/"
    assert client.get("/categories/999999-nothing/").status_code == 404


def test_category_index_shows_the_whole_tree(client, tree):
    content = client.get("/categories/").content.decode()

    assert content.index("Books") < content.index("Nature") < content.index("Birds") < content.index("Mosses")
    assert content.index("Mosses") < content.index("Records")
    assert f'href="/categories/{tree["mosses"].pk}-mosses/"' in content


@pytest.mark.parametrize("size", [2, 9])
def test_category_page_queries_do_not_grow_with_listings_or_tags(django_assert_num_queries, shop, tree, size):
    # given `size` listings, each with an image-less card and `size` tags
    tagger = UserFactory(username="tagger")
    for _ in range(size):
        listing = ListingFactory(shop=shop, category=tree["mosses"])
        for tag_number in range(size):
            tag, _ = Tag.objects.get_or_create(name=f"tag{tag_number}", slug=f"tag{tag_number}")
            TaggedListing.objects.create(tag=tag, content_object=listing, tagged_by=tagger)
    client = Client()

    # tree, count, page of listings, their images, their tags
    with django_assert_num_queries(5):
        response = client.get(f"/categories/{tree['books'].pk}-books/")
    assert response.content.decode().count('class="browse-card"') == size


@pytest.mark.parametrize("size", [1, 6])
def test_category_index_is_one_query_whatever_the_size_of_the_tree(django_assert_num_queries, size):
    for number in range(size):
        root = Category.objects.create(name=f"Root {number}", slug=f"root-{number}")
        Category.objects.create(name=f"Child {number}", slug="child", parent=root)
    client = Client()

    with django_assert_num_queries(1):
        response = client.get("/categories/")
    assert response.content.decode().count('href="/categories/') == 2 * size
