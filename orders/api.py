"""The orders API: cart, checkout, addresses, the buyer's orders and the shop's, their
transitions, order terms, statements and completion rates; offers, thank-you notes and
problem cases.

The same rules as the pages, through the same selectors and services: a buyer's order is
found with access_order_for_buyer and a shop's with access_order_for_shop, so everyone else
(anonymous included) gets a 404; a refused service call is a 400 with field errors
(marketplace.api.exception_handler).
"""

from django.conf import settings
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from catalog.models import Listing
from marketplace.api import paginated_response
from sellers.models import Shop
from sellers.selectors import access_shop_for_edit

from . import payments, selectors, services
from .lifecycle import (
    CASE_REASON_CHOICES,
    PROPOSED_REMEDIES,
    RETURN_REASON_CHOICES,
    Actor,
    CaseState,
    OfferKind,
    OfferState,
    Remedy,
    State,
)
from .models import Address, CaseProposal

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
        return paginated_response(
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
        return paginated_response(request, self, orders, OrderSummarySerializer)


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


# --- Offers -----------------------------------------------------------------------------------

AMOUNT_HELP = "A decimal amount with at most two decimals, e.g. 12.50 (in the shop's currency)."


class OfferTermsSerializer(serializers.Serializer):
    accepts_offers = serializers.BooleanField()
    offer_response_days = serializers.IntegerField(help_text="Days to answer an offer before it lapses")
    reservation_hours = serializers.IntegerField(
        read_only=True, help_text="How long an accepted offer keeps the copy for the buyer"
    )


class OfferEventSerializer(serializers.Serializer):
    transition = serializers.CharField()
    from_state = serializers.CharField()
    to_state = serializers.ChoiceField(choices=OfferState.choices)
    actor_role = serializers.ChoiceField(choices=Actor.choices)
    actor = serializers.CharField(source="actor.username", allow_null=True, default=None)
    message = serializers.CharField()
    note = serializers.CharField()
    created_at = serializers.DateTimeField()


class OfferSummarySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=OfferKind.choices)
    state = serializers.ChoiceField(choices=OfferState.choices)
    listing = serializers.IntegerField(source="listing_id")
    listing_title = serializers.CharField(source="listing.title")
    shop = serializers.CharField(source="shop.slug")
    shop_name = serializers.CharField(source="shop.name")
    buyer = serializers.CharField(source="buyer.username")
    signed_as = serializers.CharField(help_text="Who made it: the buyer, or the person of the shop")
    currency = serializers.CharField()
    price = serializers.DecimalField(max_digits=8, decimal_places=2, help_text="As offered")
    current_price = serializers.DecimalField(
        max_digits=8, decimal_places=2, help_text="Agreed, countered, or as offered"
    )
    created_at = serializers.DateTimeField()


class BuyerOfferSummarySerializer(OfferSummarySerializer):
    token = serializers.CharField(help_text="The offer's own address: /api/offers/<token>/")


class ShopOfferSummarySerializer(OfferSummarySerializer):
    id = serializers.IntegerField(source="pk")


class OfferDetailFields(serializers.Serializer):
    message = serializers.CharField()
    shipping_charge = serializers.DecimalField(
        max_digits=8, decimal_places=2, allow_null=True, help_text="Private offers: to ship_to. Null: the usual rates"
    )
    ship_to = serializers.SerializerMethodField()
    counter_price = serializers.DecimalField(max_digits=8, decimal_places=2, allow_null=True)
    counter_message = serializers.CharField()
    agreed_price = serializers.DecimalField(max_digits=8, decimal_places=2, allow_null=True)
    respond_by = serializers.DateTimeField(help_text="When the side whose turn it is must answer (private: expiry)")
    reserved_until = serializers.DateTimeField(allow_null=True)
    order = serializers.IntegerField(source="order_id", allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    deadline = serializers.SerializerMethodField()
    available_actions = serializers.SerializerMethodField(help_text="POST one of these to the offer's actions")
    history = OfferEventSerializer(source="events", many=True)

    def _side(self) -> str:
        return self.context["side"]

    def get_ship_to(self, offer) -> str:
        return offer.ship_to.code if offer.ship_to else ""

    @extend_schema_field(DeadlineSerializer(allow_null=True))
    def get_deadline(self, offer) -> dict | None:
        deadline = selectors.offer_deadline(offer=offer, side=self._side())
        return DeadlineSerializer(deadline).data if deadline else None

    def get_available_actions(self, offer) -> list[str]:
        names = selectors.offer_actions(offer=offer, side=self._side())
        return [API_OFFER_ACTIONS.get(name, name) for name in names]


# The offer transitions as the actions endpoints name them (one "decline", one "withdraw").
API_OFFER_ACTIONS = {
    "order_reserved": "order",
    "decline_counter": "decline",
    "decline_private": "decline",
    "withdraw_private": "withdraw",
}


class BuyerOfferSerializer(BuyerOfferSummarySerializer, OfferDetailFields):
    pass


class ShopOfferSerializer(ShopOfferSummarySerializer, OfferDetailFields):
    pass


class OfferCreateSerializer(serializers.Serializer):
    listing = serializers.IntegerField()
    price = serializers.CharField(max_length=20, help_text=AMOUNT_HELP)
    message = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)


class PrivateOfferCreateSerializer(serializers.Serializer):
    listing = serializers.IntegerField(help_text="One of the shop's listings")
    buyer = serializers.CharField(max_length=150, help_text="The username of the person it is for")
    price = serializers.CharField(max_length=20, help_text=AMOUNT_HELP)
    shipping_charge = serializers.CharField(max_length=20, help_text=AMOUNT_HELP + " 0 for free shipping.")
    ship_to = serializers.CharField(max_length=2, help_text="ISO 3166-1 alpha-2 code of the country it is sent to")
    valid_days = serializers.IntegerField(required=False, default=7, help_text="How many days it stays open")
    message = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)


class ShopOfferActionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["accept", "counter", "decline", "withdraw"])
    price = serializers.CharField(required=False, allow_blank=True, default="", max_length=20, help_text="counter")
    message = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)


class BuyerOfferActionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["accept_counter", "decline", "withdraw"])
    message = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)


class OfferOrderRequestSerializer(serializers.Serializer):
    address = serializers.IntegerField(help_text="One of your addresses")
    payment_method = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Default the shop's first"
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)


OFFER_STATE_PARAMETER = OpenApiParameter(
    "state", str, enum=list(selectors.OFFER_FILTERS), description="to_do: buyers' offers waiting for an answer"
)


def _offer_terms_out(shop) -> dict:
    terms = selectors.shop_terms(shop=shop)
    return OfferTermsSerializer(
        {
            "accepts_offers": terms.accepts_offers,
            "offer_response_days": terms.offer_response_days,
            "reservation_hours": int(settings.ORDERS_OFFER_RESERVATION_PERIOD.total_seconds() // 3600),
        }
    ).data


class OfferTermsAPIView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["offers"],
        summary="Whether a shop takes offers",
        description="Public: whether buyers may offer a price on the shop's listings, and how long the shop "
        "has to answer.",
        responses=OfferTermsSerializer,
    )
    def get(self, request, slug: str):
        shop = Shop.objects.filter(slug=slug).first()
        if shop is None:
            raise Http404("No such shop.")
        return Response(_offer_terms_out(shop))

    @extend_schema(
        tags=["offers"],
        summary="Change whether a shop takes offers (its people only)",
        request=OfferTermsSerializer,
        responses=OfferTermsSerializer,
    )
    def patch(self, request, slug: str):
        shop = access_shop_for_edit(user=request.user, slug=slug)
        data = OfferTermsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.shop_offer_terms_update(
            shop=shop,
            actor=request.user,
            accepts_offers=data.validated_data["accepts_offers"],
            offer_response_days=data.validated_data["offer_response_days"],
        )
        return Response(_offer_terms_out(shop))


def _shop_offer_out(request, slug, offer_id) -> dict:
    _, offer = selectors.access_offer_for_shop(user=request.user, slug=slug, offer_id=offer_id)
    return ShopOfferSerializer(offer, context={"side": Actor.SHOP}).data


def _buyer_offer_out(request, token) -> dict:
    offer = selectors.access_offer_for_buyer(user=request.user, token=token)
    return BuyerOfferSerializer(offer, context={"side": Actor.BUYER}).data


class PrivateOfferCreateAPIView(APIView):
    permission_classes = [AllowAny]  # access_shop_for_edit answers 404 to everyone but the shop's people

    @extend_schema(
        tags=["offers"],
        summary="Make a private offer (the shop's people only)",
        description="One copy of one of the shop's listings, to one named buyer: its own price, a shipping charge "
        "to one country (also one the shop does not usually ship to), open for valid_days. Only that buyer can "
        "see it, at /api/offers/<token>/, and ordering it accepts it.",
        request=PrivateOfferCreateSerializer,
        responses={201: ShopOfferSerializer},
    )
    def post(self, request, slug: str):
        shop = access_shop_for_edit(user=request.user, slug=slug)
        data = PrivateOfferCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        listing = Listing.objects.filter(shop=shop, pk=values["listing"]).select_related("shop").first()
        if listing is None:
            raise serializers.ValidationError({"listing": ["No such listing in this shop."]})
        offer = services.private_offer_make(
            listing=listing,
            actor=request.user,
            buyer_username=values["buyer"],
            price=values["price"],
            shipping_charge=values["shipping_charge"],
            ship_to=values["ship_to"],
            valid_days=values["valid_days"],
            message=values["message"],
        )
        return Response(_shop_offer_out(request, slug, offer.pk), status=status.HTTP_201_CREATED)


class ShopOfferListAPIView(APIView):
    permission_classes = [AllowAny]
    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS

    @extend_schema(
        tags=["offers"],
        summary="A shop's offers, both kinds (its people only)",
        parameters=[OFFER_STATE_PARAMETER],
        responses=ShopOfferSummarySerializer(many=True),
    )
    def get(self, request, slug: str):
        shop = access_shop_for_edit(user=request.user, slug=slug)
        state = request.query_params.get("state", "all")
        offers = selectors.offers_of_shop(shop=shop, state="" if state == "all" else state)
        return paginated_response(request, self, offers, ShopOfferSummarySerializer)


class ShopOfferAPIView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(tags=["offers"], summary="One of a shop's offers (its people only)", responses=ShopOfferSerializer)
    def get(self, request, slug: str, pk: int):
        return Response(_shop_offer_out(request, slug, pk))


class ShopOfferActionAPIView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["offers"],
        summary="Answer a buyer's offer, or withdraw a private offer (the shop's people only)",
        description="accept (reserves the copy for the buyer), counter (with a price between the offer and the "
        "listing's), decline (with an optional message), withdraw (a private offer not accepted yet).",
        request=ShopOfferActionSerializer,
        responses=ShopOfferSerializer,
    )
    def post(self, request, slug: str, pk: int):
        _, offer = selectors.access_offer_for_shop(user=request.user, slug=slug, offer_id=pk)
        data = ShopOfferActionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values, user = data.validated_data, request.user
        if values["action"] == "accept":
            services.offer_accept(offer=offer, actor=user, by=Actor.SHOP)
        elif values["action"] == "counter":
            services.offer_counter(offer=offer, actor=user, price=values["price"], message=values["message"])
        elif values["action"] == "decline":
            services.offer_decline(offer=offer, actor=user, by=Actor.SHOP, message=values["message"])
        else:
            services.offer_withdraw(offer=offer, actor=user, by=Actor.SHOP)
        return Response(_shop_offer_out(request, slug, pk))


class OfferListAPIView(APIView):
    permission_classes = [IsAuthenticated]
    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS

    @extend_schema(
        tags=["offers"],
        summary="My offers",
        description="The offers I made, and the private offers shops made to me.",
        responses=BuyerOfferSummarySerializer(many=True),
    )
    def get(self, request):
        return paginated_response(
            request, self, selectors.offers_of_buyer(user=request.user), BuyerOfferSummarySerializer
        )

    @extend_schema(
        tags=["offers"],
        summary="Offer a price on a listing",
        description="Below the listing's price, on a listing whose shop takes offers; one open offer per listing. "
        "Nothing is reserved until the shop accepts.",
        request=OfferCreateSerializer,
        responses={201: BuyerOfferSerializer},
    )
    def post(self, request):
        data = OfferCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        offer = services.offer_make(
            listing_id=values["listing"], actor=request.user, price=values["price"], message=values["message"]
        )
        return Response(_buyer_offer_out(request, offer.token), status=status.HTTP_201_CREATED)


class OfferAPIView(APIView):
    permission_classes = [AllowAny]  # the access helper answers 404 to everyone but the offer's buyer

    @extend_schema(
        tags=["offers"], summary="One of my offers, or a private offer made to me", responses=BuyerOfferSerializer
    )
    def get(self, request, token: str):
        return Response(_buyer_offer_out(request, token))


class OfferActionAPIView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["offers"],
        summary="Answer a counter-offer, decline a private offer, or withdraw my offer",
        request=BuyerOfferActionSerializer,
        responses=BuyerOfferSerializer,
    )
    def post(self, request, token: str):
        offer = selectors.access_offer_for_buyer(user=request.user, token=token)
        data = BuyerOfferActionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values, user = data.validated_data, request.user
        if values["action"] == "accept_counter":
            services.offer_accept(offer=offer, actor=user, by=Actor.BUYER)
        elif values["action"] == "decline":
            services.offer_decline(offer=offer, actor=user, by=Actor.BUYER, message=values["message"])
        else:
            services.offer_withdraw(offer=offer, actor=user, by=Actor.BUYER)
        return Response(_buyer_offer_out(request, token))


class OfferOrderAPIView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["offers"],
        summary="Order an offer's copy at its price",
        description="Accepts a private offer (to an address in its ship_to country), or orders the copy an "
        "accepted offer reserved (the shop's usual shipping). One order, placed as a checkout's; sending it "
        "again returns the same order (200).",
        request=OfferOrderRequestSerializer,
        responses={201: OrderSerializer, 200: OrderSerializer},
    )
    def post(self, request, token: str):
        offer = selectors.access_offer_for_buyer(user=request.user, token=token)
        data = OfferOrderRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        replay = offer.order_id is not None
        order = services.offer_order(
            offer=offer,
            actor=request.user,
            address_id=values["address"],
            payment_method=values["payment_method"],
            note=values["note"],
        )
        return Response(
            _buyer_order_out(request, order.pk), status=status.HTTP_200_OK if replay else status.HTTP_201_CREATED
        )


# --- Thank-you notes --------------------------------------------------------------------------


class ThankYouNoteSerializer(serializers.Serializer):
    signed_as = serializers.CharField()
    text = serializers.CharField()
    show_on_storefront = serializers.BooleanField(help_text="Buyers' notes: shown on the storefront, by consent")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ThankYouNotesSerializer(serializers.Serializer):
    from_shop = ThankYouNoteSerializer(source="shop_note", allow_null=True)
    from_buyer = ThankYouNoteSerializer(source="buyer_note", allow_null=True)


class BuyerNoteWriteSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=2000)
    show_on_storefront = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Whether the shop may show it, signed with your name, on its storefront",
    )


class BuyerNoteConsentSerializer(serializers.Serializer):
    show_on_storefront = serializers.BooleanField()


class ShopNoteWriteSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=2000, help_text="Signed with your name; printed on the packing slip")


class KindWordSerializer(serializers.Serializer):
    text = serializers.CharField()
    signed_as = serializers.CharField()
    created_at = serializers.DateTimeField()


def _notes_out(order, side) -> dict:
    return ThankYouNotesSerializer(selectors.order_aftercare(order=order, side=side)).data


class OrderNotesAPIView(APIView):
    permission_classes = [AllowAny]  # the access helper answers 404 to everyone but the order's buyer

    @extend_schema(
        tags=["thank-you notes"], summary="The thank-you notes on my order", responses=ThankYouNotesSerializer
    )
    def get(self, request, pk: int):
        order = selectors.access_order_for_buyer(user=request.user, order_id=pk)
        return Response(_notes_out(order, Actor.BUYER))

    @extend_schema(
        tags=["thank-you notes"],
        summary="Write (or change) my thank-you note to the shop",
        description="Once the order is on its way. show_on_storefront is your consent to show it on the shop's "
        "storefront.",
        request=BuyerNoteWriteSerializer,
        responses=ThankYouNotesSerializer,
    )
    def put(self, request, pk: int):
        order = selectors.access_order_for_buyer(user=request.user, order_id=pk)
        data = BuyerNoteWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.thank_you_note_write(
            order=order,
            actor=request.user,
            by=Actor.BUYER,
            text=data.validated_data["text"],
            show_on_storefront=data.validated_data["show_on_storefront"],
        )
        return Response(_notes_out(order, Actor.BUYER))

    @extend_schema(
        tags=["thank-you notes"],
        summary="Give or withdraw my consent to show my note on the storefront",
        description="With immediate effect.",
        request=BuyerNoteConsentSerializer,
        responses=ThankYouNotesSerializer,
    )
    def patch(self, request, pk: int):
        order = selectors.access_order_for_buyer(user=request.user, order_id=pk)
        data = BuyerNoteConsentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.thank_you_note_set_consent(
            order=order, actor=request.user, show_on_storefront=data.validated_data["show_on_storefront"]
        )
        return Response(_notes_out(order, Actor.BUYER))


class ShopOrderNotesAPIView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["thank-you notes"],
        summary="The thank-you notes on one of a shop's orders (its people only)",
        responses=ThankYouNotesSerializer,
    )
    def get(self, request, slug: str, pk: int):
        _, order = selectors.access_order_for_shop(user=request.user, slug=slug, order_id=pk)
        return Response(_notes_out(order, Actor.SHOP))

    @extend_schema(
        tags=["thank-you notes"],
        summary="Write (or change) the shop's thank-you note on an order (its people only)",
        request=ShopNoteWriteSerializer,
        responses=ThankYouNotesSerializer,
    )
    def put(self, request, slug: str, pk: int):
        _, order = selectors.access_order_for_shop(user=request.user, slug=slug, order_id=pk)
        data = ShopNoteWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.thank_you_note_write(order=order, actor=request.user, by=Actor.SHOP, text=data.validated_data["text"])
        return Response(_notes_out(order, Actor.SHOP))


class KindWordsAPIView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["thank-you notes"],
        summary="Kind words: buyers' notes a shop shows, with their consent",
        description="Public; newest first.",
        responses=KindWordSerializer(many=True),
    )
    def get(self, request, slug: str):
        shop = Shop.objects.filter(slug=slug).first()
        if shop is None:
            raise Http404("No such shop.")
        return Response(KindWordSerializer(selectors.kind_words(shop=shop), many=True).data)


# --- Problem cases ----------------------------------------------------------------------------

CASE_STEPS = [
    "message",
    "propose",
    "accept_proposal",
    "decline_proposal",
    "escalate",
    "decide",
    "appeal",
    "decide_appeal",
]


class CaseProposalSerializer(serializers.Serializer):
    remedy = serializers.ChoiceField(choices=Remedy.choices)
    amount = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    message = serializers.CharField()
    signed_as = serializers.CharField()
    status = serializers.ChoiceField(choices=CaseProposal.Status.choices)
    created_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)


class CaseAccessSerializer(serializers.Serializer):
    moderator = serializers.CharField(source="moderator_name")
    via = serializers.CharField()
    accessed_at = serializers.DateTimeField()


class CaseDecisionSerializer(serializers.Serializer):
    moderator = serializers.CharField(allow_null=True)
    remedy = serializers.ChoiceField(choices=Remedy.choices)
    amount = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    reasons = serializers.CharField()
    decided_at = serializers.DateTimeField()


class CaseAppealSerializer(serializers.Serializer):
    appealed_by = serializers.ChoiceField(choices=Actor.choices)
    reasons = serializers.CharField()
    appealed_at = serializers.DateTimeField()
    decision = CaseDecisionSerializer(allow_null=True)


class CaseSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    order = serializers.IntegerField(source="order_id")
    order_reference = serializers.CharField(source="order.reference")
    shop = serializers.CharField(source="order.shop.slug")
    shop_name = serializers.CharField(source="order.shop_name")
    buyer = serializers.CharField(source="order.buyer.username")
    reason = serializers.ChoiceField(choices=CASE_REASON_CHOICES)
    state = serializers.ChoiceField(choices=CaseState.choices)
    opened_at = serializers.DateTimeField()
    escalated_at = serializers.DateTimeField(allow_null=True)


class CaseSerializer(CaseSummarySerializer):
    details = serializers.CharField()
    currency = serializers.CharField(source="order.currency")
    order_total = serializers.DecimalField(source="order.total", max_digits=10, decimal_places=2)
    items = OrderItemSerializer(source="order.items", many=True)
    answer_due_at = serializers.DateTimeField(help_text="Until then the shop has time to propose a fix")
    disagreed_at = serializers.DateTimeField(allow_null=True, help_text="When the buyer first turned a fix down")
    escalated_by = serializers.CharField()
    proposals = CaseProposalSerializer(many=True)
    decision = serializers.SerializerMethodField()
    appeal_due_at = serializers.DateTimeField(allow_null=True)
    appeal = serializers.SerializerMethodField()
    remedy = serializers.CharField(help_text="How it ended")
    refund_amount = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    access_log = CaseAccessSerializer(many=True, help_text="Each time one of Plural's moderators read the case")
    timeline = OrderEventSerializer(
        source="order.events", many=True, help_text="The order's timeline, case steps included"
    )
    side = serializers.SerializerMethodField(help_text="buyer, shop or moderator: how you see the case")
    available_steps = serializers.SerializerMethodField(help_text="POST one of these to the case's steps")

    @extend_schema_field(CaseDecisionSerializer(allow_null=True))
    def get_decision(self, case) -> dict | None:
        if case.decided_at is None:
            return None
        return CaseDecisionSerializer(
            {
                "moderator": case.decided_by.public_name if case.decided_by else None,
                "remedy": case.decision_remedy,
                "amount": case.decision_amount,
                "reasons": case.decision_reasons,
                "decided_at": case.decided_at,
            }
        ).data

    @extend_schema_field(CaseAppealSerializer(allow_null=True))
    def get_appeal(self, case) -> dict | None:
        if case.appealed_at is None:
            return None
        decision = None
        if case.appeal_decided_at is not None:
            decision = {
                "moderator": case.appeal_decided_by.public_name if case.appeal_decided_by else None,
                "remedy": case.appeal_remedy,
                "amount": case.appeal_amount,
                "reasons": case.appeal_decision_reasons,
                "decided_at": case.appeal_decided_at,
            }
        return CaseAppealSerializer(
            {
                "appealed_by": case.appealed_by,
                "reasons": case.appeal_reasons,
                "appealed_at": case.appealed_at,
                "decision": decision,
            }
        ).data

    def get_side(self, case) -> str:
        return self.context["side"]

    def get_available_steps(self, case) -> list[str]:
        return selectors.case_actions(case=case, side=self.context["side"], user=self.context["user"])


class CaseOpenSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=CASE_REASON_CHOICES)
    details = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class CaseStepSerializer(serializers.Serializer):
    step = serializers.ChoiceField(choices=CASE_STEPS)
    text = serializers.CharField(required=False, allow_blank=True, default="", help_text="message")
    remedy = serializers.ChoiceField(
        choices=Remedy.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="propose (" + ", ".join(PROPOSED_REMEDIES) + "), decide and decide_appeal (also no_remedy)",
    )
    amount = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=20, help_text="A partial refund's amount"
    )
    message = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="propose, decline_proposal: for the other side"
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="", help_text="escalate (optional)")
    reasons = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="decide, appeal, decide_appeal (required)"
    )


def _case_out(request, case_id, *, via_logged: bool = False) -> dict:
    """The case for its viewer; a moderator's reading is logged (once per request)."""
    access = selectors.access_case(user=request.user, case_id=case_id)
    if access.side == Actor.MODERATOR and not via_logged:
        services.case_access_record(case=access.case, moderator=request.user, via="api")
        access = selectors.access_case(user=request.user, case_id=case_id)
    return CaseSerializer(access.case, context={"side": access.side, "user": request.user}).data


class CaseOpenAPIView(APIView):
    permission_classes = [AllowAny]  # the access helper answers 404 to everyone but the order's buyer

    @extend_schema(
        tags=["problem cases"],
        summary="Report a problem with my order",
        description="Once it has arrived (until it completes), or when it was shipped and is late (then as "
        "not_arrived). The shop has a stated period to propose a fix.",
        request=CaseOpenSerializer,
        responses={201: CaseSerializer},
    )
    def post(self, request, pk: int):
        order = selectors.access_order_for_buyer(user=request.user, order_id=pk)
        data = CaseOpenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = services.case_open(
            order=order,
            actor=request.user,
            reason=data.validated_data["reason"],
            details=data.validated_data["details"],
        )
        return Response(_case_out(request, case.pk), status=status.HTTP_201_CREATED)


class CaseListAPIView(APIView):
    permission_classes = [IsAuthenticated]
    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS

    @extend_schema(
        tags=["problem cases"],
        summary="Problem cases about my orders and my shops' orders",
        responses=CaseSummarySerializer(many=True),
    )
    def get(self, request):
        return paginated_response(request, self, selectors.cases_of(user=request.user), CaseSummarySerializer)


class CaseAPIView(APIView):
    permission_classes = [AllowAny]  # the access helper answers 404 to everyone else

    @extend_schema(
        tags=["problem cases"],
        summary="A problem case",
        description="For the order's buyer and the shop's people; for Plural's moderators once escalated (each "
        "reading is logged and shown to both sides).",
        responses=CaseSerializer,
    )
    def get(self, request, pk: int):
        return Response(_case_out(request, pk))


class CaseStepAPIView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["problem cases"],
        summary="Take a step in a problem case",
        description="message (text); the shop: propose (remedy, amount for a partial refund, message); the buyer: "
        "accept_proposal, decline_proposal (message); either side: escalate (reason; after the shop's answer "
        "period, or once a proposal was turned down), appeal (reasons; once, in the appeal period); a moderator: "
        "decide, decide_appeal (remedy, amount, reasons; a different moderator decides the appeal).",
        request=CaseStepSerializer,
        responses=CaseSerializer,
    )
    def post(self, request, pk: int):
        access = selectors.access_case(user=request.user, case_id=pk)
        case, side, user = access.case, access.side, request.user
        if side == Actor.MODERATOR:
            services.case_access_record(case=case, moderator=user, via="api")
        data = CaseStepSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        step, amount = values["step"], values["amount"] or None
        if step == "message":
            services.case_message(case=case, actor=user, by=side, text=values["text"])
        elif step == "propose":
            services.case_propose(
                case=case, actor=user, remedy=values["remedy"], amount=amount, message=values["message"]
            )
        elif step == "accept_proposal":
            services.case_accept_proposal(case=case, actor=user)
        elif step == "decline_proposal":
            services.case_decline_proposal(case=case, actor=user, message=values["message"])
        elif step == "escalate":
            services.case_escalate(case=case, actor=user, by=side, reason=values["reason"])
        elif step == "decide":
            services.case_decide(
                case=case, moderator=user, remedy=values["remedy"], amount=amount, reasons=values["reasons"]
            )
        elif step == "appeal":
            services.case_appeal(case=case, actor=user, by=side, reasons=values["reasons"])
        else:
            services.case_decide_appeal(
                case=case, moderator=user, remedy=values["remedy"], amount=amount, reasons=values["reasons"]
            )
        return Response(_case_out(request, pk, via_logged=True))


class ModerationCaseListAPIView(APIView):
    permission_classes = [AllowAny]  # 404 for everyone but Plural's moderators
    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS

    @extend_schema(
        tags=["problem cases"],
        summary="Cases waiting for Plural's moderators (moderators only)",
        responses=CaseSummarySerializer(many=True),
    )
    def get(self, request):
        if not selectors.is_moderator(request.user):
            raise Http404("No such page.")
        return paginated_response(request, self, selectors.cases_for_moderation(), CaseSummarySerializer)
