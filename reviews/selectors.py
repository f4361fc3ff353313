"""Reads of reviews, ratings, feedback and moderation, shared by the pages, the API and the
services: who may see what (the access_* helpers, 404 for everyone else), the lists in a fixed
number of queries, and the shops' rating figures read from their aggregate rows."""

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from orders.models import Order, OrderItem
from orders.selectors import FULFILLED_STATES
from sellers.models import Shop
from sellers.selectors import is_shop_member

from .models import (
    TAKEN_DOWN,
    Appeal,
    BuyerFeedback,
    Flag,
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

MODERATE_PERMISSION = "reviews.moderate_review"
SORTS = {
    "helpful": ("-helpful_count", "-created_at", "-pk"),
    "newest": ("-created_at", "-pk"),
    "highest": ("-stars", "-created_at", "-pk"),
    "lowest": ("stars", "-created_at", "-pk"),
}
SORT_CHOICES = [("helpful", "Most helpful"), ("newest", "Newest"), ("highest", "Highest rated"), ("lowest", "Lowest")]
DEFAULT_SORT = "helpful"
DIMENSIONS = [
    ("item_as_described", "described_sum", "Item as described"),
    ("communication", "communication_sum", "Communication"),
    ("shipping_speed", "shipping_sum", "Shipping speed"),
]
TENTH = Decimal("0.1")


def sort_or_default(value) -> str:
    return value if value in SORTS else DEFAULT_SORT


def _id(value) -> int | None:
    return int(value) if str(value).isdigit() else None


def _signed_in(user) -> bool:
    return user is not None and user.is_authenticated


# --- Who may see and do what ----------------------------------------------------------------------


def can_moderate_reviews(user) -> bool:
    """Operators (staff) and people given the moderate_review permission decide on held and
    reported reviews and ratings, and on appeals."""
    if not _signed_in(user) or not user.is_active:
        return False
    return user.is_staff or user.has_perm(MODERATE_PERMISSION)


def _review_queryset() -> QuerySet[Review]:
    return Review.objects.select_related("author", "shop", "replied_by", "listing")


def _rating_queryset() -> QuerySet[SellerRating]:
    return SellerRating.objects.select_related("author", "shop", "replied_by")


def is_visible_to(subject, user) -> bool:
    """Whether `user` may see a review or rating: everyone once it is public; its author always;
    moderators always; the shop's people once a moderator took it down (they were told), and a
    rating only after it was revealed. Held ones stay between the author and the moderators."""
    if subject.is_public:
        return True
    if not _signed_in(user):
        return False
    if user.pk == subject.author_id or can_moderate_reviews(user):
        return True
    revealed = getattr(subject, "revealed_at", True) is not None
    return subject.status in TAKEN_DOWN and revealed and is_shop_member(user=user, shop=subject.shop)


def access_review(*, user, review_id) -> Review:
    """The review with `review_id` if `user` may see it (is_visible_to); Http404 otherwise."""
    review = _review_queryset().filter(pk=_id(review_id) or 0).first()
    if review is None or not is_visible_to(review, user):
        raise Http404("No such review.")
    return review


def access_rating(*, user, rating_id) -> SellerRating:
    rating = _rating_queryset().filter(pk=_id(rating_id) or 0).first()
    if rating is None or not is_visible_to(rating, user):
        raise Http404("No such rating.")
    return rating


def access_subject(*, user, kind: str, subject_id):
    if kind == "review":
        return access_review(user=user, review_id=subject_id)
    if kind == "rating":
        return access_rating(user=user, rating_id=subject_id)
    raise Http404("No such review.")


def may_see_history(subject, user) -> bool:
    """The moderation history (flags' reasons, decisions, appeals) is for both sides and moderators."""
    if not _signed_in(user):
        return False
    return user.pk == subject.author_id or can_moderate_reviews(user) or is_shop_member(user=user, shop=subject.shop)


def access_decision(*, user, decision_id) -> ModerationDecision:
    """A decision whose history `user` may see (the author, the shop's people, moderators)."""
    decision = (
        ModerationDecision.objects.select_related("review__shop", "rating__shop", "moderator")
        .filter(pk=_id(decision_id) or 0)
        .first()
    )
    if decision is None or not may_see_history(decision.subject, user) or not is_visible_to(decision.subject, user):
        raise Http404("No such decision.")
    return decision


def access_appeal_for_moderator(*, user, appeal_id) -> Appeal:
    if not can_moderate_reviews(user):
        raise Http404("No such appeal.")
    appeal = (
        Appeal.objects.select_related("decision__review__shop", "decision__rating__shop", "decision__moderator")
        .filter(pk=_id(appeal_id) or 0)
        .first()
    )
    if appeal is None:
        raise Http404("No such appeal.")
    return appeal


def access_subject_for_moderator(*, user, kind: str, subject_id):
    if not can_moderate_reviews(user):
        raise Http404("No such review.")
    return access_subject(user=user, kind=kind, subject_id=subject_id)


def access_order_item_for_review(*, user, order_id, item_id):
    """(order, item) of `user`'s own order; Http404 for anyone else's, a missing one or an
    anonymous visitor, as the order page. One query: the review form needs the order itself,
    not the timeline and deadlines the order page fetches with it."""
    if not _signed_in(user) or _id(order_id) is None or _id(item_id) is None:
        raise Http404("No such item.")
    item = (
        OrderItem.objects.select_related("order")
        .filter(pk=_id(item_id), order_id=_id(order_id), order__buyer_id=user.pk)
        .first()
    )
    if item is None:
        raise Http404("No such item.")
    return item.order, item


def review_of_item(*, item) -> Review | None:
    return Review.objects.filter(order_item_id=item.pk).first()


def rating_of_order(*, order: Order) -> SellerRating | None:
    return SellerRating.objects.filter(order_id=order.pk).first()


# --- Windows --------------------------------------------------------------------------------------


def has_shipped(order: Order) -> bool:
    return order.state in FULFILLED_STATES and order.shipped_at is not None


def feedback_window_closes_at(order: Order) -> datetime.datetime | None:
    """When the two sides' window to rate the shop and to leave feedback on the buyer closes:
    REVIEWS_FEEDBACK_WINDOW after delivery (open with no end while the parcel is on its way)."""
    if order.delivered_at is None:
        return None
    return order.delivered_at + settings.REVIEWS_FEEDBACK_WINDOW


def edit_refusal(subject, now: datetime.datetime | None = None) -> str:
    """Why the author can no longer edit a review or rating ("" while they can): the services
    give the same reasons when refusing an edit."""
    noun = subject.kind
    if subject.status in TAKEN_DOWN:
        return f"A moderator took this {noun} down: it can no longer be edited."
    if subject.has_reply:
        return f"{subject.shop.name} has replied: the {noun} can no longer be edited."
    if noun == "rating" and subject.revealed_at is not None:
        return "Your rating has been shown to the shop: it can no longer be changed."
    if (now or timezone.now()) > subject.editable_until:
        return (
            f"A {noun} can be edited for {settings.REVIEWS_EDIT_WINDOW.days} days: this one could be edited until "
            f"{timezone.localtime(subject.editable_until):%-d %B %Y}."
        )
    return ""


def feedback_window_is_open(order: Order, now: datetime.datetime | None = None) -> bool:
    closes = feedback_window_closes_at(order)
    return has_shipped(order) and (closes is None or (now or timezone.now()) < closes)


# --- Lists ----------------------------------------------------------------------------------------


def listing_reviews(*, listing, sort: str = DEFAULT_SORT) -> QuerySet[Review]:
    """The published reviews of `listing` and of every other copy of the same work."""
    scope = Q(listing_id=listing.pk)
    if listing.work_id:
        scope |= Q(work_id=listing.work_id)
    return _review_queryset().filter(scope, status=Status.PUBLISHED).order_by(*SORTS[sort_or_default(sort)])


def shop_reviews(*, shop: Shop, sort: str = DEFAULT_SORT) -> QuerySet[Review]:
    return _review_queryset().filter(shop=shop, status=Status.PUBLISHED).order_by(*SORTS[sort_or_default(sort)])


def shop_ratings(*, shop: Shop) -> QuerySet[SellerRating]:
    """The shop's public ratings (published and revealed), newest first."""
    return (
        _rating_queryset()
        .filter(shop=shop, status=Status.PUBLISHED, revealed_at__isnull=False)
        .order_by("-created_at", "-pk")
    )


def praise(*, shop: Shop, limit: int = 3) -> list[SellerRating]:
    """The latest public ratings of four stars or more that say something."""
    return list(shop_ratings(shop=shop).filter(overall__gte=4).exclude(comment="")[:limit])


def reviews_by(*, user) -> QuerySet[Review]:
    if not _signed_in(user):
        return Review.objects.none()
    return _review_queryset().filter(author_id=user.pk).order_by("-created_at", "-pk")


def published_reviews_by(*, user) -> QuerySet[Review]:
    """What a profile shows: the person's published reviews, newest first."""
    return _review_queryset().filter(author_id=user.pk, status=Status.PUBLISHED).order_by("-created_at", "-pk")


def ratings_by(*, user) -> QuerySet[SellerRating]:
    if not _signed_in(user):
        return SellerRating.objects.none()
    return _rating_queryset().filter(author_id=user.pk).order_by("-created_at", "-pk")


def attach_viewer_votes(reviews, *, user) -> list[Review]:
    """Set `viewer_voted` on each review (one query for a signed-in viewer, none otherwise)."""
    reviews = list(reviews)
    voted: set[int] = set()
    if _signed_in(user) and reviews:
        voted = set(
            HelpfulVote.objects.filter(voter_id=user.pk, review_id__in=[r.pk for r in reviews]).values_list(
                "review_id", flat=True
            )
        )
    for review in reviews:
        review.viewer_voted = review.pk in voted
    return reviews


def revisions_of(subject) -> list[Revision]:
    return list(subject.revisions.order_by("-replaced_at", "-pk"))


@dataclass
class History:
    """What both sides and moderators see of a review's moderation."""

    flags: list[Flag]
    decisions: list[ModerationDecision]

    @property
    def latest(self) -> ModerationDecision | None:
        return self.decisions[-1] if self.decisions else None


def history_of(subject) -> History:
    """The flags (reasons only: not who), decisions and appeals of a review or rating (two queries)."""
    decisions = list(
        subject.decisions.select_related("moderator", "appeal", "appeal_against__appellant").order_by(
            "created_at", "pk"
        )
    )
    return History(flags=list(subject.flags.order_by("created_at", "pk")), decisions=decisions)


def latest_decision(subject) -> ModerationDecision | None:
    return subject.decisions.order_by("-created_at", "-pk").first()


def appeal_side(*, decision: ModerationDecision, user) -> str | None:
    """Which side `user` may appeal `decision` as (Appeal.Side), or None: the author of what a
    moderator took down, or the shop's people when a report the shop made was refused."""
    if not _signed_in(user) or decision.is_final:
        return None
    subject = decision.subject
    if decision.outcome in {ModerationDecision.Outcome.HIDE, ModerationDecision.Outcome.REMOVE}:
        return Appeal.Side.AUTHOR if user.pk == subject.author_id else None
    if is_shop_member(user=user, shop=subject.shop) and decision.resolved_flags.filter(reporter_is_shop=True).exists():
        return Appeal.Side.SHOP
    return None


# --- Moderation -----------------------------------------------------------------------------------

QUEUE_LIMIT = 50


def _needs_decision() -> Q:
    return Q(status=Status.HELD) | Q(has_open_flags=True)


def _open_flags_prefetch() -> Prefetch:
    return Prefetch("flags", queryset=Flag.objects.filter(decision__isnull=True).order_by("created_at", "pk"))


@dataclass
class ModerationQueue:
    reviews: list[Review]
    ratings: list[SellerRating]
    appeals: list[Appeal]

    @property
    def is_empty(self) -> bool:
        return not (self.reviews or self.ratings or self.appeals)


def moderation_queue(*, limit: int = QUEUE_LIMIT) -> ModerationQueue:
    """What waits for a moderator, oldest first: held and reported reviews and ratings (with
    their open reports) and undecided appeals (five queries however long the queue)."""
    open_flags = Flag.objects.filter(decision__isnull=True)
    reviews = list(
        _review_queryset()
        .annotate(has_open_flags=Exists(open_flags.filter(review_id=OuterRef("pk"))))
        .filter(_needs_decision())
        .prefetch_related(_open_flags_prefetch())
        .order_by("created_at", "pk")[:limit]
    )
    ratings = list(
        _rating_queryset()
        .annotate(has_open_flags=Exists(open_flags.filter(rating_id=OuterRef("pk"))))
        .filter(_needs_decision())
        .prefetch_related(_open_flags_prefetch())
        .order_by("created_at", "pk")[:limit]
    )
    return ModerationQueue(reviews=reviews, ratings=ratings, appeals=open_appeals(limit=limit))


def open_appeals(*, limit: int = QUEUE_LIMIT) -> list[Appeal]:
    return list(
        Appeal.objects.filter(decided_at__isnull=True)
        .select_related(
            "appellant",
            "decision__moderator",
            "decision__review__shop",
            "decision__review__author",
            "decision__rating__shop",
            "decision__rating__author",
        )
        .order_by("created_at", "pk")[:limit]
    )


# --- Shops' figures -------------------------------------------------------------------------------


def _average(total: int, count: int) -> Decimal | None:
    if not count:
        return None
    return (Decimal(total) / count).quantize(TENTH, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class StarRow:
    stars: int
    count: int
    percent: int


@dataclass
class Figures:
    """Counted ratings over some period: count, average, distribution and the dimensions."""

    count: int = 0
    total: int = 0
    stars: dict[int, int] = field(default_factory=lambda: dict.fromkeys(range(1, 6), 0))
    dimension_sums: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_values(cls, values: dict) -> "Figures":
        return cls(
            count=values.get("rating_count") or 0,
            total=values.get("rating_sum") or 0,
            stars={stars: values.get(f"star_{stars}") or 0 for stars in range(1, 6)},
            dimension_sums={name: values.get(column) or 0 for name, column, _ in DIMENSIONS},
        )

    @property
    def average(self) -> Decimal | None:
        return _average(self.total, self.count)

    @property
    def distribution(self) -> list[StarRow]:
        """Five stars first, each with its share of the ratings in whole percent."""
        return [
            StarRow(
                stars=stars,
                count=self.stars[stars],
                percent=int((Decimal(self.stars[stars]) * 100 / self.count).quantize(Decimal("1"), ROUND_HALF_UP))
                if self.count
                else 0,
            )
            for stars in range(5, 0, -1)
        ]

    @property
    def dimensions(self) -> list[tuple[str, str, Decimal | None]]:
        return [(name, label, _average(self.dimension_sums.get(name, 0), self.count)) for name, _, label in DIMENSIONS]


FIGURE_COLUMNS = [
    "rating_count",
    "rating_sum",
    *(f"star_{stars}" for stars in range(1, 6)),
    *(column for _, column, _ in DIMENSIONS),
]


@dataclass
class ShopRating:
    """What a storefront says of a shop's ratings and reviews."""

    shop_id: int
    all_time: Figures
    score: Decimal
    review_count: int = 0
    review_sum: int = 0
    held_count: int = 0
    taken_down_count: int = 0
    recent: Figures | None = None

    @property
    def review_average(self) -> Decimal | None:
        return _average(self.review_sum, self.review_count)

    @property
    def has_ratings(self) -> bool:
        return self.all_time.count > 0


def _shop_rating_from(summary: ShopRatingSummary | None, shop_id: int) -> ShopRating:
    if summary is None:
        return ShopRating(shop_id=shop_id, all_time=Figures(), score=Decimal(settings.REVIEWS_SCORE_PRIOR_MEAN))
    return ShopRating(
        shop_id=shop_id,
        all_time=Figures.from_values({column: getattr(summary, column) for column in FIGURE_COLUMNS}),
        score=summary.score,
        review_count=summary.review_count,
        review_sum=summary.review_sum,
        held_count=summary.held_count,
        taken_down_count=summary.taken_down_count,
    )


def twelve_months_start(now: datetime.datetime | None = None) -> datetime.date:
    """The first day of the month eleven months ago: with this month, the last 12 months."""
    today = timezone.localdate(now or timezone.now())
    month_index = today.year * 12 + today.month - 1 - 11
    return datetime.date(month_index // 12, month_index % 12 + 1, 1)


def shop_stars(*, shop: Shop) -> ShopRating:
    """The shop's all-time figures and score, from its summary row (one query, none when the row
    came with the shop: select_related("rating_summary"))."""
    if Shop.rating_summary.related.is_cached(shop):
        return _shop_rating_from(getattr(shop, "rating_summary", None), shop.pk)
    return _shop_rating_from(ShopRatingSummary.objects.filter(shop_id=shop.pk).first(), shop.pk)


def shop_rating(*, shop: Shop, now: datetime.datetime | None = None) -> ShopRating:
    """All time (the summary row) and the last 12 months (the monthly rows): two queries."""
    rating = shop_stars(shop=shop)
    recent = ShopRatingMonth.objects.filter(shop_id=shop.pk, month__gte=twelve_months_start(now)).aggregate(
        **{column: Sum(column) for column in FIGURE_COLUMNS}
    )
    rating.recent = Figures.from_values(recent)
    return rating


def shop_rating_scores(*, shop_ids) -> dict[int, Decimal]:
    """Each shop's damped (Bayesian) score for ranking, one query; shops nobody rated yet have
    the prior mean. Search can order by these (or by shop_score_expression in a query)."""
    prior = Decimal(settings.REVIEWS_SCORE_PRIOR_MEAN)
    scores = dict.fromkeys(shop_ids, prior)
    scores.update(ShopRatingSummary.objects.filter(shop_id__in=list(shop_ids)).values_list("shop_id", "score"))
    return scores


def shop_score_expression(shop_field: str = "shop"):
    """An expression giving the damped score of the shop in `shop_field` of the rows being
    queried (e.g. Listing.objects.annotate(shop_score=shop_score_expression()))."""
    return Coalesce(
        Subquery(ShopRatingSummary.objects.filter(shop_id=OuterRef(shop_field)).values("score")[:1]),
        Value(Decimal(settings.REVIEWS_SCORE_PRIOR_MEAN)),
    )


def shops_by_score(*, limit: int = 20) -> list[Shop]:
    """The best shops by damped score (ratings that count, highest score first)."""
    return list(
        Shop.objects.filter(rating_summary__rating_count__gt=0)
        .select_related("rating_summary")
        .order_by("-rating_summary__score", "-rating_summary__rating_count", "name")[:limit]
    )


@dataclass(frozen=True)
class Tally:
    count: int
    average: Decimal | None
    scope: str  # "work" or "listing"


def review_tally(*, listing) -> Tally:
    """How many published reviews the listing page shows and their average (one query): of the
    whole work when the listing is a copy of one, of the listing otherwise."""
    lookup = {"work_id": listing.work_id} if listing.work_id else {"listing_id": listing.pk}
    row = ReviewTally.objects.filter(**lookup).values("review_count", "star_sum").first()
    count, total = (row["review_count"], row["star_sum"]) if row else (0, 0)
    return Tally(count=count, average=_average(total, count), scope="work" if listing.work_id else "listing")


@dataclass(frozen=True)
class ListingReviews:
    tally: Tally
    reviews: list[Review]
    has_more: bool


def listing_reviews_section(*, listing, sort: str, user, limit: int) -> ListingReviews:
    """The listing page's tally and its first `limit` reviews in the order `sort`, each with
    `viewer_voted`: one query, the tally and the viewer's votes riding along on each review.
    No published review means a tally of none (the tally counts the same reviews)."""
    lookup = {"work_id": listing.work_id} if listing.work_id else {"listing_id": listing.pk}
    tally_row = ReviewTally.objects.filter(**lookup)
    reviews = listing_reviews(listing=listing, sort=sort).annotate(
        tally_count=Subquery(tally_row.values("review_count")[:1]),
        tally_sum=Subquery(tally_row.values("star_sum")[:1]),
    )
    if _signed_in(user):
        reviews = reviews.annotate(
            viewer_voted=Exists(HelpfulVote.objects.filter(voter_id=user.pk, review_id=OuterRef("pk")))
        )
    else:
        reviews = reviews.annotate(viewer_voted=Value(False))
    rows = list(reviews[: limit + 1])
    count, total = (rows[0].tally_count or 0, rows[0].tally_sum or 0) if rows else (0, 0)
    return ListingReviews(
        tally=Tally(count=count, average=_average(total, count), scope="work" if listing.work_id else "listing"),
        reviews=rows[:limit],
        has_more=len(rows) > limit,
    )


def review_tallies(*, listing_ids) -> dict[int, Tally]:
    """Stars and count of each listing's own reviews, for lists of listings (one query)."""
    rows = ReviewTally.objects.filter(listing_id__in=list(listing_ids)).values_list(
        "listing_id", "review_count", "star_sum"
    )
    return {pk: Tally(count=count, average=_average(total, count), scope="listing") for pk, count, total in rows}


# --- Orders: what each side can write ---------------------------------------------------------------


@dataclass
class ItemReviewState:
    item: object
    review: Review | None


@dataclass
class OrderReviewState:
    """What the buyer's order page says about reviewing the items and rating the shop."""

    order: Order
    items: list[ItemReviewState]
    rating: SellerRating | None
    feedback: BuyerFeedback | None
    can_review: bool
    can_rate: bool
    window_closes_at: datetime.datetime | None

    @property
    def feedback_is_visible(self) -> bool:
        return self.feedback is not None and self.feedback.is_public


def order_review_state(*, order: Order, now: datetime.datetime | None = None) -> OrderReviewState:
    """The buyer's side of an order (its items prefetched): three queries."""
    items = list(order.items.all())
    reviews = {review.order_item_id: review for review in Review.objects.filter(order_id=order.pk)}
    rating = SellerRating.objects.filter(order_id=order.pk).first()
    feedback = BuyerFeedback.objects.filter(order_id=order.pk).select_related("author").first()
    shipped = has_shipped(order)
    return OrderReviewState(
        order=order,
        items=[ItemReviewState(item=item, review=reviews.get(item.pk)) for item in items],
        rating=rating,
        feedback=feedback,
        can_review=shipped,
        can_rate=rating is None and feedback_window_is_open(order, now),
        window_closes_at=feedback_window_closes_at(order),
    )


@dataclass(frozen=True)
class BuyerRecord:
    positive: int
    neutral: int

    @property
    def total(self) -> int:
        return self.positive + self.neutral


def buyer_record(*, buyer) -> BuyerRecord:
    """The revealed feedback shops left on `buyer` (one query)."""
    row = BuyerFeedback.objects.filter(buyer_id=buyer.pk, revealed_at__isnull=False).aggregate(
        positive=Count("pk", filter=Q(value=BuyerFeedback.Value.POSITIVE)),
        neutral=Count("pk", filter=Q(value=BuyerFeedback.Value.NEUTRAL)),
    )
    return BuyerRecord(positive=row["positive"], neutral=row["neutral"])


@dataclass
class ShopOrderFeedbackState:
    """What the shop's order page says about the buyer's rating and the shop's feedback."""

    order: Order
    rating: SellerRating | None
    feedback: BuyerFeedback | None
    can_leave_feedback: bool
    window_closes_at: datetime.datetime | None
    record: BuyerRecord

    @property
    def rating_is_visible(self) -> bool:
        return self.rating is not None and self.rating.revealed_at is not None


def shop_order_feedback_state(*, order: Order, now: datetime.datetime | None = None) -> ShopOrderFeedbackState:
    """The shop's side of an order: three queries."""
    rating = SellerRating.objects.filter(order_id=order.pk).first()
    feedback = BuyerFeedback.objects.filter(order_id=order.pk).select_related("author").first()
    return ShopOrderFeedbackState(
        order=order,
        rating=rating,
        feedback=feedback,
        can_leave_feedback=feedback is None and feedback_window_is_open(order, now),
        window_closes_at=feedback_window_closes_at(order),
        record=buyer_record(buyer=order.buyer),
    )


def orders_awaiting_feedback(*, shop: Shop, now: datetime.datetime | None = None, limit: int = 20) -> list[Order]:
    """The shop's shipped orders whose window is open and that it has not left feedback on yet."""
    now = now or timezone.now()
    return list(
        Order.objects.filter(shop=shop, state__in=FULFILLED_STATES, shipped_at__isnull=False)
        .filter(Q(delivered_at__isnull=True) | Q(delivered_at__gt=now - settings.REVIEWS_FEEDBACK_WINDOW))
        .exclude(Exists(BuyerFeedback.objects.filter(order_id=OuterRef("pk"))))
        .select_related("buyer")
        .order_by("shipped_at", "pk")[:limit]
    )


def shop_dashboard_reviews(*, shop: Shop, awaiting_reply: bool = False) -> QuerySet[Review]:
    """The reviews of the shop its people may see: published, hidden and removed (held ones wait
    for a moderator first)."""
    reviews = _review_queryset().filter(shop=shop).exclude(status=Status.HELD)
    if awaiting_reply:
        reviews = reviews.filter(status=Status.PUBLISHED, replied_at__isnull=True)
    return reviews.order_by("-created_at", "-pk")


def shop_dashboard_ratings(*, shop: Shop, awaiting_reply: bool = False) -> QuerySet[SellerRating]:
    ratings = _rating_queryset().filter(shop=shop, revealed_at__isnull=False).exclude(status=Status.HELD)
    if awaiting_reply:
        ratings = ratings.filter(status=Status.PUBLISHED, replied_at__isnull=True)
    return ratings.order_by("-created_at", "-pk")
