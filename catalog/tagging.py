"""The folksonomy: the tags shoppers and sellers put on listings, synonyms, moderation and follows.

Writes (`tag_*`) validate everything first, run in one transaction each and raise
ValidationError with a field dict ({"name": [...]}) while changing nothing when refused.
Reads return querysets or small dataclasses in a fixed number of queries.

Applications always point at a main tag: applying a synonym applies the tag it was merged
into, and a merge moves the synonym's applications and follows there, so synonyms stay one
hop from their main tag and hold nothing themselves. A hidden tag (or a synonym of one) is
shown nowhere and cannot be applied; its applications are kept, so unhiding brings them back.
"""

import math
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, Exists, F, IntegerField, Max, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.functions import Coalesce, RowNumber
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from notifications.services import notify
from sellers.selectors import is_shop_member
from social import services as social_services

from . import counters, search, selectors
from .models import Listing, Tag, TagFollow, TagFollowNotice, TaggedListing

MAX_TAG_LENGTH = 50
MAX_HIDDEN_REASON_LENGTH = 200
# Longer input is refused before it is normalised at all.
_MAX_RAW_LENGTH = 1000
# The import splits a cell of tags on these, so no tag may contain them.
_SEPARATORS = frozenset(",;")
MODERATE_PERMISSION = "catalog.moderate_tag"
CLOUD_SIZE = 150
CLOUD_WEIGHTS = 5
RELATED_COUNT = 10
# Related tags are counted over the listings that most recently got the tag: bounded work
# however many listings carry it (see PERFORMANCE.md on capped candidate sets).
RELATED_SAMPLE = 500
# A tag page counts the people behind the tag up to this many, then says "more than".
PEOPLE_COUNT_CAP = 100
PERSON_INDEX_TAGS = 40
PERSON_INDEX_LISTINGS = 3


# --- Names -----------------------------------------------------------------------------------------


def _fold(text: str) -> str:
    """Unicode NFKC, lower case and single spaces: how a tag name is compared and stored."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return " ".join(unicodedata.normalize("NFKC", folded).split())


def normalise_tag_name(raw) -> str:
    """The stored form of a tag someone typed; ValidationError {"name": [...]} if it cannot be a tag."""
    text = "" if raw is None else str(raw)
    if len(text) > _MAX_RAW_LENGTH:
        raise ValidationError({"name": [f"A tag can be at most {MAX_TAG_LENGTH} characters long."]})
    name = _fold(text)
    if not name:
        raise ValidationError({"name": ["Enter a tag."]})
    if len(name) > MAX_TAG_LENGTH:
        raise ValidationError(
            {"name": [f"A tag can be at most {MAX_TAG_LENGTH} characters long (this one has {len(name)})."]}
        )
    if _SEPARATORS & set(name):
        raise ValidationError({"name": ["A tag cannot contain commas or semicolons: add one tag at a time."]})
    if any(unicodedata.category(character) in {"Cc", "Cs"} for character in name):
        raise ValidationError({"name": ["A tag cannot contain control characters."]})
    if not any(character.isalnum() for character in name):
        raise ValidationError({"name": ["A tag needs at least one letter or digit: punctuation alone is not a tag."]})
    return name


def find_tag(*, name: str) -> Tag | None:
    """The tag (main or synonym) called `name` as someone would type it, or None."""
    folded = _fold(str(name or ""))[:_MAX_RAW_LENGTH]
    if not folded:
        return None
    return Tag.objects.select_related("merged_into").filter(name=folded).first()


# --- Who may do what ---------------------------------------------------------------------------------


def can_moderate_tags(user) -> bool:
    """Operators (staff) and people given the moderate_tag permission merge, hide and unhide tags."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.is_staff or user.has_perm(MODERATE_PERMISSION)


def _require_moderator(user) -> None:
    if not can_moderate_tags(user):
        raise PermissionDenied("Only moderators can merge, hide or unhide tags.")


def is_hidden_tag(tag: Tag) -> bool:
    """Hidden itself, or a synonym of a hidden tag."""
    return tag.is_hidden or (tag.merged_into_id is not None and tag.merged_into.is_hidden)


def access_tag(*, user, slug: str) -> Tag:
    """The tag with `slug` (a synonym too: its page redirects to the main tag), with
    merged_into loaded. Http404 for a hidden tag unless `user` moderates tags, so a hidden
    tag cannot be told from one that does not exist."""
    tag = Tag.objects.select_related("merged_into").filter(slug=str(slug)[:100]).first()
    if tag is None or (is_hidden_tag(tag) and not can_moderate_tags(user)):
        raise Http404("No such tag.")
    return tag


def _visible_applications() -> Q:
    return Q(tag__is_hidden=False) & (Q(tag__merged_into__isnull=True) | Q(tag__merged_into__is_hidden=False))


def _synonyms(tag: Tag) -> list[tuple[int, str, bool]]:
    """(id, name, is hidden) of the tag's synonyms, read once per tag object (one small query)."""
    if not hasattr(tag, "_synonym_rows"):
        tag._synonym_rows = list(
            Tag.objects.filter(merged_into_id=tag.pk).order_by("name").values_list("pk", "name", "is_hidden")
        )
    return tag._synonym_rows


def _of_tag(tag: Tag) -> Q:
    """Applications of the tag or of its synonyms.

    The ids are given as values rather than as an OR across the join to the tags: with the
    OR, PostgreSQL can use no index on the applications and reads all of them (0.4 s at
    3,000,000), and it cannot estimate how many a tag has, so the page of a rare tag walked
    every listing by date to find its one (13 s). With the values it knows from its statistics
    whether the tag is rare or common, and plans each accordingly."""
    return Q(tag_id__in=[tag.pk, *(pk for pk, _, _ in _synonyms(tag))])


# --- Writes ----------------------------------------------------------------------------------------


def _main_tag_for(name: str) -> Tag:
    tag = Tag.objects.select_related("merged_into").filter(name=name).first()
    if tag is None:
        tag, _ = Tag.objects.get_or_create(name=name)  # get_or_create settles a concurrent first use
    if is_hidden_tag(tag):
        raise ValidationError({"name": [f"“{name}” has been hidden by a moderator and cannot be used."]})
    return tag.merged_into or tag


def tag_apply(*, listing: Listing, user, name: str) -> TaggedListing:
    """`user` tags `listing` with `name` (normalised; a synonym applies its main tag).

    A person applies a tag to a listing at most once: doing it again returns the existing
    application. The shop's own people may tag any of their listings and their tags are
    seller tags; anyone else signed in may tag listings that are for sale (active).
    When an active listing gets a tag, the tag's followers are told of it, each person once
    per listing. PermissionDenied for anonymous users; ValidationError {"name": [...]} or
    {"listing": [...]} with nothing saved otherwise."""
    if user is None or not user.is_authenticated:
        raise PermissionDenied("Sign in to tag listings.")
    normalised = normalise_tag_name(name)
    is_seller_tag = is_shop_member(user=user, shop=listing.shop)
    if not is_seller_tag and listing.status != Listing.Status.ACTIVE:
        raise ValidationError({"listing": ["Only listings for sale can be tagged."]})
    with transaction.atomic():
        tag = _main_tag_for(normalised)
        application, created = TaggedListing.objects.get_or_create(
            tag=tag, content_object=listing, tagged_by=user, defaults={"is_seller_tag": is_seller_tag}
        )
        if created:
            _after_tags_changed(listing_ids=[listing.pk], tag_ids=[tag.pk])
            tag.refresh_from_db(fields=["use_count"])
            if listing.status == Listing.Status.ACTIVE:
                _tell_followers(listing=listing, tags=[tag], actor=user)
            social_services.listing_tagged(application=application)
    return application


def tag_remove(*, listing: Listing, user, slug: str) -> int:
    """Take back `user`'s own application of the tag `slug` (or of its synonyms) to `listing`.
    Nobody can remove anyone else's. Returns how many applications went (0 if there were none)."""
    if user is None or not user.is_authenticated:
        return 0
    with transaction.atomic():
        mine = TaggedListing.objects.filter(content_object_id=listing.pk, tagged_by_id=user.pk).filter(
            Q(tag__slug=slug) | Q(tag__merged_into__slug=slug)
        )
        found = list(mine.values_list("pk", "tag_id"))
        if not found:
            return 0
        TaggedListing.objects.filter(pk__in=[pk for pk, _ in found]).delete()
        _after_tags_changed(listing_ids=[listing.pk], tag_ids=[tag_id for _, tag_id in found])
    return len(found)


def tag_follow(*, user, tag: Tag) -> TagFollow:
    """`user` follows `tag` (its main tag, for a synonym); following twice changes nothing."""
    if user is None or not user.is_authenticated:
        raise PermissionDenied("Sign in to follow tags.")
    main = tag.merged_into or tag
    if is_hidden_tag(tag):
        raise ValidationError({"tag": ["This tag has been hidden by a moderator."]})
    with transaction.atomic():
        follow, _ = TagFollow.objects.get_or_create(user=user, tag=main)
    return follow


def tag_unfollow(*, user, tag: Tag) -> bool:
    """Stop following `tag`; False if `user` did not follow it."""
    if user is None or not user.is_authenticated:
        return False
    main_id = tag.merged_into_id or tag.pk
    with transaction.atomic():
        deleted, _ = TagFollow.objects.filter(user_id=user.pk, tag_id=main_id).delete()
    return deleted > 0


def tag_merge(*, synonym: Tag, into: Tag, actor) -> Tag:
    """Make `synonym` another name for `into` ("tomahto" = "tomato"); returns the main tag.

    Applications and follows of the synonym move to the main tag (one person's duplicate
    application of both becomes one), synonyms of the synonym point at the main tag too, and
    applying the synonym's name from now on applies the main tag. If `into` is itself a
    synonym, its main tag is used."""
    _require_moderator(actor)
    with transaction.atomic():
        synonym = Tag.objects.select_for_update().get(pk=synonym.pk)
        into = Tag.objects.select_for_update().get(pk=into.merged_into_id or into.pk)
        if into.merged_into_id:  # merged elsewhere meanwhile
            into = Tag.objects.select_for_update().get(pk=into.merged_into_id)
        if into.pk == synonym.pk:
            raise ValidationError({"into": ["A tag cannot be merged into itself or into one of its synonyms."]})
        if synonym.merged_into_id == into.pk:
            raise ValidationError({"into": [f"“{synonym.name}” is already merged into “{into.name}”."]})
        if into.is_hidden:
            raise ValidationError({"into": [f"“{into.name}” is hidden: unhide it first, or merge into another tag."]})
        listing_ids = list(
            TaggedListing.objects.filter(tag=synonym).values_list("content_object_id", flat=True).distinct()
        )
        TaggedListing.objects.filter(tag=synonym).filter(
            Exists(
                TaggedListing.objects.filter(
                    tag=into, content_object_id=OuterRef("content_object_id"), tagged_by_id=OuterRef("tagged_by_id")
                )
            )
        ).delete()
        TaggedListing.objects.filter(tag=synonym).update(tag=into)
        TagFollow.objects.filter(tag=synonym).filter(
            Exists(TagFollow.objects.filter(tag=into, user_id=OuterRef("user_id")))
        ).delete()
        TagFollow.objects.filter(tag=synonym).update(tag=into)
        Tag.objects.filter(merged_into=synonym).update(merged_into=into, merged_at=timezone.now(), merged_by=actor)
        synonym.merged_into, synonym.merged_at, synonym.merged_by = into, timezone.now(), actor
        synonym.save(update_fields=["merged_into", "merged_at", "merged_by"])
        _after_tags_changed(listing_ids=listing_ids, tag_ids=[synonym.pk, into.pk])
    return into


def _clean_reason(reason) -> str:
    cleaned = " ".join(str(reason or "").split())
    if not cleaned:
        raise ValidationError({"reason": ["Give the reason for hiding the tag: it is kept with the decision."]})
    if len(cleaned) > MAX_HIDDEN_REASON_LENGTH:
        raise ValidationError({"reason": [f"Keep the reason to {MAX_HIDDEN_REASON_LENGTH} characters."]})
    return cleaned


def tag_hide(*, tag: Tag, actor, reason: str) -> Tag:
    """Hide an offensive tag (and with it its synonyms) everywhere, recording who, when and why.
    Hiding a hidden tag again replaces the reason."""
    _require_moderator(actor)
    reason = _clean_reason(reason)
    with transaction.atomic():
        tag = Tag.objects.select_for_update().get(pk=tag.pk)
        tag.is_hidden, tag.hidden_reason, tag.hidden_at, tag.hidden_by = True, reason, timezone.now(), actor
        tag.save(update_fields=["is_hidden", "hidden_reason", "hidden_at", "hidden_by"])
        _after_tags_changed(listing_ids=_listings_carrying(tag), tag_ids=[tag.pk])
    return tag


def tag_unhide(*, tag: Tag, actor) -> Tag:
    """Show a hidden tag again, with every application it had."""
    _require_moderator(actor)
    with transaction.atomic():
        tag = Tag.objects.select_for_update().get(pk=tag.pk)
        if not tag.is_hidden:
            raise ValidationError({"tag": [f"“{tag.name}” is not hidden."]})
        tag.is_hidden, tag.hidden_reason, tag.hidden_at, tag.hidden_by = False, "", None, None
        tag.save(update_fields=["is_hidden", "hidden_reason", "hidden_at", "hidden_by"])
        _after_tags_changed(listing_ids=_listings_carrying(tag), tag_ids=[tag.pk])
    return tag


def tags_recount(*, actor, tag_ids=None) -> int:
    """Count the uses of the given tags (every tag if None) again from their applications:
    listings deleted with their shop take their applications along without going through here."""
    _require_moderator(actor)
    with transaction.atomic():
        return _recount(Tag.objects.all() if tag_ids is None else Tag.objects.filter(pk__in=list(tag_ids)))


def tag_followers_notify(*, listing: Listing, actor) -> None:
    """Tell the followers of the visible tags `listing` carries that it is for sale (once per
    person per listing): for a listing put on sale after it was tagged."""
    if listing.status != Listing.Status.ACTIVE:
        return
    tags = list(
        Tag.objects.filter(applications__content_object_id=listing.pk, is_hidden=False, merged_into__isnull=True)
        .distinct()
        .order_by("name")
    )
    if tags:
        _tell_followers(listing=listing, tags=tags, actor=actor)


def _listings_carrying(tag: Tag) -> list[int]:
    return list(TaggedListing.objects.filter(_of_tag(tag)).values_list("content_object_id", flat=True).distinct())


def _recount(tags: QuerySet[Tag]) -> int:
    counts = TaggedListing.objects.filter(tag_id=OuterRef("pk")).order_by().values("tag_id")
    counts = counts.annotate(applications=Count("pk")).values("applications")
    return tags.update(use_count=Coalesce(Subquery(counts, output_field=IntegerField()), 0))


def _after_tags_changed(*, listing_ids, tag_ids) -> None:
    """The work that follows every change to which tags listings carry or show (applying,
    removing, merging, hiding, unhiding), in the transaction of the change.

    The touched tags' use counts are counted again from their applications, which also heals
    counts left behind by deleted listings. `listing_ids` are the listings whose tags changed:
    their search documents carry tag names, so they are re-indexed once the change commits."""
    _recount(Tag.objects.filter(pk__in=set(tag_ids)))
    search.reindex_listings_on_commit(listing_ids=list(listing_ids))


def _tell_followers(*, listing: Listing, tags: list[Tag], actor) -> None:
    """Notify the followers of `tags` of `listing`, each person once per listing (a notice row
    guarded by a unique constraint decides who has been told, also under concurrent tagging)."""
    already_told = TagFollowNotice.objects.filter(user_id=OuterRef("user_id"), listing_id=listing.pk)
    follows = (
        TagFollow.objects.filter(tag__in=tags, user__is_active=True)
        .exclude(Exists(already_told))
        .select_related("user", "tag")
        .order_by("user_id", "tag__name")
    )
    told: set[int] = set()
    for follow in follows:
        if follow.user_id in told:
            continue
        told.add(follow.user_id)
        _, created = TagFollowNotice.objects.get_or_create(
            user_id=follow.user_id, listing_id=listing.pk, defaults={"tag": follow.tag}
        )
        if created:
            notify(
                recipient=follow.user,
                kind="tag.listed",
                actor=actor,
                target=listing,
                context={"tag": follow.tag.name, "subject": listing.title},
            )


# --- Reads: a listing's tags ----------------------------------------------------------------------


@dataclass(frozen=True)
class ListingTagSummary:
    """One tag on one listing: who applied it, counted, and whether the viewer did."""

    name: str
    slug: str
    people: int
    shoppers: int
    from_shop: bool
    applied_by_viewer: bool

    @property
    def url(self) -> str:
        return selectors.tag_url(self.slug)


class ListingTags(list):
    """A listing's tag summaries: seller tags first, then by how many people applied them."""

    @property
    def from_shop(self) -> list[ListingTagSummary]:
        return [summary for summary in self if summary.from_shop]

    @property
    def from_shoppers_only(self) -> list[ListingTagSummary]:
        return [summary for summary in self if not summary.from_shop]


def listing_tag_summaries(*, listing_ids, viewer=None) -> dict[int, ListingTags]:
    """{listing id: its visible tags} for every id asked for, in ONE query."""
    ids = list(listing_ids)
    viewer_id = viewer.pk if viewer is not None and viewer.is_authenticated else None
    rows = (
        TaggedListing.objects.filter(_visible_applications(), content_object_id__in=ids)
        .annotate(
            main_name=Coalesce(F("tag__merged_into__name"), F("tag__name")),
            main_slug=Coalesce(F("tag__merged_into__slug"), F("tag__slug")),
        )
        .values_list("content_object_id", "main_name", "main_slug", "tagged_by_id", "is_seller_tag")
    )
    people: dict[int, dict[tuple[str, str], dict[int, bool]]] = defaultdict(lambda: defaultdict(dict))
    for listing_id, name, slug, person_id, is_seller_tag in rows:
        applied = people[listing_id][(name, slug)]
        applied[person_id] = applied.get(person_id, False) or is_seller_tag
    result: dict[int, ListingTags] = {}
    for listing_id in ids:
        summaries = [
            ListingTagSummary(
                name=name,
                slug=slug,
                people=len(who),
                shoppers=sum(1 for is_seller in who.values() if not is_seller),
                from_shop=any(who.values()),
                applied_by_viewer=viewer_id in who,
            )
            for (name, slug), who in people.get(listing_id, {}).items()
        ]
        summaries.sort(key=lambda summary: (not summary.from_shop, -summary.people, summary.name))
        result[listing_id] = ListingTags(summaries)
    return result


# --- Reads: tags ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TagLink:
    name: str
    slug: str
    uses: int = 0
    weight: int = 0

    @property
    def url(self) -> str:
        return selectors.tag_url(self.slug)


def visible_main_tags() -> QuerySet[Tag]:
    """Tags people can see and apply, synonyms left out (they lead to their main tag)."""
    return Tag.objects.filter(is_hidden=False, merged_into__isnull=True)


def tags_by_use() -> QuerySet[Tag]:
    return visible_main_tags().order_by("-use_count", "name")


def tags_matching(*, query: str) -> QuerySet[Tag]:
    """Visible main tags whose name, or one of whose synonyms' names, starts with what was
    typed (compared as tags are stored), the most used first: autocomplete and tag search."""
    prefix = _fold(str(query or "")[:_MAX_RAW_LENGTH])[:MAX_TAG_LENGTH]
    if not prefix:
        return Tag.objects.none()
    # Matched by prefix alone first (the name_prefix index), then taken to their main tags.
    matched = Tag.objects.filter(name__startswith=prefix, is_hidden=False).values(
        main_id=Coalesce(F("merged_into_id"), F("id"))
    )
    return visible_main_tags().filter(pk__in=matched).order_by("-use_count", "name")


def _weighted(tags: list[Tag]) -> list[TagLink]:
    """Weights 1..CLOUD_WEIGHTS on a log scale of uses: a few very common tags must not
    flatten every other tag to the smallest size."""
    if not tags:
        return []
    low, high = math.log(min(tag.use_count for tag in tags) or 1), math.log(max(tag.use_count for tag in tags) or 1)
    span = high - low
    links = []
    for tag in tags:
        position = (math.log(tag.use_count or 1) - low) / span if span else 0.5
        weight = 1 + round(position * (CLOUD_WEIGHTS - 1))
        links.append(TagLink(name=tag.name, slug=tag.slug, uses=tag.use_count, weight=weight))
    return links


def tag_cloud(*, limit: int = CLOUD_SIZE) -> list[TagLink]:
    """The most used visible tags, alphabetically, each weighted by use (one query on the
    maintained counts)."""
    tags = list(tags_by_use().filter(use_count__gt=0)[:limit])
    return sorted(_weighted(tags), key=lambda link: link.name)


def tag_search(*, query: str, limit: int = 60) -> list[TagLink]:
    return _weighted(list(tags_matching(query=query)[:limit]))


@dataclass
class TagPage:
    tag: Tag
    people: int
    synonyms: list[str]
    related: list[TagLink]
    is_following: bool
    can_moderate: bool
    tagged_by: object = None
    # More than `people` applied it: the count stopped at PEOPLE_COUNT_CAP.
    has_more_people: bool = False

    @property
    def is_hidden(self) -> bool:
        return self.tag.is_hidden


def related_tags(*, tag: Tag, limit: int = RELATED_COUNT) -> list[TagLink]:
    """The visible tags found most often on the same listings as `tag` (one query), counted
    over the RELATED_SAMPLE listings that got `tag` most recently."""
    sample = (
        TaggedListing.objects.filter(_of_tag(tag), content_object__status=Listing.Status.ACTIVE)
        .order_by("-created_at")
        .values("content_object_id")[:RELATED_SAMPLE]
    )
    rows = (
        TaggedListing.objects.filter(_visible_applications(), content_object_id__in=sample)
        .annotate(
            main_id=Coalesce(F("tag__merged_into_id"), F("tag_id")),
            main_name=Coalesce(F("tag__merged_into__name"), F("tag__name")),
            main_slug=Coalesce(F("tag__merged_into__slug"), F("tag__slug")),
        )
        .exclude(main_id=tag.pk)
        .values("main_id", "main_name", "main_slug")
        .annotate(listings=Count("content_object_id", distinct=True))
        .order_by("-listings", "main_name")[:limit]
    )
    return [TagLink(name=row["main_name"], slug=row["main_slug"], uses=row["listings"]) for row in rows]


def _smallest_person_sql(tag_count: int, *, after_previous: bool) -> str:
    """The smallest tagger id of the tags, above people.person when `after_previous`: one
    probe of the (tag, tagged_by) index per tag."""
    above = " AND tagged_by_id > people.person" if after_previous else ""
    probe = f"SELECT min(tagged_by_id) FROM catalog_taggedlisting WHERE tag_id = %s{above}"  # noqa: S608 - no values
    probes = [probe] * tag_count
    if tag_count == 1:
        return f"({probes[0]})"
    candidates = " UNION ALL ".join(f"SELECT ({probe}) AS person" for probe in probes)
    return f"(SELECT min(person) FROM ({candidates}) AS candidates)"  # noqa: S608 - no values


def tag_people(*, tag: Tag, cap: int = PEOPLE_COUNT_CAP) -> tuple[int, bool]:
    """How many people applied `tag` (or a synonym) to active listings, counted up to `cap`:
    (count, whether there are more than `cap`). One query.

    Counting a popular tag's people exactly read all of its applications with their listings
    on every view of its page (0.8 s for 290,000 applications by 82,000 people). Here the
    people are walked in id order, one index probe each (a recursive "loose index scan", which
    a DISTINCT cannot do: the first thousand people of that tag had 78,000 applications of it),
    each kept if they applied it to an active listing, and the walk stops after cap + 1."""
    tag_ids = [tag.pk, *(pk for pk, _, _ in _synonyms(tag))]
    in_tags = ", ".join(["%s"] * len(tag_ids))
    sql = f"""
        WITH RECURSIVE people(person) AS (
            SELECT {_smallest_person_sql(len(tag_ids), after_previous=False)}
            UNION ALL
            SELECT {_smallest_person_sql(len(tag_ids), after_previous=True)} FROM people WHERE people.person IS NOT NULL
        )
        SELECT count(*) FROM (
            SELECT person FROM people WHERE person IS NOT NULL AND EXISTS (
                SELECT 1 FROM catalog_taggedlisting AS application
                JOIN catalog_listing AS listing ON listing.id = application.content_object_id
                WHERE application.tag_id IN ({in_tags}) AND application.tagged_by_id = people.person
                AND listing.status = %s
            )
            LIMIT %s
        ) AS counted"""  # noqa: S608 - only placeholders are filled in
    with connection.cursor() as cursor:
        cursor.execute(sql, [*tag_ids, *tag_ids, *tag_ids, Listing.Status.ACTIVE, cap + 1])
        people = cursor.fetchone()[0]
    return min(people, cap), people > cap


def tag_listing_count(*, tag: Tag) -> int:
    """How many active listings carry `tag` or one of its synonyms (the maintained counts)."""
    return counters.active_listings_tagged(tag_ids=[tag.pk, *(pk for pk, _, _ in _synonyms(tag))])


def tag_page(*, tag: Tag, viewer, tagged_by=None) -> TagPage:
    """What a tag's page shows around its listings, in a fixed number of queries."""
    people, has_more_people = tag_people(tag=tag)
    synonyms = [name for _, name, is_hidden in _synonyms(tag) if not is_hidden]
    is_following = bool(
        viewer is not None
        and viewer.is_authenticated
        and TagFollow.objects.filter(user_id=viewer.pk, tag_id=tag.pk).exists()
    )
    return TagPage(
        tag=tag,
        people=people,
        has_more_people=has_more_people,
        synonyms=synonyms,
        related=related_tags(tag=tag),
        is_following=is_following,
        can_moderate=can_moderate_tags(viewer),
        tagged_by=tagged_by,
    )


def tag_listings(*, tag: Tag, tagged_by=None) -> QuerySet[Listing]:
    """Listings for sale carrying `tag` (or a synonym of it), newest first; only those
    `tagged_by` tagged so, when given (a person's own index)."""
    applications = TaggedListing.objects.filter(_of_tag(tag))
    if tagged_by is not None:
        applications = applications.filter(tagged_by_id=tagged_by.pk)
    return (
        selectors.public_listings()
        .filter(pk__in=applications.values("content_object_id"))
        .order_by("-published_at", "-pk")
    )


def followed_tags(*, user) -> list[Tag]:
    if user is None or not user.is_authenticated:
        return []
    return list(visible_main_tags().filter(follows__user_id=user.pk).order_by("name"))


def followed_tag_listings(*, user) -> QuerySet[Listing]:
    """Listings for sale carrying a tag `user` follows, the ones that got such a tag most
    recently first; `tagged_at` is when they last did."""
    if user is None or not user.is_authenticated:
        return Listing.objects.none()
    followed = TagFollow.objects.filter(user_id=user.pk, tag__is_hidden=False).values("tag_id")
    applications = TaggedListing.objects.filter(Q(tag_id__in=followed) | Q(tag__merged_into_id__in=followed))
    carrying = Q(tag_applications__tag_id__in=followed) | Q(tag_applications__tag__merged_into_id__in=followed)
    return (
        selectors.public_listings()
        .filter(pk__in=applications.values("content_object_id"))
        .annotate(tagged_at=Max("tag_applications__created_at", filter=carrying))
        .order_by("-tagged_at", "-pk")
    )


# --- Reads: a person's own tags ---------------------------------------------------------------------


@dataclass(frozen=True)
class TaggedListingLink:
    pk: int
    title: str

    @property
    def url(self) -> str:
        return reverse("catalog:listing", kwargs={"pk": self.pk})


@dataclass
class PersonTag:
    """A tag a person applied, how many listings for sale they applied it to, and the latest."""

    name: str
    slug: str
    listing_count: int
    username: str
    listings: list[TaggedListingLink] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The tag's page narrowed to this person's listings."""
        return f"{selectors.tag_url(self.slug)}?by={self.username}"

    @property
    def more(self) -> int:
        return self.listing_count - len(self.listings)


def person_tag_index(*, person, tag_limit: int = PERSON_INDEX_TAGS) -> list[PersonTag]:
    """The tags `person` applied to listings that are on sale, alphabetically, each with its
    latest few listings: a personal index of things they noticed (two queries)."""
    mine = TaggedListing.objects.filter(
        _visible_applications(), tagged_by_id=person.pk, content_object__status__in=selectors.PUBLIC_STATUSES
    ).annotate(
        main_id=Coalesce(F("tag__merged_into_id"), F("tag_id")),
        main_name=Coalesce(F("tag__merged_into__name"), F("tag__name")),
        main_slug=Coalesce(F("tag__merged_into__slug"), F("tag__slug")),
    )
    counted = list(
        mine.values("main_id", "main_name", "main_slug")
        .annotate(listings=Count("content_object_id", distinct=True))
        .order_by("-listings", "main_name")[:tag_limit]
    )
    if not counted:
        return []
    index = {
        row["main_id"]: PersonTag(
            name=row["main_name"], slug=row["main_slug"], listing_count=row["listings"], username=person.username
        )
        for row in counted
    }
    latest = (
        mine.filter(main_id__in=list(index))
        .annotate(
            rank=Window(RowNumber(), partition_by=[F("main_id")], order_by=[F("created_at").desc(), F("pk").desc()])
        )
        .filter(rank__lte=PERSON_INDEX_LISTINGS)
        .values_list("main_id", "content_object_id", "content_object__title", "rank")
    )
    for main_id, listing_id, title, _rank in sorted(latest, key=lambda row: (row[0], row[3])):
        index[main_id].listings.append(TaggedListingLink(pk=listing_id, title=title))
    return sorted(index.values(), key=lambda entry: entry.name)


# --- Reads: moderation -----------------------------------------------------------------------------

MODERATION_LIST_SIZE = 200


def hidden_tags(*, limit: int = MODERATION_LIST_SIZE) -> list[Tag]:
    """The hidden tags, latest decision first, with who decided."""
    return list(Tag.objects.filter(is_hidden=True).select_related("hidden_by").order_by("-hidden_at", "name")[:limit])


def merged_synonyms(*, limit: int = MODERATION_LIST_SIZE) -> list[Tag]:
    """Synonyms with the tag each leads to, latest merge first."""
    return list(
        Tag.objects.filter(merged_into__isnull=False)
        .select_related("merged_into", "merged_by")
        .order_by("-merged_at", "name")[:limit]
    )
