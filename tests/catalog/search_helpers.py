"""Helpers shared by the search tests: listings indexed as the services index them, and searches
run the way the page and the API run them."""

from django.http import QueryDict

from catalog import search
from catalog.models import Condition, Tag, TaggedListing
from tests.factories import ListingFactory


def search_for(viewer_country=None, **values):
    """Run a search from query parameters (lists for repeated ones); fail on refused parameters."""
    params, errors = parse(**values)
    assert errors == {}
    return search.search_listings(params=params, viewer_country=viewer_country)


def parse(**values):
    data = QueryDict(mutable=True)
    for name, value in values.items():
        data.setlist(name, [str(each) for each in value] if isinstance(value, list | tuple) else [str(value)])
    return search.parse_search_params(data)


def titles(results) -> list[str]:
    return [listing.title for listing in results.listings]


def facet(results, name) -> dict[str, int]:
    found = {each.name: each for each in results.facets}[name]
    return {value.label: value.count for value in found.values}


def tag(listing, name, *, by, slug=None, **fields):
    """Apply a tag the way tagging does (one application per person), then reindex the listing."""
    tag_row, _ = Tag.objects.get_or_create(
        slug=slug or name.lower().replace(" ", "-"), defaults={"name": name, **fields}
    )
    TaggedListing.objects.create(tag=tag_row, content_object=listing, tagged_by=by)
    search.reindex_listings(listing_ids=[listing.pk])
    return tag_row


def listing(shop, title, *, condition_slug=None, **fields):
    if condition_slug:
        fields["condition"] = Condition.objects.get(slug=condition_slug)
    return ListingFactory(shop=shop, title=title, **fields)
