"""Reviews of what was bought, ratings of the shops it was bought from, the shops' feedback on
their buyers, and the moderation of all of it (flags, decisions, appeals).

Every figure a page shows about a shop or a listing is kept in an aggregate row
(ShopRatingSummary, ShopRatingMonth, ReviewTally) that reviews.services updates in the
transaction of the change, so no page recounts ratings.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

MAX_TITLE_LENGTH = 120
MAX_REVIEW_LENGTH = 5000
MAX_COMMENT_LENGTH = 2000
MAX_REPLY_LENGTH = 2000
MAX_FEEDBACK_LENGTH = 1000
MAX_NOTE_LENGTH = 1000
MAX_REASON_LENGTH = 1000
MAX_STATEMENT_LENGTH = 2000
STAR_CHOICES = [(stars, f"{stars} star{'s' if stars > 1 else ''}") for stars in range(1, 6)]


def _stars_in_range(*fields: str) -> Q:
    condition = Q()
    for name in fields:
        condition &= Q(**{f"{name}__gte": 1, f"{name}__lte": 5})
    return condition


def _exactly_one(first: str, second: str) -> Q:
    return Q(**{f"{first}__isnull": False, f"{second}__isnull": True}) | Q(
        **{f"{first}__isnull": True, f"{second}__isnull": False}
    )


class Status(models.TextChoices):
    PUBLISHED = "published", "Published"
    HELD = "held", "Held for moderation"
    HIDDEN = "hidden", "Hidden by a moderator"
    REMOVED = "removed", "Removed by a moderator"


TAKEN_DOWN = frozenset({Status.HIDDEN, Status.REMOVED})


class ShopReply(models.Model):
    """What a shop review or rating shares: the shop's one public reply, signed by a person."""

    reply_text = models.TextField(blank=True)
    reply_html = models.TextField(blank=True, editable=False)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    replied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def has_reply(self) -> bool:
        return self.replied_at is not None


class Review(ShopReply):
    """A verified buyer's review of one item they bought: one per order item, once it shipped."""

    kind = "review"

    order_item = models.OneToOneField("orders.OrderItem", on_delete=models.CASCADE, related_name="review")
    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="reviews")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviews_written")
    shop = models.ForeignKey("sellers.Shop", on_delete=models.CASCADE, related_name="reviews")
    # The listing and the work it was a copy of when it was bought: the listing page shows the
    # reviews of every copy of the same work.
    listing = models.ForeignKey(
        "catalog.Listing", null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews"
    )
    work = models.ForeignKey("catalog.Work", null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews")
    item_title = models.CharField(max_length=255, help_text="The item as it was sold.")
    stars = models.PositiveSmallIntegerField(choices=STAR_CHOICES)
    title = models.CharField(max_length=MAX_TITLE_LENGTH)
    text = models.TextField(max_length=MAX_REVIEW_LENGTH, help_text="Markdown.")
    text_html = models.TextField(editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PUBLISHED)
    held_reason = models.CharField(max_length=200, blank=True, help_text="Why it was held before anyone saw it.")
    # Whether its stars are in the aggregates now (published); kept so that every change of
    # status adds or takes away exactly once.
    is_counted = models.BooleanField(default=False, editable=False)
    helpful_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    edited_at = models.DateTimeField(null=True, blank=True)
    editable_until = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [("moderate_review", "Can decide on held and reported reviews and ratings")]
        indexes = [
            models.Index(fields=["listing", "status", "-created_at"]),
            models.Index(fields=["work", "status", "-created_at"]),
            models.Index(fields=["shop", "status", "-created_at"]),
            models.Index(fields=["author", "-created_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=_stars_in_range("stars"), name="reviews_review_stars_1_to_5"),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="reviews_review_status_known"),
            models.CheckConstraint(condition=~Q(title="") & ~Q(text=""), name="reviews_review_has_title_and_text"),
            models.CheckConstraint(
                condition=Q(replied_at__isnull=True, reply_text="") | (Q(replied_at__isnull=False) & ~Q(reply_text="")),
                name="reviews_review_reply_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stars}★ “{self.title}” on {self.item_title}"

    def get_absolute_url(self) -> str:
        return reverse("reviews:review", kwargs={"pk": self.pk})

    @property
    def is_public(self) -> bool:
        return self.status == Status.PUBLISHED

    @property
    def subject_label(self) -> str:
        return self.item_title


class SellerRating(ShopReply):
    """A buyer's rating of the shop for one order, once it shipped.

    Double-blind with the shop's BuyerFeedback on the same order: neither is shown (nor counted)
    until both are written or the window closes (`revealed_at`)."""

    kind = "rating"

    order = models.OneToOneField("orders.Order", on_delete=models.CASCADE, related_name="seller_rating")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="seller_ratings_written"
    )
    shop = models.ForeignKey("sellers.Shop", on_delete=models.CASCADE, related_name="seller_ratings")
    overall = models.PositiveSmallIntegerField(choices=STAR_CHOICES)
    item_as_described = models.PositiveSmallIntegerField("item as described", choices=STAR_CHOICES)
    communication = models.PositiveSmallIntegerField(choices=STAR_CHOICES)
    shipping_speed = models.PositiveSmallIntegerField("shipping speed", choices=STAR_CHOICES)
    comment = models.TextField(max_length=MAX_COMMENT_LENGTH, blank=True, help_text="Markdown.")
    comment_html = models.TextField(blank=True, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PUBLISHED)
    held_reason = models.CharField(max_length=200, blank=True)
    # A repeat buyer's ratings of one shop count towards its score at most once a week.
    counts_towards_score = models.BooleanField(default=True)
    is_counted = models.BooleanField(default=False, editable=False)
    revealed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    edited_at = models.DateTimeField(null=True, blank=True)
    editable_until = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["shop", "status", "-created_at"]),
            models.Index(fields=["author", "shop", "-created_at"]),
            models.Index(
                fields=["created_at"], condition=Q(revealed_at__isnull=True), name="reviews_rating_unrevealed"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=_stars_in_range("overall", "item_as_described", "communication", "shipping_speed"),
                name="reviews_rating_stars_1_to_5",
            ),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="reviews_rating_status_known"),
            models.CheckConstraint(
                condition=Q(replied_at__isnull=True, reply_text="") | (Q(replied_at__isnull=False) & ~Q(reply_text="")),
                name="reviews_rating_reply_complete",
            ),
            models.CheckConstraint(
                condition=Q(is_counted=False) | Q(revealed_at__isnull=False, status="published"),
                name="reviews_rating_counted_only_when_public",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.overall}★ for {self.shop_id} on order {self.order_id}"

    def get_absolute_url(self) -> str:
        return reverse("reviews:rating", kwargs={"pk": self.pk})

    @property
    def is_public(self) -> bool:
        return self.status == Status.PUBLISHED and self.revealed_at is not None

    @property
    def subject_label(self) -> str:
        return f"order #{self.order_id}"

    # The text a moderator reads and the shop replies to.
    @property
    def text(self) -> str:
        return self.comment

    @property
    def text_html(self) -> str:
        return self.comment_html


class BuyerFeedback(models.Model):
    """The shop's feedback on the buyer of one order: positive or neutral, never negative, so
    that no buyer is punished for an honest review. Revealed together with the buyer's rating."""

    class Value(models.TextChoices):
        POSITIVE = "positive", "Positive"
        NEUTRAL = "neutral", "Neutral"

    order = models.OneToOneField("orders.Order", on_delete=models.CASCADE, related_name="buyer_feedback")
    shop = models.ForeignKey("sellers.Shop", on_delete=models.CASCADE, related_name="buyer_feedback_given")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feedback_received")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    value = models.CharField(max_length=10, choices=Value.choices)
    comment = models.CharField(max_length=MAX_FEEDBACK_LENGTH, blank=True)
    revealed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "buyer feedback"
        indexes = [
            models.Index(fields=["buyer", "value"], condition=Q(revealed_at__isnull=False), name="reviews_fb_public"),
            models.Index(
                fields=["created_at"], condition=Q(revealed_at__isnull=True), name="reviews_feedback_unrevealed"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(value__in=["positive", "neutral"]), name="reviews_feedback_never_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.value} feedback on order {self.order_id}"

    @property
    def is_public(self) -> bool:
        return self.revealed_at is not None


class Revision(models.Model):
    """A version of a review or rating that its author replaced: the edit history."""

    review = models.ForeignKey(Review, null=True, blank=True, on_delete=models.CASCADE, related_name="revisions")
    rating = models.ForeignKey(SellerRating, null=True, blank=True, on_delete=models.CASCADE, related_name="revisions")
    content = models.JSONField(help_text="The fields as they were.")
    written_at = models.DateTimeField(help_text="When this version had been written.")
    replaced_at = models.DateTimeField()

    class Meta:
        ordering = ["-replaced_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=_exactly_one("review", "rating"), name="reviews_revision_of_one"),
        ]

    def __str__(self) -> str:
        return f"revision of {'review ' + str(self.review_id) if self.review_id else 'rating ' + str(self.rating_id)}"


class HelpfulVote(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="helpful_votes")
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="helpful_votes")
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["voter", "-created_at"])]
        constraints = [models.UniqueConstraint(fields=["review", "voter"], name="reviews_one_vote_per_person")]

    def __str__(self) -> str:
        return f"{self.voter_id} found {self.review_id} helpful"


class FlagReason(models.TextChoices):
    SPAM = "spam", "Spam or advertising"
    ABUSIVE = "abusive", "Abusive or hateful"
    OFF_TOPIC = "off_topic", "Not about the item or the shop"
    FAKE = "fake", "Fake, paid for or by someone connected to the shop"
    PERSONAL = "personal", "Shares someone's personal information"
    OTHER = "other", "Something else"


class Flag(models.Model):
    """Someone's report of a review or rating to the moderators."""

    Reason = FlagReason

    review = models.ForeignKey(Review, null=True, blank=True, on_delete=models.CASCADE, related_name="flags")
    rating = models.ForeignKey(SellerRating, null=True, blank=True, on_delete=models.CASCADE, related_name="flags")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_flags")
    # One of the shop's people asked for it: a decision to keep it can be appealed by the shop.
    reporter_is_shop = models.BooleanField(default=False)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    note = models.CharField(max_length=MAX_NOTE_LENGTH, blank=True)
    created_at = models.DateTimeField()
    decision = models.ForeignKey(
        "ModerationDecision", null=True, blank=True, on_delete=models.SET_NULL, related_name="resolved_flags"
    )

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["reporter", "-created_at"]),
            models.Index(fields=["created_at"], condition=Q(decision__isnull=True), name="reviews_flag_open"),
        ]
        constraints = [
            models.CheckConstraint(condition=_exactly_one("review", "rating"), name="reviews_flag_of_one"),
            models.CheckConstraint(condition=Q(reason__in=FlagReason.values), name="reviews_flag_reason"),
            models.UniqueConstraint(
                fields=["review", "reporter"], condition=Q(review__isnull=False), name="reviews_flag_review_once"
            ),
            models.UniqueConstraint(
                fields=["rating", "reporter"], condition=Q(rating__isnull=False), name="reviews_flag_rating_once"
            ),
        ]

    def __str__(self) -> str:
        return f"flag ({self.reason}) by {self.reporter_id}"


class Outcome(models.TextChoices):
    KEEP = "keep", "Keep it published"
    HIDE = "hide", "Hide it"
    REMOVE = "remove", "Remove it"


class ModerationDecision(models.Model):
    """A moderator's decision on a review or rating, with who decided and why. A decision made
    on an appeal points at the appeal, and is final."""

    Outcome = Outcome

    review = models.ForeignKey(Review, null=True, blank=True, on_delete=models.CASCADE, related_name="decisions")
    rating = models.ForeignKey(SellerRating, null=True, blank=True, on_delete=models.CASCADE, related_name="decisions")
    moderator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    reason = models.TextField(max_length=MAX_REASON_LENGTH)
    previous_status = models.CharField(max_length=10, choices=Status.choices)
    appeal = models.OneToOneField(
        "Appeal", null=True, blank=True, on_delete=models.CASCADE, related_name="outcome_decision"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=_exactly_one("review", "rating"), name="reviews_decision_of_one"),
            models.CheckConstraint(condition=Q(outcome__in=["keep", "hide", "remove"]), name="reviews_outcome_known"),
            models.CheckConstraint(condition=~Q(reason=""), name="reviews_decision_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.outcome} by {self.moderator_id}"

    @property
    def subject(self):
        return self.review if self.review_id else self.rating

    @property
    def is_final(self) -> bool:
        return self.appeal_id is not None

    @property
    def result_label(self) -> str:
        return {"keep": "kept", "hide": "hidden", "remove": "removed"}[self.outcome]


class Appeal(models.Model):
    """An appeal against one decision, once, by its author (taken down) or by the shop (its
    report refused); decided by another moderator than the one who made the decision."""

    class Side(models.TextChoices):
        AUTHOR = "author", "The author"
        SHOP = "shop", "The shop"

    decision = models.OneToOneField(ModerationDecision, on_delete=models.CASCADE, related_name="appeal_against")
    appellant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_appeals")
    side = models.CharField(max_length=10, choices=Side.choices)
    statement = models.TextField(max_length=MAX_STATEMENT_LENGTH)
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["created_at"], condition=Q(decided_at__isnull=True), name="reviews_appeal_open")
        ]
        constraints = [models.CheckConstraint(condition=~Q(statement=""), name="reviews_appeal_has_statement")]

    def __str__(self) -> str:
        return f"appeal of decision {self.decision_id} by {self.appellant_id}"

    @property
    def is_open(self) -> bool:
        return self.decided_at is None


class RatingFigures(models.Model):
    """Counts and sums of counted seller ratings (what averages and distributions are made of)."""

    rating_count = models.PositiveIntegerField(default=0)
    rating_sum = models.PositiveIntegerField(default=0)
    star_1 = models.PositiveIntegerField(default=0)
    star_2 = models.PositiveIntegerField(default=0)
    star_3 = models.PositiveIntegerField(default=0)
    star_4 = models.PositiveIntegerField(default=0)
    star_5 = models.PositiveIntegerField(default=0)
    described_sum = models.PositiveIntegerField(default=0)
    communication_sum = models.PositiveIntegerField(default=0)
    shipping_sum = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


def default_score() -> Decimal:
    return Decimal(settings.REVIEWS_SCORE_PRIOR_MEAN)


class ShopRatingSummary(RatingFigures):
    """A shop's ratings of all time, its damped score for ranking, the reviews of its items and
    what moderation took down: updated with every change, read by every page."""

    shop = models.OneToOneField(
        "sellers.Shop", on_delete=models.CASCADE, primary_key=True, related_name="rating_summary"
    )
    # The Bayesian average: ratings pulled towards REVIEWS_SCORE_PRIOR_MEAN by
    # REVIEWS_SCORE_PRIOR_WEIGHT imaginary ratings, so that a few ratings cannot outrank many.
    score = models.DecimalField(max_digits=4, decimal_places=3, default=default_score)
    review_count = models.PositiveIntegerField(default=0)
    review_sum = models.PositiveIntegerField(default=0)
    held_count = models.PositiveIntegerField(default=0, help_text="Reviews and ratings ever held for moderation.")
    taken_down_count = models.PositiveIntegerField(default=0, help_text="Hidden or removed by moderators now.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "shop rating summaries"
        indexes = [models.Index(fields=["-score"])]

    def __str__(self) -> str:
        return f"ratings of {self.shop_id}"


class ShopRatingMonth(RatingFigures):
    """A shop's counted ratings written in one month: the last twelve make "the last 12 months"."""

    shop = models.ForeignKey("sellers.Shop", on_delete=models.CASCADE, related_name="rating_months")
    month = models.DateField(help_text="The first day of the month.")

    class Meta:
        ordering = ["shop", "-month"]
        constraints = [models.UniqueConstraint(fields=["shop", "month"], name="reviews_rating_month_once")]

    def __str__(self) -> str:
        return f"ratings of {self.shop_id} in {self.month:%Y-%m}"


class ReviewTally(models.Model):
    """The published reviews of one listing, or of every copy of one work."""

    listing = models.OneToOneField(
        "catalog.Listing", null=True, blank=True, on_delete=models.CASCADE, related_name="review_tally"
    )
    work = models.OneToOneField(
        "catalog.Work", null=True, blank=True, on_delete=models.CASCADE, related_name="review_tally"
    )
    review_count = models.PositiveIntegerField(default=0)
    star_sum = models.PositiveIntegerField(default=0)
    star_1 = models.PositiveIntegerField(default=0)
    star_2 = models.PositiveIntegerField(default=0)
    star_3 = models.PositiveIntegerField(default=0)
    star_4 = models.PositiveIntegerField(default=0)
    star_5 = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "review tallies"
        constraints = [models.CheckConstraint(condition=_exactly_one("listing", "work"), name="reviews_tally_of_one")]

    def __str__(self) -> str:
        return f"reviews of {'listing ' + str(self.listing_id) if self.listing_id else 'work ' + str(self.work_id)}"
