"""Every write to listings: create, edit, status, duplicate, delete, images and bulk actions.

Each function checks that `actor` is one of the shop's people (PermissionDenied
otherwise; pages and API resolve the shop with sellers.selectors.access_shop_for_edit
first, so outsiders see a 404 before reaching here), validates everything before
writing, raises ValidationError with a dict of field -> messages, and writes in one
transaction: a refused call saves nothing. Every change to what search finds (text,
tags, status, existence) names the listings to catalog.search, which reindexes them
once the transaction commits.
"""

import uuid
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from marketplace.images import ImageSize, process_image_upload
from marketplace.markdown import render_markdown
from marketplace.money import CURRENCY_CODES, MAX_PRICE, MIN_PRICE
from sellers.models import Shop
from sellers.selectors import is_shop_member
from social import services as social_services

from . import search, tagging
from .identifiers import normalise_identifier
from .models import Category, Condition, Listing, ListingImage, Work

LISTING_FIELDS = (
    "title",
    "price",
    "condition",
    "currency",
    "quantity",
    "status",
    "sku",
    "creator",
    "publisher",
    "year",
    "format",
    "identifier",
    "description",
    "category",
)
LISTING_IMAGE_SIZES = [ImageSize("thumbnail", 240, 240)]
LISTING_LARGE_IMAGE_SIZES = [ImageSize("large", 1200, 1200)]
MAX_IMAGES_PER_LISTING = 8
MAX_QUANTITY = 100_000
CENT = Decimal("0.01")


def _require_member(*, actor, shop: Shop) -> None:
    if not is_shop_member(user=actor, shop=shop):
        raise PermissionDenied("Only the shop's people can change its listings.")


def _price_error(value) -> tuple[Decimal | None, str | None]:
    if value is None or value == "":
        return None, "Enter a price."
    try:
        price = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None, "Enter a price as a number, for example 12.50."
    if not price.is_finite():
        return None, "Enter a price as a number, for example 12.50."
    if price < MIN_PRICE:
        return None, f"The price must be at least {MIN_PRICE}."
    if price > MAX_PRICE:
        return None, f"The price can be at most {MAX_PRICE}."
    if price != price.quantize(CENT):
        return None, "The price can have at most two decimal places."
    return price.quantize(CENT), None


def _clean_listing_fields(
    *, shop: Shop, fields: dict, listing: Listing | None, check_sku: bool = True
) -> tuple[dict, dict]:
    """Validate the given listing fields; return (cleaned values, errors)."""
    cleaned: dict = {}
    errors: dict[str, list[str]] = {}

    def fail(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    for name in ("title", "sku", "creator", "publisher", "format", "identifier", "description"):
        if name in fields:
            value = fields[name]
            cleaned[name] = "" if value is None else str(value).strip()
    if "title" in cleaned and not cleaned["title"]:
        fail("title", "Enter a title.")
    for name, limit in (("title", 255), ("creator", 255), ("publisher", 255), ("format", 80), ("sku", 64)):
        if name in cleaned and len(cleaned[name]) > limit:
            fail(name, f"This can be at most {limit} characters.")
    if "description" in cleaned and len(cleaned["description"]) > 20_000:
        fail("description", "The description can be at most 20,000 characters.")

    if "price" in fields:
        price, message = _price_error(fields["price"])
        if message:
            fail("price", message)
        else:
            cleaned["price"] = price

    if "currency" in fields:
        currency = (fields["currency"] or shop.currency or "").strip().upper()
        if currency not in CURRENCY_CODES:
            fail("currency", f"{fields['currency']} is not a currency Plural accepts.")
        else:
            cleaned["currency"] = currency

    if "quantity" in fields:
        raw_quantity = fields["quantity"]
        try:
            if isinstance(raw_quantity, bool) or (isinstance(raw_quantity, float | Decimal) and raw_quantity % 1):
                raise ValueError
            quantity = int(str(raw_quantity).strip()) if isinstance(raw_quantity, str) else int(raw_quantity)
        except (TypeError, ValueError):
            fail("quantity", "Enter the number of copies as a whole number.")
        else:
            if quantity < 0:
                fail("quantity", "The quantity cannot be below zero.")
            elif quantity > MAX_QUANTITY:
                fail("quantity", f"The quantity can be at most {MAX_QUANTITY:,}.")
            else:
                cleaned["quantity"] = quantity

    if "status" in fields:
        status = fields["status"] or Listing.Status.DRAFT
        if status not in Listing.Status.values:
            fail("status", f"{status} is not a listing status.")
        else:
            cleaned["status"] = status

    if "condition" in fields:
        condition = fields["condition"]
        if isinstance(condition, Condition):
            cleaned["condition"] = condition
        else:
            found = Condition.objects.filter(slug=str(condition or "").strip().lower()).first()
            if found is None:
                fail("condition", "Choose one of the conditions.")
            else:
                cleaned["condition"] = found

    if "category" in fields:
        category = fields["category"]
        if category in (None, ""):
            cleaned["category"] = None
        elif isinstance(category, Category):
            cleaned["category"] = category
        else:
            found = Category.objects.filter(pk=category).first() if str(category).isdigit() else None
            if found is None:
                fail("category", "Choose one of the categories.")
            else:
                cleaned["category"] = found

    if "year" in fields:
        year = fields["year"]
        if year in (None, ""):
            cleaned["year"] = None
        else:
            try:
                year = int(year)
            except (TypeError, ValueError):
                fail("year", "Enter the year as four digits, for example 1984.")
            else:
                latest = timezone.now().year + 1
                if not 1000 <= year <= latest:
                    fail("year", f"Enter a year between 1000 and {latest}.")
                else:
                    cleaned["year"] = year

    if cleaned.get("identifier"):
        try:
            cleaned["_identifier"] = normalise_identifier(cleaned["identifier"])
        except ValidationError as error:
            errors.setdefault("identifier", []).extend(error.messages)

    if check_sku and cleaned.get("sku"):
        taken = Listing.objects.filter(shop=shop, sku=cleaned["sku"])
        if listing is not None and listing.pk:
            taken = taken.exclude(pk=listing.pk)
        if taken.exists():
            fail("sku", f"Another listing in this shop already has the SKU {cleaned['sku']}.")
    return cleaned, errors


def listing_fields_check(*, shop: Shop, fields: dict, listing: Listing | None = None) -> tuple[dict, dict]:
    """The rules of listing_create (`listing` None) and listing_update for many listings at
    once (the inventory import): (cleaned values, field -> messages) for `fields`, without the
    query per listing for a taken SKU: the caller matches SKUs in bulk, and the unique
    constraint settles a race. A normalised identifier comes back as cleaned["_identifier"]."""
    return _clean_listing_fields(shop=shop, fields=fields, listing=listing, check_sku=False)


def works_for_identifiers(*, identifiers: dict[tuple[str, str], tuple[str, str]]) -> dict[tuple[str, str], Work]:
    """The work each normalised identifier (kind, identifier) links a listing to, as _link_work
    decides it for one listing, for many at once: the works that exist (their main work, for
    a merged one), and new works (title and creator from the value given for their identifier)
    created together. Three queries at most, whatever the number of identifiers."""
    if not identifiers:
        return {}

    def found() -> dict[tuple[str, str], Work]:
        works = Work.objects.select_related("merged_into").filter(
            identifier_kind__in={kind for kind, _ in identifiers},
            identifier__in={identifier for _, identifier in identifiers},
        )
        return {
            (work.identifier_kind, work.identifier): work.merged_into or work
            for work in works
            if (work.identifier_kind, work.identifier) in identifiers
        }

    works = found()
    missing = [key for key in identifiers if key not in works]
    if missing:
        # ignore_conflicts: a work created meanwhile by someone else is simply found next.
        Work.objects.bulk_create(
            [
                Work(
                    identifier_kind=kind,
                    identifier=identifier,
                    title=identifiers[kind, identifier][0][:255],
                    creator=identifiers[kind, identifier][1][:255],
                )
                for kind, identifier in missing
            ],
            ignore_conflicts=True,
        )
        works = found()
    return works


def _link_work(listing: Listing, normalised: tuple[str, str] | None) -> None:
    if normalised is None:
        listing.work = None
        return
    kind, identifier = normalised
    work, _ = Work.objects.select_related("merged_into").get_or_create(
        identifier_kind=kind,
        identifier=identifier,
        defaults={"title": listing.title[:255], "creator": listing.creator[:255]},
    )
    # An identifier an operator merged into another work joins that work (merges keep one hop).
    listing.work = work.merged_into or work


def settled_status(*, status: str, quantity: int) -> str:
    """The status that keeps status and stock consistent: an active listing without copies is
    sold out, a sold-out listing that gets copies again is active."""
    if status == Listing.Status.ACTIVE and quantity == 0:
        return Listing.Status.SOLD_OUT
    if status == Listing.Status.SOLD_OUT and quantity > 0:
        return Listing.Status.ACTIVE
    return status


def _settle_status(listing: Listing, *, previous_status: str | None) -> None:
    """settled_status; publishing stamps published_at once."""
    listing.status = settled_status(status=listing.status, quantity=listing.quantity)
    if listing.status in {Listing.Status.ACTIVE, Listing.Status.SOLD_OUT} and listing.published_at is None:
        listing.published_at = timezone.now()


def _apply(listing: Listing, cleaned: dict) -> None:
    normalised = cleaned.pop("_identifier", None)
    for name, value in cleaned.items():
        setattr(listing, name, value)
    if "description" in cleaned:
        listing.description_html = render_markdown(listing.description)
    if "identifier" in cleaned:
        _link_work(listing, normalised)


def _save_guarding_sku(listing: Listing) -> None:
    """Save; if a concurrent write took the same sku first, answer as the sku check would."""
    try:
        with transaction.atomic():
            listing.save()
    except IntegrityError as error:
        if listing.sku and Listing.objects.filter(shop=listing.shop, sku=listing.sku).exclude(pk=listing.pk).exists():
            raise ValidationError(
                {"sku": [f"Another listing in this shop already has the SKU {listing.sku}."]}
            ) from error
        raise


def listing_create(
    *,
    shop: Shop,
    actor,
    title: str,
    price,
    condition,
    currency: str | None = None,
    quantity: int = 1,
    status: str = Listing.Status.DRAFT,
    sku: str = "",
    creator: str = "",
    publisher: str = "",
    year: int | None = None,
    format: str = "",
    identifier: str = "",
    description: str = "",
    category=None,
) -> Listing:
    """Create a listing in `shop`. `actor` must be one of the shop's people (PermissionDenied).

    `condition` is a Condition or its slug; `currency` defaults to the shop's; an
    identifier is normalised and links the listing to its Work (created on first use,
    with this listing's title and creator). Raises ValidationError (field -> messages)
    and saves nothing when any value is refused."""
    _require_member(actor=actor, shop=shop)
    fields = {
        "title": title,
        "price": price,
        "condition": condition,
        "currency": currency or shop.currency,
        "quantity": quantity,
        "status": status,
        "sku": sku,
        "creator": creator,
        "publisher": publisher,
        "year": year,
        "format": format,
        "identifier": identifier,
        "description": description,
        "category": category,
    }
    cleaned, errors = _clean_listing_fields(shop=shop, fields=fields, listing=None)
    if errors:
        raise ValidationError(errors)
    listing = Listing(shop=shop)
    with transaction.atomic():
        _apply(listing, cleaned)
        _settle_status(listing, previous_status=None)
        _save_guarding_sku(listing)
        search.reindex_listings_on_commit(listing_ids=[listing.pk])
        if listing.status == Listing.Status.ACTIVE:
            # After the reindex is queued: want lists are matched by search once both commit.
            social_services.listing_on_sale(listing=listing, actor=actor, is_new=True)
    return listing


def listing_update(*, listing: Listing, actor, **fields) -> Listing:
    """Change the given fields of `listing` (any of LISTING_FIELDS). Same rules as
    listing_create; the listing passed in is refreshed on success and untouched on refusal."""
    unknown = set(fields) - set(LISTING_FIELDS)
    if unknown:
        raise ValueError(f"not listing fields: {sorted(unknown)}")
    _require_member(actor=actor, shop=listing.shop)
    if "currency" in fields and not fields["currency"]:
        fields["currency"] = listing.shop.currency
    with transaction.atomic():
        current = Listing.objects.select_for_update().select_related("shop").get(pk=listing.pk)
        cleaned, errors = _clean_listing_fields(shop=current.shop, fields=fields, listing=current)
        if errors:
            raise ValidationError(errors)
        previous_status, previous_price = current.status, current.price
        was_published = current.published_at is not None
        _apply(current, cleaned)
        _settle_status(current, previous_status=previous_status)
        _save_guarding_sku(current)
        search.reindex_listings_on_commit(listing_ids=[current.pk])
        if current.status == Listing.Status.ACTIVE and previous_status != Listing.Status.ACTIVE:
            # Tagged while a draft or paused: the tags' followers hear of it now it is for sale.
            tagging.tag_followers_notify(listing=current, actor=actor)
            social_services.listing_on_sale(listing=current, actor=actor, is_new=not was_published)
        elif current.price < previous_price:
            social_services.listing_prices_dropped(drops=[(current, previous_price)], actor=actor)
    listing.refresh_from_db()
    return current


def listing_set_status(*, listing: Listing, actor, status: str) -> Listing:
    """Put a listing on sale (active), pause it or take it back to draft.
    Activating a listing without stock makes it sold out."""
    return listing_update(listing=listing, actor=actor, status=status)


def listing_duplicate(*, listing: Listing, actor) -> Listing:
    """A draft copy of `listing` in the same shop, without SKU or images, to edit and publish."""
    _require_member(actor=actor, shop=listing.shop)
    with transaction.atomic():
        copy = Listing(
            shop=listing.shop,
            work=listing.work,
            category=listing.category,
            condition=listing.condition,
            sku="",
            title=listing.title,
            creator=listing.creator,
            publisher=listing.publisher,
            year=listing.year,
            format=listing.format,
            identifier=listing.identifier,
            description=listing.description,
            description_html=render_markdown(listing.description),
            price=listing.price,
            currency=listing.currency,
            quantity=listing.quantity,
            status=Listing.Status.DRAFT,
            published_at=None,
        )
        copy.save()
        search.reindex_listings_on_commit(listing_ids=[copy.pk])
    return copy


def _delete_files_on_commit(names: list[str]) -> None:
    storage = ListingImage._meta.get_field("thumbnail").storage
    names = [name for name in names if name]
    transaction.on_commit(lambda: [storage.delete(name) for name in names if storage.exists(name)])


def listing_delete(*, listing: Listing, actor) -> None:
    """Delete a listing and its images."""
    _require_member(actor=actor, shop=listing.shop)
    with transaction.atomic():
        names = [name for pair in listing.images.values_list("thumbnail", "large") for name in pair]
        search.reindex_listings_on_commit(listing_ids=[listing.pk])
        listing.delete()
        _delete_files_on_commit(names)


def listing_add_image(*, listing: Listing, actor, upload) -> ListingImage:
    """Add an image (re-encoded: a 240x240 cropped thumbnail and a large copy fitting
    1200x1200) after the listing's others. At most MAX_IMAGES_PER_LISTING images."""
    _require_member(actor=actor, shop=listing.shop)
    if listing.images.count() >= MAX_IMAGES_PER_LISTING:
        raise ValidationError({"image": [f"A listing can have at most {MAX_IMAGES_PER_LISTING} images."]})
    try:
        thumbnail = process_image_upload(upload, sizes=LISTING_IMAGE_SIZES, crop=True)["thumbnail"]
        large = process_image_upload(upload, sizes=LISTING_LARGE_IMAGE_SIZES, crop=False)["large"]
    except ValidationError as error:
        raise ValidationError({"image": error.messages}) from error
    with transaction.atomic():
        locked = Listing.objects.select_for_update().get(pk=listing.pk)
        existing = list(locked.images.values_list("position", flat=True))
        if len(existing) >= MAX_IMAGES_PER_LISTING:
            raise ValidationError({"image": [f"A listing can have at most {MAX_IMAGES_PER_LISTING} images."]})
        image = ListingImage(listing=locked, position=max(existing, default=-1) + 1, alt_text=listing.title[:200])
        image.thumbnail.save(thumbnail.name, thumbnail, save=False)
        image.large.save(large.name, large, save=False)
        image.save()
        locked.save(update_fields=["updated_at"])
    return image


def listing_remove_image(*, listing: Listing, actor, image_id: int) -> None:
    """Remove one of the listing's images (and its files, after commit)."""
    _require_member(actor=actor, shop=listing.shop)
    with transaction.atomic():
        image = ListingImage.objects.filter(listing=listing, pk=image_id).first()
        if image is None:
            raise ValidationError({"image": ["This listing has no such image."]})
        names = [image.thumbnail.name, image.large.name]
        image.delete()
        _delete_files_on_commit(names)


def _shop_listings_for_bulk(*, shop: Shop, listing_ids) -> list[Listing]:
    try:
        ids = {int(listing_id) for listing_id in listing_ids}
    except (TypeError, ValueError) as error:
        raise ValidationError({"listing_ids": ["Choose listings from the table."]}) from error
    if not ids:
        raise ValidationError({"listing_ids": ["Choose at least one listing."]})
    listings = list(Listing.objects.select_for_update().filter(shop=shop, pk__in=ids).order_by("pk"))
    if len(listings) != len(ids):
        raise ValidationError({"listing_ids": ["Some of the chosen listings are not in this shop."]})
    return listings


def listings_bulk_pause(*, shop: Shop, actor, listing_ids) -> int:
    """Pause the chosen listings that are on sale (active or sold out); returns how many changed."""
    _require_member(actor=actor, shop=shop)
    with transaction.atomic():
        listings = _shop_listings_for_bulk(shop=shop, listing_ids=listing_ids)
        ids = [item.pk for item in listings if item.status in {Listing.Status.ACTIVE, Listing.Status.SOLD_OUT}]
        search.reindex_listings_on_commit(listing_ids=ids)
        return Listing.objects.filter(pk__in=ids).update(status=Listing.Status.PAUSED, updated_at=timezone.now())


def listings_bulk_change_price(*, shop: Shop, actor, listing_ids, percent) -> int:
    """Change the price of the chosen listings by `percent` (e.g. Decimal("-10")), rounded
    to the cent. If any new price would fall outside the allowed range, nothing changes."""
    _require_member(actor=actor, shop=shop)
    try:
        percent = Decimal(str(percent).strip())
        if not percent.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError) as error:
        raise ValidationError({"percent": ["Enter a percentage as a number, for example -10."]}) from error
    if percent <= -100 or percent > 1000:
        raise ValidationError({"percent": ["Enter a percentage above -100 and at most 1000."]})
    if percent == 0:
        raise ValidationError({"percent": ["A change of 0% changes nothing."]})
    factor = (Decimal(100) + percent) / Decimal(100)
    with transaction.atomic():
        listings = _shop_listings_for_bulk(shop=shop, listing_ids=listing_ids)
        previous_prices = {listing.pk: listing.price for listing in listings}
        refused = []
        for listing in listings:
            listing.price = (listing.price * factor).quantize(CENT, rounding=ROUND_HALF_UP)
            if not MIN_PRICE <= listing.price <= MAX_PRICE:
                refused.append(listing.title)
        if refused:
            raise ValidationError(
                {
                    "percent": [
                        f"This would put the price outside {MIN_PRICE} to {MAX_PRICE} for: {', '.join(refused[:5])}"
                        + (f" and {len(refused) - 5} more" if len(refused) > 5 else "")
                        + ". No price was changed."
                    ]
                }
            )
        now = timezone.now()
        for listing in listings:
            listing.updated_at = now
        # No reindex: prices are not in the search documents, searches read them from the listings.
        Listing.objects.bulk_update(listings, ["price", "updated_at"])
        social_services.listing_prices_dropped(
            drops=[(listing, previous_prices[listing.pk]) for listing in listings], actor=actor
        )
    return len(listings)


def listings_bulk_add_tag(*, shop: Shop, actor, listing_ids, name: str) -> int:
    """Apply the tag `name` (as a seller tag, through catalog.tagging.tag_apply) to every chosen listing."""
    _require_member(actor=actor, shop=shop)
    with transaction.atomic():
        listings = _shop_listings_for_bulk(shop=shop, listing_ids=listing_ids)
        for listing in listings:
            try:
                tagging.tag_apply(listing=listing, user=actor, name=name)
            except ValidationError as error:
                messages = error.message_dict.get("name", error.messages) if hasattr(error, "message_dict") else None
                raise ValidationError({"name": messages or error.messages}) from error
        search.reindex_listings_on_commit(listing_ids=[listing.pk for listing in listings])
    return len(listings)


# --- Stock taken and given back by orders ------------------------------------------------------


def listing_stock_take(*, listing_id: int, quantity: int) -> bool:
    """Take `quantity` copies of an active listing for an order; False when fewer are left.

    One conditional UPDATE decides (`quantity >= n` in its WHERE clause, with the
    catalog_listing_quantity_not_negative check constraint behind it), so two buyers racing
    for the last copy can never both get it, on PostgreSQL or SQLite. A listing left without
    copies becomes sold out, as _settle_status keeps it. Call inside the order's transaction."""
    if quantity < 1:
        raise ValueError("take at least one copy")
    taken = Listing.objects.filter(pk=listing_id, status=Listing.Status.ACTIVE, quantity__gte=quantity).update(
        quantity=F("quantity") - quantity, updated_at=timezone.now()
    )
    if taken:
        Listing.objects.filter(pk=listing_id, status=Listing.Status.ACTIVE, quantity=0).update(
            status=Listing.Status.SOLD_OUT
        )
    return bool(taken)


def listing_stock_return(*, listing_id: int, quantity: int) -> None:
    """Give back `quantity` copies of a cancelled order; a sold-out listing goes back on sale
    (a paused or draft one keeps its status: its shop chose that)."""
    if quantity < 1:
        raise ValueError("return at least one copy")
    Listing.objects.filter(pk=listing_id).update(quantity=F("quantity") + quantity, updated_at=timezone.now())
    Listing.objects.filter(pk=listing_id, status=Listing.Status.SOLD_OUT, quantity__gt=0).update(
        status=Listing.Status.ACTIVE
    )


# --- Works (operators) --------------------------------------------------------------------


def _require_work_operator(actor) -> None:
    if actor is None or not (actor.is_active and actor.is_staff and actor.has_perm("catalog.change_work")):
        raise PermissionDenied("Only the site's operators can merge works.")


def work_create_manual(*, actor, title: str, creator: str = "") -> Work:
    """A work without a shared identifier (an old book without ISBN, a bootleg), for an
    operator to merge the works of its copies into."""
    _require_work_operator(actor)
    title = " ".join(str(title or "").split())
    if not title:
        raise ValidationError({"title": ["Give the work a title."]})
    with transaction.atomic():
        return Work.objects.create(
            title=title[:255],
            creator=" ".join(str(creator or "").split())[:255],
            identifier_kind=Work.IdentifierKind.MANUAL,
            identifier=uuid.uuid4().hex[:16].upper(),
        )


def works_merge(*, actor, into: Work, works) -> int:
    """Make `works` one with `into`, by an operator: their copies move to `into`'s page (the price
    comparator), their pages lead there, and a listing typed later with one of their identifiers
    joins `into`. Works merged into them before now lead to `into` too, so a merge is always one
    hop. Returns how many listings moved; nothing changes when the merge is refused."""
    _require_work_operator(actor)
    merging = [work for work in works if work.pk != into.pk]
    if not merging:
        raise ValidationError({"works": ["Choose at least one other work to merge into this one."]})
    with transaction.atomic():
        target = Work.objects.select_for_update().get(pk=into.pk)
        if target.merged_into_id is not None:
            raise ValidationError(
                {"into": [f"“{target.title}” was itself merged into another work: merge into that one."]}
            )
        ids = [work.pk for work in merging]
        moved = Listing.objects.filter(work_id__in=ids).update(work=target)
        Work.objects.filter(merged_into_id__in=ids).update(merged_into=target)
        Work.objects.filter(pk__in=ids).update(merged_into=target, merged_at=timezone.now())
    return moved
