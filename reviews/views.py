"""The reviews pages: writing and editing a review or a rating from one's order, the review and
rating pages (votes, reports, the shop's reply, the moderation history and appeals), the lists
of a listing's and a shop's reviews, the seller dashboard's reviews and the feedback on buyers,
and the moderators' queue.

Every page finds what it shows through the selectors' access_* helpers (a 404 for anyone who
may not see it) and hands each change to one service; a refused change shows the page again,
with the message beside what was typed.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from catalog.selectors import access_listing_for_view
from orders.selectors import access_order_for_buyer, access_order_for_shop
from sellers.selectors import access_shop_for_edit, is_shop_member, shop_for_storefront
from sellers.views import add_service_errors

from . import selectors, services
from .forms import AppealForm, BuyerFeedbackForm, DecisionForm, FlagForm, RatingForm, ReplyForm, ReviewForm
from .models import Status

PAGE_SIZE = 20


def _back(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


def _page(request, items, size: int = PAGE_SIZE):
    return Paginator(items, size).get_page(request.GET.get("page"))


def _not_found_when_refused(call):
    """Run a service call; a PermissionDenied means the page was not for this person: a 404."""
    try:
        return call()
    except PermissionDenied:
        raise Http404("No such page.") from None


# --- Writing from one's order ---------------------------------------------------------------------------


@login_required
def review_write(request, order_pk: int, item_pk: int):
    order, item = selectors.access_order_item_for_review(user=request.user, order_id=order_pk, item_id=item_pk)
    review = selectors.review_of_item(item=item)
    initial = {"stars": review.stars, "title": review.title, "text": review.text} if review else None
    form = ReviewForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if review is None:
                review = services.review_create(author=request.user, order_item_id=item.pk, **data)
                done = (
                    "Thank you: your review is waiting for a moderator before it is published."
                    if review.status == Status.HELD
                    else "Thank you: your review is published."
                )
            else:
                _not_found_when_refused(lambda: services.review_update(review=review, author=request.user, **data))
                done = "Your review has been changed; the earlier version is kept in its history."
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, done)
            return redirect(order.get_absolute_url())
    return render(
        request,
        "reviews/review_form.html",
        {
            "order": order,
            "item": item,
            "review": review,
            "form": form,
            "has_shipped": selectors.has_shipped(order),
            "edit_refusal": selectors.edit_refusal(review) if review else "",
        },
        status=400 if form.errors else 200,
    )


@login_required
def rating_write(request, order_pk: int):
    order = access_order_for_buyer(user=request.user, order_id=order_pk)
    rating = selectors.rating_of_order(order=order)
    initial = None
    if rating is not None:
        initial = {name: getattr(rating, name) for name in (*services.RATING_FIELDS, "comment")}
    form = RatingForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if rating is None:
                rating = services.rating_create(author=request.user, order_id=order.pk, **data)
                done = (
                    f"Thank you: your rating of {order.shop_name} is shown once the shop has left its feedback on "
                    "you, or when the time to rate the order ends."
                )
                if rating.revealed_at is not None:
                    done = f"Thank you: your rating of {order.shop_name} and the shop's feedback on you are shown now."
            else:
                _not_found_when_refused(lambda: services.rating_update(rating=rating, author=request.user, **data))
                done = "Your rating has been changed."
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, done)
            return redirect(order.get_absolute_url())
    return render(
        request,
        "reviews/rating_form.html",
        {
            "order": order,
            "rating": rating,
            "form": form,
            "window_closes_at": selectors.feedback_window_closes_at(order),
            "window_is_open": selectors.feedback_window_is_open(order),
            "window_days": settings.REVIEWS_FEEDBACK_WINDOW.days,
            "edit_refusal": selectors.edit_refusal(rating) if rating else "",
            "has_shipped": selectors.has_shipped(order),
        },
        status=400 if form.errors else 200,
    )


# --- A review's or rating's own page ---------------------------------------------------------------------


def _subject_context(request, subject, **forms) -> dict:
    user = request.user
    is_shop_person = is_shop_member(user=user, shop=subject.shop)
    history = selectors.history_of(subject) if selectors.may_see_history(subject, user) else None
    latest = history.latest if history else None
    appeal_side = None
    if latest is not None and not hasattr(latest, "appeal_against"):
        appeal_side = selectors.appeal_side(decision=latest, user=user)
    is_author = user.is_authenticated and user.pk == subject.author_id
    context = {
        "subject": subject,
        "kind": subject.kind,
        "revisions": selectors.revisions_of(subject),
        "history": history,
        "latest_decision": latest,
        "appeal_side": appeal_side,
        "appeal_form": forms.get("appeal_form") or AppealForm(),
        "is_author": is_author,
        "is_shop_person": is_shop_person,
        "can_reply": is_shop_person and subject.is_public and not subject.has_reply,
        "reply_form": forms.get("reply_form") or ReplyForm(),
        "can_flag": user.is_authenticated and subject.is_public and not is_author,
        "flag_form": forms.get("flag_form") or FlagForm(),
        "hide_vote_button": not (user.is_authenticated and subject.is_public and not is_author and not is_shop_person),
        "is_moderator": selectors.can_moderate_reviews(user),
    }
    if subject.kind == "review":
        selectors.attach_viewer_votes([subject], user=user)
    return context


def _render_subject(request, subject, *, status: int = 200, **forms):
    template = "reviews/review_detail.html" if subject.kind == "review" else "reviews/rating_detail.html"
    return render(request, template, _subject_context(request, subject, **forms), status=status)


def review_detail(request, pk: int):
    return _render_subject(request, selectors.access_review(user=request.user, review_id=pk))


def rating_detail(request, pk: int):
    return _render_subject(request, selectors.access_rating(user=request.user, rating_id=pk))


@login_required
@require_POST
def review_vote(request, pk: int):
    review = selectors.access_review(user=request.user, review_id=pk)
    back = _back(request, review.get_absolute_url())
    try:
        if request.POST.get("action") == "remove":
            services.vote_remove(review=review, voter=request.user)
            messages.success(request, "Your vote has been taken back.")
        else:
            services.vote_add(review=review, voter=request.user)
            messages.success(request, "Thank you: you found this review helpful.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(back)


@login_required
@require_POST
def subject_flag(request, kind: str, pk: int):
    subject = selectors.access_subject(user=request.user, kind=kind, subject_id=pk)
    form = FlagForm(request.POST)
    if form.is_valid():
        try:
            services.flag_create(subject=subject, reporter=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Thank you: a moderator will look at it. The author is not told who reported it.")
            return redirect(subject.get_absolute_url())
    return _render_subject(request, subject, status=400, flag_form=form)


@login_required
@require_POST
def subject_reply(request, kind: str, pk: int):
    subject = selectors.access_subject(user=request.user, kind=kind, subject_id=pk)
    if not is_shop_member(user=request.user, shop=subject.shop):
        raise Http404("No such page.")
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            services.reply_create(subject=subject, actor=request.user, text=form.cleaned_data["text"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Your reply is published, signed with your name.")
            return redirect(_back(request, subject.get_absolute_url()))
    return _render_subject(request, subject, status=400, reply_form=form)


@login_required
@require_POST
def appeal_create(request, decision_pk: int):
    decision = selectors.access_decision(user=request.user, decision_id=decision_pk)
    subject = decision.subject
    form = AppealForm(request.POST)
    if form.is_valid():
        try:
            services.appeal_file(decision=decision, appellant=request.user, statement=form.cleaned_data["statement"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Your appeal has been sent: a different moderator will decide it.")
            return redirect(subject.get_absolute_url())
    return _render_subject(request, subject, status=400, appeal_form=form)


# --- Lists -----------------------------------------------------------------------------------------------


def listing_reviews(request, pk: int):
    listing = access_listing_for_view(user=request.user, pk=pk)
    sort = selectors.sort_or_default(request.GET.get("sort"))
    page = _page(request, selectors.listing_reviews(listing=listing, sort=sort))
    page.object_list = selectors.attach_viewer_votes(page.object_list, user=request.user)
    return render(
        request,
        "reviews/listing_reviews.html",
        {
            "listing": listing,
            "page": page,
            "sort": sort,
            "sorts": selectors.SORT_CHOICES,
            "tally": selectors.review_tally(listing=listing),
        },
    )


def shop_reviews(request, slug: str):
    shop = shop_for_storefront(slug=slug)
    sort = selectors.sort_or_default(request.GET.get("sort"))
    page = _page(request, selectors.shop_reviews(shop=shop, sort=sort))
    page.object_list = selectors.attach_viewer_votes(page.object_list, user=request.user)
    return render(
        request,
        "reviews/shop_reviews.html",
        {"shop": shop, "page": page, "sort": sort, "sorts": selectors.SORT_CHOICES, "showing": "reviews"},
    )


def shop_ratings(request, slug: str):
    shop = shop_for_storefront(slug=slug)
    page = _page(request, selectors.shop_ratings(shop=shop))
    return render(request, "reviews/shop_ratings.html", {"shop": shop, "page": page, "showing": "ratings"})


@login_required
def my_reviews(request):
    return render(
        request,
        "reviews/my_reviews.html",
        {
            "reviews": _page(request, selectors.reviews_by(user=request.user)),
            "ratings": list(selectors.ratings_by(user=request.user)[:PAGE_SIZE]),
        },
    )


# --- The seller dashboard --------------------------------------------------------------------------------


@login_required
def dashboard_reviews(request, slug: str):
    shop = access_shop_for_edit(user=request.user, slug=slug)
    awaiting = request.GET.get("show") == "awaiting"
    reviews = _page(request, selectors.shop_dashboard_reviews(shop=shop, awaiting_reply=awaiting))
    ratings = list(selectors.shop_dashboard_ratings(shop=shop, awaiting_reply=awaiting)[:PAGE_SIZE])
    return render(
        request,
        "reviews/dashboard_reviews.html",
        {
            "shop": shop,
            "reviews": reviews,
            "ratings": ratings,
            "awaiting": awaiting,
            "orders_awaiting_feedback": selectors.orders_awaiting_feedback(shop=shop),
        },
    )


@login_required
def buyer_feedback(request, slug: str, pk: int):
    shop, order = access_order_for_shop(user=request.user, slug=slug, order_id=pk)
    form = BuyerFeedbackForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            feedback = services.buyer_feedback_create(order=order, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                "Thank you: your feedback and the buyer's rating are shown now."
                if feedback.revealed_at
                else "Thank you: your feedback is shown once the buyer has rated you, or when the time to rate ends.",
            )
            return redirect(order.get_shop_url())
    return render(
        request,
        "reviews/buyer_feedback_form.html",
        {"shop": shop, "order": order, "form": form, "state": selectors.shop_order_feedback_state(order=order)},
        status=400 if form.errors else 200,
    )


# --- Moderation ------------------------------------------------------------------------------------------


def _require_moderator(request) -> None:
    # A 404, not a login page or a 403: the moderation pages do not exist for anyone else.
    if not selectors.can_moderate_reviews(request.user):
        raise Http404("No such page.")


def _queue_page(request, *, bound_key: str = "", bound_form=None, status: int = 200):
    queue = selectors.moderation_queue()
    for subject in [*queue.reviews, *queue.ratings]:
        key = f"{subject.kind}-{subject.pk}"
        subject.decision_form = bound_form if key == bound_key else DecisionForm(prefix=key)
    for appeal in queue.appeals:
        key = f"appeal-{appeal.pk}"
        appeal.decision_form = bound_form if key == bound_key else DecisionForm(prefix=key)
    return render(request, "reviews/moderation_queue.html", {"queue": queue}, status=status)


def moderation_queue(request):
    _require_moderator(request)
    return _queue_page(request)


@require_POST
def moderation_decide(request, kind: str, pk: int):
    _require_moderator(request)
    subject = selectors.access_subject_for_moderator(user=request.user, kind=kind, subject_id=pk)
    key = f"{kind}-{subject.pk}"
    form = DecisionForm(request.POST, prefix=key)
    if form.is_valid():
        try:
            decision = services.decision_make(subject=subject, moderator=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Decided: {decision.result_label}. The author and the shop have been told.")
            return redirect(_back(request, reverse("reviews:moderation")))
    return _queue_page(request, bound_key=key, bound_form=form, status=400)


@require_POST
def moderation_appeal_decide(request, pk: int):
    _require_moderator(request)
    appeal = selectors.access_appeal_for_moderator(user=request.user, appeal_id=pk)
    key = f"appeal-{appeal.pk}"
    form = DecisionForm(request.POST, prefix=key)
    if form.is_valid():
        try:
            decision = services.appeal_decide(appeal=appeal, moderator=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Appeal decided: {decision.result_label}. Both sides have been told.")
            return redirect(_back(request, reverse("reviews:moderation")))
    return _queue_page(request, bound_key=key, bound_form=form, status=400)
