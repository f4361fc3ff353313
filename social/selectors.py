"""Reads of the social layer: who sees which activity, the feeds, follows, favourites.

Who may see an activity (or a follow): everyone, for "everyone"; the owner's followers, for
"my followers"; those of their followers they follow back, for "people I follow back"; and
always the owner. `visible_to` is that rule as a query; the PostgreSQL feed below is the
same rule written for its plan.

The feed: fan-out on read, not on write. A followed person's activity is never copied into
their followers' timelines; each feed request reads, for each person and shop followed, that
source's newest activity the viewer may see, and merges them. Why:
- audiences change after the fact (a new choice applies to past activity, a list is made
  private, an activity is withdrawn, consent is withdrawn): with copies in timelines every
  such change would have to find and rewrite the copies of tens of thousands of followers,
  and a feed could show something its owner took back until it had. Reading at request time
  always applies the rules as they are now.
- a shop with tens of thousands of followers costs nothing extra when it lists something:
  its listing is one row, read by each follower's feed through an index. (The shop.listed
  notifications it sends are a separate, batched write done by a task: social.services.)
- an account following thousands stays fast because the PostgreSQL query reads each
  followed source with a LATERAL join and a LIMIT, walking that source's partial index
  (social_activity_shared: shared activity by actor, newest first) for at most one page of
  rows, and merges them. Its cost grows with the number of sources read but not with how
  much each of them ever did: following 2,000 people with 200 activities each (400,000
  rows), a page took 68 ms here against 240 ms for the same feed as one IN (...) query
  (PERFORMANCE.md measured the same shape for shops: 8.7 ms against 87 ms).
SQLite (the embedded default) runs the same rule as one ORM query: small data.
"""

import base64
import binascii
import datetime
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from catalog.models import Listing
from catalog.selectors import PUBLIC_STATUSES

from .models import (
    Activity,
    ActivityKind,
    Audience,
    AudienceChoice,
    Favourite,
    FavouriteList,
    Follow,
    ListVisibility,
    SharingConsent,
    SharingSettings,
)

FEED_PAGE_SIZE = 20
PROFILE_ACTIVITY_COUNT = 10


def _signed_in(user) -> bool:
    return user is not None and user.is_authenticated


# --- Who may see what --------------------------------------------------------------------------


def audience_q(*, viewer, owner_field: str, audience_field: str = "audience") -> Q:
    """Rows whose audience lets `viewer` see them, the owner being at `owner_field`."""
    if not _signed_in(viewer):
        return Q(**{audience_field: Audience.EVERYONE})
    viewer_follows_owner = Follow.objects.filter(follower_id=viewer.pk, person_id=OuterRef(owner_field))
    owner_follows_viewer = Follow.objects.filter(follower_id=OuterRef(owner_field), person_id=viewer.pk)
    return (
        Q(**{owner_field: viewer.pk})
        | Q(**{audience_field: Audience.EVERYONE})
        | (Q(**{audience_field: Audience.FOLLOWERS}) & Exists(viewer_follows_owner))
        | (Q(**{audience_field: Audience.FOLLOWED_BACK}) & Exists(viewer_follows_owner) & Exists(owner_follows_viewer))
    )


def _shown_targets() -> Q:
    """Activities whose subject can be shown: listings still for sale (or sold out), tags
    not hidden by a moderator, and people whose account is open."""
    return (
        (Q(listing__isnull=True) | Q(listing__status__in=PUBLIC_STATUSES))
        & (Q(tag_application__isnull=True) | Q(tag_application__tag__is_hidden=False))
        & Q(actor__is_active=True)
    )


def visible_to(viewer) -> Q:
    """The activities `viewer` (anyone, signed in or not) may see."""
    return audience_q(viewer=viewer, owner_field="actor_id") & _shown_targets()


def shares_with(*, person, viewer, subject: str) -> bool:
    """Whether `person`'s choice for `subject` includes `viewer` (one query; none for oneself).
    For what is shown whole rather than activity by activity: a person's tag index."""
    if _signed_in(viewer) and viewer.pk == person.pk:
        return True
    choices = AudienceChoice.objects.filter(user_id=person.pk, subject=subject)
    if not _signed_in(viewer):
        return choices.filter(audience=Audience.EVERYONE).exists()
    row = (
        choices.annotate(
            viewer_follows=Exists(Follow.objects.filter(follower_id=viewer.pk, person_id=person.pk)),
            followed_back=Exists(Follow.objects.filter(follower_id=person.pk, person_id=viewer.pk)),
        )
        .values_list("audience", "viewer_follows", "followed_back")
        .first()
    )
    if row is None:
        return False
    audience, viewer_follows, followed_back = row
    return (
        audience == Audience.EVERYONE
        or (audience == Audience.FOLLOWERS and viewer_follows)
        or (audience == Audience.FOLLOWED_BACK and viewer_follows and followed_back)
    )


def activities_for_display(ids) -> list[Activity]:
    """The activities with these ids, newest first, with everything a card shows (one query)."""
    return list(
        Activity.objects.filter(pk__in=list(ids))
        .select_related(
            "actor",
            "listing__shop",
            "listing__condition",
            "shop",
            "work",
            "want__work",
            "tag_application__tag",
            "favourite__favourite_list",
        )
        .order_by("-created_at", "-pk")
    )


# --- Cursors ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """Where a page of newest-first activity stopped: everything older comes next."""

    created_at: datetime.datetime
    pk: int

    def encode(self) -> str:
        raw = f"{self.created_at.isoformat()}|{self.pk}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str | None) -> "Cursor | None":
        """None for no cursor; ValueError for one that is not ours."""
        if not text:
            return None
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            stamp, pk = raw.split("|")
            created_at = datetime.datetime.fromisoformat(stamp)
            if timezone.is_naive(created_at):
                raise ValueError("naive")
            return cls(created_at=created_at, pk=int(pk))
        except (ValueError, binascii.Error, UnicodeDecodeError) as error:
            raise ValueError("This link to older activity is not valid.") from error


def _older_than(cursor: Cursor | None) -> Q:
    if cursor is None:
        return Q()
    return Q(created_at__lt=cursor.created_at) | Q(created_at=cursor.created_at, pk__lt=cursor.pk)


@dataclass
class FeedPage:
    activities: list[Activity]
    next_cursor: Cursor | None

    @property
    def next(self) -> str | None:
        return self.next_cursor.encode() if self.next_cursor else None


def _page(ids: list[int], rows_wanted: int, fetched: list[tuple[int, datetime.datetime]]) -> FeedPage:
    activities = activities_for_display(ids[:rows_wanted])
    more = len(fetched) > rows_wanted
    last = activities[-1] if activities and more else None
    return FeedPage(activities=activities, next_cursor=Cursor(last.created_at, last.pk) if last else None)


def _page_of(queryset: QuerySet[Activity], *, cursor: Cursor | None, size: int) -> FeedPage:
    """A newest-first page of `queryset`: two queries (the ids, then the activities)."""
    fetched = list(
        queryset.filter(_older_than(cursor)).order_by("-created_at", "-pk").values_list("pk", "created_at")[: size + 1]
    )
    return _page([pk for pk, _ in fetched], size, fetched)


# --- The feed ----------------------------------------------------------------------------------------

# What each followed person shared, and what each followed shop listed, newest first: the
# same conditions serve the cutoff below and the feed itself.
_FROM_PERSON = """
        SELECT a.id, a.created_at FROM social_activity a
        LEFT JOIN catalog_listing l ON l.id = a.listing_id
        LEFT JOIN catalog_taggedlisting ta ON ta.id = a.tag_application_id
        LEFT JOIN catalog_tag t ON t.id = ta.tag_id
        WHERE a.actor_id = people.person_id
          AND a.audience >= 1
          AND a.audience >= CASE WHEN people.follows_back THEN 1 ELSE 2 END
          AND (a.listing_id IS NULL OR l.status = ANY(%(public_statuses)s))
          AND (a.tag_application_id IS NULL OR NOT t.is_hidden)
          {kinds} {older} {since}
        ORDER BY a.created_at DESC, a.id DESC
        LIMIT {limit}
"""
_FROM_SHOP = """
        SELECT a.id, a.created_at FROM social_activity a
        JOIN catalog_listing l ON l.id = a.listing_id
        WHERE a.shop_id = shops.shop_id AND a.kind = 'listed' AND l.status = ANY(%(public_statuses)s)
          {kinds} {older} {since}
        ORDER BY a.created_at DESC, a.id DESC
        LIMIT {limit}
"""
# Fan-out on read with a cutoff. With thousands of sources, taking each one's newest page
# (LIMIT rows per source) reads tens of thousands of rows to keep one page. First each
# source's single newest entry is read; the rows-th newest of those (the cutoff) is no newer
# than the page's last entry, because those rows sources each have an entry at least that
# new. So the page is made of entries at or after the cutoff only, and most sources then
# have none: about two index probes per source instead of a page of rows from each. (UNION:
# an entry that two sources share, a shop's listing by its followed owner, counts once.)
_SINCE_CUTOFF = "AND a.created_at >= (SELECT at FROM cutoff)"
_FEED_SQL = """
WITH people AS (
    SELECT f.person_id,
           f.person_id IN (SELECT back.follower_id FROM social_follow back WHERE back.person_id = %(viewer)s)
               AS follows_back
    FROM social_follow f
    JOIN accounts_user u ON u.id = f.person_id AND u.is_active
    WHERE f.follower_id = %(viewer)s AND f.person_id IS NOT NULL
),
shops AS (
    SELECT f.shop_id FROM social_follow f WHERE f.follower_id = %(viewer)s AND f.shop_id IS NOT NULL
),
newest AS (
    SELECT first.id, first.created_at FROM people CROSS JOIN LATERAL ({person_first}) first
    UNION
    SELECT first.id, first.created_at FROM shops CROSS JOIN LATERAL ({shop_first}) first
),
cutoff AS (
    SELECT COALESCE(
        (SELECT created_at FROM newest ORDER BY created_at DESC LIMIT 1 OFFSET %(cutoff_offset)s),
        '-infinity'::timestamptz
    ) AS at
)
SELECT id, created_at FROM (
    (SELECT shared.id, shared.created_at FROM people CROSS JOIN LATERAL ({person_page}) shared
    ORDER BY shared.created_at DESC, shared.id DESC
    LIMIT %(rows)s)
    UNION
    (SELECT listed.id, listed.created_at FROM shops CROSS JOIN LATERAL ({shop_page}) listed
    ORDER BY listed.created_at DESC, listed.id DESC
    LIMIT %(rows)s)
) feed
ORDER BY created_at DESC, id DESC
LIMIT %(rows)s
"""


def _following_ids_postgresql(*, viewer, cursor: Cursor | None, rows: int, kinds: list[str] | None):
    params: dict = {
        "viewer": viewer.pk,
        "rows": rows,
        "cutoff_offset": rows - 1,
        "public_statuses": [str(status) for status in PUBLIC_STATUSES],
    }
    older = kinds_sql = ""
    if cursor is not None:
        older = "AND (a.created_at, a.id) < (%(before_at)s, %(before_id)s)"
        params |= {"before_at": cursor.created_at, "before_id": cursor.pk}
    if kinds:
        kinds_sql = "AND a.kind = ANY(%(kinds)s)"
        params["kinds"] = [str(kind) for kind in kinds]
    # Only the two fragments above (constants) are put into the SQL; every value is a parameter.
    parts = {"kinds": kinds_sql, "older": older}
    sql = _FEED_SQL.format(
        person_first=_FROM_PERSON.format(**parts, since="", limit="1"),
        shop_first=_FROM_SHOP.format(**parts, since="", limit="1"),
        person_page=_FROM_PERSON.format(**parts, since=_SINCE_CUTOFF, limit="%(rows)s"),
        shop_page=_FROM_SHOP.format(**parts, since=_SINCE_CUTOFF, limit="%(rows)s"),
    )
    with connection.cursor() as db:
        # One round trip, one transaction: with thousands of sources the planner's estimate passes
        # jit_above_cost, and compiling the plan costs more than running it (measured: 60 ms of
        # JIT on a 70 ms feed), so JIT is switched off for this statement only.
        db.execute(f"SET LOCAL jit = off; {sql}", params)
        db.nextset()
        return db.fetchall()


def _following_queryset(*, viewer, kinds: list[str] | None) -> QuerySet[Activity]:
    follows = Follow.objects.filter(follower_id=viewer.pk)
    people = follows.filter(person__isnull=False, person__is_active=True).values("person_id")
    followed_back = follows.filter(person__isnull=False, person__follows__person_id=viewer.pk).values("person_id")
    shops = follows.filter(shop__isnull=False).values("shop_id")
    from_people = (
        Q(actor_id__in=people)
        & (Q(audience__gte=Audience.FOLLOWERS) | Q(audience=Audience.FOLLOWED_BACK, actor_id__in=followed_back))
        & _shown_targets()
    )
    from_shops = Q(kind=ActivityKind.LISTED, shop_id__in=shops, listing__status__in=PUBLIC_STATUSES)
    activities = Activity.objects.filter(from_people | from_shops)
    return activities.filter(kind__in=kinds) if kinds else activities


def following_feed(*, viewer, cursor: Cursor | None = None, size: int = FEED_PAGE_SIZE, kinds=None) -> FeedPage:
    """What the people and shops `viewer` follows did that `viewer` may see, newest first:
    the people's activity within its audience, and the shops' new listings. Two queries."""
    kinds = list(kinds) if kinds else None
    if connection.vendor == "postgresql":
        fetched = _following_ids_postgresql(viewer=viewer, cursor=cursor, rows=size + 1, kinds=kinds)
        return _page([pk for pk, _ in fetched], size, fetched)
    return _page_of(_following_queryset(viewer=viewer, kinds=kinds), cursor=cursor, size=size)


class Nearby:
    COUNTRY = "country"
    CITY = "city"
    CHOICES = [(COUNTRY, "My country"), (CITY, "My town or city")]


def nearby_feed(*, viewer, within: str = Nearby.COUNTRY, cursor: Cursor | None = None, size: int = FEED_PAGE_SIZE):
    """What people in `viewer`'s country (or town) did that `viewer` may see, newest first;
    empty while `viewer` has not said where they are."""
    if not viewer.country or (within == Nearby.CITY and not viewer.city):
        return FeedPage(activities=[], next_cursor=None)
    place = Q(actor__country=viewer.country.code)
    if within == Nearby.CITY:
        place &= Q(actor__city__iexact=viewer.city)
    activities = Activity.objects.filter(place & visible_to(viewer)).exclude(actor_id=viewer.pk)
    return _page_of(activities, cursor=cursor, size=size)


def everyone_feed(*, cursor: Cursor | None = None, size: int = FEED_PAGE_SIZE) -> FeedPage:
    """Everything shared with everyone, newest first (the public activity index)."""
    activities = Activity.objects.filter(audience=Audience.EVERYONE).filter(_shown_targets())
    return _page_of(activities, cursor=cursor, size=size)


def person_activity(*, person, viewer, cursor: Cursor | None = None, size: int = PROFILE_ACTIVITY_COUNT) -> FeedPage:
    """What `person` did that `viewer` may see (all of it, for themselves)."""
    activities = Activity.objects.filter(actor_id=person.pk).filter(visible_to(viewer))
    return _page_of(activities, cursor=cursor, size=size)


def own_activity(*, user, cursor: Cursor | None = None, size: int = FEED_PAGE_SIZE) -> FeedPage:
    """Everything `user` did, whoever sees it, to review and withdraw."""
    return _page_of(Activity.objects.filter(actor_id=user.pk), cursor=cursor, size=size)


# --- Sharing -------------------------------------------------------------------------------------------


@dataclass
class SharingState:
    settings: SharingSettings | None
    audiences: dict[str, int]
    history: list[SharingConsent]

    @property
    def is_sharing(self) -> bool:
        return self.settings is not None and self.settings.is_sharing

    @property
    def has_chosen(self) -> bool:
        return bool(self.history)

    @property
    def use_for_recommendations(self) -> bool:
        return True if self.settings is None else self.settings.use_for_recommendations


def sharing_state(*, user, history: int = 10) -> SharingState:
    """What `user` chose (three queries): their settings, audiences and latest decisions."""
    settings_row = SharingSettings.objects.filter(user_id=user.pk).first()
    audiences = dict(AudienceChoice.objects.filter(user_id=user.pk).values_list("subject", "audience"))
    decisions = list(SharingConsent.objects.filter(user_id=user.pk).order_by("-decided_at", "-pk")[:history])
    return SharingState(settings=settings_row, audiences=audiences, history=decisions)


def has_chosen_sharing(*, user) -> bool:
    return SharingConsent.objects.filter(user_id=user.pk).exists()


def shop_by_slug(*, slug: str):
    from sellers.models import Shop

    found = Shop.objects.filter(slug=str(slug)[:60]).first()
    if found is None:
        raise Http404("No such shop.")
    return found


# --- Follows ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FollowSummary:
    followers: int
    following: int
    viewer_follows: bool
    follows_viewer: bool


def person_follow_summary(*, person, viewer) -> FollowSummary:
    """Counts of `person`'s followers and follows, and how they and `viewer` follow each other (one query)."""
    viewer_id = viewer.pk if _signed_in(viewer) else None
    counts = Follow.objects.filter(Q(person_id=person.pk) | Q(follower_id=person.pk)).aggregate(
        followers=Count("pk", filter=Q(person_id=person.pk)),
        following=Count("pk", filter=Q(follower_id=person.pk)),
        viewer_follows=Count("pk", filter=Q(person_id=person.pk, follower_id=viewer_id)),
        follows_viewer=Count("pk", filter=Q(follower_id=person.pk, person_id=viewer_id)),
    )
    return FollowSummary(
        followers=counts["followers"],
        following=counts["following"],
        viewer_follows=bool(counts["viewer_follows"]),
        follows_viewer=bool(counts["follows_viewer"]),
    )


def shop_follow_summary(*, shop, viewer) -> FollowSummary:
    """How many follow `shop`, and whether `viewer` does (one query)."""
    viewer_id = viewer.pk if _signed_in(viewer) else None
    counts = Follow.objects.filter(shop_id=shop.pk).aggregate(
        followers=Count("pk"), viewer_follows=Count("pk", filter=Q(follower_id=viewer_id))
    )
    return FollowSummary(
        followers=counts["followers"], following=0, viewer_follows=bool(counts["viewer_follows"]), follows_viewer=False
    )


def followers_of(*, viewer, person=None, shop=None) -> QuerySet[Follow]:
    """The follows of `person` (or `shop`) that `viewer` may see, newest first: each
    follower's choice for "follows" decides; a person always sees all their own followers."""
    follows = Follow.objects.filter(follower__is_active=True).select_related("follower")
    if person is not None:
        follows = follows.filter(person_id=person.pk)
        if _signed_in(viewer) and viewer.pk == person.pk:
            return follows.order_by("-created_at", "-pk")
    else:
        follows = follows.filter(shop_id=shop.pk)
    return follows.filter(audience_q(viewer=viewer, owner_field="follower_id")).order_by("-created_at", "-pk")


def following_of(*, viewer, person) -> QuerySet[Follow]:
    """Whom `person` follows (people and shops), as far as their choice for "follows" lets `viewer` see."""
    follows = (
        Follow.objects.filter(follower_id=person.pk)
        .filter(Q(person__isnull=True) | Q(person__is_active=True))
        .select_related("person", "shop")
    )
    return follows.filter(audience_q(viewer=viewer, owner_field="follower_id")).order_by("-created_at", "-pk")


def is_following(*, follower, person=None, shop=None) -> bool:
    target = {"person_id": person.pk} if person is not None else {"shop_id": shop.pk}
    return Follow.objects.filter(follower_id=follower.pk, **target).exists()


# --- Favourites -----------------------------------------------------------------------------------------


def list_visible_q(*, viewer) -> Q:
    """Favourite lists `viewer` may see (the list's visibility is its owner's audience)."""
    if not _signed_in(viewer):
        return Q(visibility=ListVisibility.PUBLIC)
    owner_followed = Follow.objects.filter(follower_id=viewer.pk, person_id=OuterRef("owner_id"))
    return (
        Q(owner_id=viewer.pk)
        | Q(visibility=ListVisibility.PUBLIC)
        | (Q(visibility=ListVisibility.FOLLOWERS) & Exists(owner_followed))
    )


def lists_of(*, owner, viewer) -> QuerySet[FavouriteList]:
    """`owner`'s lists that `viewer` may see, each with `item_count` (one query)."""
    return (
        FavouriteList.objects.filter(owner_id=owner.pk)
        .filter(list_visible_q(viewer=viewer))
        .annotate(item_count=Count("items"))
        .order_by("name", "pk")
    )


def access_favourite_list(*, viewer, pk) -> FavouriteList:
    """The list `pk` if `viewer` may see it; Http404 for everyone else (a private list cannot
    be told from one that does not exist)."""
    found = (
        FavouriteList.objects.filter(pk=pk, owner__is_active=True)
        .filter(list_visible_q(viewer=viewer))
        .select_related("owner")
        .first()
        if str(pk).isdigit()
        else None
    )
    if found is None:
        raise Http404("No such list.")
    return found


def access_own_list(*, user, pk) -> FavouriteList:
    found = (
        FavouriteList.objects.filter(pk=pk, owner_id=user.pk).first()
        if str(pk).isdigit() and _signed_in(user)
        else None
    )
    if found is None:
        raise Http404("No such list.")
    return found


def list_items(*, favourite_list: FavouriteList, viewer) -> QuerySet[Favourite]:
    """What is saved in the list, newest first, with listing (and its shop) or shop: one query.
    Listings not for sale now (drafts, paused) are shown to the list's owner only."""
    items = favourite_list.items.select_related("listing__shop", "listing__condition", "shop")
    if not (_signed_in(viewer) and viewer.pk == favourite_list.owner_id):
        items = items.filter(Q(listing__isnull=True) | Q(listing__status__in=PUBLIC_STATUSES))
    return items.order_by("-created_at", "-pk")


def access_own_favourite(*, user, pk) -> Favourite:
    found = (
        Favourite.objects.filter(pk=pk, favourite_list__owner_id=user.pk).select_related("favourite_list").first()
        if str(pk).isdigit() and _signed_in(user)
        else None
    )
    if found is None:
        raise Http404("No such favourite.")
    return found


@dataclass(frozen=True)
class ListChoice:
    favourite_list: FavouriteList
    favourite_id: int | None

    @property
    def contains(self) -> bool:
        return self.favourite_id is not None


def favourite_choices(*, viewer, listing: Listing | None = None, shop=None) -> list[ListChoice]:
    """`viewer`'s lists, each with whether (and as which favourite) it holds `listing` or
    `shop`: the favourite button's state (one query; none for a visitor)."""
    if not _signed_in(viewer):
        return []
    match = {"listing_id": listing.pk} if listing is not None else {"shop_id": shop.pk}
    held = Favourite.objects.filter(favourite_list_id=OuterRef("pk"), **match).values("pk")[:1]
    rows = FavouriteList.objects.filter(owner_id=viewer.pk).annotate(held=Subquery(held)).order_by("name", "pk")
    return [ListChoice(favourite_list=row, favourite_id=row.held) for row in rows]
