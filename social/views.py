"""The social pages: the feed (following, nearby, everyone), what I share, my activity,
follows and followers, and favourites. Thin: rules live in social.services and reads in
social.selectors; anything a viewer may not see answers 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.selectors import person_by_username
from catalog.selectors import access_listing_for_view

from . import recommendations, selectors, services
from .forms import FavouriteListForm, SharingForm, add_service_errors
from .models import ActivityKind

FOLLOW_PAGE_SIZE = 50


def _back(request, fallback: str):
    """Where a small form sends the person back to: `next` if it is one of our pages."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        return redirect(target)
    return redirect(fallback)


def _person(username: str) -> User:
    try:
        return person_by_username(username=username[:150])
    except User.DoesNotExist as missing:
        raise Http404("No such person.") from missing


def _cursor(request):
    try:
        return selectors.Cursor.decode(request.GET.get("before"))
    except ValueError as error:
        messages.error(request, f"{error} Showing the newest instead.")
        return None


def _error_text(error: ValidationError) -> str:
    return " ".join(message for messages_ in error.message_dict.values() for message in messages_)


# --- The feed -------------------------------------------------------------------------------------------


def _feed_context(request, *, view: str, page, **extra) -> dict:
    chosen = request.user.is_authenticated and selectors.has_chosen_sharing(user=request.user)
    return {"view": view, "page": page, "has_chosen_sharing": chosen, **extra}


@login_required
def feed(request):
    kind = request.GET.get("kind", "")
    kind = kind if kind in ActivityKind.values else ""
    page = selectors.following_feed(viewer=request.user, cursor=_cursor(request), kinds=[kind] if kind else None)
    context = _feed_context(request, view="following", page=page, kind=kind, kinds=ActivityKind.choices)
    return render(request, "social/feed.html", context)


@login_required
def nearby(request):
    within = request.GET.get("within", selectors.Nearby.COUNTRY)
    if within not in {selectors.Nearby.COUNTRY, selectors.Nearby.CITY}:
        within = selectors.Nearby.COUNTRY
    page = selectors.nearby_feed(viewer=request.user, within=within, cursor=_cursor(request))
    context = _feed_context(request, view="nearby", page=page, within=within, within_choices=selectors.Nearby.CHOICES)
    return render(request, "social/feed.html", context)


def everyone(request):
    page = selectors.everyone_feed(cursor=_cursor(request))
    context = _feed_context(request, view="everyone", page=page, trending=recommendations.trending())
    return render(request, "social/feed.html", context)


# --- What I share ------------------------------------------------------------------------------------------


def _sharing_page(request, *, form=None, status: int = 200):
    state = selectors.sharing_state(user=request.user)
    if form is None:
        initial = {
            "use_for_recommendations": state.use_for_recommendations,
            "wording_version": services.SHARING_WORDING_VERSION,
        }
        form = SharingForm(audiences=state.audiences, initial=initial)
    context = {"form": form, "state": state, "min_support": recommendations.MIN_SUPPORT}
    return render(request, "social/sharing.html", context, status=status)


@login_required
def sharing(request):
    if request.method != "POST":
        return _sharing_page(request)
    form = SharingForm(request.POST)
    if form.is_valid() and form.cleaned_data["wording_version"] != services.SHARING_WORDING_VERSION:
        # The explanation changed since the page was shown: the choice must rest on the current one.
        data = request.POST.copy()
        data["wording_version"] = services.SHARING_WORDING_VERSION
        form = SharingForm(data)
        form.is_valid()
        form.add_error(None, "The explanation above has changed since you opened this page: read it again, then save.")
    elif form.is_valid():
        try:
            services.sharing_choose(
                user=request.user,
                audiences=form.audiences(),
                use_for_recommendations=form.cleaned_data["use_for_recommendations"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Saved. Your choices apply to everything you did before, too.")
            return redirect("social:sharing")
    return _sharing_page(request, form=form, status=400)


@require_POST
@login_required
def sharing_stop(request):
    services.sharing_withdraw(user=request.user)
    messages.success(request, "You share nothing now: everything you did is seen by you alone.")
    return redirect("social:sharing")


@login_required
def own_activity(request):
    page = selectors.own_activity(user=request.user, cursor=_cursor(request))
    context = {"page": page, "has_chosen_sharing": selectors.has_chosen_sharing(user=request.user)}
    return render(request, "social/activity.html", context)


@require_POST
@login_required
def activity_withdraw(request, pk: int):
    if not services.activity_withdraw(actor=request.user, activity_id=pk):
        raise Http404("No such activity.")
    messages.success(request, "Withdrawn: nobody sees it any more.")
    return _back(request, reverse("social:activity"))


# --- Follows --------------------------------------------------------------------------------------------


@require_POST
@login_required
def follow_person(request, username: str):
    person = _person(username)
    try:
        services.follow_create(follower=request.user, person=person)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, f"You follow {person.public_name}.")
    return _back(request, person.get_absolute_url())


@require_POST
@login_required
def unfollow_person(request, username: str):
    person = _person(username)
    if services.follow_delete(follower=request.user, person=person):
        messages.success(request, f"You no longer follow {person.public_name}.")
    return _back(request, person.get_absolute_url())


@require_POST
@login_required
def follower_remove(request, username: str):
    follower = _person(username)
    if not services.follower_remove(person=request.user, follower=follower):
        raise Http404("This person does not follow you.")
    messages.success(request, f"{follower.public_name} no longer follows you.")
    return _back(request, reverse("social:followers", kwargs={"username": request.user.username}))


@require_POST
@login_required
def follow_shop(request, slug: str):
    shop = selectors.shop_by_slug(slug=slug)
    services.follow_create(follower=request.user, shop=shop)
    messages.success(request, f"You follow {shop.name}: its new listings come to your feed.")
    return _back(request, shop.get_absolute_url())


@require_POST
@login_required
def unfollow_shop(request, slug: str):
    shop = selectors.shop_by_slug(slug=slug)
    if services.follow_delete(follower=request.user, shop=shop):
        messages.success(request, f"You no longer follow {shop.name}.")
    return _back(request, shop.get_absolute_url())


def _follow_page(request, *, follows, title: str, owner=None, shop=None, showing: str):
    page = Paginator(follows, FOLLOW_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page_obj": page, "title": title, "person": owner, "shop": shop, "showing": showing}
    return render(request, "social/follows.html", context)


def followers(request, username: str):
    person = _person(username)
    follows = selectors.followers_of(viewer=request.user, person=person)
    return _follow_page(
        request, follows=follows, title=f"Following {person.public_name}", owner=person, showing="followers"
    )


def following(request, username: str):
    person = _person(username)
    follows = selectors.following_of(viewer=request.user, person=person)
    return _follow_page(
        request, follows=follows, title=f"Followed by {person.public_name}", owner=person, showing="following"
    )


def shop_followers(request, slug: str):
    shop = selectors.shop_by_slug(slug=slug)
    follows = selectors.followers_of(viewer=request.user, shop=shop)
    return _follow_page(request, follows=follows, title=f"Following {shop.name}", shop=shop, showing="followers")


# --- Favourites ---------------------------------------------------------------------------------------


def _lists_page(request, *, form=None, status: int = 200):
    lists = selectors.lists_of(owner=request.user, viewer=request.user)
    return render(
        request, "social/favourites.html", {"lists": lists, "form": form or FavouriteListForm()}, status=status
    )


@login_required
def favourites(request):
    if request.method != "POST":
        return _lists_page(request)
    form = FavouriteListForm(request.POST)
    if form.is_valid():
        try:
            created = services.favourite_list_create(owner=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Your list “{created.name}” is ready: save listings and shops to it.")
            return redirect(created.get_absolute_url())
    return _lists_page(request, form=form, status=400)


def favourite_list(request, pk: int):
    found = selectors.access_favourite_list(viewer=request.user, pk=pk)
    items = selectors.list_items(favourite_list=found, viewer=request.user)
    page = Paginator(items, FOLLOW_PAGE_SIZE).get_page(request.GET.get("page"))
    is_owner = request.user.is_authenticated and found.owner_id == request.user.pk
    return render(request, "social/favourite_list.html", {"list": found, "page_obj": page, "is_owner": is_owner})


@login_required
def favourite_list_edit(request, pk: int):
    found = selectors.access_own_list(user=request.user, pk=pk)
    if request.method == "POST":
        form = FavouriteListForm(request.POST)
        if form.is_valid():
            try:
                services.favourite_list_update(favourite_list=found, owner=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "The list is saved.")
                return redirect(found.get_absolute_url())
        return render(request, "social/favourite_list_edit.html", {"list": found, "form": form}, status=400)
    form = FavouriteListForm(initial={"name": found.name, "visibility": found.visibility})
    return render(request, "social/favourite_list_edit.html", {"list": found, "form": form})


@require_POST
@login_required
def favourite_list_delete(request, pk: int):
    found = selectors.access_own_list(user=request.user, pk=pk)
    services.favourite_list_delete(favourite_list=found, owner=request.user)
    messages.success(request, f"The list “{found.name}” is deleted.")
    return redirect("social:favourites")


def _chosen_list(request):
    chosen = request.POST.get("list", "")
    return selectors.access_own_list(user=request.user, pk=chosen) if chosen else None


@require_POST
@login_required
def favourite_listing(request, pk: int):
    listing = access_listing_for_view(user=request.user, pk=pk)
    try:
        favourite = services.favourite_add(owner=request.user, listing=listing, favourite_list=_chosen_list(request))
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, f"Saved to “{favourite.favourite_list.name}”.")
    return _back(request, listing.get_absolute_url())


@require_POST
@login_required
def favourite_shop(request, slug: str):
    shop = selectors.shop_by_slug(slug=slug)
    favourite = services.favourite_add(owner=request.user, shop=shop, favourite_list=_chosen_list(request))
    messages.success(request, f"{shop.name} is saved to “{favourite.favourite_list.name}”.")
    return _back(request, shop.get_absolute_url())


@require_POST
@login_required
def favourite_remove(request, pk: int):
    favourite = selectors.access_own_favourite(user=request.user, pk=pk)
    try:
        services.favourite_remove(owner=request.user, favourite=favourite)
    except PermissionDenied as refused:
        raise Http404("No such favourite.") from refused
    messages.success(request, f"Removed from “{favourite.favourite_list.name}”.")
    return _back(request, favourite.favourite_list.get_absolute_url())


def person_favourites(request, username: str):
    person = _person(username)
    lists = selectors.lists_of(owner=person, viewer=request.user)
    return render(request, "social/person_favourites.html", {"person": person, "lists": lists})


# --- Beside other apps' pages ---------------------------------------------------------------------------


def listing_social_context(request, *, listing) -> dict:
    """What the listing page shows of the social layer: recommendations with the everyone /
    people-I-follow switch, and the viewer's lists for the favourite button."""
    scope = recommendations.parse_scope(request.GET.get("recommend"), viewer=request.user)
    return {
        "recommendations": recommendations.recommendations_for(viewer=request.user, scope=scope, listing=listing),
        "favourite_choices": selectors.favourite_choices(viewer=request.user, listing=listing),
    }


def work_social_context(request, *, work) -> dict:
    scope = recommendations.parse_scope(request.GET.get("recommend"), viewer=request.user)
    return {"recommendations": recommendations.recommendations_for(viewer=request.user, scope=scope, work=work)}
