"""Searching the catalog through catalog.search, on whichever database the run uses (SQLite FTS5
or PostgreSQL full-text): matching, ranking, sorting, pagination, facets, corrections, bad input."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog import search
from catalog.models import Category, Listing
from tests.catalog.search_helpers import facet, listing, parse, search_for, tag, titles
from tests.factories import ShopFactory

pytestmark = pytest.mark.django_db


# --- What matches -----------------------------------------------------------------------------


def test_every_word_must_match_in_title_creator_tags_or_description(shop, buyer):
    in_title = listing(shop, "Mosses of the Alps", creator="Ada Moss")
    in_creator = listing(shop, "A Walk in the Hills", creator="Mossy Grant")
    assert in_creator.creator == "Mossy Grant"
    in_description = listing(shop, "Field notes", description="Mostly about alpine lichens.")
    in_tags = listing(shop, "Green things")
    tag(in_tags, "alpine flora", by=buyer)

    assert titles(search_for(q="alps mosses")) == ["Mosses of the Alps"]
    assert set(titles(search_for(q="alpine"))) == {"Field notes", "Green things"}
    assert titles(search_for(q="mossy")) == ["A Walk in the Hills"]
    assert titles(search_for(q="alpine lichens")) == ["Field notes"]
    assert search_for(q="alps hills").count == 0
    # "mosses" and the factory's default creator "Ada Moss" share the stem "moss".
    assert {item.pk for item in search_for(q="mosses").listings} == {in_title.pk, in_description.pk, in_tags.pk}


def test_words_are_stemmed_and_accents_folded(shop):
    listing(shop, "Lichens of Iceland")
    listing(shop, "Le Café des Étoiles")

    assert titles(search_for(q="lichen")) == ["Lichens of Iceland"]
    assert titles(search_for(q="cafe etoiles")) == ["Le Café des Étoiles"]
    assert titles(search_for(q="CAFÉ")) == ["Le Café des Étoiles"]


def test_a_title_match_ranks_above_a_creator_match_above_a_description_match(shop):
    now = timezone.now()
    # Published in the reverse order of their relevance, so that newest-first would fail.
    listing(shop, "Notes", description="Something about heron colonies.", published_at=now)
    listing(shop, "Birds of the coast", creator="Ann Heron", published_at=now - datetime.timedelta(days=1))
    listing(shop, "The Heron", published_at=now - datetime.timedelta(days=2))

    results = search_for(q="heron")

    assert titles(results) == ["The Heron", "Birds of the coast", "Notes"]
    assert results.params.effective_sort == "relevance"


def test_only_active_listings_are_found_site_wide(shop):
    listing(shop, "Active atlas")
    listing(shop, "Draft atlas", status="draft", published_at=None)
    listing(shop, "Paused atlas", status="paused")
    listing(shop, "Sold out atlas", status="sold_out", quantity=0)

    assert titles(search_for(q="atlas")) == ["Active atlas"]


def test_hidden_tags_are_not_searchable_and_synonyms_read_as_their_tag(shop, buyer):
    rude = listing(shop, "First")
    tag(rude, "rudeword", by=buyer, is_hidden=True, hidden_reason="offensive")
    merged = listing(shop, "Second")
    tomato = tag(listing(shop, "Third"), "tomato", by=buyer)
    tag(merged, "tomahto", by=buyer, merged_into=tomato)

    assert search_for(q="rudeword").count == 0
    assert set(titles(search_for(q="tomato"))) == {"Second", "Third"}
    # The synonym's own name is not in the documents: it is found as a close spelling.
    synonym = search_for(q="tomahto")
    assert synonym.was_corrected and set(titles(synonym)) == {"Second", "Third"}


@pytest.mark.parametrize(
    "text",
    [
        "'; DROP TABLE catalog_listing; --",
        '" OR 1=1 --',
        '"unclosed',
        "title:atlas",
        "atlas NEAR(a b)",
        "atlas OR NOT *",
        "a & b | !c",
        "atlas:* <-> x",
        "%_\\",
        "(((",
        "日本語の本",
        "x" * 200,
    ],
)
def test_query_syntax_of_either_backend_is_only_text(shop, text):
    atlas = listing(shop, "Atlas of the world")

    results = search_for(q=text)
    also_sorted = search_for(q=text, sort="price")

    assert results.count == also_sorted.count == len(results.listings)
    assert {item.pk for item in results.listings} <= {atlas.pk}
    assert Listing.objects.count() == 1


@pytest.mark.parametrize("text", ["!!!", "--", "'", '"', "*", "¿?", "   .   "])
def test_punctuation_only_finds_nothing_without_error(shop, text):
    listing(shop, "Atlas of the world")

    results = search_for(q=text)

    assert results.count == 0
    assert results.listings == []
    assert results.close_words == []


# --- Sorting and pages ----------------------------------------------------------------------------


def test_sort_by_price_both_ways_and_by_newest(shop):
    now = timezone.now()
    listing(shop, "Map A", price=Decimal("5.00"), published_at=now - datetime.timedelta(days=2))
    listing(shop, "Map B", price=Decimal("50.00"), published_at=now)
    listing(shop, "Map C", price=Decimal("20.00"), published_at=now - datetime.timedelta(days=1))

    assert titles(search_for(q="map", sort="price")) == ["Map A", "Map C", "Map B"]
    assert titles(search_for(q="map", sort="-price")) == ["Map B", "Map C", "Map A"]
    assert titles(search_for(q="map", sort="newest")) == ["Map B", "Map C", "Map A"]
    assert titles(search_for(sort="newest", condition="good")) == ["Map B", "Map C", "Map A"]


def _all_pages(**values) -> list[list[str]]:
    pages = []
    cursor = None
    while True:
        results = search_for(**values, **({"cursor": cursor} if cursor else {}))
        pages.append(titles(results))
        assert results.page_number == len(pages)
        cursor = results.next_cursor
        if cursor is None:
            return pages


@pytest.mark.parametrize("sort", ["price", "-price", "newest", "relevance"])
def test_pages_follow_each_other_without_gaps_or_repeats(shop, sort):
    moment = timezone.now()
    for number in range(7):
        # Equal prices and publication times in pairs: the id decides between them.
        listing(
            shop,
            f"Globe {number}",
            price=Decimal(10 + number // 2),
            published_at=moment - datetime.timedelta(hours=number // 2),
        )

    pages = _all_pages(q="globe", sort=sort, page_size=3)

    assert [len(page) for page in pages] == [3, 3, 1]
    every = [title for page in pages for title in page]
    assert sorted(every) == [f"Globe {number}" for number in range(7)]
    if sort == "price":
        assert every == ["Globe 0", "Globe 1", "Globe 2", "Globe 3", "Globe 4", "Globe 5", "Globe 6"]
    if sort == "-price":
        assert every == ["Globe 6", "Globe 5", "Globe 4", "Globe 3", "Globe 2", "Globe 1", "Globe 0"]
    if sort == "newest":
        assert every == ["Globe 1", "Globe 0", "Globe 3", "Globe 2", "Globe 5", "Globe 4", "Globe 6"]


def test_a_listing_added_between_pages_does_not_shift_the_next_page(shop):
    for number in range(4):
        listing(shop, f"Chart {number}", price=Decimal(10 + number))
    first = search_for(q="chart", sort="price", page_size=2)
    listing(shop, "Chart cheap", price=Decimal("1.00"))

    second = search_for(q="chart", sort="price", page_size=2, cursor=first.next_cursor)

    assert titles(first) == ["Chart 0", "Chart 1"]
    assert titles(second) == ["Chart 2", "Chart 3"]


def test_relevance_pages_stop_at_the_ranked_depth(shop, monkeypatch):
    monkeypatch.setattr(search, "RELEVANCE_DEPTH", 4)
    for number in range(6):
        listing(shop, f"Compass {number}")

    first = search_for(q="compass", page_size=3)
    second = search_for(q="compass", page_size=3, cursor=first.next_cursor)

    assert len(first.listings) == 3 and first.relevance_is_capped is False
    assert len(second.listings) == 1
    assert second.next_cursor is None
    assert second.relevance_is_capped is True
    # The ranked candidates are the count too: more than them is all that is known.
    assert (first.count, first.count_is_exact) == (4, False)


@pytest.mark.parametrize(
    ("sort", "cap"), [("price", "COUNT_LIMIT"), ("newest", "COUNT_LIMIT"), ("", "RELEVANCE_DEPTH")]
)
def test_counts_stop_at_the_limit_and_say_so(shop, monkeypatch, sort, cap):
    monkeypatch.setattr(search, cap, 3)
    for number in range(5):
        listing(shop, f"Sextant {number}")

    results = search_for(q="sextant", sort=sort)

    assert (results.count, results.count_is_exact) == (3, False)
    assert (search_for(q="sextant 1", sort=sort).count, search_for(q="sextant 1", sort=sort).count_is_exact) == (
        1,
        True,
    )
    assert (search_for(q="sextant", sort=sort, page_size=3).count) == 3


def test_relevance_ranks_the_matches_listed_last(shop, monkeypatch):
    """Past the cap, the candidates are the newest listings (a word in most of the catalog
    must not rank every match); among them the best match comes first."""
    monkeypatch.setattr(search, "RELEVANCE_DEPTH", 2)
    listing(shop, "Barometer in brass", creator="Old")
    listing(shop, "Clock", description="a barometer too")
    listing(shop, "Barometer", creator="Newer")

    results = search_for(q="barometer")

    assert titles(results) == ["Barometer", "Clock"]
    assert (results.count, results.count_is_exact, results.relevance_is_capped) == (2, False, True)


# --- Facets -------------------------------------------------------------------------------------------


@pytest.fixture
def catalog_with_facets(shop, other_shop, buyer):
    """Five 'river' books in two shops (GB shipping to NL/DE/FR; NL shipping nowhere else), two categories
    under Books, three conditions, prices across the ranges, and two tags."""
    books = Category.objects.create(name="Books", slug="books")
    maps = Category.objects.create(name="Maps", slug="maps", parent=books)
    guides = Category.objects.create(name="Guides", slug="guides", parent=books)
    other_shop.ships_to = []
    other_shop.save()
    made = {
        "thames": listing(shop, "River Thames", category=maps, price=Decimal("8.00")),
        "rhine": listing(shop, "River Rhine", category=guides, price=Decimal("15.00"), condition_slug="fine"),
        "seine": listing(shop, "River Seine", category=guides, price=Decimal("30.00"), condition_slug="fine"),
        "maas": listing(other_shop, "River Maas", category=maps, price=Decimal("12.00"), condition_slug="poor"),
        "danube": listing(other_shop, "River Danube", price=Decimal("300.00")),
        "elsewhere": listing(shop, "Mountain paths", category=maps, price=Decimal("9.00")),
    }
    tag(made["thames"], "london", by=buyer)
    tag(made["seine"], "paris", by=buyer)
    tag(made["maas"], "paris", by=buyer)
    return {"books": books, "maps": maps, "guides": guides, **made}


def test_facet_counts_for_the_query(catalog_with_facets, settings):
    results = search_for(q="river", viewer_country="FR")

    assert results.count == 5
    assert list(facet(results, "category").items()) == [("Books", 4), ("Guides", 2), ("Maps", 2)]
    assert facet(results, "condition") == {"Fine": 2, "Good": 2, "Poor": 1}
    assert facet(results, "price") == {"Under 10": 1, "10 to 25": 2, "25 to 50": 1, "250 and more": 1}
    assert facet(results, "country") == {"United Kingdom": 3, "Netherlands": 2}
    assert facet(results, "tag") == {"paris": 2, "london": 1}
    assert facet(results, "ships_to") == {"Ships to France": 3}


def test_categories_count_their_subcategories_and_open_below_the_chosen_one(catalog_with_facets):
    books = catalog_with_facets["books"]

    results = search_for(q="river", category=books.pk)
    maps_only = search_for(q="river", category=catalog_with_facets["maps"].pk)

    assert results.count == 4
    assert [(value.label, value.count, value.depth, value.selected) for value in results.facets[0].values] == [
        ("Books", 4, 0, True),
        ("Guides", 2, 1, False),
        ("Maps", 2, 1, False),
    ]
    assert set(titles(maps_only)) == {"River Thames", "River Maas"}


def test_choosing_facets_narrows_results_and_the_other_counts(catalog_with_facets):
    results = search_for(q="river", condition="fine")

    assert set(titles(results)) == {"River Rhine", "River Seine"}
    # Its own facet still offers the other conditions, with their counts.
    assert facet(results, "condition") == {"Fine": 2, "Good": 2, "Poor": 1}
    assert facet(results, "country") == {"United Kingdom": 2}
    assert facet(results, "price") == {"10 to 25": 1, "25 to 50": 1}
    assert facet(results, "tag") == {"paris": 1}

    both = search_for(q="river", condition=["fine", "poor"], country="NL")
    assert titles(both) == ["River Maas"]
    assert facet(both, "country") == {"Netherlands": 1, "United Kingdom": 2}


def test_tags_price_and_shipping_filters(catalog_with_facets):
    assert set(titles(search_for(q="river", tag="paris"))) == {"River Seine", "River Maas"}
    # Tags combine: the tag facet counts within the results, so no other tag is offered here.
    assert facet(search_for(q="river", tag="paris"), "tag") == {"paris": 2}
    assert titles(search_for(q="river", tag=["paris", "london"])) == []
    assert titles(search_for(q="river", price_min="10", price_max="25", sort="price")) == ["River Maas", "River Rhine"]
    assert titles(search_for(q="river", price_min="250")) == ["River Danube"]
    assert set(titles(search_for(q="river", ships_to="DE"))) == {"River Thames", "River Rhine", "River Seine"}
    assert set(titles(search_for(q="river", ships_to="NL"))) == {
        "River Thames",
        "River Rhine",
        "River Seine",
        "River Maas",
        "River Danube",
    }
    shipping = search_for(q="river", ships_to="NL", viewer_country="GB")
    assert [(each.label, each.selected) for each in shipping.facets[-1].values] == [("Ships to Netherlands", True)]


@pytest.mark.parametrize("sort", ["", "price"])
def test_facets_count_within_a_sample_and_say_so(catalog_with_facets, monkeypatch, sort):
    monkeypatch.setattr(search, "FACET_SAMPLE", 2)

    results = search_for(q="river", sort=sort)

    assert sum(facet(results, "condition").values()) == 2
    assert all(each.is_approximate for each in results.facets)
    assert (results.count, results.count_is_exact) == (5, True)


def test_facets_count_within_the_ranked_candidates_when_there_are_more(catalog_with_facets, monkeypatch):
    monkeypatch.setattr(search, "RELEVANCE_DEPTH", 3)

    results = search_for(q="river")
    with_choice = search_for(q="river", condition="fine")

    # The three candidates (newest first: Danube, Maas, Seine) are the facets' sample, and say so.
    assert (results.count, results.count_is_exact) == (3, False)
    assert facet(results, "condition") == {"Fine": 1, "Good": 1, "Poor": 1}
    assert facet(results, "country") == {"Netherlands": 2, "United Kingdom": 1}
    assert all(each.is_approximate for each in results.facets)
    # A chosen facet keeps the others' counts over the words' own matches (its sample, not the candidates).
    assert facet(with_choice, "condition") == {"Fine": 2, "Good": 2, "Poor": 1}
    assert sorted(titles(with_choice)) == ["River Rhine", "River Seine"]
    assert (with_choice.count, with_choice.count_is_exact) == (2, True)


def test_browsing_without_words_lists_everything_newest_first(catalog_with_facets):
    results = search_for(category=catalog_with_facets["maps"].pk)

    assert results.params.effective_sort == "newest"
    assert titles(results) == ["Mountain paths", "River Maas", "River Thames"]


def test_a_shop_that_is_gone_takes_its_listings_out_of_search(shop, other_shop):
    listing(other_shop, "Lantern")
    listing(shop, "Lantern too")

    other_shop.listings.all().delete()
    ShopFactory._meta.model.objects.filter(pk=other_shop.pk).delete()

    assert titles(search_for(q="lantern")) == ["Lantern too"]


# --- Close words ------------------------------------------------------------------------------------------


def test_a_misspelled_word_is_searched_as_the_closest_word_of_the_catalog(shop):
    listing(shop, "Lichens of Iceland")
    listing(shop, "Lichens and mosses")
    listing(shop, "Iceland by car")

    results = search_for(q="lichnes iceland")

    assert results.was_corrected
    assert results.original_text == "lichnes iceland"
    assert results.params.text == "lichens iceland"
    assert titles(results) == ["Lichens of Iceland"]
    assert ("lichnes", "lichens") in results.close_words


def test_nothing_close_stays_a_zero_hit_search(shop):
    listing(shop, "Lichens of Iceland")

    results = search_for(q="zzyzx")

    assert results.count == 0
    assert not results.was_corrected
    assert results.close_words == []


def test_autocomplete_finishes_the_last_word_most_used_first(shop):
    listing(shop, "Lichens of Iceland")
    listing(shop, "Lichens and mosses")
    listing(shop, "Lichtenstein")
    listing(shop, "Lichtenberg figures", status="draft", published_at=None)

    assert search.complete(text="field lic") == ["field lichens", "field lichtenstein"]
    assert search.complete(text="l") == []
    assert search.complete(text="lic ") == []


# --- Bad input --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"price_min": "cheap"}, "price_min", "Enter an amount as a number, for example 12.50."),
        ({"price_max": "-1"}, "price_max", "Enter an amount between 0 and 999999.99."),
        ({"price_max": "NaN"}, "price_max", "Enter an amount as a number, for example 12.50."),
        ({"price_min": "20", "price_max": "10"}, "price_max", "The highest price must be above the lowest."),
        ({"sort": "popular"}, "sort", "popular is not a sort order; use one of relevance, newest, price, -price."),
        (
            {"cursor": "forged"},
            "cursor",
            "This page link does not belong to this search; start again from the first page.",
        ),
        (
            {"condition": "mint"},
            "condition",
            "mint is not a condition; choose from as-new, fair, fine, good, new, poor, very-good.",
        ),
        ({"country": "XX"}, "country", "XX is not a country code (use two letters, e.g. GB)."),
        ({"ships_to": "Narnia"}, "ships_to", "Narnia is not a country code (use two letters, e.g. GB)."),
        ({"category": "books"}, "category", "Choose a category by its number."),
        ({"tag": "<script>"}, "tag", "<script> is not a tag."),
        ({"page_size": "500"}, "page_size", "Ask for 1 to 50 results a page."),
    ],
)
def test_refused_parameters_name_the_field_and_the_reason(values, field, message):
    params, errors = parse(q="atlas", **values)

    assert errors == {field: [message]}
    assert params.text == "atlas"


def test_a_cursor_belongs_to_its_sort(shop):
    for number in range(3):
        listing(shop, f"Quadrant {number}")
    first = search_for(q="quadrant", sort="price", page_size=1)

    _, errors = parse(q="quadrant", sort="newest", cursor=first.next_cursor)

    assert list(errors) == ["cursor"]
