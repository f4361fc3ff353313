from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from catalog.tagging import person_tag_index
from social import selectors as social_selectors

from .forms import ApiTokenForm, ProfileForm
from .models import ApiToken, User
from .selectors import api_tokens_of, person_by_username
from .services import PROFILE_FIELDS, api_token_create, api_token_revoke, profile_update


def profile(request, username: str):
    try:
        person = person_by_username(username=username)
    except User.DoesNotExist as missing:
        raise Http404("No such person.") from missing
    # Their tags are their tagging activity: shown to the audience they chose for it.
    shares_tags = social_selectors.shares_with(person=person, viewer=request.user, subject="tagged")
    context = {
        "person": person,
        "person_tags": person_tag_index(person=person) if shares_tags else [],
        "shares_tags": shares_tags,
        # What they follow and did, and their lists, as far as they share them with this viewer.
        "follow_summary": social_selectors.person_follow_summary(person=person, viewer=request.user),
        "activity": social_selectors.person_activity(person=person, viewer=request.user),
        "lists": social_selectors.lists_of(owner=person, viewer=request.user),
    }
    return render(request, "accounts/profile.html", context)


@login_required
def profile_edit(request):
    # A separate instance, so that a refused form never alters request.user.
    editable = User.objects.get(pk=request.user.pk)
    if request.method == "POST":
        form = ProfileForm(request.POST, request.FILES, instance=editable)
        if form.is_valid():
            try:
                profile_update(
                    user=User.objects.get(pk=request.user.pk),
                    avatar=form.cleaned_data["avatar"],
                    remove_avatar=form.cleaned_data["remove_avatar"],
                    **{name: form.cleaned_data[name] for name in PROFILE_FIELDS},
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, "Your profile has been saved.")
                return redirect("accounts:profile_edit")
    else:
        form = ProfileForm(instance=editable)
    return render(request, "accounts/profile_edit.html", {"form": form, "person": editable})


@login_required
def api_tokens(request):
    """List the person's API tokens and make a new one; its secret is shown on this answer only."""
    new_token = None
    if request.method == "POST":
        form = ApiTokenForm(request.POST)
        if form.is_valid():
            try:
                new_token = api_token_create(user=request.user, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                form = ApiTokenForm()
    else:
        form = ApiTokenForm()
    context = {"form": form, "tokens": api_tokens_of(user=request.user), "new_token": new_token}
    response = render(request, "accounts/api_tokens.html", context)
    if new_token:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def api_token_revoke_view(request, token_id: int):
    try:
        token = api_token_revoke(user=request.user, token_id=token_id)
    except ApiToken.DoesNotExist as missing:
        raise Http404("No such token.") from missing
    messages.success(request, f"The token \u201c{token.name}\u201d was revoked: it no longer works.")
    return redirect("accounts:api_tokens")
