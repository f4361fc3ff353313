"""The shops API: shops, their listings as their people see them, and bulk actions.

Member-only endpoints resolve the shop with access_shop_for_edit, so anyone who is not
one of the shop's people (anonymous included) gets a 404, never a 403 that would confirm
what exists. Writes go through sellers.services and catalog.services; their
ValidationErrors become 400 responses with field errors (marketplace.api.exception_handler).
"""

from django.db.models import Count, Prefetch, Q
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import parsers, serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny, IsAuthenticatedOrReadOnly
from rest_framework.response import Response

from catalog import services as listing_services
from catalog.models import Listing, ListingImage
from marketplace.money import CURRENCY_CHOICES

from . import selectors, services
from .models import PaymentMethod, Shop, ShopMember

ON_SALE = [Listing.Status.ACTIVE, Listing.Status.SOLD_OUT]


# --- Serializers ------------------------------------------------------------


class ShopPersonSerializer(serializers.Serializer):
    username = serializers.CharField(source="user.username", read_only=True)
    name = serializers.CharField(source="user.public_name", read_only=True)
    avatar_small = serializers.ImageField(source="user.avatar_small", read_only=True)
    role = serializers.ChoiceField(choices=ShopMember.Role.choices, read_only=True)
    title = serializers.CharField(read_only=True)


class ShopSerializer(serializers.ModelSerializer):
    country = serializers.CharField(source="country.code", read_only=True)
    ships_to = serializers.SerializerMethodField()
    payment_methods = serializers.ListField(
        child=serializers.ChoiceField(choices=PaymentMethod.choices), read_only=True
    )
    people = ShopPersonSerializer(source="members", many=True, read_only=True)
    listings_on_sale = serializers.IntegerField(read_only=True, help_text="Active and sold-out listings.")
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Shop
        fields = [
            "slug",
            "name",
            "tagline",
            "about",
            "about_html",
            "logo_small",
            "logo_large",
            "banner",
            "country",
            "city",
            "currency",
            "ships_to",
            "domestic_first_item",
            "domestic_additional_item",
            "international_first_item",
            "international_additional_item",
            "returns_policy",
            "payment_methods",
            "processing_days",
            "is_on_vacation",
            "vacation_message",
            "vacation_until",
            "people",
            "listings_on_sale",
            "url",
            "created_at",
        ]
        read_only_fields = fields

    def get_ships_to(self, shop) -> list[str]:
        return [country.code for country in shop.ships_to]


class ShopWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80, required=False)
    tagline = serializers.CharField(max_length=140, required=False, allow_blank=True)
    about = serializers.CharField(required=False, allow_blank=True, help_text="Markdown.")
    country = serializers.CharField(max_length=2, required=False, help_text="ISO 3166-1 alpha-2 code")
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    currency = serializers.ChoiceField(choices=CURRENCY_CHOICES, required=False)
    ships_to = serializers.ListField(
        child=serializers.CharField(max_length=2), required=False, help_text="ISO 3166-1 alpha-2 codes"
    )
    domestic_first_item = serializers.DecimalField(max_digits=8, decimal_places=2, required=False)
    domestic_additional_item = serializers.DecimalField(max_digits=8, decimal_places=2, required=False)
    international_first_item = serializers.DecimalField(max_digits=8, decimal_places=2, required=False)
    international_additional_item = serializers.DecimalField(max_digits=8, decimal_places=2, required=False)
    returns_policy = serializers.CharField(required=False, allow_blank=True)
    payment_methods = serializers.ListField(
        child=serializers.ChoiceField(choices=PaymentMethod.choices), required=False
    )
    processing_days = serializers.IntegerField(required=False)
    logo = serializers.FileField(required=False, help_text="JPEG, PNG, WebP or GIF up to 5 MB")
    banner = serializers.FileField(required=False, help_text="JPEG, PNG, WebP or GIF up to 5 MB")


class ShopCreateSerializer(ShopWriteSerializer):
    name = serializers.CharField(max_length=80)
    slug = serializers.CharField(max_length=60, help_text="The storefront's address: /shops/<slug>/")
    country = serializers.CharField(max_length=2, help_text="ISO 3166-1 alpha-2 code")


class ShopUpdateSerializer(ShopWriteSerializer):
    remove_logo = serializers.BooleanField(required=False, default=False)
    remove_banner = serializers.BooleanField(required=False, default=False)
    is_on_vacation = serializers.BooleanField(required=False)
    vacation_message = serializers.CharField(max_length=280, required=False, allow_blank=True)
    vacation_until = serializers.DateField(required=False, allow_null=True)


class ListingImageSerializer(serializers.ModelSerializer):
    class Meta:
        model = ListingImage
        fields = ["id", "position", "thumbnail", "large", "alt_text"]
        read_only_fields = fields


class ShopListingSerializer(serializers.ModelSerializer):
    condition = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    images = ListingImageSerializer(many=True, read_only=True)
    tags = serializers.SerializerMethodField()

    class Meta:
        model = Listing
        fields = [
            "id",
            "title",
            "creator",
            "publisher",
            "year",
            "format",
            "identifier",
            "work",
            "category",
            "condition",
            "description",
            "description_html",
            "price",
            "currency",
            "quantity",
            "sku",
            "status",
            "images",
            "tags",
            "published_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_tags(self, listing) -> list[str]:
        return [tag.name for tag in getattr(listing, "card_tags", [])]


class ListingWriteSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=255)
    price = serializers.CharField(help_text="A decimal amount, e.g. 12.50")
    condition = serializers.CharField(help_text="A condition slug: new, as-new, fine, very-good, good, fair, poor")
    currency = serializers.CharField(required=False, allow_blank=True, help_text="Defaults to the shop's currency")
    quantity = serializers.IntegerField(required=False, default=1)
    status = serializers.ChoiceField(choices=Listing.Status.choices, required=False, default=Listing.Status.DRAFT)
    sku = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    creator = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    publisher = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    year = serializers.IntegerField(required=False, allow_null=True, default=None)
    format = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    identifier = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default="", help_text="ISBN, EAN or catalog number"
    )
    description = serializers.CharField(required=False, allow_blank=True, default="", help_text="Markdown.")
    category = serializers.IntegerField(required=False, allow_null=True, default=None, help_text="A category id")


class BulkActionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=[("pause", "Pause"), ("price", "Change price"), ("tag", "Add a tag")])
    listing_ids = serializers.ListField(child=serializers.IntegerField(), allow_empty=False)
    percent = serializers.DecimalField(
        max_digits=7, decimal_places=2, required=False, help_text="For action=price: e.g. -10 for 10% off"
    )
    name = serializers.CharField(max_length=100, required=False, help_text="For action=tag: the tag to add")

    def validate(self, attrs):
        if attrs["action"] == "price" and attrs.get("percent") is None:
            raise serializers.ValidationError({"percent": ["Enter a percentage, for example -10."]})
        if attrs["action"] == "tag" and not attrs.get("name", "").strip():
            raise serializers.ValidationError({"name": ["Enter a tag."]})
        return attrs


BulkResultSerializer = inline_serializer("BulkActionResult", {"changed": serializers.IntegerField()})


# --- Querysets --------------------------------------------------------------


def _shops():
    return (
        Shop.objects.annotate(listings_on_sale=Count("listings", filter=Q(listings__status__in=ON_SALE)))
        .prefetch_related(
            Prefetch("members", queryset=ShopMember.objects.select_related("user").order_by("role", "added_at"))
        )
        .order_by("name", "pk")
    )


def _shop_out(slug: str) -> Shop:
    shop = _shops().filter(slug=slug).first()
    if shop is None:
        raise Http404("No such shop.")
    return shop


def _listings_out(listings):
    return selectors.attach_cards(listings)


def _listing_out(listing_id: int) -> Listing:
    listing = Listing.objects.select_related("condition").prefetch_related("images").get(pk=listing_id)
    return _listings_out([listing])[0]


# --- Views ------------------------------------------------------------------


class ShopListCreateAPIView(GenericAPIView):
    permission_classes = [IsAuthenticatedOrReadOnly]
    parser_classes = [parsers.JSONParser, parsers.MultiPartParser, parsers.FormParser]
    serializer_class = ShopSerializer
    queryset = Shop.objects.none()

    @extend_schema(
        summary="Shops",
        description="Every shop on Plural, by name, with its people and how many listings it has on sale.",
        parameters=[OpenApiParameter("country", str, description="Only shops sending from this country (ISO code)")],
        responses=ShopSerializer(many=True),
    )
    def get(self, request):
        shops = _shops()
        country = request.query_params.get("country", "").strip().upper()
        if country:
            shops = shops.filter(country=country)
        page = self.paginate_queryset(shops)
        return self.get_paginated_response(ShopSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(
        summary="Open a shop",
        description="Open a shop owned by the signed-in person (a verified e-mail address is needed).",
        request=ShopCreateSerializer,
        responses={201: ShopSerializer},
    )
    def post(self, request):
        data = ShopCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        shop = services.shop_create(owner=request.user, **data.validated_data)
        return Response(
            ShopSerializer(_shop_out(shop.slug), context={"request": request}).data, status=status.HTTP_201_CREATED
        )


class ShopDetailAPIView(GenericAPIView):
    permission_classes = [AllowAny]
    parser_classes = [parsers.JSONParser, parsers.MultiPartParser, parsers.FormParser]
    serializer_class = ShopSerializer
    queryset = Shop.objects.none()

    @extend_schema(summary="A shop", description="A shop's public details, policies and people.")
    def get(self, request, slug: str):
        return Response(ShopSerializer(_shop_out(slug), context={"request": request}).data)

    @extend_schema(
        summary="Change a shop",
        description="Change details, policies, images and vacation mode. Only the shop's people; 404 for others.",
        request=ShopUpdateSerializer,
        responses=ShopSerializer,
    )
    def patch(self, request, slug: str):
        shop = selectors.access_shop_for_edit(user=request.user, slug=slug)
        data = ShopUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        vacation = {
            name: values.pop(name)
            for name in ("is_on_vacation", "vacation_message", "vacation_until")
            if name in values
        }
        services.shop_update(shop=shop, actor=request.user, **values)
        if vacation:
            services.shop_set_vacation(
                shop=shop,
                actor=request.user,
                is_on_vacation=vacation.get("is_on_vacation", shop.is_on_vacation),
                message=vacation.get("vacation_message", shop.vacation_message),
                until=vacation.get("vacation_until", shop.vacation_until),
            )
        return Response(ShopSerializer(_shop_out(slug), context={"request": request}).data)


class ShopListingsAPIView(GenericAPIView):
    permission_classes = [AllowAny]  # access_shop_for_edit answers 404 to everyone but the shop's people
    serializer_class = ShopListingSerializer
    queryset = Listing.objects.none()

    @extend_schema(
        summary="A shop's listings (its people only)",
        description="Every listing of the shop, drafts and paused ones included. 404 for anyone but its people.",
        parameters=[
            OpenApiParameter("q", str, description="Words in the title, author/artist or SKU"),
            OpenApiParameter("status", str, enum=list(Listing.Status.values)),
        ],
        responses=ShopListingSerializer(many=True),
    )
    def get(self, request, slug: str):
        shop = selectors.access_shop_for_edit(user=request.user, slug=slug)
        listings = selectors.dashboard_listings(
            shop=shop, query=request.query_params.get("q", ""), status=request.query_params.get("status", "")
        ).prefetch_related("images")
        page = _listings_out(self.paginate_queryset(listings))
        return self.get_paginated_response(ShopListingSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(
        summary="Add a listing (its people only)",
        request=ListingWriteSerializer,
        responses={201: ShopListingSerializer},
    )
    def post(self, request, slug: str):
        shop = selectors.access_shop_for_edit(user=request.user, slug=slug)
        data = ListingWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        listing = listing_services.listing_create(shop=shop, actor=request.user, **data.validated_data)
        return Response(
            ShopListingSerializer(_listing_out(listing.pk), context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class ShopListingDetailAPIView(GenericAPIView):
    permission_classes = [AllowAny]
    serializer_class = ShopListingSerializer
    queryset = Listing.objects.none()

    @extend_schema(summary="One of a shop's listings (its people only)")
    def get(self, request, slug: str, pk: int):
        _, listing = selectors.access_listing_for_edit(user=request.user, slug=slug, listing_id=pk)
        return Response(ShopListingSerializer(_listings_out([listing])[0], context={"request": request}).data)

    @extend_schema(
        summary="Change a listing (its people only)",
        request=ListingWriteSerializer(partial=True),
        responses=ShopListingSerializer,
    )
    def patch(self, request, slug: str, pk: int):
        _, listing = selectors.access_listing_for_edit(user=request.user, slug=slug, listing_id=pk)
        data = ListingWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = {name: value for name, value in data.validated_data.items() if name in request.data}
        listing_services.listing_update(listing=listing, actor=request.user, **fields)
        return Response(ShopListingSerializer(_listing_out(listing.pk), context={"request": request}).data)

    @extend_schema(summary="Delete a listing (its people only)", responses={204: None})
    def delete(self, request, slug: str, pk: int):
        _, listing = selectors.access_listing_for_edit(user=request.user, slug=slug, listing_id=pk)
        listing_services.listing_delete(listing=listing, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ShopListingImagesAPIView(GenericAPIView):
    permission_classes = [AllowAny]
    parser_classes = [parsers.MultiPartParser, parsers.FormParser]
    serializer_class = ListingImageSerializer
    queryset = ListingImage.objects.none()

    @extend_schema(
        summary="Add an image to a listing (its people only)",
        request=inline_serializer("ListingImageUpload", {"image": serializers.FileField()}),
        responses={201: ListingImageSerializer},
    )
    def post(self, request, slug: str, pk: int):
        _, listing = selectors.access_listing_for_edit(user=request.user, slug=slug, listing_id=pk)
        upload = request.FILES.get("image")
        if upload is None:
            return Response({"image": ["Choose an image to upload."]}, status=status.HTTP_400_BAD_REQUEST)
        image = listing_services.listing_add_image(listing=listing, actor=request.user, upload=upload)
        return Response(
            ListingImageSerializer(image, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


class ShopListingImageDetailAPIView(GenericAPIView):
    permission_classes = [AllowAny]
    serializer_class = ListingImageSerializer
    queryset = ListingImage.objects.none()

    @extend_schema(summary="Remove an image of a listing (its people only)", responses={204: None})
    def delete(self, request, slug: str, pk: int, image_id: int):
        _, listing = selectors.access_listing_for_edit(user=request.user, slug=slug, listing_id=pk)
        if not listing.images.filter(pk=image_id).exists():
            raise Http404("No such image.")
        listing_services.listing_remove_image(listing=listing, actor=request.user, image_id=image_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ShopBulkActionAPIView(GenericAPIView):
    permission_classes = [AllowAny]
    serializer_class = BulkActionSerializer
    queryset = Listing.objects.none()

    @extend_schema(
        summary="Act on many listings (its people only)",
        description="Pause listings, change their price by a percentage (all or nothing) or add a tag to them.",
        request=BulkActionSerializer,
        responses=BulkResultSerializer,
    )
    def post(self, request, slug: str):
        shop = selectors.access_shop_for_edit(user=request.user, slug=slug)
        data = BulkActionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if values["action"] == "pause":
            changed = listing_services.listings_bulk_pause(
                shop=shop, actor=request.user, listing_ids=values["listing_ids"]
            )
        elif values["action"] == "price":
            changed = listing_services.listings_bulk_change_price(
                shop=shop, actor=request.user, listing_ids=values["listing_ids"], percent=values["percent"]
            )
        else:
            changed = listing_services.listings_bulk_add_tag(
                shop=shop, actor=request.user, listing_ids=values["listing_ids"], name=values["name"]
            )
        return Response({"changed": changed})


# --- The shop's people ---------------------------------------------------------------------


class ShopMemberSerializer(ShopPersonSerializer):
    id = serializers.IntegerField(read_only=True)
    added_at = serializers.DateTimeField(read_only=True)


class ShopMemberAddSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, help_text="The person's username on Plural.")
    title = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")


class ShopMemberTitleSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=60, allow_blank=True, help_text="What they do at the shop.")


def _members(shop: Shop):
    return ShopMember.objects.filter(shop=shop).select_related("user").order_by("role", "added_at", "pk")


class ShopMembersAPIView(GenericAPIView):
    permission_classes = [AllowAny]  # access_shop_for_edit answers 404 to everyone but the shop's people
    serializer_class = ShopMemberSerializer
    queryset = ShopMember.objects.none()
    pagination_class = None  # a shop has a handful of people

    @extend_schema(
        summary="The shop's people (its people only)",
        description="The owner and staff, with the id to change or remove each. The public see the same people, "
        "without ids, in the shop's `people`.",
        responses=ShopMemberSerializer(many=True),
    )
    def get(self, request, slug: str):
        shop = selectors.access_shop_for_edit(user=request.user, slug=slug)
        return Response(ShopMemberSerializer(_members(shop), many=True, context={"request": request}).data)

    @extend_schema(
        summary="Add a person to the shop as staff (owner only)",
        request=ShopMemberAddSerializer,
        responses={201: ShopMemberSerializer},
    )
    def post(self, request, slug: str):
        shop = selectors.access_shop_for_edit(user=request.user, slug=slug)
        data = ShopMemberAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = services.shop_member_add(shop=shop, actor=request.user, **data.validated_data)
        return Response(ShopMemberSerializer(member, context={"request": request}).data, status=status.HTTP_201_CREATED)


class ShopMemberAPIView(GenericAPIView):
    permission_classes = [AllowAny]
    serializer_class = ShopMemberSerializer
    queryset = ShopMember.objects.none()

    def _member(self, shop: Shop, member_id: int) -> ShopMember:
        member = _members(shop).filter(pk=member_id).first()
        if member is None:
            raise Http404("No such person at this shop.")
        return member

    @extend_schema(
        summary="Change what a person does at the shop",
        description="The owner may change anyone's title; staff their own.",
        request=ShopMemberTitleSerializer,
        responses=ShopMemberSerializer,
    )
    def patch(self, request, slug: str, member_id: int):
        shop = selectors.access_shop_for_edit(user=request.user, slug=slug)
        self._member(shop, member_id)
        data = ShopMemberTitleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = services.shop_member_set_title(
            shop=shop, actor=request.user, member_id=member_id, title=data.validated_data["title"]
        )
        return Response(ShopMemberSerializer(member, context={"request": request}).data)

    @extend_schema(
        summary="Remove a person from the shop, or leave it",
        description="The owner may remove any staff member; staff may remove themselves (leave). The owner "
        "cannot be removed.",
        responses={204: None},
    )
    def delete(self, request, slug: str, member_id: int):
        shop = selectors.access_shop_for_edit(user=request.user, slug=slug)
        self._member(shop, member_id)
        services.shop_member_remove(shop=shop, actor=request.user, member_id=member_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ShopListingDuplicateAPIView(GenericAPIView):
    permission_classes = [AllowAny]
    serializer_class = ShopListingSerializer
    queryset = Listing.objects.none()

    @extend_schema(
        summary="Copy a listing as a new draft (its people only)",
        description="A draft with the same details (no SKU, no pictures), to check and put on sale.",
        request=None,
        responses={201: ShopListingSerializer},
    )
    def post(self, request, slug: str, pk: int):
        _, listing = selectors.access_listing_for_edit(user=request.user, slug=slug, listing_id=pk)
        copy = listing_services.listing_duplicate(listing=listing, actor=request.user)
        return Response(
            ShopListingSerializer(_listing_out(copy.pk), context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )
