"""Bringing a Plural export (accounts.exports) into this site: the person's profile, addresses,
want lists, follows and favourites of shops that exist here, and, for a shop owner, their shop
with its listings, images and the reviews it earned there, kept as history from that site
(accounts.EarnedElsewhere) and never counted in this site's ratings.

Everything goes through the owning apps' services, so what this site refuses in a form
(a taken shop address, a bad picture) is refused here too; one transaction: an archive that
fails part-way changes nothing."""

import json
import zipfile
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils.text import slugify

from . import exports
from .models import EarnedElsewhere, User

MAX_ARCHIVE_BYTES = 200 * 1024 * 1024
MAX_MEMBER_BYTES = 20 * 1024 * 1024


@dataclass
class ImportResult:
    counts: dict = field(default_factory=dict)
    shop_slug: str = ""
    skipped: list = field(default_factory=list)

    def add(self, what: str, number: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + number

    def summary(self) -> str:
        done = ", ".join(f"{number} {what}" for what, number in self.counts.items() if number) or "nothing new"
        return f"Imported: {done}."


def _read(archive_file) -> tuple[zipfile.ZipFile, dict]:
    if getattr(archive_file, "size", 0) > MAX_ARCHIVE_BYTES:
        raise ValidationError("This file is larger than 200 MB.")
    try:
        archive = zipfile.ZipFile(archive_file)
        info = archive.getinfo("data.json")
        if info.file_size > MAX_MEMBER_BYTES * 5:
            raise ValidationError("This export's data is too large to import.")
        document = json.loads(archive.read("data.json"))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValidationError("This is not a Plural export: choose the .zip another Plural site gave you.") from error
    if document.get("format") != exports.FORMAT or not isinstance(document.get("sections"), dict):
        raise ValidationError("This is not a Plural export: choose the .zip another Plural site gave you.")
    if document.get("format_version") != exports.FORMAT_VERSION:
        raise ValidationError(
            f"This export is in version {document.get('format_version')!r} of the format; "
            f"this site reads version {exports.FORMAT_VERSION}."
        )
    return archive, document


def _list(sections: dict, name: str) -> list[dict]:
    rows = sections.get(name) or []
    return [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []


def import_archive(*, user: User, archive, include_shop: bool = True) -> ImportResult:
    """Import the export in `archive` (a file) for `user`; ValidationError and nothing changed
    when the archive or any of its contents is refused."""
    from catalog import wantlists
    from orders.models import Address
    from sellers.models import Shop
    from social import services as social_services

    from .services import PROFILE_FIELDS, profile_update

    zipped, document = _read(archive)
    sections = document["sections"]
    origin = str(document.get("origin") or "another Plural site")[:200]
    result = ImportResult()
    with transaction.atomic():
        profile = sections.get("profile") if isinstance(sections.get("profile"), dict) else {}
        values = {name: str(profile.get(name) or "") for name in PROFILE_FIELDS if profile.get(name)}
        if values:
            profile_update(user=User.objects.get(pk=user.pk), **values)
            result.add("profile details", len(values))
        existing = set(Address.objects.filter(user=user).values_list("line1", "postal_code"))
        for row in _list(sections, "addresses"):
            if (row.get("line1", ""), row.get("postal_code", "")) in existing:
                continue
            address = Address(
                user=user,
                **{
                    name: str(row.get(name) or "")
                    for name in ("full_name", "line1", "line2", "city", "postal_code", "region", "country", "phone")
                },
            )
            address.full_clean(exclude=["user"])
            address.save()
            result.add("addresses")
        for row in _list(sections, "wants"):
            wantlists.want_create(
                user=user,
                text=str(row.get("text") or ""),
                max_price=row.get("max_price"),
                currency=row.get("currency") or "",
                ships_to_me=bool(row.get("ships_to_me")),
                visibility=row.get("visibility") or "private",
            )
            result.add("wants")
        shops_here = {
            shop.slug: shop
            for shop in Shop.objects.filter(
                slug__in=[row.get("shop__slug") for row in _list(sections, "follows") + _list(sections, "favourites")]
            )
        }
        for row in _list(sections, "follows"):
            shop = shops_here.get(row.get("shop__slug"))
            if shop is None:
                result.skipped.append(row.get("shop__slug") or row.get("person__username"))
                continue
            if shop.owner_id != user.pk:
                social_services.follow_create(follower=user, shop=shop)
                result.add("follows")
        for row in _list(sections, "favourites"):
            shop = shops_here.get(row.get("shop__slug"))
            if shop is not None:
                social_services.favourite_add(owner=user, shop=shop)
                result.add("favourite shops")
        shop_row = sections.get("shop")
        if include_shop and isinstance(shop_row, dict):
            _import_shop(user=user, zipped=zipped, sections=sections, shop_row=shop_row, origin=origin, result=result)
    return result


def _free_slug(slug: str) -> str:
    from sellers.models import Shop

    base = slugify(slug)[:40] or "shop"
    candidate, number = base, 1
    while Shop.objects.filter(slug=candidate).exists():
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def _import_shop(*, user, zipped, sections, shop_row, origin, result: ImportResult) -> None:
    from catalog import services as catalog_services
    from catalog.models import Listing
    from sellers import services as seller_services

    fields = {name: shop_row[name] for name in seller_services.SHOP_FIELDS if shop_row.get(name) not in (None, "")}
    if isinstance(fields.get("ships_to"), str):
        fields["ships_to"] = [code for code in fields["ships_to"].split(",") if code]
    name = fields.pop("name", "") or "My shop"
    country = fields.pop("country", "") or (user.country.code if user.country else "")
    try:
        shop = seller_services.shop_create(
            owner=user, name=name, slug=_free_slug(shop_row.get("slug", "")), country=country, **fields
        )
    except PermissionDenied as refused:
        raise ValidationError(str(refused)) from refused
    result.shop_slug = shop.slug
    result.add("shop", 1)
    images = {}
    for row in _list(sections, "shop_listing_images"):
        images.setdefault(row.get("listing_id"), []).append(row)
    for row in _list(sections, "shop_listings"):
        status = row.get("status") if row.get("status") in {Listing.Status.ACTIVE, Listing.Status.PAUSED} else "draft"
        listing = catalog_services.listing_create(
            shop=shop,
            actor=user,
            title=str(row.get("title") or ""),
            price=row.get("price"),
            condition=row.get("condition__slug") or "",
            quantity=int(row.get("quantity") or 0) or 1,
            status=Listing.Status.DRAFT,
            sku=str(row.get("sku") or ""),
            creator=str(row.get("creator") or ""),
            publisher=str(row.get("publisher") or ""),
            year=row.get("year"),
            format=str(row.get("format") or ""),
            identifier=str(row.get("identifier") or ""),
            description=str(row.get("description") or ""),
        )
        for image in sorted(images.get(row.get("id"), []), key=lambda image: image.get("position") or 0):
            path = str(image.get("file") or "")
            try:
                info = zipped.getinfo(path)
            except KeyError:
                continue
            if info.file_size > MAX_MEMBER_BYTES:
                continue
            upload = SimpleUploadedFile(path.rsplit("/", 1)[-1], zipped.read(info))
            catalog_services.listing_add_image(listing=listing, actor=user, upload=upload)
            result.add("images")
        if status != Listing.Status.DRAFT:
            catalog_services.listing_set_status(listing=listing, actor=user, status=status)
        result.add("listings")
    for section, kind in (("shop_reviews_received", "review"), ("shop_ratings_received", "rating")):
        for row in _list(sections, section):
            stars = row.get("stars") or row.get("overall")
            earned = EarnedElsewhere(
                shop=shop,
                kind=kind,
                origin=origin,
                stars=int(stars) if str(stars).isdigit() else 0,
                title=str(row.get("title") or "")[:200],
                text=str(row.get("text") or row.get("comment") or ""),
                about=str(row.get("item_title") or "")[:255],
                written_by=str(row.get("author__display_name") or row.get("author__username") or "A buyer")[:150],
                written_at=_moment(row.get("created_at")),
            )
            earned.full_clean(exclude=["shop"])
            earned.save()
            result.add("reviews earned elsewhere")


def _moment(value) -> datetime:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError as error:
        raise ValidationError(f"An export date could not be read: {value!r}.") from error
