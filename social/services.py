"""Every write of the social layer: sharing choices, follows, favourites, activity, and the
listing events other apps report (a listing on sale, a price drop).

Functions take keyword arguments, validate before writing, raise ValidationError with a
field dict and change nothing when they refuse, and write in one transaction each.

Audiences are stored on what they apply to (Activity.audience, Follow.audience), so reads
are a plain comparison. Every change of a choice updates those rows in the same
transaction, which is how a change applies to everything recorded before it. The writers
of activity and follows read the choice with a row lock (`_chosen_audience`), the same
rows sharing_choose and sharing_withdraw change first, so a choice changed at the same
moment is either seen by the writer or applied to what it wrote.
"""

import logging
from collections.abc import Iterable, Mapping
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, F, QuerySet, Value
from django.db.models.functions import Least
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from catalog.models import Listing, TaggedListing, Want, Work
from catalog.selectors import PUBLIC_STATUSES
from marketplace.bulk import insert_rows
from notifications.services import notify_audience
from sellers.models import Shop

from . import recommendations
from .models import (
    Activity,
    ActivityKind,
    Audience,
    AudienceChoice,
    Favourite,
    FavouriteList,
    Follow,
    ListingEvent,
    ListVisibility,
    SharingConsent,
    SharingSettings,
    SharingSubject,
)

logger = logging.getLogger(__name__)

# The version of the explanation people read before choosing (templates/social/_sharing_explained.html).
# Change it with the wording: each recorded decision names the version its person was shown.
SHARING_WORDING_VERSION = "2026-01"
# What the choice form offers first. Purchases stay private and reviews public unless the
# person decides otherwise.
DEFAULT_AUDIENCES: dict[str, int] = {
    SharingSubject.BOUGHT: Audience.ONLY_ME,
    SharingSubject.REVIEWED: Audience.EVERYONE,
    SharingSubject.FAVOURITED: Audience.FOLLOWERS,
    SharingSubject.TAGGED: Audience.EVERYONE,
    SharingSubject.OPENED_SHOP: Audience.EVERYONE,
    SharingSubject.LISTED: Audience.EVERYONE,
    SharingSubject.WANTED: Audience.FOLLOWERS,
    SharingSubject.FOLLOWS: Audience.FOLLOWERS,
}
DEFAULT_LIST_NAME = "Favourites"
MAX_LIST_NAME_LENGTH = 80
MAX_LISTS_PER_PERSON = 100
# Followers, favouriters: how many people one transaction of a listing event tells.
# notify_audience writes a batch set-based in two queries, whatever its size.
FANOUT_BATCH = 50_000


def _require_person(user, message: str) -> None:
    if user is None or not user.is_authenticated or not user.is_active:
        raise PermissionDenied(message)


def _chosen_audience(*, user_id: int, subject: str) -> int:
    """The audience `user_id` chose for `subject`: only me unless they chose to share. Locks
    their choice (see the module's docstring)."""
    chosen = (
        AudienceChoice.objects.select_for_update()
        .filter(user_id=user_id, subject=subject)
        .values_list("audience", flat=True)
        .first()
    )
    return Audience.ONLY_ME if chosen is None else chosen


# --- Sharing choices ------------------------------------------------------------------------------


def clean_audiences(raw: Mapping) -> dict[str, int]:
    """Every sharing subject with a valid audience level, else ValidationError naming each
    subject that is missing or wrong."""
    cleaned: dict[str, int] = {}
    errors: dict[str, list[str]] = {}
    for subject in SharingSubject:
        value = raw.get(subject.value)
        try:
            level = int(value)
        except (TypeError, ValueError):
            errors[subject.value] = [f"Choose who sees {subject.label.lower()}."]
            continue
        if level not in Audience.values:
            errors[subject.value] = [f"Choose who sees {subject.label.lower()}: one of the four audiences."]
            continue
        cleaned[subject.value] = level
    unknown = sorted(set(raw) - set(SharingSubject.values))
    if unknown:
        errors["audiences"] = [f"Unknown kinds of activity: {', '.join(map(str, unknown))}."]
    if errors:
        raise ValidationError(errors)
    return cleaned


def _apply_audiences(*, user_id: int, audiences: Mapping[str, int]) -> None:
    """Bring every activity and follow of `user_id` in line with these audiences."""
    for kind in ActivityKind.values:
        level = audiences.get(kind, Audience.ONLY_ME)
        Activity.objects.filter(actor_id=user_id, kind=kind).update(audience=Least(Value(level), F("ceiling")))
    Follow.objects.filter(follower_id=user_id).update(audience=audiences.get(SharingSubject.FOLLOWS, Audience.ONLY_ME))


def sharing_choose(*, user, audiences: Mapping, use_for_recommendations: bool) -> SharingSettings:
    """Record what `user` chose to share, and with whom, after being shown the explanation
    (version SHARING_WORDING_VERSION): one audience per SharingSubject, and whether their
    views and purchases count in recommendations. The decision is kept with its time; the
    audiences apply at once to everything they did before too. Switching recommendations off
    takes their views and purchases out of every count straight away."""
    _require_person(user, "Sign in to choose what you share.")
    cleaned = clean_audiences(audiences)
    use_for_recommendations = bool(use_for_recommendations)
    now = timezone.now()
    with transaction.atomic():
        current, _ = SharingSettings.objects.select_for_update().get_or_create(user_id=user.pk)
        stopped_using = current.use_for_recommendations and not use_for_recommendations
        for subject, level in cleaned.items():
            AudienceChoice.objects.update_or_create(user_id=user.pk, subject=subject, defaults={"audience": level})
        current.sharing_since = current.sharing_since or now
        current.wording_version = SHARING_WORDING_VERSION
        current.use_for_recommendations = use_for_recommendations
        current.save()
        SharingConsent.objects.create(
            user_id=user.pk,
            decision=SharingConsent.Decision.GIVEN,
            wording_version=SHARING_WORDING_VERSION,
            audiences=cleaned,
            use_for_recommendations=use_for_recommendations,
            decided_at=now,
        )
        _apply_audiences(user_id=user.pk, audiences=cleaned)
        if stopped_using:
            recommendations.person_forget(user_id=user.pk)
    return current


def sharing_withdraw(*, user) -> SharingSettings:
    """Stop sharing anything: every activity and follow of `user` becomes theirs alone at
    once, as before they ever chose. The decision is recorded; nothing they did is deleted,
    so choosing again later shares it again."""
    _require_person(user, "Sign in to change what you share.")
    with transaction.atomic():
        current, _ = SharingSettings.objects.select_for_update().get_or_create(user_id=user.pk)
        AudienceChoice.objects.filter(user_id=user.pk).delete()
        current.sharing_since = None
        current.save()
        SharingConsent.objects.create(
            user_id=user.pk,
            decision=SharingConsent.Decision.WITHDRAWN,
            wording_version=SHARING_WORDING_VERSION,
            audiences={},
            use_for_recommendations=current.use_for_recommendations,
        )
        _apply_audiences(user_id=user.pk, audiences={})
    return current


def recommendations_use_set(*, user, use_for_recommendations: bool) -> SharingSettings:
    """Switch only whether `user`'s views and purchases count in recommendations, leaving what
    they share as it is. Recorded like every sharing decision; switching off takes their
    views and purchases out of every count at once."""
    _require_person(user, "Sign in to change how your data is used.")
    use_for_recommendations = bool(use_for_recommendations)
    with transaction.atomic():
        current, _ = SharingSettings.objects.select_for_update().get_or_create(user_id=user.pk)
        stopped_using = current.use_for_recommendations and not use_for_recommendations
        current.use_for_recommendations = use_for_recommendations
        current.save()
        SharingConsent.objects.create(
            user_id=user.pk,
            decision=SharingConsent.Decision.GIVEN if current.is_sharing else SharingConsent.Decision.WITHDRAWN,
            wording_version=SHARING_WORDING_VERSION,
            audiences=dict(AudienceChoice.objects.filter(user_id=user.pk).values_list("subject", "audience")),
            use_for_recommendations=use_for_recommendations,
        )
        if stopped_using:
            recommendations.person_forget(user_id=user.pk)
    return current


# --- Activity --------------------------------------------------------------------------------------


def _favourite_ceiling(favourite_list: FavouriteList) -> int:
    return int(favourite_list.visibility)


def _want_ceiling(want: Want) -> int:
    return Audience.EVERYONE if want.visibility == Want.Visibility.PUBLIC else Audience.ONLY_ME


def activity_record(*, actor, kind: str, target, listing: Listing | None = None, shop: Shop | None = None) -> Activity:
    """Record that `actor` did `kind` (an ActivityKind) to `target`, shown to the audience
    they chose for that kind (only them until they chose to share).

    `target` may be a Listing, Shop, Work, Favourite, Want or TaggedListing, whose own
    privacy caps the audience (a private list, a private want) and whose deletion removes the
    activity; or anything else (a review), found again by activities_remove_for, with the
    listing and/or shop it is about given explicitly. Call it inside the transaction of what
    happened. For a review, from the reviews app:

        activity_record(actor=review.author, kind="reviewed", target=review,
                        listing=review.listing, shop=review.shop)
    """
    if kind not in ActivityKind.values:
        raise ValueError(f"not an activity kind: {kind!r}")
    activity = Activity(actor=actor, kind=kind, listing=listing, shop=shop, ceiling=Audience.EVERYONE)
    if isinstance(target, Listing):
        activity.listing, activity.shop_id = target, target.shop_id
    elif isinstance(target, Shop):
        activity.shop = target
    elif isinstance(target, Work):
        activity.work = target
    elif isinstance(target, Favourite):
        activity.favourite = target
        activity.listing_id, activity.shop_id = target.listing_id, target.shop_id
        activity.ceiling = _favourite_ceiling(target.favourite_list)
    elif isinstance(target, Want):
        activity.want = target
        activity.work_id = target.work_id
        activity.ceiling = _want_ceiling(target)
    elif isinstance(target, TaggedListing):
        activity.tag_application = target
        activity.listing_id = target.content_object_id
    elif target is not None:
        activity.target_type = ContentType.objects.get_for_model(target)
        activity.target_id = str(target.pk)
    if activity.listing_id and not activity.shop_id:
        activity.shop_id = Listing.objects.filter(pk=activity.listing_id).values_list("shop_id", flat=True).first()
    with transaction.atomic():
        activity.audience = min(_chosen_audience(user_id=actor.pk, subject=kind), activity.ceiling)
        activity.save()
    return activity


def activity_withdraw(*, actor, activity_id) -> bool:
    """Withdraw one of `actor`'s activities: it is deleted, and with it gone from every feed,
    profile and list that showed it. False when `actor` has no such activity."""
    if actor is None or not actor.is_authenticated or not str(activity_id).isdigit():
        return False
    with transaction.atomic():
        deleted, _ = Activity.objects.filter(pk=int(activity_id), actor_id=actor.pk).delete()
    return deleted > 0


def activities_remove_for(*, target) -> int:
    """Remove the activities recorded about `target` (a review deleted or hidden): call it in
    the transaction that removes it. Returns how many went."""
    with transaction.atomic():
        deleted, _ = Activity.objects.filter(
            target_type=ContentType.objects.get_for_model(target), target_id=str(target.pk)
        ).delete()
    return deleted


def _cap_activities(*, actor_id: int, kind: str, ceiling: int, **match) -> None:
    """Set a new ceiling on the activities matching `match` (their list or want changed)."""
    level = _chosen_audience(user_id=actor_id, subject=kind)
    Activity.objects.filter(actor_id=actor_id, kind=kind, **match).update(
        ceiling=ceiling, audience=Least(Value(level), Value(ceiling))
    )


def want_visibility_changed(*, want: Want) -> None:
    """A want became public or private: its "wrote a want" activity follows (catalog.wantlists)."""
    _cap_activities(actor_id=want.user_id, kind=ActivityKind.WANTED, ceiling=_want_ceiling(want), want=want)


# --- Follows ---------------------------------------------------------------------------------------


def follow_create(*, follower, person=None, shop: Shop | None = None) -> Follow:
    """`follower` follows a person or a shop; following again changes nothing. Who may see
    that they do is their choice for "follows"."""
    _require_person(follower, "Sign in to follow people and shops.")
    if (person is None) == (shop is None):
        raise ValueError("follow either a person or a shop")
    if person is not None:
        if person.pk == follower.pk:
            raise ValidationError({"person": ["You cannot follow yourself."]})
        if not person.is_active:
            raise ValidationError({"person": ["This account is closed."]})
    with transaction.atomic():
        audience = _chosen_audience(user_id=follower.pk, subject=SharingSubject.FOLLOWS)
        target = {"person": person} if person is not None else {"shop": shop}
        follow, _ = Follow.objects.get_or_create(follower=follower, **target, defaults={"audience": audience})
    return follow


def follow_delete(*, follower, person=None, shop: Shop | None = None) -> bool:
    """Stop following; False if `follower` did not follow them."""
    if follower is None or not follower.is_authenticated or (person is None) == (shop is None):
        return False
    target = {"person_id": person.pk} if person is not None else {"shop_id": shop.pk}
    with transaction.atomic():
        deleted, _ = Follow.objects.filter(follower_id=follower.pk, **target).delete()
    return deleted > 0


def follower_remove(*, person, follower) -> bool:
    """`person` removes `follower` from their followers (who can follow again, and will be
    seen doing so). False if `follower` did not follow them."""
    if person is None or not person.is_authenticated:
        return False
    with transaction.atomic():
        deleted, _ = Follow.objects.filter(follower_id=follower.pk, person_id=person.pk).delete()
    return deleted > 0


# --- Favourites ------------------------------------------------------------------------------------


def _clean_list_fields(*, owner, name=None, visibility=None, favourite_list: FavouriteList | None = None) -> dict:
    cleaned: dict = {}
    errors: dict[str, list[str]] = {}
    if name is not None:
        name = " ".join(str(name).split())
        if not name:
            errors["name"] = ["Give the list a name."]
        elif len(name) > MAX_LIST_NAME_LENGTH:
            errors["name"] = [f"A list's name can be at most {MAX_LIST_NAME_LENGTH} characters."]
        else:
            taken = FavouriteList.objects.filter(owner_id=owner.pk, name__iexact=name)
            if favourite_list is not None:
                taken = taken.exclude(pk=favourite_list.pk)
            if taken.exists():
                errors["name"] = [f"You already have a list called “{name}”."]
            cleaned["name"] = name
    if visibility is not None:
        try:
            level = int(visibility)
        except (TypeError, ValueError):
            level = None
        if level not in ListVisibility.values:
            errors["visibility"] = ["Choose who sees the list: only you, your followers or everyone."]
        else:
            cleaned["visibility"] = level
    if errors:
        raise ValidationError(errors)
    return cleaned


def favourite_list_create(*, owner, name: str, visibility=ListVisibility.PRIVATE) -> FavouriteList:
    """A new named list of favourites, private unless `visibility` says otherwise."""
    _require_person(owner, "Sign in to keep lists of favourites.")
    cleaned = _clean_list_fields(owner=owner, name=name, visibility=visibility)
    if FavouriteList.objects.filter(owner_id=owner.pk).count() >= MAX_LISTS_PER_PERSON:
        raise ValidationError({"name": [f"You can keep at most {MAX_LISTS_PER_PERSON} lists."]})
    with transaction.atomic():
        return FavouriteList.objects.create(owner=owner, **cleaned)


def _require_list_owner(*, favourite_list: FavouriteList, owner) -> None:
    if owner is None or not owner.is_authenticated or favourite_list.owner_id != owner.pk:
        raise PermissionDenied("Only the list's owner can change it.")


def favourite_list_update(*, favourite_list: FavouriteList, owner, name=None, visibility=None) -> FavouriteList:
    """Rename a list or change who sees it. A list made private takes the favouriting of
    everything in it out of every feed; made visible again, it is shown as far as the
    owner's choice for favourites allows."""
    _require_list_owner(favourite_list=favourite_list, owner=owner)
    cleaned = _clean_list_fields(owner=owner, name=name, visibility=visibility, favourite_list=favourite_list)
    with transaction.atomic():
        current = FavouriteList.objects.select_for_update().get(pk=favourite_list.pk)
        for field, value in cleaned.items():
            setattr(current, field, value)
        current.save()
        if "visibility" in cleaned:
            _cap_activities(
                actor_id=owner.pk,
                kind=ActivityKind.FAVOURITED,
                ceiling=current.visibility,
                favourite__favourite_list=current,
            )
    return current


def favourite_list_delete(*, favourite_list: FavouriteList, owner) -> None:
    """Delete a list with everything saved in it (and the activity of saving it)."""
    _require_list_owner(favourite_list=favourite_list, owner=owner)
    with transaction.atomic():
        FavouriteList.objects.filter(pk=favourite_list.pk).delete()


def _default_list(owner) -> FavouriteList:
    found = FavouriteList.objects.filter(owner_id=owner.pk, name__iexact=DEFAULT_LIST_NAME).first()
    if found is not None:
        return found
    return FavouriteList.objects.create(owner=owner, name=DEFAULT_LIST_NAME, visibility=ListVisibility.PRIVATE)


def favourite_add(
    *, owner, listing: Listing | None = None, shop: Shop | None = None, favourite_list: FavouriteList | None = None
) -> Favourite:
    """Save a listing for sale (active or sold out) or a shop to one of `owner`'s lists (their
    private "Favourites" list when none is given). Saving it twice to a list changes nothing.
    Favourited listings' price drops are announced to their owner (favourite.price_dropped)."""
    _require_person(owner, "Sign in to save favourites.")
    if (listing is None) == (shop is None):
        raise ValueError("favourite either a listing or a shop")
    if listing is not None and listing.status not in PUBLIC_STATUSES:
        raise ValidationError({"listing": ["Only listings that are for sale can be saved."]})
    if favourite_list is not None and favourite_list.owner_id != owner.pk:
        raise ValidationError({"favourite_list": ["Choose one of your own lists."]})
    with transaction.atomic():
        chosen = favourite_list or _default_list(owner)
        target = {"listing": listing} if listing is not None else {"shop": shop}
        favourite, created = Favourite.objects.get_or_create(favourite_list=chosen, **target)
        if created:
            favourite.favourite_list = chosen
            activity_record(actor=owner, kind=ActivityKind.FAVOURITED, target=favourite)
    return favourite


def favourite_remove(*, owner, favourite: Favourite) -> None:
    """Take something out of a list (the activity of saving it goes too)."""
    if owner is None or not owner.is_authenticated or favourite.favourite_list.owner_id != owner.pk:
        raise PermissionDenied("Only the list's owner can change it.")
    with transaction.atomic():
        Favourite.objects.filter(pk=favourite.pk).delete()


# --- What other apps report ---------------------------------------------------------------------


def shop_opened(*, shop: Shop, owner) -> None:
    """A person opened a shop (sellers.services.shop_create, in its transaction)."""
    activity_record(actor=owner, kind=ActivityKind.OPENED_SHOP, target=shop)


def listing_tagged(*, application: TaggedListing) -> None:
    """A shopper tagged a listing (catalog.tagging.tag_apply). The shop's own tags describe
    its stock and are not anyone's activity."""
    if not application.is_seller_tag:
        activity_record(actor=application.tagged_by, kind=ActivityKind.TAGGED, target=application)


def checkout_placed(*, checkout) -> None:
    """A checkout placed its orders (orders.services.checkout_place, in its transaction): each
    listing bought is the buyer's "bought" activity (private unless they chose otherwise) and a
    purchase counted for recommendations, which the task recounts after commit."""
    from orders.models import OrderItem

    buyer = checkout.buyer
    items = list(
        OrderItem.objects.filter(order__checkout_id=checkout.pk, listing__isnull=False)
        .select_related("listing")
        .order_by("pk")
    )
    for item in items:
        activity_record(actor=buyer, kind=ActivityKind.BOUGHT, target=item.listing)
    recommendations.purchases_record(user=buyer, listings=[item.listing for item in items])


def _enqueue_listing_event(event_id: int) -> None:
    from .tasks import fanout_listing_event

    try:
        fanout_listing_event.apply_async(args=[event_id], retry=False)
    except (BrokerError, OSError):  # the event stays pending: sweep_listing_events tries again
        logger.warning("listing event %s waits for the sweeper: the broker is unreachable", event_id)


def _enqueue_listing_events(event_ids: list[int]) -> None:
    from .tasks import fanout_listing_events

    try:
        fanout_listing_events.apply_async(args=[event_ids], retry=False)
    except (BrokerError, OSError):  # the events stay pending: sweep_listing_events tries again
        logger.warning("%s listing events wait for the sweeper: the broker is unreachable", len(event_ids))


def _dispatch_on_commit(event_ids: list[int]) -> None:
    if event_ids:
        transaction.on_commit(lambda: [_enqueue_listing_event(event_id) for event_id in event_ids])


def listing_on_sale(*, listing: Listing, actor, is_new: bool) -> ListingEvent | None:
    """`listing` was put on sale (active) by `actor`: call it in the transaction that did it,
    after the listing is saved (catalog.services). For a listing on sale for the first time
    (`is_new`) this is `actor`'s "listed" activity and its shop's followers are told
    (shop.listed); every time, the want lists it matches are told (wantlist.matched)."""
    with transaction.atomic():
        if is_new:
            activity_record(actor=actor, kind=ActivityKind.LISTED, target=listing)
        if not _could_concern_anyone(listing=listing, followers=is_new):
            return None
        event = ListingEvent.objects.create(
            listing=listing, kind=ListingEvent.Kind.ON_SALE, is_new=is_new, actor=actor, new_price=listing.price
        )
        _dispatch_on_commit([event.pk])
    return event


def listings_imported_on_sale(*, shop: Shop, listings: list[tuple[int, Decimal]], actor, tell_followers: bool) -> int:
    """New listings of `shop` ((id, price) of each), on sale for the first time, put there
    together by `actor` (a batch of an inventory import, in its transaction, listings saved):
    listing_on_sale for many at once, in a fixed number of queries. Each listing is `actor`'s
    "listed" activity, so the feeds of the shop's followers show every one of them; each is
    matched against the want lists (one event per listing, written only while some want is
    active, all handed to one task). The shop's followers are told (shop.listed) of the first listing only, and only
    when `tell_followers`: an import of thousands of rows is one notification to each
    follower, not one per row. Returns how many events were written."""
    if not listings:
        return 0
    now = timezone.now()
    with transaction.atomic():
        audience = min(_chosen_audience(user_id=actor.pk, subject=ActivityKind.LISTED), Audience.EVERYONE)
        insert_rows(
            Activity,
            [
                {
                    "actor_id": actor.pk,
                    "kind": ActivityKind.LISTED,
                    "listing_id": listing_id,
                    "shop_id": shop.pk,
                    "ceiling": Audience.EVERYONE,
                    "audience": audience,
                    "created_at": now,
                }
                for listing_id, _ in listings
            ],
            now=now,
        )
        checks = {"wanted": Exists(Want.objects.filter(is_active=True))}
        if tell_followers:
            checks["followed"] = Exists(Follow.objects.filter(shop_id=shop.pk))
        found = Shop.objects.filter(pk=shop.pk).annotate(**checks).values(*checks).first() or {}
        told_followers = bool(found.get("followed"))
        told = listings if found.get("wanted") else listings[:1] if told_followers else []
        events = insert_rows(
            ListingEvent,
            [
                {
                    "listing_id": listing_id,
                    "kind": ListingEvent.Kind.ON_SALE,
                    "is_new": told_followers and position == 0,
                    "actor_id": actor.pk,
                    "new_price": price,
                    "created_at": now,
                }
                for position, (listing_id, price) in enumerate(told)
            ],
            now=now,
            returning_ids=True,
        )
        if events:
            transaction.on_commit(lambda: _enqueue_listing_events(events))
    return len(events)


def _could_concern_anyone(*, listing: Listing, followers: bool) -> bool:
    """Whether anyone could hear of `listing` coming on sale: some want is active, or (for a
    new listing) its shop has followers. An event nobody can receive is not written, so a
    thousand-row import into a shop nobody follows queues nothing (one query)."""
    checks = {"wanted": Exists(Want.objects.filter(is_active=True))}
    if followers:
        checks["followed"] = Exists(Follow.objects.filter(shop_id=listing.shop_id))
    return any(Listing.objects.filter(pk=listing.pk).annotate(**checks).values_list(*checks).first() or ())


def listing_prices_dropped(*, drops: Iterable[tuple[Listing, Decimal]], actor) -> list[ListingEvent]:
    """The price of each (listing, price before) went down, by `actor` (catalog.services, in the
    transaction of the change, listings saved): the people who favourited a listing for sale
    are told (favourite.price_dropped), and the want lists it now matches."""
    dropped = [
        (listing, old_price)
        for listing, old_price in drops
        if listing.status == Listing.Status.ACTIVE and listing.price < old_price
    ]
    if not dropped:
        return []
    # Only drops someone could hear of: saved by someone, or while any want is active.
    if not Want.objects.filter(is_active=True).exists():
        saved = set(
            Favourite.objects.filter(listing_id__in=[listing.pk for listing, _ in dropped]).values_list(
                "listing_id", flat=True
            )
        )
        dropped = [(listing, old_price) for listing, old_price in dropped if listing.pk in saved]
    with transaction.atomic():
        created = [
            ListingEvent.objects.create(
                listing=listing,
                kind=ListingEvent.Kind.PRICE_DROPPED,
                actor=actor,
                old_price=old_price,
                new_price=listing.price,
            )
            for listing, old_price in dropped
        ]
        _dispatch_on_commit([event.pk for event in created])
    return created


# --- Telling people of a listing event (the task's work) ------------------------------------------


def _next_batch_end(ids: QuerySet) -> int | None:
    """The id that ends the next batch of FANOUT_BATCH people in `ids` (a queryset of the ids
    still to tell, in order), or None when fewer are left: one query."""
    ends = list(ids[FANOUT_BATCH - 1 : FANOUT_BATCH])
    return ends[0] if ends else None


def _tell_followers(event: ListingEvent, listing: Listing) -> int | None:
    """Tell the shop's next batch of followers; returns the last follower id of the batch, or
    None when this was the last batch."""
    follows = Follow.objects.filter(shop_id=listing.shop_id, follower_id__gt=event.told_through)
    end = _next_batch_end(follows.order_by("follower_id").values_list("follower_id", flat=True))
    batch = follows if end is None else follows.filter(follower_id__lte=end)
    notify_audience(
        audience=batch.filter(follower__is_active=True).values("follower_id"),
        kind="shop.listed",
        actor=event.actor,
        target=listing,
        context={"actor": listing.shop.name, "subject": listing.title},
    )
    return end


def _tell_favouriters(event: ListingEvent, listing: Listing) -> int | None:
    """Tell the next batch of people who saved the listing; returns the last of their ids, or
    None when this was the last batch."""
    saved = Favourite.objects.filter(listing_id=listing.pk, favourite_list__owner_id__gt=event.told_through)
    owner_ids = saved.order_by("favourite_list__owner_id").values_list("favourite_list__owner_id", flat=True)
    end = _next_batch_end(owner_ids.distinct())
    batch = saved if end is None else saved.filter(favourite_list__owner_id__lte=end)
    notify_audience(
        audience=batch.filter(favourite_list__owner__is_active=True).values("favourite_list__owner_id"),
        kind="favourite.price_dropped",
        actor=event.actor,
        target=listing,
        context={"subject": listing.title, "price": f"{listing.price} {listing.currency}"},
    )
    return end


def listing_event_process(*, event_id: int) -> bool:
    """Tell everyone a listing event concerns, FANOUT_BATCH people per transaction, then match
    want lists. Each batch commits with the progress it made, so after a crash or a second
    delivery of the task the work resumes where it stopped and nobody is told twice. A
    listing no longer for sale (or no longer at the dropped price) tells nobody. Returns
    False when there was nothing (left) to do."""
    from catalog import wantlists

    worked = False
    while True:
        with transaction.atomic():
            event = ListingEvent.objects.select_for_update().filter(pk=event_id, done_at__isnull=True).first()
            if event is None:
                return worked
            worked = True
            listing = Listing.objects.select_related("shop", "condition").filter(pk=event.listing_id).first()
            still_true = (
                listing is not None
                and listing.status == Listing.Status.ACTIVE
                and (event.kind == ListingEvent.Kind.ON_SALE or listing.price == event.new_price)
            )
            if not still_true:
                event.stage, event.done_at = ListingEvent.Stage.DONE, timezone.now()
                event.save(update_fields=["stage", "done_at"])
                return worked
            if event.stage == ListingEvent.Stage.PEOPLE:
                told_through = None
                if event.kind == ListingEvent.Kind.PRICE_DROPPED:
                    told_through = _tell_favouriters(event, listing)
                elif event.is_new:
                    told_through = _tell_followers(event, listing)
                if told_through is None:
                    event.stage, event.told_through = ListingEvent.Stage.WANTS, 0
                else:
                    event.told_through = told_through
                event.save(update_fields=["stage", "told_through"])
                continue
            reason = "price_dropped" if event.kind == ListingEvent.Kind.PRICE_DROPPED else "on_sale"
            wantlists.wants_match(listing=listing, reason=reason)
            event.stage, event.done_at = ListingEvent.Stage.DONE, timezone.now()
            event.save(update_fields=["stage", "done_at"])
            return worked


def listing_events_sweep(*, older_than) -> int:
    """Hand the events still pending since before `older_than` to the task again (the broker
    was away when they were written, or a worker died). Returns how many."""
    pending = list(
        ListingEvent.objects.filter(done_at__isnull=True, created_at__lt=older_than)
        .order_by("pk")
        .values_list("pk", flat=True)[:1000]
    )
    for event_id in pending:
        _enqueue_listing_event(event_id)
    return len(pending)
