"""Follows, favourites, the activity people share (and with whom), and the counts behind
recommendations.

Who may see something is an Audience level. The levels nest, each including the ones
below it: everyone > my followers > people I follow back > only me. Activities and follows
carry the level that applies to them now (their owner's choice for that kind, capped by the
thing itself: a favourite in a private list stays private); social.services keeps these in
step whenever a choice changes, so a change applies to everything recorded before it too."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone


class Audience(models.IntegerChoices):
    ONLY_ME = 0, "Only me"
    FOLLOWED_BACK = 1, "People I follow back"
    FOLLOWERS = 2, "My followers"
    EVERYONE = 3, "Everyone"


AUDIENCE_RANGE = Q(audience__gte=Audience.ONLY_ME) & Q(audience__lte=Audience.EVERYONE)


class ActivityKind(models.TextChoices):
    FAVOURITED = "favourited", "Favourited something"
    TAGGED = "tagged", "Tagged a listing"
    REVIEWED = "reviewed", "Wrote a review"
    BOUGHT = "bought", "Bought something"
    OPENED_SHOP = "opened_shop", "Opened a shop"
    LISTED = "listed", "Listed something new in a shop"
    WANTED = "wanted", "Wrote a want"


class SharingSubject(models.TextChoices):
    """What a person chooses an audience for: each kind of activity, and their follows."""

    FAVOURITED = ActivityKind.FAVOURITED.value, "What I favourite"
    TAGGED = ActivityKind.TAGGED.value, "What I tag"
    REVIEWED = ActivityKind.REVIEWED.value, "The reviews I write"
    BOUGHT = ActivityKind.BOUGHT.value, "What I buy"
    OPENED_SHOP = ActivityKind.OPENED_SHOP.value, "Shops I open"
    LISTED = ActivityKind.LISTED.value, "What I list in my shops"
    WANTED = ActivityKind.WANTED.value, "The wants I write"
    FOLLOWS = "follows", "Whom I follow"


class SharingSettings(models.Model):
    """A person's current sharing decision. Until `sharing_since` is set (the person was shown
    what sharing means and chose), nothing they do is shown to anyone but themselves."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="sharing"
    )
    sharing_since = models.DateTimeField(null=True, blank=True)
    wording_version = models.CharField(max_length=20, blank=True)
    use_for_recommendations = models.BooleanField(
        default=True, help_text="Whether this person's views and purchases count in recommendations."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "sharing settings"

    def __str__(self) -> str:
        return f"sharing of {self.user_id}"

    @property
    def is_sharing(self) -> bool:
        return self.sharing_since is not None


class AudienceChoice(models.Model):
    """Who sees one kind of a person's activity. Rows exist only while the person shares."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="audience_choices")
    subject = models.CharField(max_length=20, choices=SharingSubject.choices)
    audience = models.PositiveSmallIntegerField(choices=Audience.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "subject"], name="social_one_choice_per_subject"),
            models.CheckConstraint(condition=AUDIENCE_RANGE, name="social_choice_audience_in_range"),
            models.CheckConstraint(condition=Q(subject__in=SharingSubject.values), name="social_choice_subject_known"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.subject} -> {self.get_audience_display()}"


class SharingConsent(models.Model):
    """The record of every sharing decision: what the person was shown (the wording's version),
    what they chose and when. Kept when they change their mind: it is the history."""

    class Decision(models.TextChoices):
        GIVEN = "given", "Chose what to share"
        WITHDRAWN = "withdrawn", "Stopped sharing"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sharing_consents")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    wording_version = models.CharField(max_length=20)
    audiences = models.JSONField(default=dict, blank=True, help_text="subject -> audience level chosen")
    use_for_recommendations = models.BooleanField()
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-decided_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.user_id} {self.decision} at {self.decided_at:%Y-%m-%d %H:%M}"


class Follow(models.Model):
    """`follower` follows a person or a shop. `audience` is who may see that they do (the
    follower's choice for "follows"); the person followed always sees their own followers."""

    follower = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="followers"
    )
    shop = models.ForeignKey("sellers.Shop", null=True, blank=True, on_delete=models.CASCADE, related_name="followers")
    audience = models.PositiveSmallIntegerField(choices=Audience.choices, default=Audience.ONLY_ME)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(person__isnull=False) & Q(shop__isnull=True))
                | (Q(person__isnull=True) & Q(shop__isnull=False)),
                name="social_follow_one_person_or_shop",
            ),
            models.CheckConstraint(condition=~Q(follower=models.F("person")), name="social_follow_not_oneself"),
            models.CheckConstraint(condition=AUDIENCE_RANGE, name="social_follow_audience_in_range"),
            models.UniqueConstraint(
                fields=["follower", "person"], condition=Q(person__isnull=False), name="social_follow_person_once"
            ),
            models.UniqueConstraint(
                fields=["follower", "shop"], condition=Q(shop__isnull=False), name="social_follow_shop_once"
            ),
        ]
        indexes = [
            models.Index(fields=["person", "-created_at"], name="social_follow_of_person"),
            models.Index(fields=["shop", "-created_at"], name="social_follow_of_shop"),
        ]

    def __str__(self) -> str:
        followed = f"person {self.person_id}" if self.person_id else f"shop {self.shop_id}"
        return f"{self.follower_id} follows {followed}"


class ListVisibility(models.IntegerChoices):
    """Who sees a favourites list: the same levels as activity (so the two can be compared)."""

    PRIVATE = Audience.ONLY_ME, "Private: only me"
    FOLLOWERS = Audience.FOLLOWERS, "My followers"
    PUBLIC = Audience.EVERYONE, "Everyone"


class FavouriteList(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favourite_lists")
    name = models.CharField(max_length=80)
    visibility = models.PositiveSmallIntegerField(choices=ListVisibility.choices, default=ListVisibility.PRIVATE)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint("owner", Lower("name"), name="social_list_name_unique_per_owner"),
            models.CheckConstraint(condition=Q(visibility__in=ListVisibility.values), name="social_list_visibility"),
            models.CheckConstraint(condition=~Q(name=""), name="social_list_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("social:favourite_list", kwargs={"pk": self.pk})


class Favourite(models.Model):
    """A listing or a shop saved to one of a person's lists."""

    favourite_list = models.ForeignKey(FavouriteList, on_delete=models.CASCADE, related_name="items")
    listing = models.ForeignKey(
        "catalog.Listing", null=True, blank=True, on_delete=models.CASCADE, related_name="favourites"
    )
    shop = models.ForeignKey("sellers.Shop", null=True, blank=True, on_delete=models.CASCADE, related_name="favourites")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(listing__isnull=False) & Q(shop__isnull=True))
                | (Q(listing__isnull=True) & Q(shop__isnull=False)),
                name="social_favourite_one_listing_or_shop",
            ),
            models.UniqueConstraint(
                fields=["favourite_list", "listing"],
                condition=Q(listing__isnull=False),
                name="social_favourite_listing_once_per_list",
            ),
            models.UniqueConstraint(
                fields=["favourite_list", "shop"],
                condition=Q(shop__isnull=False),
                name="social_favourite_shop_once_per_list",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.listing_id or self.shop_id} in list {self.favourite_list_id}"


class Activity(models.Model):
    """Something a person did, shown to the audience they chose for its kind.

    `ceiling` is the most the thing itself allows (a favourite in a private list, a private
    want: only me) and `audience` what applies now: the owner's choice for the kind, never
    above the ceiling, and only me until the person chose to share at all. The rows that
    made it (favourite, want, tag application) take it along when they go; withdrawing an
    activity deletes it, so it leaves every feed at once."""

    # No index of its own: the composite indexes below start with it and keep each person's
    # activity in feed order, which a plain index would make the planner sort instead.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="activities", db_index=False
    )
    kind = models.CharField(max_length=20, choices=ActivityKind.choices)
    audience = models.PositiveSmallIntegerField(choices=Audience.choices, default=Audience.ONLY_ME)
    ceiling = models.PositiveSmallIntegerField(choices=Audience.choices, default=Audience.EVERYONE)
    created_at = models.DateTimeField(default=timezone.now)
    listing = models.ForeignKey(
        "catalog.Listing", null=True, blank=True, on_delete=models.CASCADE, related_name="activities"
    )
    shop = models.ForeignKey("sellers.Shop", null=True, blank=True, on_delete=models.CASCADE, related_name="activities")
    work = models.ForeignKey("catalog.Work", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    favourite = models.ForeignKey(Favourite, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    want = models.ForeignKey("catalog.Want", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    tag_application = models.ForeignKey(
        "catalog.TaggedListing", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # Anything else the activity is about (a review): found again by activities_remove_for.
    target_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    target_id = models.CharField(max_length=40, blank=True)

    class Meta:
        verbose_name_plural = "activities"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=AUDIENCE_RANGE, name="social_activity_audience_in_range"),
            models.CheckConstraint(
                condition=Q(ceiling__gte=Audience.ONLY_ME) & Q(ceiling__lte=Audience.EVERYONE),
                name="social_activity_ceiling_in_range",
            ),
            models.CheckConstraint(
                condition=Q(audience__lte=models.F("ceiling")), name="social_activity_audience_under_ceiling"
            ),
            models.CheckConstraint(condition=Q(kind__in=ActivityKind.values), name="social_activity_kind_known"),
        ]
        indexes = [
            # A person's own log and profile; updating their audience per kind.
            models.Index(fields=["actor", "kind", "-created_at"], name="social_activity_by_actor_kind"),
            models.Index(fields=["actor", "-created_at", "-id"], name="social_activity_by_actor"),
            # The feed reads each followed person's shared activity newest first (see selectors).
            models.Index(
                fields=["actor", "-created_at", "-id"],
                condition=Q(audience__gte=Audience.FOLLOWED_BACK),
                name="social_activity_shared",
            ),
            # What a followed shop listed.
            models.Index(
                fields=["shop", "-created_at", "-id"], condition=Q(kind="listed"), name="social_activity_shop_listed"
            ),
            # Everyone's public activity, and nearby.
            models.Index(
                fields=["-created_at", "-id"], condition=Q(audience=Audience.EVERYONE), name="social_activity_public"
            ),
            models.Index(fields=["target_type", "target_id"], name="social_activity_target"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_id} {self.kind} at {self.created_at:%Y-%m-%d %H:%M}"


class ListingEvent(models.Model):
    """The outbox of what happened to a listing that other people hear of: it came on sale,
    or its price dropped. Written in the transaction of the change (catalog.services calls
    social.services); a task then tells the shop's followers, the people who favourited it and
    the wants it matches, in batches whose progress is kept here so a retried or duplicated
    task carries on where the last one stopped, and tells nobody twice."""

    class Kind(models.TextChoices):
        ON_SALE = "on_sale", "Came on sale"
        PRICE_DROPPED = "price_dropped", "Price dropped"

    class Stage(models.TextChoices):
        PEOPLE = "people", "Telling followers or favouriters"
        WANTS = "wants", "Matching want lists"
        DONE = "done", "Done"

    listing = models.ForeignKey("catalog.Listing", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    is_new = models.BooleanField(
        default=False, help_text="On sale for the first time: its shop's followers hear of it."
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    old_price = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    new_price = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # How far the task got: who it is telling now, and the last person (user id) told.
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.PEOPLE)
    told_through = models.BigIntegerField(default=0)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["created_at"], condition=Q(done_at__isnull=True), name="social_event_pending")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="price_dropped") | Q(old_price__gt=models.F("new_price")),
                name="social_event_price_drop_is_lower",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of listing {self.listing_id}"


# --- Recommendations ------------------------------------------------------------------------------


class RecommendationItem(models.Model):
    """What recommendations are about: a work (every copy of it) or, for a listing that is no
    copy of a known work, the listing itself."""

    work = models.OneToOneField(
        "catalog.Work", null=True, blank=True, on_delete=models.CASCADE, related_name="recommendation_item"
    )
    listing = models.OneToOneField(
        "catalog.Listing", null=True, blank=True, on_delete=models.CASCADE, related_name="recommendation_item"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(work__isnull=False) & Q(listing__isnull=True))
                | (Q(work__isnull=True) & Q(listing__isnull=False)),
                name="social_item_work_or_listing",
            ),
        ]

    def __str__(self) -> str:
        return f"work {self.work_id}" if self.work_id else f"listing {self.listing_id}"


class RecommendationEvent(models.Model):
    """A view or a purchase waiting to be counted (the outbox the recommendations task drains)."""

    class Kind(models.TextChoices):
        VIEW = "view", "Looked at"
        PURCHASE = "purchase", "Bought"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    listing = models.ForeignKey("catalog.Listing", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    work = models.ForeignKey("catalog.Work", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(listing__isnull=False) | Q(work__isnull=False), name="social_event_about_something"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.listing_id or self.work_id}"


class PersonItem(models.Model):
    """That one person looked at and/or bought an item: each counted once, however often it
    happened. `view_number` and `purchase_number` number the person's items in the order they
    were counted, which decides the pairs each took part in (see social.recommendations)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(RecommendationItem, on_delete=models.CASCADE, related_name="people")
    view_number = models.PositiveIntegerField(null=True, blank=True)
    viewed_at = models.DateTimeField(null=True, blank=True)
    purchase_number = models.PositiveIntegerField(null=True, blank=True)
    bought_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "item"], name="social_person_item_once"),
            # Buying counts as looking: "N% of those who looked bought it" never passes 100%.
            models.CheckConstraint(
                condition=Q(purchase_number__isnull=True) | Q(view_number__isnull=False),
                name="social_person_item_bought_was_viewed",
            ),
        ]
        indexes = [
            models.Index(fields=["item", "user"], name="social_person_item_by_item"),
            models.Index(fields=["user", "view_number"], name="social_person_item_views"),
            models.Index(fields=["user", "purchase_number"], name="social_person_item_purchases"),
            models.Index(fields=["viewed_at"], name="social_person_item_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} and {self.item_id}"


class ItemPair(models.Model):
    """How many people looked at (and bought) both items: kept in both directions."""

    item = models.ForeignKey(RecommendationItem, on_delete=models.CASCADE, related_name="pairs")
    other = models.ForeignKey(RecommendationItem, on_delete=models.CASCADE, related_name="+")
    viewers = models.IntegerField(default=0)
    buyers = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "other"], name="social_pair_once"),
            models.CheckConstraint(condition=~Q(item=models.F("other")), name="social_pair_two_items"),
            models.CheckConstraint(condition=Q(viewers__gte=0) & Q(buyers__gte=0), name="social_pair_counts"),
        ]
        indexes = [
            models.Index(fields=["item", "-viewers"], name="social_pair_by_viewers"),
            models.Index(fields=["item", "-buyers"], name="social_pair_by_buyers"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id} & {self.other_id}: {self.viewers} viewers, {self.buyers} buyers"


class ItemStats(models.Model):
    item = models.OneToOneField(RecommendationItem, primary_key=True, on_delete=models.CASCADE, related_name="stats")
    viewers = models.IntegerField(default=0)
    buyers = models.IntegerField(default=0)

    class Meta:
        verbose_name_plural = "item stats"
        constraints = [
            models.CheckConstraint(
                condition=Q(viewers__gte=0) & Q(buyers__gte=0) & Q(buyers__lte=models.F("viewers")),
                name="social_stats_counts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.buyers} of {self.viewers} bought"


class RecommendationsState(models.Model):
    """One row: the lock every change to the counts takes, so two runs of the task (a broker
    may deliver one twice) or an opt-out never count the same person's items at once."""

    counted_events = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(null=True, blank=True)
    trending_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.counted_events} events counted"


class TrendingEntry(models.Model):
    """What is trending on the "everyone" view, recomputed by the recommendations task."""

    class Kind(models.TextChoices):
        ITEM = "item", "Listing or work"
        TAG = "tag", "Tag"
        SHOP = "shop", "Shop"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    rank = models.PositiveSmallIntegerField()
    item = models.ForeignKey(RecommendationItem, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    tag = models.ForeignKey("catalog.Tag", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    shop = models.ForeignKey("sellers.Shop", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    people = models.PositiveIntegerField(help_text="How many people it drew over the trending window.")

    class Meta:
        ordering = ["kind", "rank"]
        constraints = [models.UniqueConstraint(fields=["kind", "rank"], name="social_trending_rank_once")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.rank}"
