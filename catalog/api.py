"""The read-only, public API of the catalog: listings, works (with the price comparator) and categories.

Output serializers only (nothing here writes); every list endpoint issues a fixed number of
queries whatever the number of listings or images (asserted by tests/catalog/test_catalog_api.py).
"""

import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from marketplace.conditional import ConditionalGetMixin
from marketplace.money import CURRENCY_CHOICES

from . import selectors
from .models import Listing

ORDERING_CHOICES = [
    ("newest", "Newest first"),
    ("oldest", "Oldest first"),
    ("price", "Lowest price first"),
    ("-price", "Highest price first"),
]
ORDERINGS = {
    "newest": ("-published_at", "-pk"),
    "oldest": ("published_at", "pk"),
    "price": ("price", "pk"),
    "-price": ("-price", "-pk"),
}


# --- Output serializers ----------------------------------------------------------------------


class CatalogShopSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    url = serializers.CharField(source="get_absolute_url", help_text="The storefront page.")
    country = serializers.CharField(source="country.code")
    city = serializers.CharField()
    currency = serializers.CharField()
    is_on_vacation = serializers.BooleanField(help_text="While true, the shop's listings cannot be bought.")
    vacation_until = serializers.DateField(allow_null=True)


class CatalogConditionSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    rank = serializers.IntegerField(help_text="1 is the best condition.")


class CatalogImageSerializer(serializers.Serializer):
    thumbnail = serializers.CharField(source="thumbnail.url")
    large = serializers.CharField(source="large.url")
    alt_text = serializers.CharField()


class CatalogListingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField(source="get_absolute_url", help_text="The listing page.")
    title = serializers.CharField()
    creator = serializers.CharField(help_text="Author or artist.")
    publisher = serializers.CharField(help_text="Publisher or label.")
    year = serializers.IntegerField(allow_null=True)
    format = serializers.CharField()
    price = serializers.DecimalField(max_digits=8, decimal_places=2)
    currency = serializers.CharField()
    quantity = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Listing.Status.choices)
    condition = CatalogConditionSerializer()
    shop = CatalogShopSerializer()
    category = serializers.IntegerField(source="category_id", allow_null=True)
    work = serializers.IntegerField(source="work_id", allow_null=True)
    thumbnail = serializers.SerializerMethodField()
    published_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_thumbnail(self, listing) -> str | None:
        images = listing.images.all()  # prefetched: no query per listing
        return images[0].thumbnail.url if images else None


class CatalogShopPersonSerializer(serializers.Serializer):
    name = serializers.CharField(source="user.public_name")
    profile_url = serializers.CharField(source="user.get_absolute_url")
    role = serializers.CharField()
    title = serializers.CharField()


class CatalogShippingSerializer(serializers.Serializer):
    country = serializers.CharField(allow_null=True, help_text="Null when no country was given or known.")
    ships = serializers.BooleanField(
        source="ships_if_known", allow_null=True, help_text="Null when the country is unknown."
    )
    first_item = serializers.DecimalField(max_digits=8, decimal_places=2, allow_null=True)
    additional_item = serializers.DecimalField(max_digits=8, decimal_places=2, allow_null=True)
    currency = serializers.CharField(help_text="Shipping is charged in the shop's currency.")


class CatalogListingDetailSerializer(CatalogListingSerializer):
    """Serialises a selectors.ListingPage: the listing with what its page shows around it."""

    identifier = serializers.CharField(help_text="ISBN, EAN or catalog number as the seller typed it.")
    description_html = serializers.CharField(help_text="Sanitised HTML rendered from the seller's markdown.")
    images = CatalogImageSerializer(many=True, source="page.images")
    people = CatalogShopPersonSerializer(many=True, source="page.members", help_text="The people behind the shop.")
    shipping = CatalogShippingSerializer(source="page.shipping")

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_thumbnail(self, listing) -> str | None:
        images = listing.page.images
        return images[0].thumbnail.url if images else None


class CatalogWorkSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField(source="get_absolute_url", help_text="The work page (price comparator).")
    title = serializers.CharField()
    creator = serializers.CharField()
    identifier_kind = serializers.CharField()
    identifier = serializers.CharField()


class CatalogCopyListingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField(source="get_absolute_url")
    title = serializers.CharField()
    condition = CatalogConditionSerializer()
    shop = CatalogShopSerializer()


class CatalogCopyOfferSerializer(serializers.Serializer):
    listing = CatalogCopyListingSerializer()
    price = serializers.DecimalField(max_digits=8, decimal_places=2)
    currency = serializers.CharField()
    ships = serializers.BooleanField(allow_null=True, help_text="Null when the country is unknown.")
    shipping = serializers.DecimalField(max_digits=8, decimal_places=2, allow_null=True)
    shipping_currency = serializers.CharField()
    total = serializers.DecimalField(
        max_digits=9, decimal_places=2, allow_null=True, help_text="Price plus shipping, in `currency`."
    )
    is_on_vacation = serializers.BooleanField(help_text="The shop is on vacation: this copy cannot be bought now.")


class CatalogCurrencyGroupSerializer(serializers.Serializer):
    currency = serializers.CharField()
    is_chosen = serializers.BooleanField()
    offers = CatalogCopyOfferSerializer(many=True)


class CatalogWorkComparisonSerializer(serializers.Serializer):
    work = CatalogWorkSerializer()
    country = serializers.CharField(allow_null=True)
    currency = serializers.CharField(allow_null=True, help_text="The currency whose group comes first.")
    groups = CatalogCurrencyGroupSerializer(many=True)
    not_shipping = CatalogCopyOfferSerializer(many=True, help_text="Copies the shops do not send to `country`.")


class CatalogCategorySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.SlugField()
    url = serializers.CharField(help_text="The category page.")
    parent = serializers.IntegerField(source="parent_id", allow_null=True)
    depth = serializers.IntegerField()


# A category holds its subcategories: a recursive component in the schema.
CatalogCategorySerializer._declared_fields["children"] = CatalogCategorySerializer(many=True)


# --- Input -----------------------------------------------------------------------------------


class CountryQuerySerializer(serializers.Serializer):
    country = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="ISO code of the country to ship to; defaults to the signed-in person's country.",
    )

    def validate_country(self, value: str) -> str | None:
        if not value:
            return None
        code = selectors.normalise_country(value)
        if code is None:
            raise serializers.ValidationError("Not a country code (use two letters, e.g. GB).")
        return code


class WorkQuerySerializer(CountryQuerySerializer):
    currency = serializers.ChoiceField(
        choices=CURRENCY_CHOICES, required=False, allow_blank=True, help_text="The currency whose group comes first."
    )


class ListingFilter(django_filters.FilterSet):
    shop = django_filters.CharFilter(field_name="shop__slug", help_text="A shop's slug.")
    category = django_filters.NumberFilter(
        method="filter_category", help_text="A category id: listings in it and in all its subcategories."
    )
    condition = django_filters.CharFilter(field_name="condition__slug", help_text="A condition's slug, e.g. good.")
    work = django_filters.NumberFilter(field_name="work_id", help_text="A work id: every copy of the work.")
    currency = django_filters.ChoiceFilter(choices=CURRENCY_CHOICES)
    min_price = django_filters.NumberFilter(field_name="price", lookup_expr="gte")
    max_price = django_filters.NumberFilter(field_name="price", lookup_expr="lte")
    ordering = django_filters.ChoiceFilter(
        choices=ORDERING_CHOICES,
        method="filter_ordering",
        empty_label=None,
        help_text="newest (the default), oldest, price or -price. Prices of different currencies are "
        "compared as plain numbers: filter by currency for a meaningful price order.",
    )

    class Meta:
        model = Listing
        fields: list[str] = []

    def filter_category(self, queryset, name, value):
        ids = selectors.category_tree().descendant_ids(int(value))
        return queryset.filter(category_id__in=ids)

    def filter_ordering(self, queryset, name, value):
        return queryset.order_by(*ORDERINGS.get(value, ORDERINGS["newest"]))


# --- Endpoints -----------------------------------------------------------------------------


@extend_schema(
    tags=["catalog"],
    summary="Listings for sale",
    description="Active listings from every shop, newest first unless `ordering` says otherwise.",
)
class ListingListAPIView(ConditionalGetMixin, generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = CatalogListingSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ListingFilter

    def get_queryset(self):
        return selectors.public_listings().order_by(*ORDERINGS["newest"])


class ListingDetailAPIView(ConditionalGetMixin, APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["catalog"],
        summary="One listing",
        description="An active or sold-out listing, with its pictures, the people behind the shop and shipping to "
        "`country` (or the signed-in person's country). Drafts and paused listings answer 404 to everyone but "
        "the shop's people.",
        parameters=[CountryQuerySerializer],
        responses={200: CatalogListingDetailSerializer},
    )
    def get(self, request, pk: int):
        listing = selectors.access_listing_for_view(user=request.user, pk=pk)
        query = CountryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        country = query.validated_data.get("country") or selectors.viewer_country(user=request.user)
        listing.page = selectors.listing_page(listing=listing, user=request.user, country=country, with_tags=False)
        return Response(CatalogListingDetailSerializer(listing).data)


class WorkDetailAPIView(ConditionalGetMixin, APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["catalog"],
        summary="A work and every copy for sale",
        description="The price comparator. Shops price in their own currencies and Plural converts none of them, so "
        "copies are grouped by currency and sorted by total (price plus shipping to `country`) within each "
        "group; the group in `currency` (or the country's usual currency, or the most common one) comes first. "
        "Copies from shops on vacation come after the others in their group; copies not shipped to `country` "
        "are listed apart in `not_shipping`. Without a country, shipping and totals are null and copies are "
        "sorted by price.",
        parameters=[WorkQuerySerializer],
        responses={200: CatalogWorkComparisonSerializer},
    )
    def get(self, request, pk: int):
        found = selectors.access_work(pk=pk)
        work = found.merged_into or found  # a merged work answers with the work it became part of
        query = WorkQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        country = query.validated_data.get("country") or selectors.viewer_country(user=request.user)
        comparison = selectors.work_comparison(
            work=work, country=country, currency=query.validated_data.get("currency") or None
        )
        return Response(CatalogWorkComparisonSerializer(comparison).data)


class CategoryTreeAPIView(ConditionalGetMixin, APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["catalog"],
        summary="The category tree",
        description="Every category, as a tree of root categories holding their subcategories.",
        responses={200: CatalogCategorySerializer(many=True)},
    )
    def get(self, request):
        tree = selectors.category_tree()
        return Response(CatalogCategorySerializer(tree.roots, many=True).data)
