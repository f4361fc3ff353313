"""The orders API: cart, checkout, addresses, the buyer's orders and the shop's, their
transitions, order terms, statements and completion rates.

The same rules as the pages, through the same selectors and services: a buyer's order is
found with access_order_for_buyer and a shop's with access_order_for_shop, so everyone else
(anonymous included) gets a 404; a refused service call is a 400 with field errors
(marketplace.api.exception_handler).
"""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from sellers.models import Shop
from sellers.selectors import access_shop_for_edit

from . import payments, selectors, services
from .lifecycle import RETURN_REASON_CHOICES, Actor, State
from .models import Address

BUYER_TRANSITIONS = ["cancel", "mark_delivered", "request_return"]
SHOP_TRANSITIONS = ["accept", "mark_paid", "ship", "mark_delivered", "cancel", "accept_return", "decline_return"]


# --- Serializers ------------------------------------------------------------------------------


class AddressSerializer(serializers.ModelSerializer):
    country = serializers.CharField(max_length=2, help_text="ISO 3166-1 alpha-2 code")

    class Meta:
        model = Address
        fields = [
            "id",
            "full_name",
            "line1",
            "line2",
            "city",
            "postal_code",
            "region",
            "country",
            "phone",
            "is_default",
        ]
        read_only_fields = ["id"]
        extra_kwargs = {
            "line2": {"required": False},
            "postal_code": {"required": False},
            "region": {"required": False},
            "phone": {"required": False},
            "is_default": {"required": False},
        }

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["country"] = instance.country.code
        return data


class PaymentOptionSerializer(serializers.Serializer):
    provider = serializers.CharField()
    method = serializers.CharField()
    label = serializers.CharField()


class CartLineSerializer(serializers.Serializer):
    listing = serializers.IntegerField(source="listing.pk")
    title = serializers.CharField(source="listing.title")
    url = serializers.CharField(source="listing.get_absolute_url")
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=8, decimal_places=2)
    currency = serializers.CharField(source="listing.currency")
    price_seen = serializers.DecimalField(source="item.price_seen", max_digits=8, decimal_places=2)
    currency_seen = serializers.CharField(source="item.currency_seen")
    line_total = serializers.DecimalField(max_digits=10, decimal_places=2)
    available = serializers.IntegerField(source="listing.quantity", help_text="Copies in stock now.")
    is_available = serializers.BooleanField()
    price_changed = serializers.BooleanField()
    exceeds_stock = serializers.BooleanField()
    problems = serializers.ListField(child=serializers.CharField())


class CartGroupSerializer(serializers.Serializer):
    shop = serializers.CharField(source="shop.slug")
    shop_name = serializers.CharField(source="shop.name")
    currency = serializers.CharField()
    lines = CartLineSerializer(many=True)
    item_count = serializers.IntegerField()
    items_subtotal = serializers.DecimalField(max_digits=10, decimal_places=2)
    shipping = serializers.DecimalField(
        max_digits=10, decimal_places=2, allow_null=True, help_text="Null while the destination is unknown."
    )
    total = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    payment_options = PaymentOptionSerializer(many=True)
    problems = serializers.ListField(child=serializers.CharField())
    is_ready = serializers.BooleanField()


class CartSerializer(serializers.Serializer):
    country = serializers.CharField(allow_null=True, help_text="Where the shipping is worked out for.")
    address = AddressSerializer(allow_null=True)
    item_count = serializers.IntegerField()
    groups = CartGroupSerializer(many=True, help_text="One per shop: each becomes one order.")
    is_ready = serializers.BooleanField(help_text="Whether the cart can be checked out as it is.")


class CartDestinationSerializer(serializers.Serializer):
    address = serializers.IntegerField(required=False, allow_null=True, help_text="One of your addresses")
    country = serializers.CharField(required=False, allow_blank=True, help_text="ISO code, without an address")


class CartItemCreateSerializer(serializers.Serializer):
    listing = serializers.IntegerField()
    quantity = serializers.IntegerField(required=False, default=1)


class CartItemUpdateSerializer(serializers.Serializer):
    quantity = serializers.IntegerField(required=False, help_text="0 removes the item")
    accept_price = serializers.BooleanField(
        required=False, default=False, help_text="Agree to the listing's current price"
    )


class OrderItemSerializer(serializers.Serializer):
    listing = serializers.IntegerField(source="listing_id", allow_null=True)
    title = serializers.CharField()
    creator = serializers.CharField()
    condition = serializers.CharField()
    sku = serializers.CharField()
    unit_price = serializers.DecimalField(max_digits=8, decimal_places=2)
    quantity = serializers.IntegerField()
    line_total = serializers.DecimalField(max_digits=10, decimal_places=2)


class OrderEventSerializer(serializers.Serializer):
    transition = serializers.CharField()
    from_state = serializers.CharField()
    to_state = serializers.ChoiceField(choices=State.choices)
    actor_role = serializers.ChoiceField(choices=Actor.choices)
    actor = serializers.CharField(source="actor.username", allow_null=True, default=None)
    message = serializers.CharField()
    note = serializers.CharField()
    created_at = serializers.DateTimeField()


class DeadlineSerializer(serializers.Serializer):
    name = serializers.CharField()
    due_at = serializers.DateTimeField()
    text = serializers.CharField()


class ReturnRequestSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=RETURN_REASON_CHOICES)
    details = serializers.CharField()
    refund_amount = serializers.DecimalField(max_digits=10, decimal_places=2)
    refund_rule = serializers.CharField()
    decision = serializers.CharField()
    decision_reason = serializers.CharField()
    requested_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)


class OrderSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    reference = serializers.CharField()
    state = serializers.ChoiceField(choices=State.choices)
    shop = serializers.CharField(source="shop.slug")
    shop_name = serializers.CharField()
    buyer = serializers.CharField(source="buyer.username")
    currency = serializers.CharField()
    items_total = serializers.DecimalField(max_digits=10, decimal_places=2)
    shipping_total = serializers.DecimalField(max_digits=10, decimal_places=2)
    total = serializers.DecimalField(max_digits=10, decimal_places=2)
    item_count = serializers.IntegerField()
    placed_at = serializers.DateTimeField()


class OrderSerializer(OrderSummarySerializer):
    items = OrderItemSerializer(many=True)
    ship_to = serializers.ListField(source="address_lines", child=serializers.CharField())
    ship_country = serializers.CharField(source="ship_country.code")
    buyer_note = serializers.CharField()
    payment_provider = serializers.CharField()
    payment_method = serializers.CharField()
    payment_instructions = serializers.SerializerMethodField()
    carrier = serializers.CharField()
    tracking_number = serializers.CharField()
    processing_days = serializers.IntegerField()
    return_window_days = serializers.IntegerField()
    cancelled_by = serializers.CharField()
    cancel_reason = serializers.CharField()
    accepted_at = serializers.DateTimeField(allow_null=True)
    paid_at = serializers.DateTimeField(allow_null=True)
    shipped_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    timeline = OrderEventSerializer(source="events", many=True)
    deadlines = serializers.SerializerMethodField()
    return_request = serializers.SerializerMethodField()
    available_transitions = serializers.SerializerMethodField(
        help_text="What you may do now: POST one of these to the order's transitions endpoint."
    )

    def _side(self) -> str:
        return self.context.get("side", Actor.BUYER)

    def get_payment_instructions(self, order) -> str:
        provider = payments.provider(order.payment_provider)
        return provider.instructions(order=order) if provider else ""

    @extend_schema_field(DeadlineSerializer(many=True))
    def get_deadlines(self, order) -> list:
        return DeadlineSerializer(selectors.open_deadlines(order=order, side=self._side()), many=True).data

    @extend_schema_field(ReturnRequestSerializer(allow_null=True))
    def get_return_request(self, order) -> dict | None:
        request = getattr(order, "return_request", None)
        return ReturnRequestSerializer(request).data if request is not None else None

    def get_available_transitions(self, order) -> list[str]:
        return selectors.available_actions(order=order, side=self._side())


class ShopOrderSerializer(OrderSerializer):
    commission_rate = serializers.DecimalField(max_digits=5, decimal_places=4)
    commission = serializers.DecimalField(max_digits=10, decimal_places=2)
    net = serializers.DecimalField(max_digits=10, decimal_places=2)


class CheckoutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    idempotency_key = serializers.CharField()
    created_at = serializers.DateTimeField()
    orders = OrderSerializer(many=True)


class CheckoutRequestSerializer(serializers.Serializer):
    idempotency_key = serializers.CharField(
        max_length=64, help_text="Any unique string per checkout: sending it again returns the same orders."
    )
    address = serializers.IntegerField(help_text="One of your addresses")
    payment_methods = serializers.DictField(
        child=serializers.CharField(), required=False, help_text="Shop slug -> payment method; default the first"
    )
    notes = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False, help_text="Shop slug -> a note for the shop"
    )


class BuyerTransitionSerializer(serializers.Serializer):
    transition = serializers.ChoiceField(choices=BUYER_TRANSITIONS)
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="cancel: why (optional); request_return: one of the return reason codes",
    )
    details = serializers.CharField(required=False, allow_blank=True, default="", help_text="request_return")


class ShopTransitionSerializer(serializers.Serializer):
    transition = serializers.ChoiceField(choices=SHOP_TRANSITIONS)
    message = serializers.CharField(required=False, allow_blank=True, default="", help_text="accept: to the buyer")
    carrier = serializers.CharField(required=False, allow_blank=True, default="", help_text="ship")
    tracking_number = serializers.CharField(required=False, allow_blank=True, default="", help_text="ship")
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="cancel and decline_return: why (required)"
    )


class ShopTermsSerializer(serializers.Serializer):
    return_window_days = serializers.IntegerField()
    commission_rate = serializers.DecimalField(max_digits=5, decimal_places=4, read_only=True)


class CurrencyTotalsSerializer(serializers.Serializer):
    currency = serializers.CharField()
    orders = serializers.IntegerField()
    items = serializers.DecimalField(max_digits=12, decimal_places=2)
    shipping = serializers.DecimalField(max_digits=12, decimal_places=2)
    gross = serializers.DecimalField(max_digits=12, decimal_places=2)
    commission = serializers.DecimalField(max_digits=12, decimal_places=2)
    net = serializers.DecimalField(max_digits=12, decimal_places=2)


class StatementOrderSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    reference = serializers.CharField()
    buyer = serializers.CharField(source="buyer.username")
    placed_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField()
    currency = serializers.CharField()
    items_total = serializers.DecimalField(max_digits=10, decimal_places=2)
    shipping_total = serializers.DecimalField(max_digits=10, decimal_places=2)
    total = serializers.DecimalField(max_digits=10, decimal_places=2)
    commission_rate = serializers.DecimalField(max_digits=5, decimal_places=4)
    commission = serializers.DecimalField(max_digits=10, decimal_places=2)
    net = serializers.DecimalField(max_digits=10, decimal_places=2)


class StatementSerializer(serializers.Serializer):
    month = serializers.CharField(source="month.slug")
    orders = StatementOrderSerializer(many=True)
    totals = CurrencyTotalsSerializer(many=True)


class StatementMonthSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM")
    label = serializers.CharField()
    url = serializers.CharField()


CompletionRateSerializer = inline_serializer(
    "CompletionRate",
    {
        "fulfilled": serializers.IntegerField(),
        "cancelled_by_shop": serializers.IntegerField(),
        "counted": serializers.IntegerField(),
        "percent": serializers.IntegerField(allow_null=True),
    },
)


# --- Helpers ----------------------------------------------------------------------------------


def _cart_out(request, cart) -> dict:
    view = selectors.cart_view(cart=cart, user=request.user)
    services.cart_count_remember(user=request.user, session=request.session, count=view.item_count)
    return CartSerializer(view).data


def _shop_ids_by_slug(values: dict | None) -> dict[int, str]:
    """The checkout's {shop slug: value} as {shop id: value}; unknown slugs are a 400."""
    if not values:
        return {}
    shops = dict(Shop.objects.filter(slug__in=list(values)).values_list("slug", "pk"))
    unknown = sorted(set(values) - set(shops))
    if unknown:
        raise serializers.ValidationError({"payment_methods": [f"No such shop: {', '.join(unknown)}."]})
    return {shops[slug]: value for slug, value in values.items()}


def _buyer_order_out(request, order_id) -> dict:
    order = selectors.access_order_for_buyer(user=request.user, order_id=order_id)
    return OrderSerializer(order, context={"side": Actor.BUYER}).data


def _shop_order_out(request, slug, order_id) -> dict:
    _, order = selectors.access_order_for_shop(user=request.user, slug=slug, order_id=order_id)
    return ShopOrderSerializer(order, context={"side": Actor.SHOP}).data


STATE_PARAMETER = OpenApiParameter("state", str, enum=list(State.values), description="Only orders in this state")


# --- Cart -------------------------------------------------------------------------------------


class CartAPIView(APIView):
    """The cart of the signed-in person, or of the guest session (it survives signing in)."""

    permission_classes = [AllowAny]

    @extend_schema(
        tags=["cart"],
        summary="My cart",
        description="Grouped by shop, each with shipping to the destination, a subtotal and what must be "
        "fixed before checkout (unavailable items, changed prices, vacations, countries not shipped to).",
        responses=CartSerializer,
    )
    def get(self, request):
        return Response(_cart_out(request, selectors.cart_find(user=request.user, session=request.session)))

    @extend_schema(
        tags=["cart"],
        summary="Choose where the cart goes",
        request=CartDestinationSerializer,
        responses=CartSerializer,
    )
    def patch(self, request):
        data = CartDestinationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cart = services.cart_get_or_create(user=request.user, session=request.session)
        services.cart_set_destination(
            cart=cart,
            user=request.user,
            address_id=data.validated_data.get("address"),
            country=data.validated_data.get("country", ""),
        )
        return Response(_cart_out(request, cart))


class CartItemsAPIView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["cart"],
        summary="Add to my cart",
        request=CartItemCreateSerializer,
        responses={201: CartSerializer},
    )
    def post(self, request):
        data = CartItemCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cart = services.cart_get_or_create(user=request.user, session=request.session)
        services.cart_add_item(
            cart=cart, listing_id=data.validated_data["listing"], quantity=data.validated_data["quantity"]
        )
        return Response(_cart_out(request, cart), status=status.HTTP_201_CREATED)


class CartItemAPIView(APIView):
    permission_classes = [AllowAny]

    def _cart(self, request):
        cart = selectors.cart_find(user=request.user, session=request.session)
        if cart is None:
            raise Http404("Your cart is empty.")
        return cart

    @extend_schema(
        tags=["cart"],
        summary="Change an item of my cart",
        description="Change the quantity (0 removes it), or agree to the listing's current price.",
        request=CartItemUpdateSerializer,
        responses=CartSerializer,
    )
    def patch(self, request, listing_id: int):
        cart = self._cart(request)
        data = CartItemUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data.get("accept_price"):
            services.cart_accept_prices(cart=cart, listing_id=listing_id)
        if "quantity" in data.validated_data:
            services.cart_set_quantity(cart=cart, listing_id=listing_id, quantity=data.validated_data["quantity"])
        return Response(_cart_out(request, cart))

    @extend_schema(tags=["cart"], summary="Remove an item from my cart", responses=CartSerializer)
    def delete(self, request, listing_id: int):
        cart = self._cart(request)
        services.cart_remove_item(cart=cart, listing_id=listing_id)
        return Response(_cart_out(request, cart))


# --- Checkout ---------------------------------------------------------------------------------


class CheckoutAPIView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["orders"],
        summary="Check out my cart",
        description="One order per shop. Sending the same idempotency_key again returns the same checkout "
        "(200) instead of ordering twice.",
        request=CheckoutRequestSerializer,
        responses={201: CheckoutSerializer, 200: CheckoutSerializer},
    )
    def post(self, request):
        data = CheckoutRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        key = values["idempotency_key"]
        replay = request.user.checkouts.filter(idempotency_key=key.strip()).exists()
        placed = services.checkout_place(
            buyer=request.user,
            idempotency_key=key,
            address_id=values["address"],
            payment_methods=_shop_ids_by_slug(values.get("payment_methods")),
            notes=_shop_ids_by_slug(values.get("notes")),
        )
        services.cart_count_remember(user=request.user, session=request.session)
        placed = selectors.access_checkout_for_buyer(user=request.user, checkout_id=placed.pk)
        orders = [
            selectors.access_order_for_buyer(user=request.user, order_id=order.pk) for order in placed.orders.all()
        ]
        body = {
            "id": placed.pk,
            "idempotency_key": placed.idempotency_key,
            "created_at": placed.created_at,
            "orders": orders,
        }
        return Response(
            CheckoutSerializer(body, context={"side": Actor.BUYER}).data,
            status=status.HTTP_200_OK if replay else status.HTTP_201_CREATED,
        )


# --- Addresses --------------------------------------------------------------------------------


class AddressListAPIView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=["addresses"], summary="My address book", responses=AddressSerializer(many=True))
    def get(self, request):
        return Response(AddressSerializer(selectors.addresses_of(user=request.user), many=True).data)

    @extend_schema(
        tags=["addresses"], summary="Add an address", request=AddressSerializer, responses={201: AddressSerializer}
    )
    def post(self, request):
        data = AddressSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        is_default = values.pop("is_default", False)
        address = services.address_create(user=request.user, is_default=is_default, **values)
        return Response(AddressSerializer(address).data, status=status.HTTP_201_CREATED)


class AddressAPIView(APIView):
    permission_classes = [AllowAny]  # the access helper answers 404 to everyone else, anonymous included

    @extend_schema(tags=["addresses"], summary="One of my addresses", responses=AddressSerializer)
    def get(self, request, pk: int):
        return Response(AddressSerializer(selectors.access_address(user=request.user, address_id=pk)).data)

    @extend_schema(
        tags=["addresses"],
        summary="Change one of my addresses",
        request=AddressSerializer(partial=True),
        responses=AddressSerializer,
    )
    def patch(self, request, pk: int):
        address = selectors.access_address(user=request.user, address_id=pk)
        data = AddressSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        make_default = values.pop("is_default", False)
        if values:
            services.address_update(address=address, user=request.user, **values)
        if make_default:
            services.address_set_default(address=address, user=request.user)
        address.refresh_from_db()
        return Response(AddressSerializer(address).data)

    @extend_schema(tags=["addresses"], summary="Remove one of my addresses", responses={204: None})
    def delete(self, request, pk: int):
        address = selectors.access_address(user=request.user, address_id=pk)
        services.address_delete(address=address, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- The buyer's orders -----------------------------------------------------------------------


class OrderListAPIView(APIView):
    permission_classes = [IsAuthenticated]
    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS

    @extend_schema(
        tags=["orders"],
        summary="My orders",
        parameters=[STATE_PARAMETER],
        responses=OrderSummarySerializer(many=True),
    )
    def get(self, request):
        return _paginated(
            request,
            self,
            selectors.orders_of_buyer(user=request.user, state=request.query_params.get("state", "")),
            OrderSummarySerializer,
        )


class OrderAPIView(APIView):
    permission_classes = [AllowAny]  # the access helper answers 404 to everyone else, anonymous included

    @extend_schema(tags=["orders"], summary="One of my orders", responses=OrderSerializer)
    def get(self, request, pk: int):
        return Response(_buyer_order_out(request, pk))


class OrderTransitionAPIView(APIView):
    permission_classes = [AllowAny]  # the access helper answers 404 to everyone else, anonymous included

    @extend_schema(
        tags=["orders"],
        summary="Act on one of my orders",
        description="cancel (before it ships), mark_delivered (it has arrived), request_return (within the "
        "shop's return window, with a reason code: " + ", ".join(code for code, _ in RETURN_REASON_CHOICES) + ").",
        request=BuyerTransitionSerializer,
        responses=OrderSerializer,
    )
    def post(self, request, pk: int):
        order = selectors.access_order_for_buyer(user=request.user, order_id=pk)
        data = BuyerTransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if values["transition"] == "cancel":
            services.order_cancel(order=order, actor=request.user, by=Actor.BUYER, reason=values["reason"])
        elif values["transition"] == "mark_delivered":
            services.order_mark_delivered(order=order, actor=request.user, by=Actor.BUYER)
        else:
            services.order_request_return(
                order=order, actor=request.user, reason=values["reason"], details=values["details"]
            )
        return Response(_buyer_order_out(request, pk))


# --- The shop's orders ------------------------------------------------------------------------


def _paginated(request, view, queryset, serializer_class, context=None):
    paginator = view.pagination_class()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True, context=context or {}).data)


class ShopOrderListAPIView(APIView):
    permission_classes = [AllowAny]  # access_shop_for_edit answers 404 to everyone but the shop's people
    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS

    @extend_schema(
        tags=["shop orders"],
        summary="A shop's orders (its people only)",
        parameters=[
            OpenApiParameter(
                "state",
                str,
                enum=["to_do", *State.values],
                description="A state, or to_do: the orders waiting for the shop",
            )
        ],
        responses=OrderSummarySerializer(many=True),
    )
    def get(self, request, slug: str):
        shop = access_shop_for_edit(user=request.user, slug=slug)
        orders = selectors.orders_of_shop(shop=shop, state=request.query_params.get("state", ""))
        return _paginated(request, self, orders, OrderSummarySerializer)


class ShopOrderAPIView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["shop orders"], summary="One of a shop's orders (its people only)", responses=ShopOrderSerializer
    )
    def get(self, request, slug: str, pk: int):
        return Response(_shop_order_out(request, slug, pk))


class ShopOrderTransitionAPIView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["shop orders"],
        summary="Act on one of a shop's orders (its people only)",
        description="accept (with an optional message), mark_paid, ship (carrier and tracking_number), "
        "mark_delivered, cancel (with a reason), accept_return, decline_return (with a reason).",
        request=ShopTransitionSerializer,
        responses=ShopOrderSerializer,
    )
    def post(self, request, slug: str, pk: int):
        _, order = selectors.access_order_for_shop(user=request.user, slug=slug, order_id=pk)
        data = ShopTransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        name = values["transition"]
        if name == "accept":
            services.order_accept(order=order, actor=request.user, message=values["message"])
        elif name == "mark_paid":
            services.order_mark_paid(order=order, actor=request.user, by=Actor.SHOP)
        elif name == "ship":
            services.order_ship(
                order=order, actor=request.user, carrier=values["carrier"], tracking_number=values["tracking_number"]
            )
        elif name == "mark_delivered":
            services.order_mark_delivered(order=order, actor=request.user, by=Actor.SHOP)
        elif name == "cancel":
            services.order_cancel(order=order, actor=request.user, by=Actor.SHOP, reason=values["reason"])
        else:
            services.order_decide_return(
                order=order, actor=request.user, accept=name == "accept_return", reason=values["reason"]
            )
        return Response(_shop_order_out(request, slug, pk))


class ShopTermsAPIView(APIView):
    permission_classes = [AllowAny]

    def _out(self, shop) -> dict:
        terms = selectors.shop_terms(shop=shop)
        return {
            "return_window_days": terms.return_window_days,
            "commission_rate": selectors.commission_rate_for(shop=shop),
        }

    @extend_schema(
        tags=["shop orders"], summary="A shop's order terms (its people only)", responses=ShopTermsSerializer
    )
    def get(self, request, slug: str):
        shop = access_shop_for_edit(user=request.user, slug=slug)
        return Response(ShopTermsSerializer(self._out(shop)).data)

    @extend_schema(
        tags=["shop orders"],
        summary="Change a shop's return window (its people only)",
        request=ShopTermsSerializer,
        responses=ShopTermsSerializer,
    )
    def patch(self, request, slug: str):
        shop = access_shop_for_edit(user=request.user, slug=slug)
        data = ShopTermsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.shop_terms_update(
            shop=shop, actor=request.user, return_window_days=data.validated_data["return_window_days"]
        )
        return Response(ShopTermsSerializer(self._out(shop)).data)


class StatementListAPIView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["shop orders"],
        summary="A shop's monthly statements (its people only)",
        responses=StatementMonthSerializer(many=True),
    )
    def get(self, request, slug: str):
        shop = access_shop_for_edit(user=request.user, slug=slug)
        months = selectors.shop_statement_months(shop=shop)
        return Response(
            [
                {"month": month.slug, "label": month.label, "url": f"/api/shops/{shop.slug}/statements/{month.slug}/"}
                for month in months
            ]
        )


class StatementAPIView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["shop orders"],
        summary="A shop's statement for a month (its people only)",
        description="Orders completed in the month (YYYY-MM), with commission and net, totals per currency.",
        responses=StatementSerializer,
    )
    def get(self, request, slug: str, month: str):
        shop = access_shop_for_edit(user=request.user, slug=slug)
        return Response(
            StatementSerializer(selectors.shop_statement(shop=shop, month=selectors.parse_month(month))).data
        )


class CompletionRateAPIView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["shop orders"],
        summary="A shop's completion rate",
        description="Of the shop's orders of the last six months, how many it fulfilled and how many it "
        "cancelled on its side. Public.",
        responses=CompletionRateSerializer,
    )
    def get(self, request, slug: str):
        shop = Shop.objects.filter(slug=slug).first()
        if shop is None:
            raise Http404("No such shop.")
        rate = selectors.shop_completion_rate(shop=shop)
        return Response(
            {
                "fulfilled": rate.fulfilled,
                "cancelled_by_shop": rate.cancelled_by_shop,
                "counted": rate.counted,
                "percent": rate.percent,
            }
        )
