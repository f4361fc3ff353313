from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from catalog.tagging import person_tag_index
from social import selectors as social_selectors

from . import imports, selectors, services
from .forms import AccountDeleteForm, DataImportForm, ProfileForm
from .models import DataExport, User
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


# --- Privacy -----------------------------------------------------------------------------------


@login_required
def privacy(request):
    context = {
        "held": selectors.privacy_overview(user=request.user),
        "consents": selectors.consent_states(user=request.user),
        "exports": selectors.exports_of(user=request.user),
        "access_log": selectors.access_log(user=request.user, limit=50),
        "retention": selectors.retention_words(),
    }
    return render(request, "accounts/privacy.html", context)


@login_required
def privacy_consents(request):
    if request.method == "POST":
        purpose = request.POST.get("purpose", "")
        is_given = request.POST.get("is_given") == "1"
        try:
            services.consent_set(user=request.user, purpose=purpose, is_given=is_given)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, "Saved: it applies from now on." if is_given else "Withdrawn, from this moment.")
            return redirect("accounts:privacy_consents")
    context = {
        "consents": selectors.consent_states(user=request.user),
        "history": selectors.consent_history(user=request.user),
        "wording_version": services.CONSENT_WORDING_VERSION,
    }
    return render(request, "accounts/privacy_consents.html", context, status=400 if request.method == "POST" else 200)


@require_POST
@login_required
def export_request(request):
    services.export_request(user=request.user)
    messages.success(request, "Your export is being prepared: you will be notified when it is ready.")
    return redirect("accounts:privacy")


@login_required
def export_download(request, pk: int):
    try:
        export = selectors.access_export(user=request.user, export_id=pk)
    except DataExport.DoesNotExist as missing:
        raise Http404("No such export.") from missing
    services.export_downloaded(export=export)
    response = FileResponse(
        export.file.open("rb"),
        as_attachment=True,
        filename=export.file.name.rsplit("/", 1)[-1],
        content_type="application/zip",
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def account_delete(request):
    blockers = services.account_deletion_blockers(user=request.user)
    form = AccountDeleteForm(request.POST or None, user=request.user)
    if request.method == "POST" and not blockers and form.is_valid():
        try:
            services.account_delete(user=request.user, delete_reviews=form.cleaned_data["delete_reviews"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            logout(request)
            messages.success(request, "Your account has been deleted. Thank you for having been part of Plural.")
            return redirect("home")
    context = {
        "form": form,
        "blockers": blockers,
        "held": selectors.privacy_overview(user=request.user),
    }
    return render(request, "accounts/account_delete.html", context, status=400 if request.method == "POST" else 200)


@login_required
def data_import(request):
    form = DataImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = imports.import_archive(
                user=request.user, archive=form.cleaned_data["archive"], include_shop=form.cleaned_data["include_shop"]
            )
        except ValidationError as error:
            form.add_error("archive", error)
        else:
            messages.success(request, result.summary())
            return redirect("accounts:privacy")
    return render(request, "accounts/data_import.html", {"form": form}, status=400 if request.method == "POST" else 200)


def earned_elsewhere(request, slug: str):
    """A shop's reviews from the Plural site it came from: history, shown apart and never counted."""
    from sellers.selectors import shop_for_storefront

    shop = shop_for_storefront(slug=slug)
    entries = selectors.earned_elsewhere_of(shop=shop)
    return render(request, "accounts/earned_elsewhere.html", {"shop": shop, "entries": entries})
