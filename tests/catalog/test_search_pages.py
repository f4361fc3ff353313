"""The search page (/search/), the search API (/api/search/, /api/search/suggestions/) and the
storefront's own search box, as a shopper and an API client use them; query counts included."""

from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from rest_framework.test import APIClient

from catalog.models import Category, ListingImage
from tests.catalog.search_helpers import listing, tag

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def _fill(shop, buyer, count, *, word="lantern"):
    """`count` matching listings, each with an image and two tags: what makes a naive page grow."""
    made = []
    for number in range(count):
        item = listing(shop, f"{word.title()} number {number}", price=Decimal(10 + number))
        ListingImage.objects.create(
            listing=item, thumbnail=ContentFile(b"t", name="t.webp"), large=ContentFile(b"l", name="l.webp")
        )
        tag(item, "brass", by=buyer)
        tag(item, "antique", by=buyer)
        made.append(item)
    return made


# --- The search page -------------------------------------------------------------------------------


def test_the_page_shows_listing_cards_facets_sort_and_people(client, shop, buyer):
    books = Category.objects.create(name="Books", slug="books")
    listing(shop, "Lantern slides of Bristol", category=books, creator="Bea Lantern")

    response = client.get("/search/", {"q": "lantern"})

    assert response.status_code == 200
    text = response.text
    assert "Lantern slides of Bristol" in text
    assert 'class="browse-card"' in text
    assert 'Listings\n        <span class="muted">(1)</span>' in text
    assert f'href="?q=lantern&amp;category={books.pk}"' in text
    assert '<input type="checkbox" id="facet-condition-good" name="condition" value="good">' in text
    assert '<option value="relevance" selected>Best match</option>' in text
    assert '<form class="facet-form" method="get" action="/search/">' in text
    assert 'id="people-results"' in text


def test_ticking_facets_and_sorting_narrow_the_page(client, shop, other_shop):
    listing(shop, "Lantern cheap", price=Decimal("3.00"))
    listing(shop, "Lantern dear", price=Decimal("40.00"))
    listing(other_shop, "Lantern Dutch", price=Decimal("20.00"))

    response = client.get("/search/", {"q": "lantern", "country": "GB", "sort": "-price"})

    assert [item.title for item in response.context["results"].listings] == ["Lantern dear", "Lantern cheap"]
    assert '<input type="checkbox" id="facet-country-GB" name="country" value="GB" checked>' in response.text
    assert '<option value="-price" selected>Highest price first</option>' in response.text


def test_the_next_page_link_continues_where_the_page_ended(client, shop, monkeypatch):
    for number in range(30):
        listing(shop, f"Lantern {number:02d}", price=Decimal(10 + number))

    first = client.get("/search/", {"q": "lantern", "sort": "price"})
    next_url = first.context["next_url"]
    second = client.get("/search/" + next_url)

    assert len(first.context["results"].listings) == 24
    assert 'rel="next"' in first.text
    assert [item.title for item in second.context["results"].listings] == [f"Lantern {n:02d}" for n in range(24, 30)]
    assert second.context["next_url"] is None
    assert "Page 2" in second.text
    assert "First page" in second.text


def test_refused_choices_are_explained_and_the_rest_still_searched(client, shop):
    listing(shop, "Lantern slides")

    response = client.get("/search/", {"q": "lantern", "price_min": "cheap", "sort": "popular"})

    assert response.status_code == 200
    assert "Enter an amount as a number, for example 12.50." in response.text
    assert "popular is not a sort order" in response.text
    assert [item.title for item in response.context["results"].listings] == ["Lantern slides"]
    # What was typed stays in the form.
    assert 'name="price_min" min="0" step="0.01" inputmode="decimal" value="cheap"' in response.text


def test_a_misspelling_shows_the_close_word_results(client, shop):
    listing(shop, "Lantern slides")

    response = client.get("/search/", {"q": "lantren"})

    assert "Nothing matches “lantren”. Showing listings for “<strong>lantern</strong>”." in response.text
    assert [item.title for item in response.context["results"].listings] == ["Lantern slides"]


def test_punctuation_only_asks_for_a_word(client, shop):
    listing(shop, "Lantern slides")

    response = client.get("/search/", {"q": "?!"})

    assert response.status_code == 200
    assert "has no letters or digits to look for" in response.text


def test_drafts_and_paused_listings_never_show(client, shop):
    listing(shop, "Lantern draft", status="draft", published_at=None)
    listing(shop, "Lantern paused", status="paused")

    response = client.get("/search/", {"q": "lantern"})

    assert "Lantern draft" not in response.text and "Lantern paused" not in response.text
    assert response.context["results"].count == 0


@pytest.mark.parametrize("count", [2, 9])
def test_the_page_issues_a_fixed_number_of_queries(client, shop, buyer, count, django_assert_num_queries):
    _fill(shop, buyer, count)

    # people, category tree (the first search since the cache was emptied), the ranked candidates
    # (they give the count and the facets' sample too), page, images, card tags, facet sample, its tags, conditions
    with django_assert_num_queries(9):
        response = client.get("/search/", {"q": "lantern"})

    assert len(response.context["results"].listings) == count


@pytest.mark.parametrize("count", [2, 9])
def test_the_page_signed_in_with_filters_issues_a_fixed_number_of_queries(
    client, shop, buyer, count, django_assert_num_queries
):
    _fill(shop, buyer, count)
    client.force_login(buyer)

    # session, user, conditions (validation), people, tree, count, page, images, card tags, facet
    # sample, its tags, the chosen tag's canonical slug, conditions, unread notifications, unread conversations
    with django_assert_num_queries(15):
        response = client.get("/search/", {"q": "lantern", "condition": "good", "tag": "brass", "sort": "price"})

    assert len(response.context["results"].listings) == count


# --- The API ---------------------------------------------------------------------------------------------


def test_api_results_and_facets(api, shop, buyer):
    item = listing(shop, "Lantern slides", price=Decimal("12.50"))
    tag(item, "brass", by=buyer)

    response = api.get("/api/search/", {"q": "lantern", "ships_to": "NL"})

    assert response.status_code == 200
    body = response.json()
    assert (body["query"], body["original_query"], body["sort"]) == ("lantern", None, "relevance")
    assert (body["count"], body["count_is_exact"], body["next_cursor"], body["next"]) == (1, True, None, None)
    result = body["results"][0]
    assert (result["id"], result["title"], result["price"], result["currency"]) == (
        item.pk,
        "Lantern slides",
        "12.50",
        "GBP",
    )
    assert result["tags"] == [{"name": "brass", "slug": "brass", "people": 1}]
    facets = {facet["name"]: facet for facet in body["facets"]}
    assert list(facets) == ["category", "tag", "condition", "price", "country", "ships_to"]
    assert facets["condition"]["values"] == [
        {"value": "good", "label": "Good", "count": 1, "selected": False, "depth": 0}
    ]
    assert facets["price"]["values"] == [
        {"value": "10-25", "label": "10 to 25", "count": 1, "selected": False, "depth": 0}
    ]
    assert facets["ships_to"]["values"] == [
        {"value": "NL", "label": "Ships to Netherlands", "count": 1, "selected": True, "depth": 0}
    ]
    assert facets["country"]["is_approximate"] is False


def test_api_pages_with_the_next_link(api, shop):
    for number in range(5):
        listing(shop, f"Lantern {number}", price=Decimal(10 + number))

    first = api.get("/api/search/", {"q": "lantern", "sort": "price", "page_size": 2}).json()
    second = api.get(first["next"]).json()
    third = api.get("/api/search/", {"q": "lantern", "sort": "price", "page_size": 2, "cursor": second["next_cursor"]})

    assert [item["title"] for item in first["results"]] == ["Lantern 0", "Lantern 1"]
    assert [item["title"] for item in second["results"]] == ["Lantern 2", "Lantern 3"]
    assert [item["title"] for item in third.json()["results"]] == ["Lantern 4"]
    assert third.json()["next"] is None


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"price_min": "abc"}, {"price_min": ["Enter an amount as a number, for example 12.50."]}),
        ({"price_min": "9", "price_max": "3"}, {"price_max": ["The highest price must be above the lowest."]}),
        ({"sort": "random"}, {"sort": ["random is not a sort order; use one of relevance, newest, price, -price."]}),
        (
            {"cursor": "not-a-cursor"},
            {"cursor": ["This page link does not belong to this search; start again from the first page."]},
        ),
    ],
)
def test_api_refuses_bad_parameters_with_400(api, shop, params, errors):
    listing(shop, "Lantern slides")

    response = api.get("/api/search/", {"q": "lantern", **params})

    assert response.status_code == 400
    assert response.json() == errors


def test_api_reports_a_corrected_query(api, shop):
    listing(shop, "Lantern slides")

    body = api.get("/api/search/", {"q": "lantren"}).json()

    assert (body["query"], body["original_query"], body["count"]) == ("lantern", "lantren", 1)
    assert body["close_words"] == [{"word": "lantren", "term": "lantern"}]


@pytest.mark.parametrize("count", [2, 9])
def test_api_issues_a_fixed_number_of_queries(api, shop, buyer, count, django_assert_num_queries):
    _fill(shop, buyer, count)

    # tree, ranked candidates, page, images, card tags, facet sample, its tags, conditions
    with django_assert_num_queries(8):
        response = api.get("/api/search/", {"q": "lantern"})

    assert len(response.json()["results"]) == count


@pytest.mark.parametrize("page_size", [10, 50])
def test_api_queries_are_the_same_at_every_page_size(api, shop, buyer, page_size, django_assert_num_queries):
    _fill(shop, buyer, 12)

    # tree, ranked candidates, page, images, card tags, facet sample, its tags, conditions
    with django_assert_num_queries(8):
        response = api.get("/api/search/", {"q": "lantern", "page_size": page_size})
    # Sorted by a column: count, page, images, card tags, facet sample, its tags, conditions
    with django_assert_num_queries(7):
        api.get("/api/search/", {"q": "lantern", "page_size": page_size, "sort": "price"})

    assert len(response.json()["results"]) == min(page_size, 12)


def test_a_count_past_the_cap_says_more_than_on_the_page_and_in_the_api(client, api, shop, monkeypatch):
    from catalog import search

    monkeypatch.setattr(search, "RELEVANCE_DEPTH", 3)
    monkeypatch.setattr(search, "COUNT_LIMIT", 3)
    for number in range(5):
        listing(shop, f"Lantern {number}")

    page = client.get("/search/", {"q": "lantern"})
    sorted_page = client.get("/search/", {"q": "lantern", "sort": "newest"})
    body = api.get("/api/search/", {"q": "lantern"}).json()

    assert 'Listings\n        <span class="muted">(more than 3)</span>' in page.text
    assert 'Listings\n        <span class="muted">(more than 3)</span>' in sorted_page.text
    assert '<span class="muted">3+</span>' in page.text  # the facets count within the candidates
    assert "These are the best matches." in page.text
    assert (body["count"], body["count_is_exact"]) == (3, False)
    assert all(facet["is_approximate"] for facet in body["facets"])
    assert len(body["results"]) == 3 and body["next"] is None


def test_the_category_tree_is_read_once_until_a_category_changes(
    client, shop, django_assert_num_queries, django_capture_on_commit_callbacks
):
    from catalog import search
    from tests.factories import UserFactory

    operator = UserFactory(username="opal", is_staff=True, is_superuser=True)
    client.force_login(operator)
    books = Category.objects.create(name="Books", slug="books")
    listing(shop, "Lantern slides", category=books)
    search.search_listings(params=search.SearchParams(text="lantern"))

    # No query for the tree: candidates, page, images, card tags, facet sample, its tags, conditions
    with django_assert_num_queries(7):
        search.search_listings(params=search.SearchParams(text="lantern"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/catalog/category/add/", {"name": "Maps", "slug": "maps", "parent": books.pk, "position": 0}
        )
    listing(shop, "Lantern maps", category=Category.objects.get(slug="maps"))
    results = search.search_listings(params=search.SearchParams(text="lantern"))

    assert response.status_code == 302
    assert [(value.label, value.count) for value in results.facets[0].values] == [("Books", 2), ("Maps", 1)]


def test_api_suggestions_complete_the_last_word(api, shop):
    listing(shop, "Lantern slides")
    listing(shop, "Lantern makers")
    listing(shop, "Lanterns of Japan")

    response = api.get("/api/search/suggestions/", {"q": "brass lant"})

    assert response.status_code == 200
    assert response.json() == {"query": "brass lant", "suggestions": ["brass lantern", "brass lanterns"]}
    assert api.get("/api/search/suggestions/").status_code == 400


# --- The storefront's search box ---------------------------------------------------------------------------


def test_the_storefront_searches_its_own_listings_through_the_index(client, shop, other_shop, buyer):
    tagged = listing(shop, "Brass lamp")
    tag(tagged, "lantern", by=buyer)
    listing(shop, "Oil lamp", description="A hurricane lantern, complete.")
    listing(shop, "Lantern gone", status="sold_out", quantity=0)
    listing(shop, "Lantern resting", status="paused")
    listing(other_shop, "Lantern elsewhere")

    response = client.get("/shops/olives-books/", {"q": "lanterns", "sort": "title"})

    assert [item.title for item in response.context["page"].object_list] == ["Brass lamp", "Lantern gone", "Oil lamp"]


def test_the_schema_documents_the_search_endpoints(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    schema = (tmp_path / "schema.yml").read_text()

    assert "/api/search/:" in schema
    assert "/api/search/suggestions/:" in schema
    for parameter in ("price_min", "price_max", "ships_to", "cursor", "sort"):
        assert f"name: {parameter}" in schema
