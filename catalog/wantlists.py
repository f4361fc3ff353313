"""Want lists (intent casting): a person says what they are looking for, and hears of it once
when a listing comes on sale, or drops its price, and matches; shops see the demand as
anonymous counts.

A want names what with words, tags and/or a work, and narrows it with a maximum price (in
one currency: Plural converts none), a minimum condition and "ships to my country". Writes
(`want_*`) validate first, change nothing when they refuse (ValidationError with a field
dict) and write in one transaction.

Matching runs after the listing's change has committed and the listing is in the search
index (social.services.listing_event_process calls wants_match from its task). The wants a
listing might match are found through indexed rows: the want's work, its tag names, and the
first letters of its words (WantWord); search itself (catalog.search.listings_matching)
then decides whether the words match, stemming included, exactly as a search would. A
WantMatch row, unique per want and listing, makes sure its owner is told once.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404

from marketplace.money import CURRENCY_CODES, MAX_PRICE
from notifications.services import notify
from sellers.models import Shop, ShopMember

from . import search, tagging
from .identifiers import normalise_identifier
from .models import Condition, Listing, Tag, TaggedListing, Want, WantMatch, WantTag, WantWord, Work

MAX_WORDS_LENGTH = 200
MAX_WANT_TAGS = 5
MAX_WANTS_PER_PERSON = 200
WORD_KEY_LENGTH = 3
# Words too common to find anything by; search ignores them as well.
_COMMON_WORDS = frozenset({"the", "and", "for", "with", "from", "that", "this"})
WANT_FIELDS = (
    "text",
    "tags",
    "work",
    "identifier",
    "max_price",
    "currency",
    "min_condition",
    "ships_to_me",
    "visibility",
    "is_active",
)
DEMAND_SIZE = 20


def word_keys(text: str) -> set[str]:
    """The first letters of each word worth searching for: a listing can only match a want
    whose keys it all has (search then decides)."""
    return {
        word[:WORD_KEY_LENGTH]
        for word in search.words(text)
        if len(word) >= WORD_KEY_LENGTH and word not in _COMMON_WORDS
    }


def _names_of_tags(raw) -> tuple[list[str], list[str]]:
    """Tag names as stored (a synonym as its main tag), and the errors."""
    if raw is None or raw == "":
        return [], []
    parts = raw.split(",") if isinstance(raw, str) else list(raw)
    names: list[str] = []
    errors: list[str] = []
    for part in parts:
        if isinstance(part, str) and not part.strip():
            continue
        try:
            name = tagging.normalise_tag_name(part)
        except ValidationError as error:
            errors.extend(error.message_dict.get("name", error.messages))
            continue
        tag = tagging.find_tag(name=name)
        if tag is not None and tagging.is_hidden_tag(tag):
            errors.append(f"“{name}” has been hidden by a moderator and cannot be used.")
            continue
        main = (tag.merged_into or tag).name if tag is not None else name
        if main not in names:
            names.append(main)
    if len(names) > MAX_WANT_TAGS:
        errors.append(f"Ask for at most {MAX_WANT_TAGS} tags.")
    return names, errors


def _clean_want_fields(*, fields: dict, want: Want | None) -> tuple[dict, dict]:
    cleaned: dict = {}
    errors: dict[str, list[str]] = {}

    def fail(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if "text" in fields:
        text = " ".join(str(fields["text"] or "").split())
        if len(text) > MAX_WORDS_LENGTH:
            fail("text", f"Use at most {MAX_WORDS_LENGTH} characters.")
        cleaned["text"] = text
    if "tags" in fields:
        names, tag_errors = _names_of_tags(fields["tags"])
        for message in tag_errors:
            fail("tags", message)
        cleaned["tags"] = names
    if fields.get("identifier"):
        try:
            kind, identifier = normalise_identifier(str(fields["identifier"]))
        except ValidationError as error:
            errors.setdefault("identifier", []).extend(error.messages)
        else:
            found = Work.objects.filter(identifier_kind=kind, identifier=identifier).first()
            if found is None:
                fail(
                    "identifier",
                    "No copy of this has been listed on Plural yet: describe it in words, and you will hear of it.",
                )
            else:
                cleaned["work"] = found
    elif "work" in fields:
        work = fields["work"]
        if work in (None, ""):
            cleaned["work"] = None
        elif isinstance(work, Work):
            cleaned["work"] = work
        else:
            found = Work.objects.filter(pk=work).first() if str(work).isdigit() else None
            if found is None:
                fail("work", "There is no such work.")
            else:
                cleaned["work"] = found
    if "max_price" in fields:
        raw = fields["max_price"]
        if raw in (None, ""):
            cleaned["max_price"] = None
        else:
            try:
                price = Decimal(str(raw).strip())
                if not price.is_finite():
                    raise InvalidOperation
            except (InvalidOperation, ValueError):
                fail("max_price", "Enter the most you would pay as a number, for example 25.")
            else:
                if price < 0:
                    fail("max_price", "The most you would pay cannot be below zero.")
                elif price > MAX_PRICE:
                    fail("max_price", f"The most you would pay can be at most {MAX_PRICE}.")
                elif price != price.quantize(Decimal("0.01")):
                    fail("max_price", "Use at most two decimal places.")
                else:
                    cleaned["max_price"] = price
    if "currency" in fields:
        currency = str(fields["currency"] or "").strip().upper()
        if currency and currency not in CURRENCY_CODES:
            fail("currency", f"{fields['currency']} is not a currency Plural accepts.")
        cleaned["currency"] = currency
    if "min_condition" in fields:
        condition = fields["min_condition"]
        if condition in (None, ""):
            cleaned["min_condition"] = None
        elif isinstance(condition, Condition):
            cleaned["min_condition"] = condition
        else:
            found = Condition.objects.filter(slug=str(condition).strip().lower()).first()
            if found is None:
                fail("min_condition", "Choose one of the conditions.")
            else:
                cleaned["min_condition"] = found
    if "ships_to_me" in fields:
        cleaned["ships_to_me"] = bool(fields["ships_to_me"])
    if "visibility" in fields:
        visibility = fields["visibility"] or Want.Visibility.PRIVATE
        if visibility not in Want.Visibility.values:
            fail("visibility", "Choose private or public.")
        cleaned["visibility"] = visibility
    if "is_active" in fields:
        cleaned["is_active"] = bool(fields["is_active"])
    return cleaned, errors


def _check_whole(*, user, values: dict, errors: dict, tags: list[str]) -> None:
    """Rules about the want as a whole, once its fields are known."""
    refused_already = any(errors.get(name) for name in ("text", "tags", "work", "identifier"))
    says_nothing = not word_keys(values.get("text", "")) and not tags and values.get("work") is None
    if says_nothing and not refused_already:
        errors.setdefault("text", []).append(
            "Say what you want: a few words (at least one of three letters or more), a tag or a work."
        )
    if values.get("max_price") is not None and not values.get("currency") and "currency" not in errors:
        errors.setdefault("currency", []).append("Choose the currency of the most you would pay.")
    if values.get("ships_to_me") and not user.country:
        errors.setdefault("ships_to_me", []).append("Set your country on your profile first, so shops can be checked.")


def _store_tags_and_words(want: Want, *, tags: list[str] | None, text_changed: bool) -> None:
    if tags is not None:
        WantTag.objects.filter(want=want).delete()
        WantTag.objects.bulk_create([WantTag(want=want, name=name) for name in tags])
    if text_changed:
        WantWord.objects.filter(want=want).delete()
        WantWord.objects.bulk_create([WantWord(want=want, key=key) for key in sorted(word_keys(want.text))])


def want_create(*, user, **fields) -> Want:
    """A new want of `user` (WANT_FIELDS: text, tags as a list or comma-separated, work or an
    identifier of a work listed before, max_price with its currency, min_condition by slug,
    ships_to_me, visibility). Recorded as their "wrote a want" activity (a private want is
    theirs alone whatever they share)."""
    from social import services as social_services

    if user is None or not user.is_authenticated or not user.is_active:
        raise PermissionDenied("Sign in to write a want.")
    unknown = set(fields) - set(WANT_FIELDS)
    if unknown:
        raise ValueError(f"not want fields: {sorted(unknown)}")
    cleaned, errors = _clean_want_fields(fields=fields, want=None)
    tags = cleaned.pop("tags", [])
    values = {"text": "", "work": None, "max_price": None, "currency": "", **cleaned}
    _check_whole(user=user, values=values, errors=errors, tags=tags)
    if Want.objects.filter(user_id=user.pk).count() >= MAX_WANTS_PER_PERSON:
        errors.setdefault("text", []).append(f"You can keep at most {MAX_WANTS_PER_PERSON} wants.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        want = Want.objects.create(user=user, **values)
        _store_tags_and_words(want, tags=tags, text_changed=True)
        social_services.activity_record(actor=user, kind="wanted", target=want)
    return want


def _require_owner(*, want: Want, user) -> None:
    if user is None or not user.is_authenticated or want.user_id != user.pk:
        raise PermissionDenied("Only the person who wrote a want can change it.")


def want_update(*, want: Want, user, **fields) -> Want:
    """Change the given fields of `user`'s want; same rules as want_create."""
    from social import services as social_services

    _require_owner(want=want, user=user)
    unknown = set(fields) - set(WANT_FIELDS)
    if unknown:
        raise ValueError(f"not want fields: {sorted(unknown)}")
    cleaned, errors = _clean_want_fields(fields=fields, want=want)
    tags = cleaned.pop("tags", None)
    current_tags = list(want.tags.values_list("name", flat=True)) if tags is None else tags
    values = {
        "text": want.text,
        "work": want.work,
        "max_price": want.max_price,
        "currency": want.currency,
        "ships_to_me": want.ships_to_me,
        **cleaned,
    }
    _check_whole(user=user, values=values, errors=errors, tags=current_tags)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        current = Want.objects.select_for_update().get(pk=want.pk)
        visibility_before = current.visibility
        for name, value in cleaned.items():
            setattr(current, name, value)
        current.save()
        _store_tags_and_words(current, tags=tags, text_changed="text" in cleaned)
        if current.visibility != visibility_before:
            social_services.want_visibility_changed(want=current)
    return current


def want_delete(*, want: Want, user) -> None:
    """Delete `user`'s want (its activity and matches go with it)."""
    _require_owner(want=want, user=user)
    with transaction.atomic():
        Want.objects.filter(pk=want.pk).delete()


# --- Reads -----------------------------------------------------------------------------------------


def wants_queryset() -> QuerySet[Want]:
    return Want.objects.select_related("work", "min_condition", "user").prefetch_related("tags")


def access_want(*, user, pk) -> Want:
    """The want `pk` if `user` may see it: their own, or a public one of an active person.
    Http404 otherwise, so a private want cannot be told from one that does not exist."""
    want = wants_queryset().filter(pk=pk).first() if str(pk).isdigit() else None
    if want is None:
        raise Http404("No such want.")
    is_owner = user is not None and user.is_authenticated and want.user_id == user.pk
    if is_owner or (want.visibility == Want.Visibility.PUBLIC and want.user.is_active):
        return want
    raise Http404("No such want.")


def access_own_want(*, user, pk) -> Want:
    want = access_want(user=user, pk=pk)
    if want.user_id != user.pk:
        raise Http404("No such want.")
    return want


def wants_of(*, user) -> QuerySet[Want]:
    """All of `user`'s own wants, newest first (three queries with tags and matches counted)."""
    return wants_queryset().filter(user_id=user.pk).annotate(match_count=Count("matches")).order_by("-created_at")


def public_wants_of(*, person) -> QuerySet[Want]:
    return wants_queryset().filter(user_id=person.pk, visibility=Want.Visibility.PUBLIC, is_active=True)


def want_matches(*, want: Want, limit: int = 20) -> list[WantMatch]:
    return list(want.matches.select_related("listing__shop", "listing__condition").order_by("-matched_at")[:limit])


# --- Matching --------------------------------------------------------------------------------------


def _listing_tag_names(listing: Listing) -> set[str]:
    """The names a want may use for the listing's visible tags: main tags and their synonyms."""
    mains = set(
        TaggedListing.objects.filter(content_object_id=listing.pk, tag__is_hidden=False).values_list(
            "tag_id", flat=True
        )
    )
    if not mains:
        return set()
    return set(
        Tag.objects.filter(Q(pk__in=mains) | Q(merged_into_id__in=mains), is_hidden=False).values_list(
            "name", flat=True
        )
    )


def wants_match(*, listing: Listing, reason: str) -> int:
    """Tell the owner of every want `listing` (on sale) now matches, once per want and
    listing; call it once the listing is committed and indexed. The shop's own people are
    not told of their own listings. Returns how many were told."""
    if listing.status != Listing.Status.ACTIVE:
        return 0
    names = _listing_tag_names(listing)
    keys = word_keys(" ".join([listing.title, listing.creator, listing.publisher, listing.identifier]))
    keys |= word_keys(listing.description) | word_keys(" ".join(names))
    shop: Shop = listing.shop
    might = Exists(WantTag.objects.filter(want_id=OuterRef("pk"), name__in=names)) | Exists(
        WantWord.objects.filter(want_id=OuterRef("pk"), key__in=keys)
    )
    if listing.work_id:
        might |= Q(work_id=listing.work_id)
    ships = Q(ships_to_me=False) | Q(user__country=shop.country.code)
    if shop.ships_to:
        ships |= Q(user__country__in=[country.code for country in shop.ships_to])
    candidates = (
        Want.objects.filter(might, ships, is_active=True, user__is_active=True)
        .filter(Q(work__isnull=True) | Q(work_id=listing.work_id))
        .filter(Q(max_price__isnull=True) | Q(currency=listing.currency, max_price__gte=listing.price))
        .filter(Q(min_condition__isnull=True) | Q(min_condition__rank__gte=listing.condition.rank))
        .exclude(Exists(WantTag.objects.filter(want_id=OuterRef("pk")).exclude(name__in=names)))
        .exclude(Exists(WantWord.objects.filter(want_id=OuterRef("pk")).exclude(key__in=keys)))
        .exclude(Exists(WantMatch.objects.filter(want_id=OuterRef("pk"), listing_id=listing.pk)))
        .exclude(user_id__in=ShopMember.objects.filter(shop_id=shop.pk).values("user_id"))
        .select_related("user")
        .order_by("pk")
    )
    told = 0
    this_listing = Listing.objects.filter(pk=listing.pk, status=Listing.Status.ACTIVE)
    for want in candidates:
        if word_keys(want.text) and not search.listings_matching(listings=this_listing, text=want.text).exists():
            continue  # its words are not what search would find this listing by
        with transaction.atomic():
            _, created = WantMatch.objects.get_or_create(
                want=want, listing=listing, defaults={"reason": reason, "price": listing.price}
            )
            if created:
                notify(
                    recipient=want.user,
                    kind="wantlist.matched",
                    target=listing,
                    context={
                        "subject": listing.title,
                        "body": f"{listing.price} {listing.currency}, {listing.condition.name.lower()}, "
                        f"from {shop.name}",
                    },
                )
                told += 1
    return told


# --- Demand ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WantedWork:
    work_id: int
    title: str
    creator: str
    people: int
    listed_here: int

    @property
    def url(self) -> str:
        from django.urls import reverse

        return reverse("catalog:work", kwargs={"pk": self.work_id})


@dataclass(frozen=True)
class WantedTag:
    name: str
    people: int


@dataclass
class Demand:
    """What people want that a shop could list: anonymous counts of people, never who."""

    works: list[WantedWork]
    tags: list[WantedTag]
    in_categories: bool


def shop_demand(*, shop: Shop, limit: int = DEMAND_SIZE) -> Demand:
    """The works and tags most wanted (by active wants) in the categories `shop` lists in
    (everywhere, when its listings have no category), each with how many people want it
    and, for works, how many copies the shop has on sale. Four queries."""
    categories = list(
        Listing.objects.filter(shop_id=shop.pk, category__isnull=False).values_list("category_id", flat=True).distinct()
    )
    active = Want.objects.filter(is_active=True, user__is_active=True)
    works = active.filter(work__isnull=False)
    tags = WantTag.objects.filter(want__in=active)
    if categories:
        works = works.filter(work__listings__category_id__in=categories)
        tags = tags.filter(
            name__in=TaggedListing.objects.filter(content_object__category_id__in=categories).values("tag__name")
        )
    work_rows = list(
        works.values("work_id", "work__title", "work__creator")
        .annotate(people=Count("user_id", distinct=True))
        .order_by("-people", "work__title", "work_id")[:limit]
    )
    listed = dict(
        Listing.objects.filter(
            shop_id=shop.pk, status=Listing.Status.ACTIVE, work_id__in=[row["work_id"] for row in work_rows]
        )
        .values("work_id")
        .annotate(copies=Count("pk"))
        .values_list("work_id", "copies")
    )
    tag_rows = list(
        tags.values("name").annotate(people=Count("want__user_id", distinct=True)).order_by("-people", "name")[:limit]
    )
    return Demand(
        works=[
            WantedWork(
                work_id=row["work_id"],
                title=row["work__title"],
                creator=row["work__creator"],
                people=row["people"],
                listed_here=listed.get(row["work_id"], 0),
            )
            for row in work_rows
        ],
        tags=[WantedTag(name=row["name"], people=row["people"]) for row in tag_rows],
        in_categories=bool(categories),
    )
