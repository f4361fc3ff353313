"""Every write to shops: opening one, its details and policies, its people and vacation mode.

Each function validates before writing and raises ValidationError (field -> messages),
writes in one transaction, and refuses anyone who is not one of the shop's people
with PermissionDenied (pages and API resolve the shop through
sellers.selectors.access_shop_for_edit first, so outsiders get a 404 before this).
"""

import datetime
from decimal import Decimal, InvalidOperation

from allauth.account.models import EmailAddress
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_slug
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_countries import countries

from accounts.models import User
from marketplace.images import ImageSize, process_image_upload
from marketplace.markdown import render_markdown
from marketplace.money import CURRENCY_CODES, MAX_PRICE
from social import services as social_services

from .models import PaymentMethod, Shop, ShopMember
from .selectors import is_shop_member, is_shop_owner

SHOP_DETAIL_FIELDS = ("name", "tagline", "about", "country", "city")
SHOP_POLICY_FIELDS = (
    "currency",
    "ships_to",
    "domestic_first_item",
    "domestic_additional_item",
    "international_first_item",
    "international_additional_item",
    "returns_policy",
    "payment_methods",
    "processing_days",
)
SHOP_FIELDS = SHOP_DETAIL_FIELDS + SHOP_POLICY_FIELDS
RATE_FIELDS = (
    "domestic_first_item",
    "domestic_additional_item",
    "international_first_item",
    "international_additional_item",
)
LOGO_SIZES = [ImageSize("small", 64, 64), ImageSize("large", 256, 256)]
BANNER_SIZES = [ImageSize("banner", 1600, 400)]
# Addresses under /shops/ that are pages, not shops.
RESERVED_SLUGS = {"new", "edit", "api", "admin", "dashboard", "import", "imports"}
CENT = Decimal("0.01")


def _clean_shop_fields(*, fields: dict, shop: Shop | None) -> tuple[dict, dict]:
    cleaned: dict = {}
    errors: dict[str, list[str]] = {}

    def fail(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    limits = {"name": 80, "tagline": 140, "about": 10_000, "city": 100, "returns_policy": 5_000}
    for name in ("name", "tagline", "about", "city", "returns_policy"):
        if name in fields:
            cleaned[name] = str(fields[name] or "").strip()
            if len(cleaned[name]) > limits[name]:
                fail(name, f"This can be at most {limits[name]:,} characters.")
    if "name" in cleaned and not cleaned["name"]:
        fail("name", "Enter the shop's name.")

    if "country" in fields:
        code = str(fields["country"] or "").strip().upper()
        if code not in dict(countries):
            fail("country", "Choose the country the shop sends from.")
        else:
            cleaned["country"] = code

    if "currency" in fields:
        currency = str(fields["currency"] or "").strip().upper()
        if currency not in CURRENCY_CODES:
            fail("currency", f"{fields['currency']} is not a currency Plural accepts.")
        else:
            cleaned["currency"] = currency

    if "ships_to" in fields:
        codes = [str(code).strip().upper() for code in (fields["ships_to"] or [])]
        unknown = [code for code in codes if code not in dict(countries)]
        if unknown:
            fail("ships_to", f"Not countries we know: {', '.join(unknown)}.")
        else:
            cleaned["ships_to"] = sorted(set(codes))

    for name in RATE_FIELDS:
        if name in fields:
            try:
                rate = Decimal(str(fields[name] if fields[name] not in (None, "") else "0").strip())
                if not rate.is_finite():
                    raise InvalidOperation
            except (InvalidOperation, ValueError):
                fail(name, "Enter an amount, for example 3.50.")
                continue
            if rate < 0:
                fail(name, "A shipping rate cannot be below zero.")
            elif rate > MAX_PRICE:
                fail(name, f"A shipping rate can be at most {MAX_PRICE}.")
            elif rate != rate.quantize(CENT):
                fail(name, "An amount can have at most two decimal places.")
            else:
                cleaned[name] = rate.quantize(CENT)

    if "payment_methods" in fields:
        methods = list(fields["payment_methods"] or [])
        unknown = [method for method in methods if method not in PaymentMethod.values]
        if unknown:
            fail("payment_methods", f"Not payment methods Plural knows: {', '.join(map(str, unknown))}.")
        else:
            cleaned["payment_methods"] = [method for method in PaymentMethod.values if method in methods]

    if "processing_days" in fields:
        try:
            days = int(fields["processing_days"])
        except (TypeError, ValueError):
            fail("processing_days", "Enter a number of working days.")
        else:
            if not 0 <= days <= 60:
                fail("processing_days", "Enter between 0 and 60 working days.")
            else:
                cleaned["processing_days"] = days
    return cleaned, errors


def _process_images(*, logo, banner) -> tuple[dict | None, dict | None]:
    errors: dict[str, list[str]] = {}
    processed_logo = processed_banner = None
    if logo:
        try:
            processed_logo = process_image_upload(logo, sizes=LOGO_SIZES)
        except ValidationError as error:
            errors["logo"] = error.messages
    if banner:
        try:
            processed_banner = process_image_upload(banner, sizes=BANNER_SIZES)
        except ValidationError as error:
            errors["banner"] = error.messages
    if errors:
        raise ValidationError(errors)
    return processed_logo, processed_banner


def _delete_files_on_commit(names: list[str]) -> None:
    storage = Shop._meta.get_field("logo_small").storage
    names = [name for name in names if name]
    transaction.on_commit(lambda: [storage.delete(name) for name in names if storage.exists(name)])


def _store_images(shop: Shop, *, processed_logo, processed_banner, remove_logo: bool, remove_banner: bool) -> None:
    old: list[str] = []
    if processed_logo or remove_logo:
        old += [shop.logo_small.name, shop.logo_large.name]
        shop.logo_small = shop.logo_large = ""
    if processed_banner or remove_banner:
        old.append(shop.banner.name)
        shop.banner = ""
    if processed_logo:
        shop.logo_small.save(processed_logo["small"].name, processed_logo["small"], save=False)
        shop.logo_large.save(processed_logo["large"].name, processed_logo["large"], save=False)
    if processed_banner:
        shop.banner.save(processed_banner["banner"].name, processed_banner["banner"], save=False)
    _delete_files_on_commit(old)


def _slug_taken_error(slug: str) -> ValidationError:
    return ValidationError({"slug": [f"The address shops/{slug}/ is taken. Please choose another."]})


def shop_create(*, owner: User, name: str, slug: str, country: str, logo=None, banner=None, **fields) -> Shop:
    """Open a shop owned by `owner`, who becomes its owner member.

    Any signed-in person with a verified e-mail address may open a shop. `slug` is the
    storefront's address (/shops/<slug>/) and must be free. Other fields: see SHOP_FIELDS."""
    unknown = set(fields) - set(SHOP_FIELDS)
    if unknown:
        raise ValueError(f"not shop fields: {sorted(unknown)}")
    if owner is None or not owner.is_authenticated or not owner.is_active:
        raise PermissionDenied("Sign in to open a shop.")
    if not EmailAddress.objects.filter(user=owner, verified=True).exists():
        raise PermissionDenied("Confirm your e-mail address before opening a shop.")
    cleaned, errors = _clean_shop_fields(fields={"name": name, "country": country, **fields}, shop=None)
    slug = str(slug or "").strip().lower()
    try:
        validate_slug(slug)
    except ValidationError:
        errors.setdefault("slug", []).append("Use only lower-case letters, numbers, hyphens and underscores.")
    else:
        if len(slug) > 60:
            errors.setdefault("slug", []).append("The address can be at most 60 characters.")
        elif slug in RESERVED_SLUGS:
            errors.setdefault("slug", []).append(f"The address shops/{slug}/ is reserved. Please choose another.")
        elif Shop.objects.filter(slug=slug).exists():
            errors.setdefault("slug", []).extend(_slug_taken_error(slug).message_dict["slug"])
    try:
        processed_logo, processed_banner = _process_images(logo=logo, banner=banner)
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    cleaned.setdefault("currency", "EUR")
    shop = Shop(owner=owner, slug=slug, **cleaned)
    shop.about_html = render_markdown(shop.about)
    try:
        with transaction.atomic():
            shop.save()
            if processed_logo or processed_banner:
                _store_images(
                    shop,
                    processed_logo=processed_logo,
                    processed_banner=processed_banner,
                    remove_logo=False,
                    remove_banner=False,
                )
                shop.save()
            ShopMember.objects.create(shop=shop, user=owner, role=ShopMember.Role.OWNER)
            social_services.shop_opened(shop=shop, owner=owner)
    except IntegrityError as error:
        # Two people racing for the same address: the database's unique index decides.
        if Shop.objects.filter(slug=slug).exists():
            raise _slug_taken_error(slug) from error
        raise
    return shop


def shop_update(
    *, shop: Shop, actor, logo=None, banner=None, remove_logo: bool = False, remove_banner: bool = False, **fields
) -> Shop:
    """Change the shop's details and policies (any of SHOP_FIELDS), replace or remove its
    logo (64x64 and 256x256) and banner (1600x400). Any of the shop's people may do it.
    The passed instance is refreshed on success and left as it was on refusal."""
    unknown = set(fields) - set(SHOP_FIELDS)
    if unknown:
        raise ValueError(f"not shop fields: {sorted(unknown)}")
    if not is_shop_member(user=actor, shop=shop):
        raise PermissionDenied("Only the shop's people can change it.")
    cleaned, errors = _clean_shop_fields(fields=fields, shop=shop)
    try:
        processed_logo, processed_banner = _process_images(logo=logo, banner=banner)
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        current = Shop.objects.select_for_update().get(pk=shop.pk)
        for name, value in cleaned.items():
            setattr(current, name, value)
        if "about" in cleaned:
            current.about_html = render_markdown(current.about)
        _store_images(
            current,
            processed_logo=processed_logo,
            processed_banner=processed_banner,
            remove_logo=remove_logo,
            remove_banner=remove_banner,
        )
        current.save()
    shop.refresh_from_db()
    return current


def shop_member_add(*, shop: Shop, actor, username: str, title: str = "") -> ShopMember:
    """Add the person with `username` to the shop's people as staff. Only the owner may."""
    if not is_shop_owner(user=actor, shop=shop):
        raise PermissionDenied("Only the shop's owner can add people.")
    username = str(username or "").strip().lstrip("@")
    title = str(title or "").strip()
    errors: dict[str, list[str]] = {}
    person = User.objects.filter(username__iexact=username, is_active=True).first() if username else None
    if person is None:
        errors["username"] = [f"No one on Plural has the username {username}." if username else "Enter a username."]
    elif ShopMember.objects.filter(shop=shop, user=person).exists():
        errors["username"] = [f"{person.public_name} is already one of this shop's people."]
    if len(title) > 60:
        errors["title"] = ["A title can be at most 60 characters."]
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            return ShopMember.objects.create(shop=shop, user=person, role=ShopMember.Role.STAFF, title=title)
    except IntegrityError as error:
        raise ValidationError({"username": [f"{person.public_name} is already one of this shop's people."]}) from error


def shop_member_set_title(*, shop: Shop, actor, member_id: int, title: str) -> ShopMember:
    """Change what a person does at the shop. The owner may change anyone's; staff their own."""
    member = ShopMember.objects.filter(shop=shop, pk=member_id).select_related("user").first()
    is_owner = is_shop_owner(user=actor, shop=shop)
    if member is None or not (is_owner or (actor.is_authenticated and member.user_id == actor.pk)):
        if not is_shop_member(user=actor, shop=shop):
            raise PermissionDenied("Only the shop's people can change it.")
        if member is None:
            raise ValidationError({"member": ["This person is not one of the shop's people."]})
        raise PermissionDenied("Only the shop's owner can change other people's titles.")
    title = str(title or "").strip()
    if len(title) > 60:
        raise ValidationError({"title": ["A title can be at most 60 characters."]})
    member.title = title
    member.save(update_fields=["title"])
    return member


def shop_member_remove(*, shop: Shop, actor, member_id: int) -> None:
    """Remove a staff member. The owner may remove anyone but themselves; staff may leave."""
    member = ShopMember.objects.filter(shop=shop, pk=member_id).first()
    is_owner = is_shop_owner(user=actor, shop=shop)
    leaving = member is not None and actor.is_authenticated and member.user_id == actor.pk
    if not (is_owner or leaving):
        raise PermissionDenied("Only the shop's owner can remove people.")
    if member is None:
        raise ValidationError({"member": ["This person is not one of the shop's people."]})
    if member.role == ShopMember.Role.OWNER:
        raise ValidationError({"member": ["The owner cannot be removed from their own shop."]})
    member.delete()


def shop_set_vacation(
    *, shop: Shop, actor, is_on_vacation: bool, message: str = "", until: datetime.date | None = None
) -> Shop:
    """Turn vacation mode on (with a message and an optional return date, today or later) or off.
    On vacation, listings stay visible but cannot be bought."""
    if not is_shop_member(user=actor, shop=shop):
        raise PermissionDenied("Only the shop's people can change it.")
    message = str(message or "").strip()
    errors: dict[str, list[str]] = {}
    if is_on_vacation:
        if len(message) > 280:
            errors["vacation_message"] = ["The message can be at most 280 characters."]
        if until is not None and until < timezone.localdate():
            errors["vacation_until"] = ["The return date cannot be in the past."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        current = Shop.objects.select_for_update().get(pk=shop.pk)
        current.is_on_vacation = bool(is_on_vacation)
        current.vacation_message = message if is_on_vacation else ""
        current.vacation_until = until if is_on_vacation else None
        current.save(update_fields=["is_on_vacation", "vacation_message", "vacation_until", "updated_at"])
    shop.refresh_from_db()
    return current


def shop_set_mfa_requirement(*, shop: Shop, actor, requires_mfa: bool) -> Shop:
    """The owner requires (or stops requiring) two-factor authentication of the shop's people
    for its dashboard. The owner turns it on for their own account first, so that requiring it
    never shuts them out; the others are asked to turn it on when they next open the dashboard."""
    from .selectors import has_mfa

    if not is_shop_owner(user=actor, shop=shop):
        raise PermissionDenied("Only the shop's owner can change what its people need to sign in.")
    if requires_mfa and not has_mfa(actor):
        raise ValidationError(
            {"requires_mfa": ["Turn on two-factor authentication for your own account first, then require it here."]}
        )
    with transaction.atomic():
        current = Shop.objects.select_for_update().get(pk=shop.pk)
        current.requires_mfa = bool(requires_mfa)
        current.save(update_fields=["requires_mfa", "updated_at"])
    shop.refresh_from_db()
    return shop
