"""The orders pages: cart, checkout, the buyer's orders and addresses, and the shop's orders
section of the seller dashboard (orders, packing slips, order terms, monthly statements).

Every order page resolves its order with access_order_for_buyer / access_order_for_shop (a
404 for anyone else) and hands each change to one service; a refused change shows the page
again with the message and what was typed.
"""

import csv
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_countries import countries

from sellers.selectors import access_shop_for_edit
from sellers.views import add_service_errors

from . import payments, selectors, services
from .forms import (
    AcceptForm,
    AddressForm,
    AddToCartForm,
    CancelForm,
    ReturnDecisionForm,
    ReturnRequestForm,
    ShipForm,
    ShopCancelForm,
    ShopTermsForm,
)
from .lifecycle import RETURN_REASONS, SHOP_TO_DO, TRANSITIONS, Actor, State

ORDERS_PAGE_SIZE = 25
ADDRESS_FORM_FIELDS = services.ADDRESS_FIELDS


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


def _page(request, items):
    return Paginator(items, ORDERS_PAGE_SIZE).get_page(request.GET.get("page"))


def _errors(error: ValidationError) -> list[str]:
    return error.messages


# --- Cart ---------------------------------------------------------------------------------------


@require_POST
def cart_add(request):
    form = AddToCartForm(request.POST)
    back = _safe_next(request, reverse("orders:cart"))
    if not form.is_valid():
        messages.error(request, "Choose how many copies to add (at least one).")
        return redirect(back)
    cart = services.cart_get_or_create(user=request.user, session=request.session)
    try:
        item = services.cart_add_item(
            cart=cart, listing_id=form.cleaned_data["listing"], quantity=form.cleaned_data["quantity"]
        )
    except ValidationError as error:
        messages.error(request, " ".join(_errors(error)))
        return redirect(back)
    services.cart_count_remember(user=request.user, session=request.session)
    messages.success(request, f"“{item.listing.title}” is in your cart.")
    return redirect("orders:cart")


def cart(request):
    current = selectors.cart_find(user=request.user, session=request.session)
    if request.method == "POST":
        if current is None:
            messages.error(request, "Your cart is empty.")
            return redirect("orders:cart")
        action = request.POST.get("action", "")
        listing_id = request.POST.get("listing", "")
        try:
            if action == "quantity":
                item = services.cart_set_quantity(
                    cart=current, listing_id=listing_id, quantity=request.POST.get("quantity", "")
                )
                messages.success(request, "The quantity has been changed." if item else "The item has been removed.")
            elif action == "remove":
                services.cart_remove_item(cart=current, listing_id=listing_id)
                messages.success(request, "The item has been removed.")
            elif action == "accept_price":
                services.cart_accept_prices(cart=current, listing_id=listing_id)
                messages.success(request, "You have accepted the new price.")
            elif action == "destination":
                services.cart_set_destination(
                    cart=current,
                    user=request.user,
                    address_id=request.POST.get("address") or None,
                    country=request.POST.get("country", ""),
                )
                messages.success(request, "The shipping has been worked out for your destination.")
            else:
                messages.error(request, "Choose what to change.")
        except ValidationError as error:
            messages.error(request, " ".join(_errors(error)))
        return redirect("orders:cart")
    view = selectors.cart_view(cart=current, user=request.user)
    services.cart_count_remember(user=request.user, session=request.session, count=view.item_count)
    return render(
        request,
        "orders/cart.html",
        {
            "view": view,
            "addresses": list(selectors.addresses_of(user=request.user)),
            "country_choices": list(countries),
        },
    )


# --- Checkout -----------------------------------------------------------------------------------


def _checkout_choices(request, view) -> tuple[dict, dict]:
    payment_methods, notes = {}, {}
    for group in view.groups:
        method = request.POST.get(f"payment_{group.shop.pk}")
        if method:
            payment_methods[group.shop.pk] = method
        notes[group.shop.pk] = request.POST.get(f"note_{group.shop.pk}", "")
    return payment_methods, notes


@login_required
def checkout(request):
    current = selectors.cart_find(user=request.user, session=request.session)
    addresses = list(selectors.addresses_of(user=request.user))
    chosen_id = request.POST.get("address") or request.GET.get("address")
    chosen = next((a for a in addresses if str(a.pk) == str(chosen_id)), None)
    if chosen is None and current is not None and current.address_id:
        chosen = next((a for a in addresses if a.pk == current.address_id), None)
    if chosen is None:
        chosen = next((a for a in addresses if a.is_default), None)
    view = selectors.cart_view(cart=current, user=request.user, address=chosen)
    errors: list[str] = []
    payment_methods, notes = _checkout_choices(request, view) if request.method == "POST" else ({}, {})
    key = request.POST.get("idempotency_key") or uuid.uuid4().hex
    if request.method == "POST":
        try:
            placed = services.checkout_place(
                buyer=request.user,
                idempotency_key=key,
                address_id=request.POST.get("address", ""),
                payment_methods=payment_methods,
                notes=notes,
            )
        except ValidationError as error:
            errors = _errors(error)
            # The buyer may try again after fixing things: that is a new checkout.
            key = uuid.uuid4().hex
        else:
            services.cart_count_remember(user=request.user, session=request.session)
            return redirect("orders:confirmation", pk=placed.pk)
    for group in view.groups:
        options = [option.method for option in group.payment_options]
        group.chosen_payment = payment_methods.get(group.shop.pk) or (options[0] if options else "")
        group.note = notes.get(group.shop.pk, "")
        group.acceptance_days = max(group.shop.processing_days, 1)
        group.return_window_days = selectors.shop_terms(shop=group.shop).return_window_days
    return render(
        request,
        "orders/checkout.html",
        {
            "cancel_unaccepted_days": settings.ORDERS_CANCEL_UNACCEPTED_AFTER.days,
            "payment_days": settings.ORDERS_PAYMENT_PERIOD.days,
            "view": view,
            "addresses": addresses,
            "chosen": chosen,
            "idempotency_key": key,
            "errors": errors,
            "payment_methods": payment_methods,
            "notes": notes,
            "address_form": AddressForm(initial={"country": request.user.country.code if request.user.country else ""}),
        },
    )


@login_required
def confirmation(request, pk: int):
    placed = selectors.access_checkout_for_buyer(user=request.user, checkout_id=pk)
    orders = list(placed.orders.all())
    for order in orders:
        provider = payments.provider(order.payment_provider)
        order.payment_instructions = provider.instructions(order=order) if provider else ""
        order.deadline_views = selectors.open_deadlines(order=order, side=Actor.BUYER)
    return render(request, "orders/confirmation.html", {"checkout": placed, "orders": orders})


# --- The buyer's orders -------------------------------------------------------------------------


@login_required
def order_list(request):
    state = request.GET.get("state", "")
    page = _page(request, selectors.orders_of_buyer(user=request.user, state=state))
    return render(request, "orders/order_list.html", {"page": page, "state": state, "states": State.choices})


def _buyer_forms(data=None, action: str = "") -> dict:
    return {
        "cancel_form": CancelForm(data if action == "cancel" else None, prefix="cancel"),
        "return_form": ReturnRequestForm(data if action == "request_return" else None, prefix="return"),
    }


def _order_context(order, *, side: str) -> dict:
    provider = payments.provider(order.payment_provider)
    return {
        "order": order,
        "items": list(order.items.all()),
        "events": list(order.events.all()),
        "deadlines": selectors.open_deadlines(order=order, side=side),
        "actions": selectors.available_actions(order=order, side=side),
        "transitions": TRANSITIONS,
        # How to pay matters until the order is paid.
        "payment_instructions": provider.instructions(order=order)
        if provider and order.state in {State.NEW, State.ACCEPTED}
        else "",
        "return_request": getattr(order, "return_request", None),
        "return_deadline": selectors.return_deadline(order),
        "acceptance_is_late": selectors.acceptance_is_late(order=order),
        "return_reasons": RETURN_REASONS,
    }


@login_required
def order_detail(request, pk: int):
    order = selectors.access_order_for_buyer(user=request.user, order_id=pk)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    forms = _buyer_forms(request.POST if action else None, action)
    status = 200
    if action:
        try:
            if action == "cancel" and forms["cancel_form"].is_valid():
                services.order_cancel(
                    order=order, actor=request.user, by=Actor.BUYER, reason=forms["cancel_form"].cleaned_data["reason"]
                )
                messages.success(request, f"Order {order.reference} is cancelled.")
                return redirect(order.get_absolute_url())
            if action == "mark_delivered":
                services.order_mark_delivered(order=order, actor=request.user, by=Actor.BUYER)
                messages.success(request, "Thank you: the order is marked delivered.")
                return redirect(order.get_absolute_url())
            if action == "request_return" and forms["return_form"].is_valid():
                data = forms["return_form"].cleaned_data
                services.order_request_return(
                    order=order, actor=request.user, reason=data["reason"], details=data["details"]
                )
                messages.success(request, f"Your return request has been sent to {order.shop_name}.")
                return redirect(order.get_absolute_url())
            if action not in {"cancel", "mark_delivered", "request_return"}:
                messages.error(request, "Choose what to do with the order.")
                return redirect(order.get_absolute_url())
        except ValidationError as error:
            form = forms["return_form"] if action == "request_return" else forms["cancel_form"]
            add_service_errors(form, error)
        status = 400
        order = selectors.access_order_for_buyer(user=request.user, order_id=pk)
    context = _order_context(order, side=Actor.BUYER)
    return render(request, "orders/order_detail.html", {**context, **forms, "side": "buyer"}, status=status)


# --- Addresses ----------------------------------------------------------------------------------


def _address_fields(data: dict) -> dict:
    return {name: data[name] for name in ADDRESS_FORM_FIELDS}


@login_required
def address_book(request):
    form = AddressForm(request.POST or None)
    back = _safe_next(request, reverse("orders:addresses"))
    if request.method == "POST" and form.is_valid():
        try:
            address = services.address_create(
                user=request.user, is_default=form.cleaned_data["is_default"], **_address_fields(form.cleaned_data)
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "The address has been saved.")
            if back.startswith(reverse("orders:checkout")):
                return redirect(f"{reverse('orders:checkout')}?address={address.pk}")
            return redirect(back)
    return render(
        request,
        "orders/addresses.html",
        {"addresses": selectors.addresses_of(user=request.user), "form": form, "next": request.GET.get("next", "")},
        status=400 if form.errors else 200,
    )


@login_required
def address_edit(request, pk: int):
    address = selectors.access_address(user=request.user, address_id=pk)
    initial = {name: getattr(address, name) for name in ADDRESS_FORM_FIELDS}
    initial["country"] = address.country.code
    initial["is_default"] = address.is_default
    form = AddressForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.address_update(address=address, user=request.user, **_address_fields(form.cleaned_data))
            if form.cleaned_data["is_default"] and not address.is_default:
                services.address_set_default(address=address, user=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "The address has been saved.")
            return redirect("orders:addresses")
    return render(request, "orders/address_form.html", {"address": address, "form": form})


@login_required
@require_POST
def address_delete(request, pk: int):
    address = selectors.access_address(user=request.user, address_id=pk)
    services.address_delete(address=address, user=request.user)
    messages.success(request, "The address has been removed from your address book.")
    return redirect("orders:addresses")


@login_required
@require_POST
def address_default(request, pk: int):
    address = selectors.access_address(user=request.user, address_id=pk)
    services.address_set_default(address=address, user=request.user)
    messages.success(request, "That is your default address now.")
    return redirect("orders:addresses")


# --- The shop's orders --------------------------------------------------------------------------


@login_required
def shop_orders(request, slug: str):
    shop = access_shop_for_edit(user=request.user, slug=slug)
    state = request.GET.get("state", "to_do")
    if state not in selectors.SHOP_FILTERS and state != "all":
        state = "to_do"
    page = _page(request, selectors.orders_of_shop(shop=shop, state="" if state == "all" else state))
    counts = selectors.shop_order_counts(shop=shop)
    filters = [("to_do", "To do", counts["to_do"]), ("all", "All", sum(counts[s] for s in State.values))]
    filters += [(value, label, counts[value]) for value, label in State.choices]
    return render(
        request,
        "orders/shop_orders.html",
        {"shop": shop, "page": page, "state": state, "filters": filters, "to_do": SHOP_TO_DO},
    )


def _shop_forms(data=None, action: str = "") -> dict:
    return {
        "accept_form": AcceptForm(data if action == "accept" else None, prefix="accept"),
        "ship_form": ShipForm(data if action == "ship" else None, prefix="ship"),
        "shop_cancel_form": ShopCancelForm(data if action == "cancel" else None, prefix="cancel"),
        "decision_form": ReturnDecisionForm(data if action == "return_decision" else None, prefix="decision"),
    }


SHOP_ACTION_FORMS = {
    "accept": "accept_form",
    "ship": "ship_form",
    "cancel": "shop_cancel_form",
    "return_decision": "decision_form",
}
SHOP_DONE = {
    "accept": "The order is accepted: the buyer has been told.",
    "mark_paid": "The order is marked paid.",
    "ship": "The order is marked shipped: the buyer has the tracking number.",
    "mark_delivered": "The order is marked delivered.",
    "cancel": "The order is cancelled and its copies are back in stock.",
    "return_decision": "Your decision has been sent to the buyer.",
}


def _shop_action(request, order, action: str, forms: dict) -> bool:
    """Carry out a shop's action; True when it was done, False when a form refused it."""
    form = forms.get(SHOP_ACTION_FORMS.get(action, ""))
    if form is not None and not form.is_valid():
        return False
    data = form.cleaned_data if form is not None else {}
    if action == "accept":
        services.order_accept(order=order, actor=request.user, message=data["message"])
    elif action == "mark_paid":
        services.order_mark_paid(order=order, actor=request.user, by=Actor.SHOP)
    elif action == "ship":
        services.order_ship(
            order=order, actor=request.user, carrier=data["carrier"], tracking_number=data["tracking_number"]
        )
    elif action == "mark_delivered":
        services.order_mark_delivered(order=order, actor=request.user, by=Actor.SHOP)
    elif action == "cancel":
        services.order_cancel(order=order, actor=request.user, by=Actor.SHOP, reason=data["reason"])
    elif action == "return_decision":
        services.order_decide_return(
            order=order, actor=request.user, accept=data["decision"] == "accept", reason=data["reason"]
        )
    else:
        raise ValidationError("Choose what to do with the order.")
    return True


@login_required
def shop_order(request, slug: str, pk: int):
    shop, order = selectors.access_order_for_shop(user=request.user, slug=slug, order_id=pk)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    forms = _shop_forms(request.POST if action else None, action)
    page_errors: list[str] = []
    status = 200
    if action:
        try:
            if _shop_action(request, order, action, forms):
                messages.success(request, SHOP_DONE[action])
                return redirect(order.get_shop_url())
        except ValidationError as error:
            form = forms.get(SHOP_ACTION_FORMS.get(action, ""))
            if form is not None:
                add_service_errors(form, error)
            else:
                page_errors = _errors(error)
        except PermissionDenied as refused:
            page_errors = [str(refused)]
        status = 400
        shop, order = selectors.access_order_for_shop(user=request.user, slug=slug, order_id=pk)
    context = _order_context(order, side=Actor.SHOP)
    return render(
        request,
        "orders/shop_order.html",
        {**context, **forms, "shop": shop, "page_errors": page_errors, "side": "shop"},
        status=status,
    )


@login_required
def packing_slip(request, slug: str, pk: int):
    shop, order = selectors.access_order_for_shop(user=request.user, slug=slug, order_id=pk)
    return render(request, "orders/packing_slip.html", {"shop": shop, "order": order, "items": order.items.all()})


@login_required
def shop_terms(request, slug: str):
    shop = access_shop_for_edit(user=request.user, slug=slug)
    terms = selectors.shop_terms(shop=shop)
    form = ShopTermsForm(request.POST or None, initial={"return_window_days": terms.return_window_days})
    if request.method == "POST" and form.is_valid():
        try:
            services.shop_terms_update(
                shop=shop, actor=request.user, return_window_days=form.cleaned_data["return_window_days"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Your order terms have been saved.")
            return redirect("orders:shop_terms", slug=shop.slug)
    return render(
        request,
        "orders/shop_terms.html",
        {"shop": shop, "form": form, "terms": terms, "commission_rate": selectors.commission_rate_for(shop=shop)},
    )


@login_required
def statements(request, slug: str):
    shop = access_shop_for_edit(user=request.user, slug=slug)
    return render(
        request,
        "orders/statements.html",
        {
            "shop": shop,
            "months": selectors.shop_statement_months(shop=shop),
            "commission_rate": selectors.commission_rate_for(shop=shop),
        },
    )


STATEMENT_CSV_HEADER = [
    "order",
    "placed",
    "completed",
    "buyer",
    "currency",
    "items",
    "shipping",
    "total",
    "commission rate",
    "commission",
    "net",
]


@login_required
def statement(request, slug: str, month: str):
    shop = access_shop_for_edit(user=request.user, slug=slug)
    current = selectors.shop_statement(shop=shop, month=selectors.parse_month(month))
    return render(request, "orders/statement.html", {"shop": shop, "statement": current})


@login_required
def statement_csv(request, slug: str, month: str):
    shop = access_shop_for_edit(user=request.user, slug=slug)
    current = selectors.shop_statement(shop=shop, month=selectors.parse_month(month))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{shop.slug}-statement-{current.month.slug}.csv"'
    writer = csv.writer(response)
    writer.writerow(STATEMENT_CSV_HEADER)
    for order in current.orders:
        writer.writerow(
            [
                order.reference,
                order.placed_at.date().isoformat(),
                order.completed_at.date().isoformat(),
                order.buyer.username,
                order.currency,
                order.items_total,
                order.shipping_total,
                order.total,
                order.commission_rate,
                order.commission,
                order.net,
            ]
        )
    return response


# --- Payment providers' callbacks ---------------------------------------------------------------


@csrf_exempt
def payment_webhook(request, provider: str):
    """Hand a payment processor's callback to its provider's own webhook view (see orders.payments)."""
    found = payments.provider(provider)
    if found is None or found.webhook is None:
        raise Http404("No such payment provider.")
    return found.webhook(request)
