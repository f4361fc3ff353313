from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import services
from .kinds import EmailMode
from .models import Notification
from .selectors import notifications_for, preferences_for

PAGE_SIZE = 30


@login_required
def centre(request):
    unread_only = request.GET.get("show") == "unread"
    page = Paginator(notifications_for(user=request.user, unread_only=unread_only), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "notifications/centre.html", {"page": page, "unread_only": unread_only})


@login_required
@require_POST
def open_notification(request, pk: int):
    """Mark a notification read and follow it."""
    try:
        notification = services.mark_read(user=request.user, notification_id=pk)
    except Notification.DoesNotExist:
        raise Http404("No such notification.") from None
    target = notification.url
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("notifications:centre")


@login_required
@require_POST
def read_all(request):
    changed = services.mark_all_read(user=request.user)
    messages.success(request, f"Marked {changed} notification{'s' if changed != 1 else ''} read.")
    return redirect("notifications:centre")


@login_required
def preferences(request):
    current = preferences_for(user=request.user)
    if request.method == "POST":
        choices = {
            kind: {"in_app": request.POST.get(f"{kind}-in_app") == "on", "email": request.POST.get(f"{kind}-email", "")}
            for kind in current
        }
        try:
            services.preferences_update(user=request.user, choices=choices)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, "Your notification choices have been saved.")
            return redirect("notifications:preferences")
    return render(
        request,
        "notifications/preferences.html",
        {"choices": current.values(), "email_modes": EmailMode.CHOICES},
    )


@csrf_exempt  # mail clients post RFC 8058 one-click unsubscribes without a form; the signed token is the proof
def unsubscribe(request, token: str):
    context = {"token": token}
    if request.method == "POST":
        try:
            person, kind = services.unsubscribe(token=token)
        except ValidationError as error:
            context["error"] = error.messages[0]
            return render(request, "notifications/unsubscribe.html", context, status=400)
        context.update(done=True, kind=kind, person=person)
    return render(request, "notifications/unsubscribe.html", context)
