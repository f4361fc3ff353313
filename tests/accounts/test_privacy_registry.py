"""Every model that points at a person is covered by export and erasure, and erasure leaves
nothing of the person anywhere."""

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models

from accounts import exports
from accounts.models import User
from accounts.privacy import REACHED_THROUGH, REGISTRY, Erasure
from accounts.services import account_delete
from tests.accounts.busy import BUYER_SECRETS, busy_buyer


def test_every_foreign_key_to_a_person_is_registered():
    user_model = get_user_model()
    registered = {(link.model, link.field) for link in REGISTRY}
    missing = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if field.is_relation and field.related_model is user_model and (model._meta.label, field.name) not in registered
    ]
    assert missing == [], f"add these to accounts.privacy.REGISTRY: {missing}"


def test_every_registered_link_is_real_and_exported_or_says_why():
    sections = {section.name for section in [*exports.SECTIONS, *exports.SHOP_SECTIONS]}
    for link in REGISTRY:
        field = link.model_class._meta.get_field(link.field)
        assert field.related_model is User, link
        assert (link.exported_in in sections) != bool(link.not_exported_because), link
        assert (link.erasure == Erasure.ANONYMISE) == (link.anonymise is not None), link
    for label in REACHED_THROUGH:
        apps.get_model(label)


def _text_columns(model):
    return [
        field.name
        for field in model._meta.concrete_fields
        if isinstance(field, models.CharField | models.TextField | models.EmailField | models.JSONField)
    ]


def _rows_containing(secret: str) -> list[str]:
    found = []
    for model in apps.get_models():
        for name in _text_columns(model):
            lookup = {f"{name}__icontains": secret}
            try:
                hits = model._default_manager.filter(**lookup).count()
            except Exception:  # noqa: BLE001, S112 - a JSON column not searchable as text on this database
                continue
            if hits:
                found.append(f"{model._meta.label}.{name}")
    return found


@pytest.mark.django_db
def test_deletion_leaves_no_personal_field_of_the_person_anywhere(buyer, shop, eager_tasks):
    busy_buyer(buyer, shop)
    for secret in BUYER_SECRETS:
        assert _rows_containing(secret), f"the busy buyer should hold {secret!r} somewhere"

    account_delete(user=buyer)

    for secret in BUYER_SECRETS:
        assert _rows_containing(secret) == [], secret
    for link in REGISTRY:
        if link.erasure == Erasure.DELETE:
            assert link.rows_of(buyer).count() == 0, link
    erased = User.objects.get(pk=buyer.pk)
    assert (erased.username, erased.email, erased.display_name, erased.is_active) == (
        f"former-member-{buyer.pk}",
        "",
        "Former member",
        False,
    )
    assert not erased.has_usable_password()
    # Kept, as history: the review (signed "Former member"), the order without its address.
    from reviews.models import Review

    assert Review.objects.get(author=erased).author.public_name == "Former member"
    order = erased.orders.get()
    assert (order.ship_name, order.ship_line1, order.ship_phone, order.total) == ("Former member", "", "", order.total)


@pytest.mark.django_db
def test_deletion_can_take_the_reviews_along_and_out_of_the_shop_figures(buyer, shop, eager_tasks):
    from reviews.models import Review, SellerRating, ShopRatingSummary

    busy_buyer(buyer, shop)
    assert ShopRatingSummary.objects.get(shop=shop).review_count == 1

    account_delete(user=buyer, delete_reviews=True)

    assert Review.objects.count() == SellerRating.objects.count() == 0
    summary = ShopRatingSummary.objects.get(shop=shop)
    assert (summary.review_count, summary.review_sum) == (0, 0)


@pytest.mark.django_db
def test_the_other_side_keeps_its_own_messages(buyer, shop, eager_tasks):
    from messaging.models import Message

    busy_buyer(buyer, shop)

    account_delete(user=buyer)

    kept = Message.objects.get(author=shop.owner)
    assert kept.body == "Not yet, soon!"
    gone = Message.objects.get(author=buyer)
    assert (gone.body, gone.deleted_at is not None) == ("", True)
