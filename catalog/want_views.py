"""Want list pages: my wants (and writing one), a want, a person's public wants, and the
demand a shop could meet. Rules live in catalog.wantlists."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.selectors import person_by_username
from sellers.selectors import access_shop_for_edit

from . import wantlists
from .models import Work
from .tag_forms import add_service_errors
from .want_forms import WantForm, initial_for


def _list_page(request, *, form=None, status: int = 200):
    work = None
    if form is None:
        requested = request.GET.get("work", "")
        work = Work.objects.filter(pk=requested).first() if requested.isdigit() else None
        form = WantForm(initial={"work": work.pk} if work else None)
    elif form.data.get("work", "").isdigit():
        work = Work.objects.filter(pk=form.data["work"]).first()
    context = {"wants": wantlists.wants_of(user=request.user), "form": form, "work": work}
    return render(request, "catalog/wants/list.html", context, status=status)


@login_required
def want_list(request):
    if request.method != "POST":
        return _list_page(request)
    form = WantForm(request.POST)
    if form.is_valid():
        try:
            want = wantlists.want_create(user=request.user, **form.service_fields())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Your want is saved: you hear of it when a listing matches.")
            return redirect("wants:detail", pk=want.pk)
    return _list_page(request, form=form, status=400)


def want_detail(request, pk: int):
    want = wantlists.access_want(user=request.user, pk=pk)
    is_owner = request.user.is_authenticated and want.user_id == request.user.pk
    matches = wantlists.want_matches(want=want) if is_owner else []
    return render(request, "catalog/wants/detail.html", {"want": want, "is_owner": is_owner, "matches": matches})


@login_required
def want_edit(request, pk: int):
    want = wantlists.access_own_want(user=request.user, pk=pk)
    if request.method == "POST":
        form = WantForm(request.POST)
        if form.is_valid():
            fields = form.service_fields()
            fields["is_active"] = request.POST.get("is_active") == "on"
            try:
                wantlists.want_update(want=want, user=request.user, **fields)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Your want is saved.")
                return redirect("wants:detail", pk=want.pk)
        return render(request, "catalog/wants/edit.html", {"want": want, "form": form}, status=400)
    return render(request, "catalog/wants/edit.html", {"want": want, "form": WantForm(initial=initial_for(want))})


@require_POST
@login_required
def want_delete(request, pk: int):
    want = wantlists.access_own_want(user=request.user, pk=pk)
    wantlists.want_delete(want=want, user=request.user)
    messages.success(request, "Your want is deleted.")
    return redirect("wants:list")


def person_wants(request, username: str):
    try:
        person = person_by_username(username=username[:150])
    except User.DoesNotExist as missing:
        raise Http404("No such person.") from missing
    wants = wantlists.public_wants_of(person=person)
    return render(request, "catalog/wants/person.html", {"person": person, "wants": wants})


def shop_demand(request, slug: str):
    shop = access_shop_for_edit(user=request.user, slug=slug)
    return render(request, "catalog/wants/demand.html", {"shop": shop, "demand": wantlists.shop_demand(shop=shop)})
