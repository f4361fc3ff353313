"""The folksonomy's pages: tag pages, the cloud, followed tags, tagging a listing and moderation."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.selectors import person_by_username
from social import selectors as social_selectors

from . import selectors, tagging
from .counters import CountedPaginator
from .tag_forms import TagApplyForm, TagHideForm, TagMergeForm, TagUnhideForm, add_service_errors
from .views import render_listing_page

TAG_PAGE_SIZE = 24
PEOPLE_TAGGED_COUNT = 12


def _back(request, fallback: str):
    """Where a small form sends the person back to: `next` if it is one of our pages."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        return redirect(target)
    return redirect(fallback)


def _listing_page(request, page_number, listings, *, count: int | None = None):
    """A page of listing cards; `count` is the number of listings when it is known already."""
    if count is None:
        paginator = Paginator(listings, TAG_PAGE_SIZE)
    else:
        paginator = CountedPaginator(listings, TAG_PAGE_SIZE, count=count)
    page = paginator.get_page(page_number)
    page.object_list = selectors.attach_card_tags(list(page.object_list))
    return page


# --- Browsing --------------------------------------------------------------------------------------


def tag_cloud(request):
    query = request.GET.get("q", "").strip()[:100]
    tags = tagging.tag_search(query=query) if query else tagging.tag_cloud()
    return render(request, "catalog/tags/cloud.html", {"tags": tags, "tag_query": query})


def tag_detail(request, slug: str):
    tag = tagging.access_tag(user=request.user, slug=slug)
    if tag.merged_into_id:
        target = tag.merged_into.get_absolute_url()
        return redirect(f"{target}?{request.GET.urlencode()}" if request.GET else target)
    tagged_by = None
    if request.GET.get("by"):
        try:
            tagged_by = person_by_username(username=request.GET["by"][:150])
        except User.DoesNotExist as missing:
            raise Http404("No such person.") from missing
        # What one person tagged is their tagging activity: for the audience they chose only.
        if not social_selectors.shares_with(person=tagged_by, viewer=request.user, subject="tagged"):
            raise Http404("No such person.")
    page = tagging.tag_page(tag=tag, viewer=request.user, tagged_by=tagged_by)
    # Everyone's listings are counted by the maintained counts; one person's few are counted live.
    listing_page = _listing_page(
        request,
        request.GET.get("page"),
        tagging.tag_listings(tag=tag, tagged_by=tagged_by),
        count=None if tagged_by else tagging.tag_listing_count(tag=tag),
    )
    context = {"page": page, "tag": tag, "listing_page": listing_page, "by": tagged_by.username if tagged_by else ""}
    if page.can_moderate:
        context |= {
            "hide_form": TagHideForm(initial={"tag": tag.name}),
            "merge_form": TagMergeForm(initial={"tag": tag.name}),
        }
    return render(request, "catalog/tags/detail.html", context)


@login_required
def following(request):
    listing_page = _listing_page(request, request.GET.get("page"), tagging.followed_tag_listings(user=request.user))
    context = {
        "followed": tagging.followed_tags(user=request.user),
        "listing_page": listing_page,
        # What the people one follows tagged, as far as each shares their tagging.
        "people_tagged": social_selectors.following_feed(
            viewer=request.user, kinds=["tagged"], size=PEOPLE_TAGGED_COUNT
        ),
    }
    return render(request, "catalog/tags/following.html", context)


@require_POST
@login_required
def follow(request, slug: str):
    tag = tagging.access_tag(user=request.user, slug=slug)
    try:
        main = tagging.tag_follow(user=request.user, tag=tag).tag
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _back(request, tag.get_absolute_url())
    messages.success(request, f"You follow “{main.name}”: new listings carrying it come to your followed tags.")
    return _back(request, main.get_absolute_url())


@require_POST
@login_required
def unfollow(request, slug: str):
    tag = tagging.access_tag(user=request.user, slug=slug)
    if tagging.tag_unfollow(user=request.user, tag=tag):
        messages.success(request, f"You no longer follow “{(tag.merged_into or tag).name}”.")
    return _back(request, (tag.merged_into or tag).get_absolute_url())


# --- Tagging a listing ----------------------------------------------------------------------------


@require_POST
@login_required
def apply(request, pk: int):
    listing = selectors.access_listing_for_view(user=request.user, pk=pk)
    form = TagApplyForm(request.POST)
    if form.is_valid():
        try:
            application = tagging.tag_apply(listing=listing, user=request.user, name=form.cleaned_data["name"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Tagged “{application.tag.name}”.")
            return redirect(f"{listing.get_absolute_url()}#tags")
    return render_listing_page(request, listing, tag_form=form, status=400)


@require_POST
@login_required
def remove(request, pk: int, slug: str):
    listing = selectors.access_listing_for_view(user=request.user, pk=pk)
    if not tagging.tag_remove(listing=listing, user=request.user, slug=slug):
        raise Http404("You have not tagged this listing so.")
    messages.success(request, "Your tag was removed.")
    return redirect(f"{listing.get_absolute_url()}#tags")


# --- Moderation -------------------------------------------------------------------------------------


def _require_moderator(request) -> None:
    # A 404, not a login page or a 403: the moderation pages do not exist for anyone else.
    if not tagging.can_moderate_tags(request.user):
        raise Http404("No such page.")


def _moderation_page(request, *, forms=None, status=200):
    context = {
        "merge_form": TagMergeForm(),
        "hide_form": TagHideForm(),
        "hidden_tags": tagging.hidden_tags(),
        "synonyms": tagging.merged_synonyms(),
        **(forms or {}),
    }
    return render(request, "catalog/tags/moderation.html", context, status=status)


def moderation(request):
    _require_moderator(request)
    return _moderation_page(request)


def _moderate(request, form_class, form_name: str, act):
    _require_moderator(request)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            message = act(form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, message)
            return _back(request, reverse("tags:moderation"))
    return _moderation_page(request, forms={form_name: form}, status=400)


@require_POST
def merge(request):
    def act(data):
        main = tagging.tag_merge(synonym=data["tag"], into=data["into"], actor=request.user)
        return f"“{data['tag'].name}” now leads to “{main.name}”."

    return _moderate(request, TagMergeForm, "merge_form", act)


@require_POST
def hide(request):
    def act(data):
        tag = tagging.tag_hide(tag=data["tag"], actor=request.user, reason=data["reason"])
        return f"“{tag.name}” is hidden."

    return _moderate(request, TagHideForm, "hide_form", act)


@require_POST
def unhide(request):
    def act(data):
        tag = tagging.tag_unhide(tag=data["tag"], actor=request.user)
        return f"“{tag.name}” is shown again."

    return _moderate(request, TagUnhideForm, "unhide_form", act)
