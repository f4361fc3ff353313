"""The search API: /api/search/ (listings with facets) and /api/search/suggestions/ (autocomplete).

Both read through catalog.search, with the same parameters as the search page; every
value is validated there and a refused one answers 400 with the field and the reason.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from . import search
from .api import CatalogListingSerializer
from .selectors import viewer_country

# --- Input (documents the query parameters; catalog.search validates them) ------------------------


class SearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(
        required=False,
        max_length=search.MAX_QUERY_LENGTH,
        help_text="Words to find in titles, authors or artists, tags and descriptions; all must match. "
        "Without words (and with some filter), every listing for sale.",
    )
    category = serializers.IntegerField(
        required=False, help_text="A category id: listings in it and in all its subcategories."
    )
    tag = serializers.ListField(
        child=serializers.SlugField(),
        required=False,
        help_text=f"A tag's slug; repeat for listings carrying every one (at most {search.MAX_TAG_FILTERS}).",
    )
    condition = serializers.ListField(
        child=serializers.SlugField(), required=False, help_text="A condition's slug; repeat for any of several."
    )
    price_min = serializers.DecimalField(
        max_digits=8, decimal_places=2, required=False, help_text="Listings priced at least this amount."
    )
    price_max = serializers.DecimalField(
        max_digits=8,
        decimal_places=2,
        required=False,
        help_text="Listings priced below this amount. Amounts of every currency are compared as plain numbers.",
    )
    country = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="ISO code of the shop's country; repeat for any of several.",
    )
    ships_to = serializers.CharField(
        required=False,
        help_text="ISO code of a country: only shops that send there. The `ships_to` facet counts for this "
        "country, or else for the signed-in person's own.",
    )
    sort = serializers.ChoiceField(
        choices=search.SORT_CHOICES,
        required=False,
        help_text="relevance (the default with words), newest (the default without), price or -price.",
    )
    cursor = serializers.CharField(
        required=False, help_text="`next_cursor` of the previous page, with the same search and sort."
    )
    page_size = serializers.IntegerField(
        required=False, min_value=1, max_value=search.MAX_PAGE_SIZE, help_text=f"Default {search.PAGE_SIZE}."
    )


class SuggestionQuerySerializer(serializers.Serializer):
    q = serializers.CharField(max_length=search.MAX_QUERY_LENGTH, help_text="What has been typed so far.")


# --- Output -----------------------------------------------------------------------------------------


class SearchTagSerializer(serializers.Serializer):
    name = serializers.CharField()
    slug = serializers.SlugField()
    people = serializers.IntegerField(help_text="How many people applied it.")


class SearchListingSerializer(CatalogListingSerializer):
    tags = SearchTagSerializer(many=True, source="card_tags", help_text="The most applied visible tags.")


class SearchFacetValueSerializer(serializers.Serializer):
    value = serializers.CharField(
        help_text="What to pass back: a category id, tag slug, condition slug, country code, or a price range as "
        "`lowest-below` (price_min and price_max; either side may be empty)."
    )
    label = serializers.CharField()
    count = serializers.IntegerField(help_text="Matching listings with this value, the other choices applied.")
    selected = serializers.BooleanField()
    depth = serializers.IntegerField(help_text="Categories: 0 for a top category, 1 below it, and so on.")


class SearchFacetSerializer(serializers.Serializer):
    name = serializers.ChoiceField(choices=["category", "tag", "condition", "price", "country", "ships_to"])
    label = serializers.CharField()
    is_approximate = serializers.BooleanField(
        help_text=f"True when the words match more listings than were counted: the counts are then taken within "
        f"a sample of at most {search.FACET_SAMPLE:,} matches (with relevance, the ranked candidates) and each is a "
        "lower bound."
    )
    values = SearchFacetValueSerializer(many=True)


class CloseWordSerializer(serializers.Serializer):
    word = serializers.CharField(help_text="A word of the query that the catalog does not have.")
    term = serializers.CharField(help_text="A word of the catalog spelled like it.")


class SearchResponseSerializer(serializers.Serializer):
    query = serializers.CharField(help_text="The words searched (the corrected ones when `original_query` is set).")
    original_query = serializers.CharField(
        allow_null=True,
        help_text="When nothing matched what was asked but a close spelling did: what was asked. The results are "
        "for `query`.",
    )
    close_words = CloseWordSerializer(many=True)
    sort = serializers.CharField()
    count = serializers.IntegerField(
        help_text=f"Matching listings, counted up to {search.COUNT_LIMIT:,} (with relevance, up to the "
        f"{search.RELEVANCE_DEPTH:,} ranked candidates)."
    )
    count_is_exact = serializers.BooleanField(
        help_text="False when there are more than `count`: the count is then a lower bound, shown as “more than”."
    )
    next_cursor = serializers.CharField(allow_null=True)
    next = serializers.URLField(allow_null=True, help_text="The next page, or null on the last one.")
    results = SearchListingSerializer(many=True)
    facets = SearchFacetSerializer(many=True)


class SuggestionsSerializer(serializers.Serializer):
    query = serializers.CharField()
    suggestions = serializers.ListField(child=serializers.CharField())


# --- Endpoints ----------------------------------------------------------------------------------------


def _next_url(request, cursor: str | None) -> str | None:
    if not cursor:
        return None
    params = request.query_params.copy()
    params["cursor"] = cursor
    return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")


class SearchAPIView(APIView):
    throttle_scope = "search"
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["search"],
        summary="Search the catalog",
        description="Active listings of every shop matching `q`, ranked by relevance or sorted by newest or price, "
        "narrowed by the chosen facets, with facet counts for this search (each facet counts with the other choices "
        "applied, its own left out). Pages follow `next_cursor`. Relevance ranks the "
        f"{search.RELEVANCE_DEPTH:,} matches listed last and its pages stop after them; newest and price pages "
        "never stop. When nothing matches, words the "
        "catalog does not have are replaced by close spellings (`original_query` then says what was asked).",
        parameters=[SearchQuerySerializer],
        responses={
            200: SearchResponseSerializer,
            400: OpenApiResponse(description="A parameter was refused: its name and the reason."),
        },
    )
    def get(self, request):
        params, errors = search.parse_search_params(request.query_params)
        if errors:
            raise exceptions.ValidationError(errors)
        results = search.search_listings(params=params, viewer_country=viewer_country(user=request.user))
        payload = {
            "query": results.params.text,
            "original_query": results.original_text,
            "close_words": [{"word": word, "term": term} for word, term in results.close_words],
            "sort": results.params.effective_sort,
            "count": results.count,
            "count_is_exact": results.count_is_exact,
            "next_cursor": results.next_cursor,
            "next": _next_url(request, results.next_cursor),
            "results": results.listings,
            "facets": results.facets,
        }
        return Response(SearchResponseSerializer(payload).data)


class SuggestionsAPIView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["search"],
        summary="Complete a search being typed",
        description="Ways to finish `q`: its last word completed from the words of the catalog's titles, authors "
        "and tags, the most used first.",
        parameters=[SuggestionQuerySerializer],
        responses={200: SuggestionsSerializer},
    )
    def get(self, request):
        query = SuggestionQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        text = query.validated_data["q"]
        return Response({"query": text, "suggestions": search.complete(text=text)})
