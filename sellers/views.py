"""Shop pages: opening a shop, the storefront, editing it, its people and the seller dashboard.

Every page that changes something resolves the shop with access_shop_for_edit (404 for
anyone who is not one of its people) and hands the change to a service.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from catalog import services as listing_services
from catalog.counters import CountedPaginator
from catalog.models import Listing
from social import selectors as social_selectors

from . import selectors, services
from .forms import (
    BulkActionForm,
    ListingForm,
    MemberAddForm,
    ShopCreateForm,
    ShopDetailsForm,
    ShopPoliciesForm,
    SignInSecurityForm,
    VacationForm,
)
from .models import PaymentMethod, ShopMember

STOREFRONT_PAGE_SIZE = 24
DASHBOARD_PAGE_SIZE = 50
LISTING_FORM_FIELDS = (
    "title",
    "creator",
    "publisher",
    "year",
    "format",
    "identifier",
    "condition",
    "category",
    "description",
    "price",
    "currency",
    "quantity",
    "sku",
    "status",
)


def add_service_errors(form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form: on the field it names when the form
    has that field, otherwise at the top of the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, messages_ in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages_)


def _page(request, items, size: int, *, count: int | None = None):
    """A page of `items`; `count` is their number when it is known already (maintained counts)."""
    paginator = Paginator(items, size) if count is None else CountedPaginator(items, size, count=count)
    return paginator.get_page(request.GET.get("page"))


def _query_string(request, **changes) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    for key, value in changes.items():
        if value:
            params[key] = value
        else:
            params.pop(key, None)
    return urlencode([(key, value) for key in params for value in params.getlist(key)])


# --- Opening a shop -------------------------------------------------------


@login_required
def shop_create(request):
    form = ShopCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            shop = services.shop_create(owner=request.user, **form.cleaned_data)
        except PermissionDenied as refused:
            form.add_error(None, str(refused))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{shop.name} is open. Add its details and your first listings.")
            return redirect("sellers:dashboard", slug=shop.slug)
    return render(
        request,
        "sellers/shop_create.html",
        {"form": form, "your_shops": selectors.shops_of(user=request.user)},
    )


# --- The storefront -------------------------------------------------------


def storefront(request, slug: str):
    shop = selectors.shop_for_storefront(slug=slug)
    query = request.GET.get("q", "").strip()[:200]
    tag_slug = request.GET.get("tag", "").strip()[:100]
    sort = request.GET.get("sort", "newest")
    if sort not in selectors.STOREFRONT_SORTS:
        sort = "newest"
    counts = selectors.shop_listing_counts(shop=shop)
    page = _page(
        request,
        selectors.storefront_listings(shop=shop, query=query, tag_slug=tag_slug, sort=sort),
        STOREFRONT_PAGE_SIZE,
        # Searched or filtered by a tag, the matches are counted; otherwise the counts say it.
        count=None if query or tag_slug else selectors.storefront_listing_count(counts=counts),
    )
    page.object_list = selectors.attach_cards(page.object_list)
    members = list(shop.members.all())
    is_member = request.user.is_authenticated and any(member.user_id == request.user.pk for member in members)
    ships_to = sorted(country.name for country in shop.ships_to)
    return render(
        request,
        "sellers/storefront.html",
        {
            "shop": shop,
            "members": members,
            "is_member": is_member,
            "page": page,
            "shop_query": query,
            "tag_slug": tag_slug,
            "sort": sort,
            "sorts": [
                ("newest", "Newest"),
                ("price", "Price: low to high"),
                ("-price", "Price: high to low"),
                ("title", "Title"),
            ],
            "shop_tags": selectors.shop_tags(shop=shop),
            "ships_to": ships_to,
            "payment_methods": [label for value, label in PaymentMethod.choices if value in shop.payment_methods],
            "page_query": _query_string(request),
            "follow_summary": social_selectors.shop_follow_summary(shop=shop, viewer=request.user),
            "favourite_choices": social_selectors.favourite_choices(viewer=request.user, shop=shop),
        },
    )


# --- Editing the shop -----------------------------------------------------


def _shop_edit_forms(shop, *, bound: str | None = None, request=None):
    details_initial = {name: getattr(shop, name) for name in services.SHOP_DETAIL_FIELDS}
    details_initial["country"] = shop.country.code
    policies_initial = {name: getattr(shop, name) for name in services.SHOP_POLICY_FIELDS}
    policies_initial["ships_to"] = [country.code for country in shop.ships_to]
    vacation_initial = {
        "is_on_vacation": shop.is_on_vacation,
        "vacation_message": shop.vacation_message,
        "vacation_until": shop.vacation_until,
    }
    data = request.POST if request is not None else None
    files = request.FILES if request is not None else None
    return {
        "details_form": ShopDetailsForm(data, files, prefix="details")
        if bound == "details"
        else ShopDetailsForm(initial=details_initial, prefix="details"),
        "policies_form": ShopPoliciesForm(data, prefix="policies")
        if bound == "policies"
        else ShopPoliciesForm(initial=policies_initial, prefix="policies"),
        "vacation_form": VacationForm(data, prefix="vacation")
        if bound == "vacation"
        else VacationForm(initial=vacation_initial, prefix="vacation"),
        "security_form": SignInSecurityForm(data, prefix="security")
        if bound == "security"
        else SignInSecurityForm(initial={"requires_mfa": shop.requires_mfa}, prefix="security"),
    }


@login_required
def shop_edit(request, slug: str):
    shop = selectors.access_shop_for_edit(user=request.user, slug=slug)
    section = request.POST.get("section") if request.method == "POST" else None
    if section not in {"details", "policies", "vacation", "security"}:
        section = None
    forms = _shop_edit_forms(shop, bound=section, request=request if section else None)
    if section:
        form = forms[f"{section}_form"]
        if form.is_valid():
            data = form.cleaned_data
            try:
                if section == "details":
                    services.shop_update(
                        shop=shop,
                        actor=request.user,
                        logo=data["logo"],
                        banner=data["banner"],
                        remove_logo=data["remove_logo"],
                        remove_banner=data["remove_banner"],
                        **{name: data[name] for name in services.SHOP_DETAIL_FIELDS},
                    )
                elif section == "security":
                    services.shop_set_mfa_requirement(shop=shop, actor=request.user, requires_mfa=data["requires_mfa"])
                elif section == "policies":
                    services.shop_update(
                        shop=shop, actor=request.user, **{name: data[name] for name in services.SHOP_POLICY_FIELDS}
                    )
                else:
                    services.shop_set_vacation(
                        shop=shop,
                        actor=request.user,
                        is_on_vacation=data["is_on_vacation"],
                        message=data["vacation_message"],
                        until=data["vacation_until"],
                    )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Your shop has been saved.")
                return redirect("sellers:shop_edit", slug=shop.slug)
    return render(request, "sellers/shop_edit.html", {"shop": shop, "section": section, **forms})


@login_required
def shop_people(request, slug: str):
    shop = selectors.access_shop_for_edit(user=request.user, slug=slug)
    is_owner = selectors.is_shop_owner(user=request.user, shop=shop)
    form = MemberAddForm(
        request.POST if request.method == "POST" and request.POST.get("action", "add") == "add" else None
    )
    page_errors: list[str] = []
    if request.method == "POST":
        action = request.POST.get("action", "add")
        try:
            if action == "remove":
                services.shop_member_remove(shop=shop, actor=request.user, member_id=_int(request.POST.get("member")))
                messages.success(request, "That person is no longer one of the shop's people.")
                if not selectors.is_shop_member(user=request.user, shop=shop):
                    return redirect(shop.get_absolute_url())
                return redirect("sellers:people", slug=shop.slug)
            if action == "title":
                services.shop_member_set_title(
                    shop=shop,
                    actor=request.user,
                    member_id=_int(request.POST.get("member")),
                    title=request.POST.get("title", ""),
                )
                messages.success(request, "The title has been saved.")
                return redirect("sellers:people", slug=shop.slug)
            if form.is_valid():
                member = services.shop_member_add(shop=shop, actor=request.user, **form.cleaned_data)
                messages.success(request, f"{member.user.public_name} is now one of the shop's people.")
                return redirect("sellers:people", slug=shop.slug)
        except PermissionDenied as refused:
            page_errors.append(str(refused))
        except ValidationError as error:
            if action == "add":
                add_service_errors(form, error)
            else:
                page_errors.extend(error.messages)
    members = ShopMember.objects.filter(shop=shop).select_related("user").order_by("role", "added_at")
    return render(
        request,
        "sellers/people.html",
        {"shop": shop, "members": members, "is_owner": is_owner, "form": form, "page_errors": page_errors},
    )


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


# --- The dashboard --------------------------------------------------------


@login_required
def dashboard(request, slug: str):
    shop = selectors.access_shop_for_edit(user=request.user, slug=slug)
    query = request.GET.get("q", "").strip()[:200]
    status = request.GET.get("status", "")
    if status not in selectors.DASHBOARD_STATUSES:
        status = ""
    bulk_form = BulkActionForm(request.POST or None)
    if request.method == "POST":
        listing_ids = request.POST.getlist("listing_ids")
        if bulk_form.is_valid():
            action = bulk_form.cleaned_data["action"]
            try:
                if action == "pause":
                    count = listing_services.listings_bulk_pause(shop=shop, actor=request.user, listing_ids=listing_ids)
                    messages.success(request, f"Paused {count} listing{'s' if count != 1 else ''}.")
                elif action == "price":
                    count = listing_services.listings_bulk_change_price(
                        shop=shop,
                        actor=request.user,
                        listing_ids=listing_ids,
                        percent=bulk_form.cleaned_data["percent"],
                    )
                    messages.success(request, f"Changed the price of {count} listing{'s' if count != 1 else ''}.")
                else:
                    count = listing_services.listings_bulk_add_tag(
                        shop=shop, actor=request.user, listing_ids=listing_ids, name=bulk_form.cleaned_data["name"]
                    )
                    messages.success(request, f"Tagged {count} listing{'s' if count != 1 else ''}.")
            except ValidationError as error:
                add_service_errors(bulk_form, error)
            else:
                return redirect(f"{reverse('sellers:dashboard', kwargs={'slug': shop.slug})}?{_query_string(request)}")
    counts = selectors.shop_listing_counts(shop=shop)
    page = _page(
        request,
        selectors.dashboard_listings(shop=shop, query=query, status=status),
        DASHBOARD_PAGE_SIZE,
        count=None if query else selectors.dashboard_listing_count(counts=counts, status=status),
    )
    page.object_list = selectors.attach_cards(page.object_list)
    chosen = set(request.POST.getlist("listing_ids")) if request.method == "POST" else set()
    return render(
        request,
        "sellers/dashboard.html",
        {
            "shop": shop,
            "page": page,
            "dashboard_query": query,
            "status": status,
            "statuses": Listing.Status.choices,
            "counts": counts,
            "bulk_form": bulk_form,
            "chosen": chosen,
            "page_query": _query_string(request),
        },
    )


def _listing_form_initial(listing: Listing) -> dict:
    initial = {name: getattr(listing, name) for name in LISTING_FORM_FIELDS}
    initial["condition"] = listing.condition.slug
    initial["category"] = listing.category_id
    return initial


def _listing_fields(data: dict) -> dict:
    fields = {name: data[name] for name in LISTING_FORM_FIELDS}
    fields["condition"] = data["condition"]
    for name in ("creator", "publisher", "format", "identifier", "description", "sku"):
        fields[name] = fields[name] or ""
    return fields


@login_required
def listing_create(request, slug: str):
    shop = selectors.access_shop_for_edit(user=request.user, slug=slug)
    if request.method == "POST":
        form = ListingForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                listing = _create_with_image(shop=shop, actor=request.user, data=form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"“{listing.title}” has been saved.")
                return redirect("sellers:listing_edit", slug=shop.slug, pk=listing.pk)
    else:
        form = ListingForm(initial={"currency": shop.currency, "status": Listing.Status.DRAFT, "quantity": 1})
    return render(request, "sellers/listing_form.html", {"shop": shop, "form": form, "listing": None})


def _create_with_image(*, shop, actor, data) -> Listing:
    """Create the listing and its first image together: a refused image saves no listing."""
    with transaction.atomic():
        listing = listing_services.listing_create(shop=shop, actor=actor, **_listing_fields(data))
        if data.get("image"):
            listing_services.listing_add_image(listing=listing, actor=actor, upload=data["image"])
    return listing


@login_required
def listing_edit(request, slug: str, pk: int):
    shop, listing = selectors.access_listing_for_edit(user=request.user, slug=slug, listing_id=pk)
    if request.method == "POST":
        form = ListingForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                with transaction.atomic():
                    listing = listing_services.listing_update(
                        listing=listing, actor=request.user, **_listing_fields(form.cleaned_data)
                    )
                    if form.cleaned_data.get("image"):
                        listing_services.listing_add_image(
                            listing=listing, actor=request.user, upload=form.cleaned_data["image"]
                        )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"“{listing.title}” has been saved.")
                return redirect("sellers:listing_edit", slug=shop.slug, pk=listing.pk)
    else:
        form = ListingForm(initial=_listing_form_initial(listing))
    return render(
        request,
        "sellers/listing_form.html",
        {"shop": shop, "form": form, "listing": listing, "images": list(listing.images.all())},
    )


@login_required
@require_POST
def listing_status(request, slug: str, pk: int):
    shop, listing = selectors.access_listing_for_edit(user=request.user, slug=slug, listing_id=pk)
    status = request.POST.get("status", "")
    try:
        listing = listing_services.listing_set_status(listing=listing, actor=request.user, status=status)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"“{listing.title}” is now {listing.get_status_display().lower()}.")
    return redirect(_back(request, shop))


@login_required
@require_POST
def listing_duplicate(request, slug: str, pk: int):
    shop, listing = selectors.access_listing_for_edit(user=request.user, slug=slug, listing_id=pk)
    copy = listing_services.listing_duplicate(listing=listing, actor=request.user)
    messages.success(request, f"A draft copy of “{listing.title}” has been made. Check it and put it on sale.")
    return redirect("sellers:listing_edit", slug=shop.slug, pk=copy.pk)


@login_required
def listing_delete(request, slug: str, pk: int):
    shop, listing = selectors.access_listing_for_edit(user=request.user, slug=slug, listing_id=pk)
    if request.method == "POST":
        title = listing.title
        listing_services.listing_delete(listing=listing, actor=request.user)
        messages.success(request, f"“{title}” has been deleted.")
        return redirect("sellers:dashboard", slug=shop.slug)
    return render(request, "sellers/listing_delete.html", {"shop": shop, "listing": listing})


@login_required
@require_POST
def listing_image_remove(request, slug: str, pk: int, image_id: int):
    shop, listing = selectors.access_listing_for_edit(user=request.user, slug=slug, listing_id=pk)
    try:
        listing_services.listing_remove_image(listing=listing, actor=request.user, image_id=image_id)
    except ValidationError as error:
        raise Http404("No such image.") from error
    messages.success(request, "The image has been removed.")
    return redirect("sellers:listing_edit", slug=shop.slug, pk=listing.pk)


def _back(request, shop) -> str:
    """Where to return after a small action: the page it came from, if it is this shop's dashboard."""
    dashboard_url = reverse("sellers:dashboard", kwargs={"slug": shop.slug})
    back = request.POST.get("next", "")
    if back.startswith(f"/shops/{shop.slug}/") and "//" not in back:
        return back
    return dashboard_url
