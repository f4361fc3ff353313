import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from sellers.models import Shop, ShopMember
from sellers.services import (
    shop_create,
    shop_member_add,
    shop_member_remove,
    shop_member_set_title,
    shop_set_vacation,
    shop_update,
)
from tests.factories import UserFactory
from tests.images import image_bytes, upload

pytestmark = pytest.mark.django_db


def test_a_verified_person_opens_a_shop_and_becomes_its_owner_member(buyer):
    shop = shop_create(
        owner=buyer, name="Bea's Maps", slug="beas-maps", country="FR", currency="EUR", about="**Old** maps"
    )

    assert (shop.slug, shop.owner, shop.country.code, shop.about_html) == (
        "beas-maps",
        buyer,
        "FR",
        "<p><strong>Old</strong> maps</p>",
    )
    member = ShopMember.objects.get(shop=shop)
    assert (member.user, member.role) == (buyer, "owner")


def test_an_unverified_person_cannot_open_a_shop(db):
    person = UserFactory(username="newbie", verified_email=False)

    with pytest.raises(PermissionDenied):
        shop_create(owner=person, name="Nope", slug="nope", country="GB")

    assert Shop.objects.count() == 0


def test_a_taken_slug_is_refused_with_a_clear_error(shop, buyer):
    with pytest.raises(ValidationError) as refused:
        shop_create(owner=buyer, name="Copycat", slug="olives-books", country="GB")

    assert refused.value.message_dict == {"slug": ["The address shops/olives-books/ is taken. Please choose another."]}
    assert Shop.objects.count() == 1


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"slug": "Not a slug!"}, "slug"),
        ({"slug": "new"}, "slug"),
        ({"country": "XX"}, "country"),
        ({"currency": "XYZ"}, "currency"),
        ({"name": "  "}, "name"),
        ({"domestic_first_item": "-1"}, "domestic_first_item"),
        ({"processing_days": 99}, "processing_days"),
        ({"payment_methods": ["gold"]}, "payment_methods"),
        ({"ships_to": ["ZZ"]}, "ships_to"),
        ({"logo": upload(b"not an image", name="logo.png")}, "logo"),
    ],
)
def test_bad_shop_input_saves_nothing(buyer, values, field):
    arguments = {"name": "Bea's", "slug": "beas", "country": "GB"} | values

    with pytest.raises(ValidationError) as refused:
        shop_create(owner=buyer, **arguments)

    assert field in refused.value.message_dict
    assert Shop.objects.count() == 0
    assert ShopMember.objects.count() == 0


def test_members_update_details_policies_and_images(shop, shop_staff):
    shop_update(
        shop=shop,
        actor=shop_staff,
        tagline="Maps too",
        ships_to=["de", "BE"],
        domestic_first_item="2.5",
        payment_methods=["card", "bank_transfer"],
        logo=upload(image_bytes(size=(500, 300))),
        banner=upload(image_bytes(size=(2000, 800))),
    )

    shop.refresh_from_db()
    assert shop.tagline == "Maps too"
    assert [country.code for country in shop.ships_to] == ["BE", "DE"]
    assert shop.domestic_first_item == Decimal("2.50")
    assert shop.payment_methods == ["bank_transfer", "card"]
    from PIL import Image

    with Image.open(shop.logo_small.path) as small, Image.open(shop.logo_large.path) as large:
        assert (small.size, large.size) == ((64, 64), (256, 256))
    with Image.open(shop.banner.path) as banner:
        assert banner.size == (1600, 400)


@pytest.mark.parametrize("who", ["buyer", "other_shop_owner"])
def test_outsiders_cannot_update_a_shop(request, shop, who):
    with pytest.raises(PermissionDenied):
        shop_update(shop=shop, actor=request.getfixturevalue(who), name="Taken over")

    shop.refresh_from_db()
    assert shop.name == "Olive's Books"


def test_refused_update_changes_nothing(shop, shop_owner):
    with pytest.raises(ValidationError):
        shop_update(shop=shop, actor=shop_owner, name="New name", currency="ZZZ")

    assert shop.name == "Olive's Books"
    shop.refresh_from_db()
    assert (shop.name, shop.currency) == ("Olive's Books", "GBP")


def test_owner_adds_and_removes_people(shop, shop_owner, buyer):
    member = shop_member_add(shop=shop, actor=shop_owner, username="BEA", title="Maps")

    assert (member.user, member.role, member.title) == (buyer, "staff", "Maps")
    shop_member_remove(shop=shop, actor=shop_owner, member_id=member.pk)
    assert list(shop.members.values_list("user__username", flat=True)) == ["olive"]


def test_member_add_errors(shop, shop_owner, shop_staff, buyer):
    with pytest.raises(ValidationError) as unknown:
        shop_member_add(shop=shop, actor=shop_owner, username="nobody")
    with pytest.raises(ValidationError) as already:
        shop_member_add(shop=shop, actor=shop_owner, username="sam")
    with pytest.raises(PermissionDenied):
        shop_member_add(shop=shop, actor=shop_staff, username="bea")

    assert unknown.value.message_dict == {"username": ["No one on Plural has the username nobody."]}
    assert already.value.message_dict == {"username": ["Sam Staff is already one of this shop's people."]}
    assert shop.members.count() == 2


def test_the_owner_cannot_be_removed_and_staff_cannot_remove_others(shop, shop_owner, shop_staff, other_shop_owner):
    owner_member = ShopMember.objects.get(shop=shop, user=shop_owner)
    staff_member = ShopMember.objects.get(shop=shop, user=shop_staff)

    with pytest.raises(ValidationError):
        shop_member_remove(shop=shop, actor=shop_owner, member_id=owner_member.pk)
    with pytest.raises(PermissionDenied):
        shop_member_remove(shop=shop, actor=shop_staff, member_id=owner_member.pk)
    with pytest.raises(PermissionDenied):
        shop_member_remove(shop=shop, actor=other_shop_owner, member_id=staff_member.pk)
    assert shop.members.count() == 2

    shop_member_remove(shop=shop, actor=shop_staff, member_id=staff_member.pk)  # leaving
    assert shop.members.count() == 1


def test_titles(shop, shop_owner, shop_staff, buyer):
    staff_member = ShopMember.objects.get(shop=shop, user=shop_staff)

    shop_member_set_title(shop=shop, actor=shop_staff, member_id=staff_member.pk, title="Records")
    with pytest.raises(PermissionDenied):
        shop_member_set_title(shop=shop, actor=buyer, member_id=staff_member.pk, title="Boss")

    staff_member.refresh_from_db()
    assert staff_member.title == "Records"


def test_vacation_on_and_off(shop, shop_staff, buyer):
    back = timezone.localdate() + datetime.timedelta(days=10)

    shop_set_vacation(shop=shop, actor=shop_staff, is_on_vacation=True, message="At a fair", until=back)
    shop.refresh_from_db()
    assert (shop.is_on_vacation, shop.vacation_message, shop.vacation_until) == (True, "At a fair", back)

    with pytest.raises(PermissionDenied):
        shop_set_vacation(shop=shop, actor=buyer, is_on_vacation=False)
    with pytest.raises(ValidationError):
        shop_set_vacation(
            shop=shop, actor=shop_staff, is_on_vacation=True, until=timezone.localdate() - datetime.timedelta(days=1)
        )
    shop.refresh_from_db()
    assert shop.vacation_until == back

    shop_set_vacation(shop=shop, actor=shop_staff, is_on_vacation=False)
    shop.refresh_from_db()
    assert (shop.is_on_vacation, shop.vacation_message, shop.vacation_until) == (False, "", None)
