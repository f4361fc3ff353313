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

from catalog.selectors import access_listing_for_view
from sellers.selectors import access_listing_for_edit, access_shop_for_edit
from sellers.views import add_service_errors

from . import payments, selectors, services
from .forms import (
    AcceptForm,
    AddressForm,
    AddToCartForm,
    AppealForm,
    BuyerNoteForm,
    CancelForm,
    CaseMessageForm,
    CaseOpenForm,
    CounterOfferForm,
    DecisionForm,
    EscalateForm,
    OfferDeclineForm,
    OfferForm,
    OfferOrderForm,
    OfferTermsForm,
    PrivateOfferForm,
    ProposalDeclineForm,
    ProposalForm,
    ReturnDecisionForm,
    ReturnRequestForm,
    ShipForm,
    ShopCancelForm,
    ShopNoteForm,
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
        **_aftercare_context(order, side=side),
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
    return render(
        request,
        "orders/packing_slip.html",
        {"shop": shop, "order": order, "items": order.items.all(), "shop_note": selectors.shop_thank_you_note(order)},
    )


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
    return _shop_terms_page(request, shop, terms=terms, form=form)


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


# --- Order terms: offers ------------------------------------------------------------------------


def _shop_terms_page(request, shop, *, terms, form=None, offers_form=None, status: int = 200):
    """The order terms page, with the return window's form and the offers' form."""
    form = form or ShopTermsForm(initial={"return_window_days": terms.return_window_days})
    offers_form = offers_form or OfferTermsForm(
        initial={"accepts_offers": terms.accepts_offers, "offer_response_days": terms.offer_response_days}
    )
    return render(
        request,
        "orders/shop_terms.html",
        {
            "shop": shop,
            "form": form,
            "offers_form": offers_form,
            "terms": terms,
            "commission_rate": selectors.commission_rate_for(shop=shop),
            "reservation_hours": int(settings.ORDERS_OFFER_RESERVATION_PERIOD.total_seconds() // 3600),
        },
        status=status,
    )


@login_required
@require_POST
def shop_offer_terms(request, slug: str):
    shop = access_shop_for_edit(user=request.user, slug=slug)
    offers_form = OfferTermsForm(request.POST)
    if offers_form.is_valid():
        try:
            services.shop_offer_terms_update(shop=shop, actor=request.user, **offers_form.cleaned_data)
        except ValidationError as error:
            add_service_errors(offers_form, error)
        else:
            messages.success(request, "Your terms for offers have been saved.")
            return redirect("orders:shop_terms", slug=shop.slug)
    return _shop_terms_page(request, shop, terms=selectors.shop_terms(shop=shop), offers_form=offers_form, status=400)


def _take_step(step, form) -> tuple[object, list[str]]:
    """Run `step(data)` with the cleaned data of `form` (None: a step without a form): (what it
    returned, []) when it was done. A refusal lands on the form's fields, or comes back as the
    page's errors."""
    if form is not None and not form.is_valid():
        return None, []
    try:
        return step(form.cleaned_data if form is not None else {}), []
    except ValidationError as error:
        if form is None:
            return None, _errors(error)
        add_service_errors(form, error)
    except PermissionDenied as refused:
        return None, [str(refused)]
    return None, []


def _step_done(form, page_errors: list[str]) -> bool:
    return not page_errors and (form is None or (form.is_bound and not form.errors))


# --- Offers: making them ------------------------------------------------------------------------


def _private_offer_form(data=None) -> PrivateOfferForm:
    return PrivateOfferForm(data, max_days=settings.ORDERS_PRIVATE_OFFER_MAX_DAYS, prefix="private")


@login_required
def private_offer_make(request, slug: str, pk: int):
    shop, listing = access_listing_for_edit(user=request.user, slug=slug, listing_id=pk)
    form = _private_offer_form(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            offer = services.private_offer_make(
                listing=listing,
                actor=request.user,
                buyer_username=data["buyer"],
                price=data["price"],
                shipping_charge=data["shipping_charge"],
                ship_to=data["ship_to"],
                valid_days=data["valid_days"],
                message=data["message"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Your private offer is on its way to {offer.buyer.public_name}.")
            return redirect(offer.get_shop_url())
    return render(
        request,
        "orders/private_offer_form.html",
        {"shop": shop, "listing": listing, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
def offer_make(request, pk: int):
    listing = access_listing_for_view(user=request.user, pk=pk)
    form = OfferForm(request.POST if request.method == "POST" else None, prefix="offer")
    if request.method == "POST" and form.is_valid():
        try:
            offer = services.offer_make(
                listing_id=listing.pk,
                actor=request.user,
                price=form.cleaned_data["price"],
                message=form.cleaned_data["message"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Your offer has been sent to {listing.shop.name}.")
            return redirect(offer.get_absolute_url())
    return render(
        request,
        "orders/offer_form.html",
        {
            "listing": listing,
            "shop": listing.shop,
            "form": form,
            "terms": selectors.listing_offers(listing=listing, user=request.user),
        },
        status=400 if form.errors else 200,
    )


# --- Offers: the buyer's side -------------------------------------------------------------------


@login_required
def offer_list(request):
    page = _page(request, selectors.offers_of_buyer(user=request.user))
    return render(request, "orders/offer_list.html", {"page": page})


def _offer_order_form(request, offer, data=None) -> OfferOrderForm:
    return OfferOrderForm(
        data,
        prefix="order",
        addresses=list(selectors.addresses_of(user=request.user)),
        payment_options=payments.options_for_shop(offer.shop),
    )


def _offer_context(offer, *, side: str) -> dict:
    return {
        "offer": offer,
        "events": list(offer.events.all()),
        "deadline": selectors.offer_deadline(offer=offer, side=side),
        "actions": selectors.offer_actions(offer=offer, side=side),
        "side": side,
    }


BUYER_OFFER_DONE = {
    "accept_counter": "You accepted the counter-offer: the copy is reserved for you. Order it below.",
    "decline": "You declined the offer.",
    "withdraw": "Your offer is withdrawn.",
}


@login_required
def offer_detail(request, token: str):
    offer = selectors.access_offer_for_buyer(user=request.user, token=token)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    order_form = _offer_order_form(request, offer, request.POST if action == "order" else None)
    decline_form = OfferDeclineForm(request.POST if action == "decline" else None, prefix="decline")
    page_errors: list[str] = []
    status = 200
    if action:
        steps = {
            "order": (
                lambda data: services.offer_order(
                    offer=offer,
                    actor=request.user,
                    address_id=data["address"],
                    payment_method=data["payment_method"],
                    note=data["note"],
                ),
                order_form,
            ),
            "accept_counter": (
                lambda data: services.offer_accept(offer=offer, actor=request.user, by=Actor.BUYER),
                None,
            ),
            "decline": (
                lambda data: services.offer_decline(
                    offer=offer, actor=request.user, by=Actor.BUYER, message=data["message"]
                ),
                decline_form,
            ),
            "withdraw": (lambda data: services.offer_withdraw(offer=offer, actor=request.user, by=Actor.BUYER), None),
        }
        step, form = steps.get(action, (None, None))
        result, page_errors = _take_step(step, form) if step else (None, ["Choose what to do with the offer."])
        if _step_done(form, page_errors):
            if action == "order":
                order = result
                messages.success(request, f"Thank you: order {order.reference} is placed with {order.shop_name}.")
                return redirect(order.get_absolute_url())
            messages.success(request, BUYER_OFFER_DONE[action])
            return redirect(offer.get_absolute_url())
        status = 400
        offer = selectors.access_offer_for_buyer(user=request.user, token=token)
    return render(
        request,
        "orders/offer_detail.html",
        {
            **_offer_context(offer, side=Actor.BUYER),
            "order_form": order_form,
            "decline_form": decline_form,
            "page_errors": page_errors,
            "has_addresses": bool(order_form.fields["address"].choices),
            "failed": action if status == 400 else "",
        },
        status=status,
    )


# --- Offers: the shop's side --------------------------------------------------------------------


@login_required
def shop_offers(request, slug: str):
    shop = access_shop_for_edit(user=request.user, slug=slug)
    state = request.GET.get("state", "to_do")
    if state not in selectors.OFFER_FILTERS:
        state = "to_do"
    page = _page(request, selectors.offers_of_shop(shop=shop, state="" if state == "all" else state))
    return render(
        request,
        "orders/shop_offers.html",
        {"shop": shop, "page": page, "state": state, "filters": list(selectors.OFFER_FILTERS.items())},
    )


SHOP_OFFER_DONE = {
    "accept": "You accepted the offer: the copy is reserved for the buyer.",
    "counter": "Your counter-offer has been sent.",
    "decline": "You declined the offer.",
    "withdraw": "The offer is withdrawn.",
}


@login_required
def shop_offer(request, slug: str, pk: int):
    shop, offer = selectors.access_offer_for_shop(user=request.user, slug=slug, offer_id=pk)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    counter_form = CounterOfferForm(request.POST if action == "counter" else None, prefix="counter")
    decline_form = OfferDeclineForm(request.POST if action == "decline" else None, prefix="decline")
    page_errors: list[str] = []
    status = 200
    if action:
        user = request.user
        steps = {
            "accept": (lambda data: services.offer_accept(offer=offer, actor=user, by=Actor.SHOP), None),
            "counter": (
                lambda data: services.offer_counter(
                    offer=offer, actor=user, price=data["price"], message=data["message"]
                ),
                counter_form,
            ),
            "decline": (
                lambda data: services.offer_decline(offer=offer, actor=user, by=Actor.SHOP, message=data["message"]),
                decline_form,
            ),
            "withdraw": (lambda data: services.offer_withdraw(offer=offer, actor=user, by=Actor.SHOP), None),
        }
        step, form = steps.get(action, (None, None))
        _, page_errors = _take_step(step, form) if step else (None, ["Choose what to do with the offer."])
        if _step_done(form, page_errors):
            messages.success(request, SHOP_OFFER_DONE[action])
            return redirect(offer.get_shop_url())
        status = 400
        shop, offer = selectors.access_offer_for_shop(user=request.user, slug=slug, offer_id=pk)
    return render(
        request,
        "orders/shop_offer.html",
        {
            **_offer_context(offer, side=Actor.SHOP),
            "shop": shop,
            "counter_form": counter_form,
            "decline_form": decline_form,
            "page_errors": page_errors,
            "failed": action if status == 400 else "",
        },
        status=status,
    )


# --- Thank-you notes ----------------------------------------------------------------------------


def _aftercare_context(order, *, side: str) -> dict:
    """What the order pages show of thank-you notes and problem cases, with the note form of
    the page's side filled with the note already written."""
    aftercare = selectors.order_aftercare(order=order, side=side)
    context = {"aftercare": aftercare}
    if side == Actor.BUYER:
        note = aftercare.buyer_note
        context["buyer_note_form"] = BuyerNoteForm(
            initial={"text": note.text, "show_on_storefront": note.show_on_storefront} if note else None,
            prefix="note",
        )
    else:
        note = aftercare.shop_note
        context["shop_note_form"] = ShopNoteForm(initial={"text": note.text} if note else None, prefix="note")
    return context


@login_required
@require_POST
def buyer_note(request, pk: int):
    order = selectors.access_order_for_buyer(user=request.user, order_id=pk)
    if request.POST.get("action") == "consent":
        show = request.POST.get("show_on_storefront") == "on"
        try:
            services.thank_you_note_set_consent(order=order, actor=request.user, show_on_storefront=show)
        except ValidationError as error:
            messages.error(request, " ".join(_errors(error)))
        else:
            messages.success(
                request,
                f"{order.shop_name} may show your note on its storefront."
                if show
                else "Your note is no longer shown on the storefront.",
            )
        return redirect(order.get_absolute_url())
    form = BuyerNoteForm(request.POST, prefix="note")
    if form.is_valid():
        try:
            services.thank_you_note_write(
                order=order,
                actor=request.user,
                by=Actor.BUYER,
                text=form.cleaned_data["text"],
                show_on_storefront=form.cleaned_data["show_on_storefront"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Your thank-you note has been sent to {order.shop_name}.")
            return redirect(order.get_absolute_url())
    context = _order_context(order, side=Actor.BUYER)
    context["buyer_note_form"] = form
    return render(request, "orders/order_detail.html", {**context, **_buyer_forms(), "side": "buyer"}, status=400)


@login_required
@require_POST
def shop_note(request, slug: str, pk: int):
    shop, order = selectors.access_order_for_shop(user=request.user, slug=slug, order_id=pk)
    form = ShopNoteForm(request.POST, prefix="note")
    if form.is_valid():
        try:
            services.thank_you_note_write(
                order=order, actor=request.user, by=Actor.SHOP, text=form.cleaned_data["text"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Your thank-you note is on the order, and on its packing slip.")
            return redirect(order.get_shop_url())
    context = _order_context(order, side=Actor.SHOP)
    context["shop_note_form"] = form
    return render(
        request,
        "orders/shop_order.html",
        {**context, **_shop_forms(), "shop": shop, "page_errors": [], "side": "shop"},
        status=400,
    )


# --- Problem cases ------------------------------------------------------------------------------


@login_required
def case_open(request, pk: int):
    order = selectors.access_order_for_buyer(user=request.user, order_id=pk)
    aftercare = selectors.order_aftercare(order=order, side=Actor.BUYER)
    if aftercare.open_case is not None:
        return redirect(aftercare.open_case.get_absolute_url())
    form = CaseOpenForm(request.POST if request.method == "POST" else None, prefix="case")
    if request.method == "POST" and form.is_valid():
        try:
            case = services.case_open(
                order=order,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                details=form.cleaned_data["details"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Your problem report has been sent to {order.shop_name}.")
            return redirect(case.get_absolute_url())
    return render(
        request,
        "orders/case_open.html",
        {
            "order": order,
            "items": list(order.items.all()),
            "aftercare": aftercare,
            "form": form,
            "answer_days": settings.ORDERS_CASE_ANSWER_PERIOD.days,
        },
        status=400 if form.errors else 200,
    )


CASE_FORMS = {
    "message": ("message_form", CaseMessageForm),
    "propose": ("proposal_form", ProposalForm),
    "decline_proposal": ("decline_form", ProposalDeclineForm),
    "escalate": ("escalate_form", EscalateForm),
    "decide": ("decision_form", DecisionForm),
    "appeal": ("appeal_form", AppealForm),
    "decide_appeal": ("appeal_decision_form", DecisionForm),
}
CASE_DONE = {
    "message": "Your message is on the case.",
    "propose": "Your proposal has been sent to the buyer.",
    "accept_proposal": "Thank you: the problem is settled.",
    "decline_proposal": "You turned the proposal down: the shop has been told.",
    "escalate": "Plural's moderators have been asked to decide.",
    "decide": "Your decision has been sent to both sides.",
    "appeal": "Your appeal has been sent: a different moderator decides it.",
    "decide_appeal": "The appeal is decided.",
}


def _case_forms(data=None, action: str = "") -> dict:
    return {
        name: form_class(data if action == key else None, prefix=key) for key, (name, form_class) in CASE_FORMS.items()
    }


def _case_steps(request, case, side: str) -> dict:
    """Each step of a case, as a function of its form's cleaned data, through its service."""
    user = request.user
    return {
        "message": lambda data: services.case_message(case=case, actor=user, by=side, text=data["text"]),
        "propose": lambda data: services.case_propose(
            case=case, actor=user, remedy=data["remedy"], amount=data["amount"] or None, message=data["message"]
        ),
        "accept_proposal": lambda data: services.case_accept_proposal(case=case, actor=user),
        "decline_proposal": lambda data: services.case_decline_proposal(case=case, actor=user, message=data["message"]),
        "escalate": lambda data: services.case_escalate(case=case, actor=user, by=side, reason=data["reason"]),
        "decide": lambda data: services.case_decide(
            case=case, moderator=user, remedy=data["remedy"], amount=data["amount"] or None, reasons=data["reasons"]
        ),
        "appeal": lambda data: services.case_appeal(case=case, actor=user, by=side, reasons=data["reasons"]),
        "decide_appeal": lambda data: services.case_decide_appeal(
            case=case, moderator=user, remedy=data["remedy"], amount=data["amount"] or None, reasons=data["reasons"]
        ),
    }


@login_required
def case_detail(request, pk: int):
    access = selectors.access_case(user=request.user, case_id=pk)
    case, side = access.case, access.side
    logged = None
    if side == Actor.MODERATOR:
        logged = services.case_access_record(case=case, moderator=request.user, via="page")
    action = request.POST.get("action", "") if request.method == "POST" else ""
    forms = _case_forms(request.POST if action else None, action)
    page_errors: list[str] = []
    status = 200
    if action:
        step = _case_steps(request, case, side).get(action)
        form = forms[CASE_FORMS[action][0]] if action in CASE_FORMS else None
        _, page_errors = _take_step(step, form) if step else (None, ["Choose what to do in the case."])
        if _step_done(form, page_errors):
            messages.success(request, CASE_DONE[action])
            return redirect(case.get_absolute_url())
        status = 400
        case = selectors.access_case(user=request.user, case_id=pk).case
    order = case.order
    access_log = list(case.access_log.all())
    if logged is not None and logged.pk not in {entry.pk for entry in access_log}:
        access_log.append(logged)
    return render(
        request,
        "orders/case_detail.html",
        {
            **forms,
            "case": case,
            "order": order,
            "side": side,
            "items": list(order.items.all()),
            "events": list(order.events.all()),
            "deadlines": selectors.open_deadlines(order=order, side=side) if side != Actor.MODERATOR else [],
            "proposals": list(case.proposals.all()),
            "pending_proposal": selectors.pending_proposal(case),
            "access_log": access_log,
            "actions": selectors.case_actions(case=case, side=side, user=request.user),
            "page_errors": page_errors,
            # A refused step's form stays on the page with what was typed, even if the step is
            # no longer on offer.
            "failed": action if status == 400 else "",
        },
        status=status,
    )


@login_required
def moderation_cases(request):
    if not selectors.is_moderator(request.user):
        raise Http404("No such page.")
    page = _page(request, selectors.cases_for_moderation())
    return render(request, "orders/moderation_cases.html", {"page": page})
