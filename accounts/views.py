from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render

from catalog.tagging import person_tag_index
from social import selectors as social_selectors

from .forms import ProfileForm
from .models import User
from .selectors import person_by_username
from .services import PROFILE_FIELDS, profile_update


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
