"""Operator tools: orders (read-mostly), and each shop's order terms, where the operator can
give a shop a commission rate of its own instead of the site-wide ORDERS_COMMISSION_RATE."""

from django.contrib import admin
from django.db.models import Q

from accounts.admin import PersonalDataAdminMixin
from accounts.models import DataAccess

from .models import Address, Checkout, Order, OrderDeadline, OrderEvent, OrderItem, ReturnRequest, ShopTerms


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    can_delete = False
    fields = ["title", "creator", "condition", "sku", "unit_price", "quantity", "line_total", "listing"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "transition", "from_state", "to_state", "actor_role", "actor", "message", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        # A problem case's steps are read by moderators on the case page, where each reading is
        # logged for both sides; the admin does not show them. (Offers and thank-you notes are
        # the two sides' own and have no admin either.)
        case_steps = Q(transition__startswith="case_") | Q(transition="open_case")
        return super().get_queryset(request).exclude(case_steps)


class OrderDeadlineInline(admin.TabularInline):
    model = OrderDeadline
    extra = 0
    can_delete = False
    fields = ["timer", "state", "due_at", "remind_at", "reminded_at", "fired_at", "resolved_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(PersonalDataAdminMixin, admin.ModelAdmin):
    """Orders change only through their lifecycle (orders.services): the admin shows them.
    Opening one is logged on its buyer's privacy page."""

    personal_data_what = DataAccess.What.ORDER

    def person_of(self, obj):
        return obj.buyer

    list_display = ["reference", "shop_name", "buyer", "state", "total", "currency", "commission", "placed_at"]
    list_filter = ["state", "currency", "payment_method"]
    search_fields = ["=id", "shop__slug", "shop_name", "buyer__username", "tracking_number"]
    list_select_related = ["buyer", "shop"]
    inlines = [OrderItemInline, OrderEventInline, OrderDeadlineInline]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Order._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ShopTerms)
class ShopTermsAdmin(admin.ModelAdmin):
    list_display = ["shop", "return_window_days", "commission_rate", "updated_at"]
    search_fields = ["shop__name", "shop__slug"]
    autocomplete_fields = ["shop"]
    list_select_related = ["shop"]


@admin.register(Checkout)
class CheckoutAdmin(admin.ModelAdmin):
    list_display = ["pk", "buyer", "created_at"]
    search_fields = ["buyer__username", "idempotency_key"]
    readonly_fields = ["buyer", "idempotency_key", "created_at"]


@admin.register(ReturnRequest)
class ReturnRequestAdmin(admin.ModelAdmin):
    list_display = ["order", "reason", "decision", "refund_amount", "requested_at", "decided_at"]
    list_filter = ["reason", "decision"]
    readonly_fields = [
        "order",
        "reason",
        "details",
        "refund_amount",
        "refund_rule",
        "decision",
        "decision_reason",
        "requested_at",
        "decided_at",
    ]


@admin.register(Address)
class AddressAdmin(PersonalDataAdminMixin, admin.ModelAdmin):
    personal_data_what = DataAccess.What.ADDRESS

    def person_of(self, obj):
        return obj.user

    list_display = ["full_name", "user", "city", "country", "is_default"]
    search_fields = ["user__username", "full_name", "city"]
    raw_id_fields = ["user"]
