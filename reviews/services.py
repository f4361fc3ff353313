"""Every write of reviews and ratings: writing and editing them, the shops' replies and their
feedback on buyers, the double-blind reveal, helpful votes, reports, moderators' decisions and
appeals, and the defences against gaming them.

Each function validates first and raises ValidationError (field -> messages) having changed
nothing, then writes in one transaction, notifications included. Pages and the API find what a
person may see with the selectors' access_* helpers first (a 404 for everyone else); the
services check the rules again, so that no caller can skip them.

Figures: whatever changes whether a review or rating counts (publication, moderation, the
reveal, an edit of its stars) goes through `_change`, which adds it to or takes it from the
aggregates in the same transaction. The shop's summary row is locked (select_for_update) first:
that serialises the writes about one shop, which is also what makes the burst check see every
earlier review of the shop.
"""

import datetime
import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from marketplace.markdown import render_markdown
from notifications.services import notify
from orders.models import Order, OrderItem
from orders.selectors import people_of_shop
from sellers.selectors import is_shop_member
from social.models import ActivityKind
from social.services import activities_remove_for, activity_record

from .models import (
    MAX_COMMENT_LENGTH,
    MAX_FEEDBACK_LENGTH,
    MAX_NOTE_LENGTH,
    MAX_REASON_LENGTH,
    MAX_REPLY_LENGTH,
    MAX_REVIEW_LENGTH,
    MAX_STATEMENT_LENGTH,
    MAX_TITLE_LENGTH,
    TAKEN_DOWN,
    Appeal,
    BuyerFeedback,
    Flag,
    FlagReason,
    HelpfulVote,
    ModerationDecision,
    Review,
    ReviewTally,
    Revision,
    SellerRating,
    ShopRatingMonth,
    ShopRatingSummary,
    Status,
)
from .selectors import (
    appeal_side,
    can_moderate_reviews,
    edit_refusal,
    feedback_window_closes_at,
    feedback_window_is_open,
    has_shipped,
    is_visible_to,
    latest_decision,
)

HOUR = datetime.timedelta(hours=1)
THOUSANDTH = Decimal("0.001")
OUTCOME_STATUS = {
    ModerationDecision.Outcome.KEEP: Status.PUBLISHED,
    ModerationDecision.Outcome.HIDE: Status.HIDDEN,
    ModerationDecision.Outcome.REMOVE: Status.REMOVED,
}
RATING_FIELDS = ("overall", "item_as_described", "communication", "shipping_speed")
RATING_LABELS = {
    "overall": "overall",
    "item_as_described": "item as described",
    "communication": "communication",
    "shipping_speed": "shipping speed",
}

# Markup is refused rather than silently dropped, so that the author knows what readers will see.
# Markdown's own autolinks (<https://…>, <someone@example.org>) are fine.
_AUTOLINK = re.compile(r"<(?:https?://|mailto:)[^<>\s]*>|<[^<>\s@]+@[^<>\s@]+\.[^<>\s@]+>")
_TAG = re.compile(r"<\s*/?\s*[a-zA-Z!?][^>]*>")
_LINK_TARGETS = re.compile(r"\]\(\s*<?([^)\s>]*)|^\s*\[[^\]]+\]:\s*<?(\S+)", re.MULTILINE)
_SAFE_SCHEMES = ("http:", "https:", "mailto:")
MARKUP_MESSAGE = "Write in plain text or markdown: HTML such as <script> and links other than http(s) are not allowed."


def contains_markup(text: str) -> bool:
    """Whether `text` carries HTML tags, or links to anything but http(s) and mailto."""
    if _TAG.search(_AUTOLINK.sub("", text)):
        return True
    for match in _LINK_TARGETS.finditer(text):
        target = (match.group(1) or match.group(2) or "").strip().lower()
        scheme = target.split("/", 1)[0]
        if ":" in scheme and not target.startswith(_SAFE_SCHEMES):
            return True
    return False


# --- Validation helpers ------------------------------------------------------------------------------


def _text(errors: dict, field: str, value, *, limit: int, required: str = "") -> str:
    text = str(value or "").replace("\r\n", "\n").strip()
    if not text and required:
        errors[field] = [required]
    elif len(text) > limit:
        errors[field] = [f"This can be at most {limit:,} characters (it has {len(text):,})."]
    elif contains_markup(text):
        errors[field] = [MARKUP_MESSAGE]
    return text


def _stars(errors: dict, field: str, value, *, label: str = "") -> int:
    try:
        if isinstance(value, bool):
            raise ValueError
        stars = int(str(value).strip())
    except (TypeError, ValueError):
        stars = 0
    if not 1 <= stars <= 5:
        errors[field] = [f"Choose from 1 to 5 stars{' for ' + label if label else ''}."]
    return stars


def _signed_in(user) -> None:
    if user is None or not user.is_authenticated:
        raise PermissionDenied("Sign in first.")


def _refuse(field: str, message: str):
    raise ValidationError({field: [message]})


def _date(moment: datetime.datetime) -> str:
    return f"{timezone.localtime(moment):%-d %B %Y}"


def _check_rate(*, count: int, limit: int, message: str, field: str) -> None:
    if count >= limit:
        _refuse(field, message)


def _writes_in_last_hour(user, now) -> int:
    since = now - HOUR
    return (
        Review.objects.filter(author_id=user.pk, created_at__gte=since).count()
        + SellerRating.objects.filter(author_id=user.pk, created_at__gte=since).count()
    )


def _check_write_rate(user, now, field: str) -> None:
    limit = settings.REVIEWS_WRITES_PER_HOUR
    _check_rate(
        count=_writes_in_last_hour(user, now),
        limit=limit,
        field=field,
        message=f"You have written {limit} reviews and ratings in the last hour: please wait a while before "
        "writing more.",
    )


# --- Aggregates --------------------------------------------------------------------------------------


def _locked_summary(shop_id: int) -> ShopRatingSummary:
    """The shop's summary row, made on first use, locked until the transaction ends."""
    summary = ShopRatingSummary.objects.select_for_update().filter(shop_id=shop_id).first()
    if summary is None:
        try:
            with transaction.atomic():
                ShopRatingSummary.objects.create(shop_id=shop_id)
        except IntegrityError:  # another transaction made it first: use theirs
            pass
        summary = ShopRatingSummary.objects.select_for_update().get(shop_id=shop_id)
    return summary


def damped_score(*, total: int, count: int):
    """The Bayesian average: as if every shop also had REVIEWS_SCORE_PRIOR_WEIGHT ratings of
    REVIEWS_SCORE_PRIOR_MEAN, so that the score of a shop with few ratings stays near the mean."""
    weight = Decimal(settings.REVIEWS_SCORE_PRIOR_WEIGHT)
    mean = Decimal(settings.REVIEWS_SCORE_PRIOR_MEAN)
    return ((weight * mean + total) / (weight + count)).quantize(THOUSANDTH)


def _month(moment: datetime.datetime) -> datetime.date:
    return timezone.localdate(moment).replace(day=1)


def _counted_values(subject) -> tuple:
    if isinstance(subject, Review):
        return (subject.stars,)
    return tuple(getattr(subject, name) for name in RATING_FIELDS)


def _tally_review(review: Review, values: tuple, sign: int) -> None:
    (stars,) = values
    changes = {"review_count": F("review_count") + sign, "star_sum": F("star_sum") + sign * stars}
    changes[f"star_{stars}"] = F(f"star_{stars}") + sign
    for lookup in ({"listing_id": review.listing_id}, {"work_id": review.work_id}):
        if next(iter(lookup.values())) is None:
            continue
        tally, _ = ReviewTally.objects.get_or_create(**lookup)
        ReviewTally.objects.filter(pk=tally.pk).update(**changes)
    summary = _locked_summary(review.shop_id)
    summary.review_count += sign
    summary.review_sum += sign * stars
    summary.save(update_fields=["review_count", "review_sum", "updated_at"])


def _tally_rating(rating: SellerRating, values: tuple, sign: int) -> None:
    overall, described, communication, shipping = values
    summary = _locked_summary(rating.shop_id)
    summary.rating_count += sign
    summary.rating_sum += sign * overall
    setattr(summary, f"star_{overall}", getattr(summary, f"star_{overall}") + sign)
    summary.described_sum += sign * described
    summary.communication_sum += sign * communication
    summary.shipping_sum += sign * shipping
    summary.score = damped_score(total=summary.rating_sum, count=summary.rating_count)
    summary.save()
    month, _ = ShopRatingMonth.objects.get_or_create(shop_id=rating.shop_id, month=_month(rating.created_at))
    ShopRatingMonth.objects.filter(pk=month.pk).update(
        rating_count=F("rating_count") + sign,
        rating_sum=F("rating_sum") + sign * overall,
        described_sum=F("described_sum") + sign * described,
        communication_sum=F("communication_sum") + sign * communication,
        shipping_sum=F("shipping_sum") + sign * shipping,
        **{f"star_{overall}": F(f"star_{overall}") + sign},
    )


def _should_count(subject) -> bool:
    if isinstance(subject, Review):
        return subject.status == Status.PUBLISHED
    return subject.status == Status.PUBLISHED and subject.revealed_at is not None and subject.counts_towards_score


def _transparency(shop_id: int, previous: str | None, current: str) -> None:
    """Keep the storefront's counts of what was held and what moderators took down."""
    held = current == Status.HELD and previous != Status.HELD
    taken_down = (current in TAKEN_DOWN) - (previous in TAKEN_DOWN)
    if not held and not taken_down:
        return
    summary = _locked_summary(shop_id)
    summary.held_count += int(held)
    summary.taken_down_count += taken_down
    summary.save(update_fields=["held_count", "taken_down_count", "updated_at"])


def _change(subject, *, fields: dict, previous_status: str | None = "") -> None:
    """Apply `fields` to a review or rating and save them, moving its figures in or out of the
    aggregates as its being counted changes. `previous_status` None: it was just created."""
    was_counted = subject.is_counted
    old_values = _counted_values(subject)
    before = subject.status if previous_status == "" else previous_status
    for name, value in fields.items():
        setattr(subject, name, value)
    wanted = _should_count(subject)
    new_values = _counted_values(subject)
    if not (was_counted and wanted and old_values == new_values):
        tally = _tally_review if isinstance(subject, Review) else _tally_rating
        if was_counted:
            tally(subject, old_values, -1)
        if wanted:
            tally(subject, new_values, +1)
    subject.is_counted = wanted
    _transparency(subject.shop_id, before, subject.status)
    subject.save(update_fields=[*fields, "is_counted"])
    if isinstance(subject, Review):
        _share_as_activity(subject, before=before)


def _share_as_activity(review: Review, *, before: str | None) -> None:
    """A published review is something its author did, shown to the audience they chose for
    their reviews; held, hidden or removed, it is not."""
    if review.status == Status.PUBLISHED and before != Status.PUBLISHED:
        activity_record(
            actor=review.author, kind=ActivityKind.REVIEWED, target=review, listing=review.listing, shop=review.shop
        )
    elif review.status != Status.PUBLISHED and before == Status.PUBLISHED:
        activities_remove_for(target=review)


# --- Defences against gaming ----------------------------------------------------------------------------


def _suspicious_authors(*, author_ids: set[int], shop_id: int, now) -> set[int]:
    """Which of these authors are new accounts, or have never reviewed or rated another shop."""
    from accounts.models import User

    if not author_ids:
        return set()
    new = set(
        User.objects.filter(pk__in=author_ids, date_joined__gt=now - settings.REVIEWS_NEW_ACCOUNT_AGE).values_list(
            "pk", flat=True
        )
    )
    elsewhere = set(
        Review.objects.filter(author_id__in=author_ids).exclude(shop_id=shop_id).values_list("author_id", flat=True)
    ) | set(
        SellerRating.objects.filter(author_id__in=author_ids)
        .exclude(shop_id=shop_id)
        .values_list("author_id", flat=True)
    )
    return new | (author_ids - elsewhere)


def _burst_hold(*, author, shop_id: int, now) -> str:
    """Whether what `author` is writing about the shop belongs to a burst, and if so hold what
    the other suspicious authors published about it in the window too; returns the reason held
    ("" when not). Expects the shop's summary row locked."""
    since = now - settings.REVIEWS_BURST_WINDOW
    authors = {author.pk}
    authors |= set(Review.objects.filter(shop_id=shop_id, created_at__gte=since).values_list("author_id", flat=True))
    authors |= set(
        SellerRating.objects.filter(shop_id=shop_id, created_at__gte=since).values_list("author_id", flat=True)
    )
    suspicious = _suspicious_authors(author_ids=authors, shop_id=shop_id, now=now)
    if author.pk not in suspicious or len(suspicious) < settings.REVIEWS_BURST_AUTHORS:
        return ""
    reason = (
        f"Held automatically: {len(suspicious)} new or single-shop accounts wrote about this shop within "
        f"{int(settings.REVIEWS_BURST_WINDOW.total_seconds() // 3600)} hours."
    )
    for model in (Review, SellerRating):
        earlier = (
            model.objects.select_for_update()
            .filter(shop_id=shop_id, created_at__gte=since, author_id__in=suspicious, status=Status.PUBLISHED)
            .exclude(decisions__isnull=False)  # a moderator already looked at these
        )
        for subject in earlier:
            _change(subject, fields={"status": Status.HELD, "held_reason": reason})
    return reason


def _refuse_shop_people(user, shop, *, field: str, doing: str) -> None:
    """Nobody reviews or rates a shop they are one of the people of."""
    if user.pk == shop.owner_id or is_shop_member(user=user, shop=shop):
        _refuse(field, f"You are one of the people of {shop.name}: you cannot {doing} your own shop.")


# --- Notifications -------------------------------------------------------------------------------------


def _tell_shop(shop, *, kind: str, actor=None, target=None, context: dict) -> None:
    for person in people_of_shop(shop=shop):
        notify(recipient=person, kind=kind, actor=actor, target=target, context=dict(context))


def _tell_shop_of_publication(subject) -> None:
    if isinstance(subject, Review):
        _tell_shop(
            subject.shop,
            kind="review.received",
            actor=subject.author,
            target=subject,
            context={"subject": subject.item_title, "body": f"{subject.stars} of 5 stars: {subject.title}"},
        )


# --- Listing reviews -------------------------------------------------------------------------------------


def _review_fields(*, stars, title, text) -> dict:
    errors: dict = {}
    cleaned = {
        "stars": _stars(errors, "stars", stars),
        "title": _text(errors, "title", title, limit=MAX_TITLE_LENGTH, required="Give your review a title."),
        "text": _text(errors, "text", text, limit=MAX_REVIEW_LENGTH, required="Write what you thought of it."),
    }
    if errors:
        raise ValidationError(errors)
    return cleaned


def review_create(*, author, order_item_id, stars, title, text, now: datetime.datetime | None = None) -> Review:
    """A verified buyer reviews one item of one of their orders, once the shop shipped it: one
    review per item, never of one's own shop, within the hourly limit. Published at once, or
    held for a moderator when it is part of a burst (see _burst_hold); the shop is told when
    it is published."""
    _signed_in(author)
    now = now or timezone.now()
    item = (
        OrderItem.objects.select_related("order__shop", "listing")
        .filter(pk=int(order_item_id) if str(order_item_id).isdigit() else 0, order__buyer_id=author.pk)
        .first()
    )
    if item is None:
        _refuse("order_item", "You can review only what you have bought: this is not an item of your orders.")
    order = item.order
    if not has_shipped(order):
        _refuse("order_item", f"You can review it once {order.shop_name} has shipped it.")
    _refuse_shop_people(author, order.shop, field="order_item", doing="review")
    if Review.objects.filter(order_item_id=item.pk).exists():
        _refuse("order_item", "You have already reviewed this item: edit your review instead.")
    _check_write_rate(author, now, "order_item")
    cleaned = _review_fields(stars=stars, title=title, text=text)
    try:
        with transaction.atomic():
            _locked_summary(order.shop_id)
            held_reason = _burst_hold(author=author, shop_id=order.shop_id, now=now)
            review = Review.objects.create(
                order_item=item,
                order=order,
                author=author,
                shop=order.shop,
                listing=item.listing,
                work_id=item.listing.work_id if item.listing else None,
                item_title=item.title,
                text_html=render_markdown(cleaned["text"]),
                status=Status.HELD if held_reason else Status.PUBLISHED,
                held_reason=held_reason,
                created_at=now,
                editable_until=now + settings.REVIEWS_EDIT_WINDOW,
                **cleaned,
            )
            _change(review, fields={}, previous_status=None)
            if review.status == Status.PUBLISHED:
                _tell_shop_of_publication(review)
    except IntegrityError:  # the same item reviewed twice at once: the first one stands
        _refuse("order_item", "You have already reviewed this item: edit your review instead.")
    return review


def _check_editable(subject, *, author, now) -> None:
    if author is None or author.pk != subject.author_id:
        raise PermissionDenied(f"Only its author can change this {subject.kind}.")
    refusal = edit_refusal(subject, now)
    if refusal:
        _refuse("non_field_errors", refusal)


def _lock(subject):
    return type(subject).objects.select_for_update(of=("self",)).select_related("shop").get(pk=subject.pk)


def review_update(*, review: Review, author, stars, title, text, now: datetime.datetime | None = None) -> Review:
    """The author edits their review within REVIEWS_EDIT_WINDOW, until the shop replies; the
    version replaced is kept in its history. An unchanged review is left as it is."""
    now = now or timezone.now()
    _check_editable(review, author=author, now=now)
    cleaned = _review_fields(stars=stars, title=title, text=text)
    with transaction.atomic():
        _locked_summary(review.shop_id)
        current = _lock(review)
        _check_editable(current, author=author, now=now)
        before = {"stars": current.stars, "title": current.title, "text": current.text}
        if before == cleaned:
            return current
        Revision.objects.create(
            review=current, content=before, written_at=current.edited_at or current.created_at, replaced_at=now
        )
        _change(current, fields={**cleaned, "text_html": render_markdown(cleaned["text"]), "edited_at": now})
    return current


# --- Seller ratings ------------------------------------------------------------------------------------------


def _rating_fields(*, overall, item_as_described, communication, shipping_speed, comment) -> dict:
    errors: dict = {}
    values = {
        "overall": overall,
        "item_as_described": item_as_described,
        "communication": communication,
        "shipping_speed": shipping_speed,
    }
    cleaned = {name: _stars(errors, name, value, label=RATING_LABELS[name]) for name, value in values.items()}
    cleaned["comment"] = _text(errors, "comment", comment, limit=MAX_COMMENT_LENGTH)
    if errors:
        raise ValidationError(errors)
    return cleaned


def _lock_order(order_id: int) -> Order:
    return Order.objects.select_for_update(of=("self",)).select_related("shop", "buyer").get(pk=order_id)


def rating_create(
    *,
    author,
    order_id,
    overall,
    item_as_described,
    communication,
    shipping_speed,
    comment: str = "",
    now: datetime.datetime | None = None,
) -> SellerRating:
    """The buyer rates the shop for one of their orders once it shipped, while the window is
    open: once per order, never their own shop. It stays unseen until the shop has left its
    feedback on the buyer or the window closes (the reveal); a repeat buyer's ratings of the
    shop count towards its score at most once a week; bursts are held as for reviews."""
    _signed_in(author)
    now = now or timezone.now()
    order = (
        Order.objects.select_related("shop")
        .filter(pk=int(order_id) if str(order_id).isdigit() else 0, buyer_id=author.pk)
        .first()
    )
    if order is None:
        _refuse("order", "You can rate only shops you bought from: this is not one of your orders.")
    if not has_shipped(order):
        _refuse("order", f"You can rate {order.shop_name} once it has shipped the order.")
    _refuse_shop_people(author, order.shop, field="order", doing="rate")
    if SellerRating.objects.filter(order_id=order.pk).exists():
        _refuse("order", f"You have already rated {order.shop_name} for this order: edit your rating instead.")
    if not feedback_window_is_open(order, now):
        _refuse("order", f"The time to rate this order ended on {_date(feedback_window_closes_at(order))}.")
    _check_write_rate(author, now, "order")
    cleaned = _rating_fields(
        overall=overall,
        item_as_described=item_as_described,
        communication=communication,
        shipping_speed=shipping_speed,
        comment=comment,
    )
    try:
        with transaction.atomic():
            order = _lock_order(order.pk)
            _locked_summary(order.shop_id)
            held_reason = _burst_hold(author=author, shop_id=order.shop_id, now=now)
            counts = not SellerRating.objects.filter(
                author_id=author.pk,
                shop_id=order.shop_id,
                counts_towards_score=True,
                created_at__gt=now - settings.REVIEWS_REPEAT_RATING_PERIOD,
            ).exists()
            rating = SellerRating.objects.create(
                order=order,
                author=author,
                shop=order.shop,
                comment_html=render_markdown(cleaned["comment"]),
                status=Status.HELD if held_reason else Status.PUBLISHED,
                held_reason=held_reason,
                counts_towards_score=counts,
                created_at=now,
                editable_until=now + settings.REVIEWS_EDIT_WINDOW,
                **cleaned,
            )
            _change(rating, fields={}, previous_status=None)
            feedback = BuyerFeedback.objects.select_for_update().filter(order_id=order.pk).first()
            if feedback is not None:
                _reveal(order=order, rating=rating, feedback=feedback, now=now)
            else:
                closes = feedback_window_closes_at(order)
                _tell_shop(
                    order.shop,
                    kind="review.received",
                    actor=author,
                    target=order,
                    context={
                        "subject": f"order {order.reference}",
                        "url": order.get_shop_url(),
                        "body": "You will see the rating once you have left your feedback on the buyer"
                        + (f", or on {_date(closes)}." if closes else "."),
                    },
                )
    except IntegrityError:
        _refuse("order", f"You have already rated {order.shop_name} for this order: edit your rating instead.")
    return rating


def rating_update(
    *,
    rating: SellerRating,
    author,
    overall,
    item_as_described,
    communication,
    shipping_speed,
    comment: str = "",
    now: datetime.datetime | None = None,
) -> SellerRating:
    """The buyer changes their rating while it is still unseen (before the reveal) and within
    the edit window; the version replaced is kept."""
    now = now or timezone.now()
    _check_editable(rating, author=author, now=now)
    cleaned = _rating_fields(
        overall=overall,
        item_as_described=item_as_described,
        communication=communication,
        shipping_speed=shipping_speed,
        comment=comment,
    )
    with transaction.atomic():
        current = _lock(rating)
        _check_editable(current, author=author, now=now)
        before = {name: getattr(current, name) for name in (*RATING_FIELDS, "comment")}
        if before == cleaned:
            return current
        Revision.objects.create(
            rating=current, content=before, written_at=current.edited_at or current.created_at, replaced_at=now
        )
        _change(current, fields={**cleaned, "comment_html": render_markdown(cleaned["comment"]), "edited_at": now})
    return current


# --- Feedback on buyers and the double-blind reveal --------------------------------------------------------


def _reveal(*, order: Order, rating: SellerRating | None, feedback: BuyerFeedback | None, now) -> bool:
    """Show both sides' feedback on `order` (rows locked by the caller); False if nothing changed."""
    changed = False
    if rating is not None and rating.revealed_at is None:
        _change(rating, fields={"revealed_at": now})
        changed = True
    if feedback is not None and feedback.revealed_at is None:
        feedback.revealed_at = now
        feedback.save(update_fields=["revealed_at"])
        changed = True
    if changed:
        written = [
            what
            for what, row in (("the buyer's rating", rating), ("the shop's feedback on the buyer", feedback))
            if row is not None
        ]
        change = f"{' and '.join(written)} can be seen now"
        notify(
            recipient=order.buyer,
            kind="feedback.revealed",
            target=order,
            context={"order": order.reference, "change": change},
        )
        _tell_shop(
            order.shop,
            kind="feedback.revealed",
            target=order,
            context={"order": order.reference, "change": change, "url": order.get_shop_url()},
        )
    return changed


def feedback_reveal(*, order_id: int, now: datetime.datetime | None = None) -> bool:
    """Reveal an order's rating and feedback if both are written or its window has closed.
    Safe to run twice and concurrently (the order is locked); False when there was nothing to do."""
    now = now or timezone.now()
    with transaction.atomic():
        order = (
            Order.objects.select_for_update(of=("self",)).filter(pk=order_id).select_related("shop", "buyer").first()
        )
        if order is None:
            return False
        # Locks in the order every writer takes them: order, shop summary, review or rating.
        _locked_summary(order.shop_id)
        rating = SellerRating.objects.select_for_update().filter(order_id=order_id).first()
        feedback = BuyerFeedback.objects.select_for_update().filter(order_id=order_id).first()
        closes = feedback_window_closes_at(order)
        window_closed = closes is not None and now >= closes
        if not ((rating and feedback) or window_closed):
            return False
        return _reveal(order=order, rating=rating, feedback=feedback, now=now)


def feedback_reveal_due(*, now: datetime.datetime | None = None, batch: int = 500) -> int:
    """Reveal whatever was written on orders whose window has closed (beat's task); returns how
    many orders it revealed."""
    now = now or timezone.now()
    cutoff = now - settings.REVIEWS_FEEDBACK_WINDOW
    order_ids = set(
        SellerRating.objects.filter(revealed_at__isnull=True, order__delivered_at__lte=cutoff).values_list(
            "order_id", flat=True
        )[:batch]
    ) | set(
        BuyerFeedback.objects.filter(revealed_at__isnull=True, order__delivered_at__lte=cutoff).values_list(
            "order_id", flat=True
        )[:batch]
    )
    return sum(feedback_reveal(order_id=order_id, now=now) for order_id in sorted(order_ids))


def buyer_feedback_create(
    *, order: Order, actor, value: str, comment: str = "", now: datetime.datetime | None = None
) -> BuyerFeedback:
    """One of the shop's people leaves feedback on the buyer of a shipped order, once, while the
    window is open: positive or neutral, never negative. Revealed with the buyer's rating."""
    now = now or timezone.now()
    if not is_shop_member(user=actor, shop=order.shop):
        raise PermissionDenied("Only the shop's people can leave feedback on its buyers.")
    if not has_shipped(order):
        _refuse("non_field_errors", "You can leave feedback on the buyer once you have shipped the order.")
    if BuyerFeedback.objects.filter(order_id=order.pk).exists():
        _refuse("non_field_errors", "You have already left feedback on the buyer of this order.")
    if not feedback_window_is_open(order, now):
        _refuse(
            "non_field_errors",
            f"The time to leave feedback on this order ended on {_date(feedback_window_closes_at(order))}.",
        )
    errors: dict = {}
    if value not in BuyerFeedback.Value.values:
        errors["value"] = [
            "Choose positive or neutral: feedback on buyers is never negative, so that nobody is punished for an "
            "honest review."
        ]
    comment = _text(errors, "comment", comment, limit=MAX_FEEDBACK_LENGTH)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            locked = _lock_order(order.pk)
            _locked_summary(locked.shop_id)
            feedback = BuyerFeedback.objects.create(
                order=locked,
                shop=locked.shop,
                buyer=locked.buyer,
                author=actor,
                value=value,
                comment=comment,
                created_at=now,
            )
            rating = SellerRating.objects.select_for_update().filter(order_id=locked.pk).first()
            if rating is not None:
                _reveal(order=locked, rating=rating, feedback=feedback, now=now)
            else:
                notify(
                    recipient=locked.buyer,
                    kind="feedback.received",
                    actor=actor,
                    target=locked,
                    context={
                        "order": locked.reference,
                        "body": f"You will see it once you have rated {locked.shop_name}, or when the time to rate "
                        "the order ends.",
                    },
                )
    except IntegrityError:
        _refuse("non_field_errors", "You have already left feedback on the buyer of this order.")
    return feedback


# --- Replies ---------------------------------------------------------------------------------------------------


def reply_create(*, subject, actor, text, now: datetime.datetime | None = None):
    """The shop answers a public review or rating once, signed by the person replying; from then
    on its author can no longer edit it. The author is told."""
    now = now or timezone.now()
    noun = subject.kind
    if not is_shop_member(user=actor, shop=subject.shop):
        raise PermissionDenied("Only the shop's people can reply for it.")
    if not subject.is_public:
        _refuse("text", f"You can reply once the {noun} is published.")
    if subject.has_reply:
        _refuse("text", f"{subject.shop.name} has already replied to this {noun}: a shop replies once.")
    errors: dict = {}
    text = _text(errors, "text", text, limit=MAX_REPLY_LENGTH, required="Write your reply.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        current = _lock(subject)
        if current.has_reply:
            _refuse("text", f"{current.shop.name} has already replied to this {noun}: a shop replies once.")
        current.reply_text, current.reply_html = text, render_markdown(text)
        current.replied_by, current.replied_at = actor, now
        current.save(update_fields=["reply_text", "reply_html", "replied_by", "replied_at"])
        notify(
            recipient=current.author,
            kind="review.replied",
            actor=actor,
            target=current,
            context={"subject": current.item_title if noun == "review" else current.shop.name},
        )
    return current


# --- Helpful votes ----------------------------------------------------------------------------------------------


def vote_add(*, review: Review, voter, now: datetime.datetime | None = None) -> HelpfulVote:
    """`voter` found a published review helpful: once, never their own, never one of their shop's."""
    _signed_in(voter)
    now = now or timezone.now()
    if not review.is_public:
        _refuse("review", "Only published reviews can be voted on.")
    if voter.pk == review.author_id:
        _refuse("review", "You cannot vote on your own review.")
    if is_shop_member(user=voter, shop=review.shop):
        _refuse("review", f"You are one of the people of {review.shop.name}: you cannot vote on its reviews.")
    if HelpfulVote.objects.filter(review_id=review.pk, voter_id=voter.pk).exists():
        _refuse("review", "You have already found this review helpful.")
    limit = settings.REVIEWS_VOTES_PER_HOUR
    _check_rate(
        count=HelpfulVote.objects.filter(voter_id=voter.pk, created_at__gte=now - HOUR).count(),
        limit=limit,
        field="review",
        message=f"You have voted {limit} times in the last hour: please wait a while before voting again.",
    )
    try:
        with transaction.atomic():
            vote = HelpfulVote.objects.create(review_id=review.pk, voter=voter, created_at=now)
            Review.objects.filter(pk=review.pk).update(helpful_count=F("helpful_count") + 1)
    except IntegrityError:
        _refuse("review", "You have already found this review helpful.")
    review.refresh_from_db(fields=["helpful_count"])
    return vote


def vote_remove(*, review: Review, voter) -> bool:
    """Take back one's helpful vote; False when there was none."""
    _signed_in(voter)
    with transaction.atomic():
        deleted, _ = HelpfulVote.objects.filter(review_id=review.pk, voter_id=voter.pk).delete()
        if deleted:
            Review.objects.filter(pk=review.pk).update(helpful_count=F("helpful_count") - 1)
    review.refresh_from_db(fields=["helpful_count"])
    return bool(deleted)


# --- Reports --------------------------------------------------------------------------------------------------


def flag_create(*, subject, reporter, reason: str, note: str = "", now: datetime.datetime | None = None) -> Flag:
    """Anyone signed in reports a published review or rating to the moderators, once, with a
    reason (and a note when the reason is "something else"). A report by one of the shop's
    people is the shop's request: if a moderator keeps the review, the shop may appeal."""
    _signed_in(reporter)
    now = now or timezone.now()
    noun = subject.kind
    if not subject.is_public or not is_visible_to(subject, reporter):
        _refuse("reason", f"Only published {noun}s can be reported.")
    if reporter.pk == subject.author_id:
        _refuse("reason", f"You wrote this {noun}: edit it instead of reporting it.")
    errors: dict = {}
    if reason not in FlagReason.values:
        errors["reason"] = ["Choose why you are reporting it."]
    note = _text(
        errors,
        "note",
        note,
        limit=MAX_NOTE_LENGTH,
        required="Tell the moderators what is wrong." if reason == FlagReason.OTHER else "",
    )
    if errors:
        raise ValidationError(errors)
    lookup = {noun: subject}
    if Flag.objects.filter(reporter_id=reporter.pk, **lookup).exists():
        _refuse("reason", f"You have already reported this {noun}: a moderator will look at it.")
    limit = settings.REVIEWS_FLAGS_PER_HOUR
    _check_rate(
        count=Flag.objects.filter(reporter_id=reporter.pk, created_at__gte=now - HOUR).count(),
        limit=limit,
        field="reason",
        message=f"You have made {limit} reports in the last hour: please wait a while before reporting more.",
    )
    try:
        with transaction.atomic():
            flag = Flag.objects.create(
                reporter=reporter,
                reporter_is_shop=is_shop_member(user=reporter, shop=subject.shop),
                reason=reason,
                note=note,
                created_at=now,
                **lookup,
            )
    except IntegrityError:
        _refuse("reason", f"You have already reported this {noun}: a moderator will look at it.")
    return flag


# --- Moderation ---------------------------------------------------------------------------------------------------


def _require_moderator(user) -> None:
    if not can_moderate_reviews(user):
        raise PermissionDenied("Only moderators decide on reviews and ratings.")


def _refuse_partial(moderator, subject) -> None:
    if moderator.pk == subject.author_id:
        _refuse("non_field_errors", f"You wrote this {subject.kind}: another moderator has to decide on it.")
    if is_shop_member(user=moderator, shop=subject.shop):
        _refuse(
            "non_field_errors",
            f"You are one of the people of {subject.shop.name}: another moderator has to decide on it.",
        )


def _decision_fields(*, outcome, reason) -> tuple[str, str]:
    errors: dict = {}
    if outcome not in OUTCOME_STATUS:
        errors["outcome"] = ["Choose whether to keep, hide or remove it."]
    reason = _text(errors, "reason", reason, limit=MAX_REASON_LENGTH, required="Say why: both sides are told.")
    if errors:
        raise ValidationError(errors)
    return outcome, reason


def _decision_words(decision: ModerationDecision) -> str:
    if decision.appeal_id is None:
        return f"{decision.result_label} by a moderator"
    if decision.outcome == decision.appeal.decision.outcome:
        return f"appeal refused: stays {decision.result_label}"
    return f"appeal granted: now {'published again' if decision.outcome == 'keep' else decision.result_label}"


def _tell_sides(subject, decision: ModerationDecision) -> None:
    words = _decision_words(decision)
    body = f"The moderator's reason: {decision.reason}"
    noun = subject.kind
    about = subject.item_title if noun == "review" else subject.shop.name
    notify(
        recipient=subject.author,
        kind="moderation.decided",
        target=subject,
        context={"subject": f"Your {noun} of {about}", "decision": words, "body": body},
    )
    # The shop is not told of what it cannot see: a rating before the reveal, or what was held
    # before anyone saw it (once published, the shop hears of it as of any new review).
    if (noun == "rating" and subject.revealed_at is None) or decision.previous_status == Status.HELD:
        return
    _tell_shop(
        subject.shop,
        kind="moderation.decided",
        target=subject,
        context={"subject": f"A {noun} of {about}", "decision": words, "body": body},
    )


def _decide(current, *, moderator, outcome: str, reason: str, appeal: Appeal | None, now) -> ModerationDecision:
    previous = current.status
    decision = ModerationDecision.objects.create(
        moderator=moderator,
        outcome=outcome,
        reason=reason,
        previous_status=previous,
        appeal=appeal,
        created_at=now,
        **{current.kind: current},
    )
    current.flags.filter(decision__isnull=True).update(decision=decision)
    _change(current, fields={"status": OUTCOME_STATUS[outcome]})
    _tell_sides(current, decision)
    if previous == Status.HELD and current.status == Status.PUBLISHED:
        _tell_shop_of_publication(current)
    return decision


def decision_make(
    *, subject, moderator, outcome: str, reason: str, now: datetime.datetime | None = None
) -> ModerationDecision:
    """A moderator keeps, hides or removes a review or rating (held, reported, or any), saying
    why; the open reports are settled by it, and the author and the shop are told. Nobody
    decides on what they wrote or on a shop they belong to, nor while an appeal is open."""
    now = now or timezone.now()
    _require_moderator(moderator)
    _refuse_partial(moderator, subject)
    outcome, reason = _decision_fields(outcome=outcome, reason=reason)
    with transaction.atomic():
        _locked_summary(subject.shop_id)
        current = _lock(subject)
        latest = latest_decision(current)
        if latest is not None and Appeal.objects.filter(decision=latest, decided_at__isnull=True).exists():
            _refuse("non_field_errors", "An appeal of the last decision is open: decide the appeal instead.")
        return _decide(current, moderator=moderator, outcome=outcome, reason=reason, appeal=None, now=now)


def appeal_file(*, decision: ModerationDecision, appellant, statement, now: datetime.datetime | None = None) -> Appeal:
    """The author of a review or rating a moderator took down, or the shop whose report was
    refused, appeals the latest decision once, with a statement. A decision made on an appeal
    is final."""
    _signed_in(appellant)
    now = now or timezone.now()
    if decision.is_final:
        _refuse("statement", "This decision was made on an appeal and is final: it cannot be appealed again.")
    side = appeal_side(decision=decision, user=appellant)
    if side is None:
        _refuse(
            "statement",
            "Only the author of what a moderator took down, or the shop whose report was refused, can appeal "
            "this decision.",
        )
    errors: dict = {}
    statement = _text(
        errors,
        "statement",
        statement,
        limit=MAX_STATEMENT_LENGTH,
        required="Tell the moderators why they should decide otherwise.",
    )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        subject = _lock(decision.subject)
        latest = latest_decision(subject)
        if latest.pk != decision.pk:
            _refuse("statement", "A later decision replaced this one: appeal that one instead.")
        if Appeal.objects.filter(decision=decision).exists():
            _refuse("statement", "This decision has already been appealed: each decision can be appealed once.")
        try:
            with transaction.atomic():
                appeal = Appeal.objects.create(
                    decision=decision, appellant=appellant, side=side, statement=statement, created_at=now
                )
        except IntegrityError:
            _refuse("statement", "This decision has already been appealed: each decision can be appealed once.")
    return appeal


def appeal_decide(
    *, appeal: Appeal, moderator, outcome: str, reason: str, now: datetime.datetime | None = None
) -> ModerationDecision:
    """Another moderator than the one who made the decision decides the appeal: keep, hide or
    remove, with the reason. The new decision is final; both sides are told."""
    now = now or timezone.now()
    _require_moderator(moderator)
    decision = appeal.decision
    subject = decision.subject
    if moderator.pk == decision.moderator_id:
        _refuse("non_field_errors", "You made the decision appealed against: a different moderator has to decide.")
    if moderator.pk == appeal.appellant_id:
        _refuse("non_field_errors", "You made this appeal: another moderator has to decide it.")
    _refuse_partial(moderator, subject)
    outcome, reason = _decision_fields(outcome=outcome, reason=reason)
    with transaction.atomic():
        current_appeal = Appeal.objects.select_for_update().get(pk=appeal.pk)
        if current_appeal.decided_at is not None:
            _refuse("non_field_errors", "This appeal has already been decided.")
        _locked_summary(subject.shop_id)
        current = _lock(subject)
        result = _decide(current, moderator=moderator, outcome=outcome, reason=reason, appeal=current_appeal, now=now)
        current_appeal.decided_at = now
        current_appeal.save(update_fields=["decided_at"])
    appeal.decided_at = now
    return result


# --- Account deletion ----------------------------------------------------------------------------------


def author_writings_delete(*, author) -> int:
    """Delete every review and rating `author` wrote (they deleted their account and chose to
    take these with them), moving each counted one out of the shops' figures first. Call inside
    the deletion's transaction; returns how many went."""
    deleted = 0
    with transaction.atomic():
        for model, tally in ((Review, _tally_review), (SellerRating, _tally_rating)):
            for subject in model.objects.select_for_update().filter(author=author).order_by("pk"):
                if subject.is_counted:
                    tally(subject, _counted_values(subject), -1)
                if isinstance(subject, Review):
                    activities_remove_for(target=subject)
                subject.delete()
                deleted += 1
    return deleted
