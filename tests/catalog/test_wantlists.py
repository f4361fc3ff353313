"""Want lists: what a want may say, and which listings it matches when they come on sale or
drop their price, each match told once."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from catalog import services as catalog_services
from catalog import tagging, wantlists
from catalog.models import Category, Want, WantMatch, WantTag, WantWord, Work
from notifications.models import Notification
from social.models import Activity, Audience
from tests.factories import ListingFactory, ShopFactory, UserFactory
from tests.sharing import share

pytestmark = pytest.mark.django_db


@pytest.fixture
def committed(django_capture_on_commit_callbacks, eager_tasks):
    """Run a change as a request would, with its after-commit work (indexing, then matching)."""

    def run(change):
        with django_capture_on_commit_callbacks(execute=True):
            return change()

    return run


@pytest.fixture
def lichens():
    return Work.objects.create(title="Lichens of Britain", identifier_kind="isbn", identifier="9780000000002")


def _list(shop, actor, **fields):
    values = {"title": "A book", "price": "10.00", "condition": "good", "status": "active", **fields}
    return catalog_services.listing_create(shop=shop, actor=actor, **values)


def _told(person) -> list[str]:
    return list(
        Notification.objects.filter(recipient=person, kind="wantlist.matched")
        .order_by("pk")
        .values_list("title", flat=True)
    )


# --- What a want may say --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (
            {"text": "lichens", "max_price": "-1", "currency": "GBP"},
            {"max_price": ["The most you would pay cannot be below zero."]},
        ),
        (
            {"text": "lichens", "max_price": "lots", "currency": "GBP"},
            {"max_price": ["Enter the most you would pay as a number, for example 25."]},
        ),
        ({"text": "lichens", "max_price": "12"}, {"currency": ["Choose the currency of the most you would pay."]}),
        ({"text": "lichens", "currency": "XYZ"}, {"currency": ["XYZ is not a currency Plural accepts."]}),
        (
            {"text": "a LP"},
            {"text": ["Say what you want: a few words (at least one of three letters or more), a tag or a work."]},
        ),
        ({}, {"text": ["Say what you want: a few words (at least one of three letters or more), a tag or a work."]}),
        (
            {"identifier": "9781234567897"},
            {
                "identifier": [
                    "No copy of this has been listed on Plural yet: describe it in words, and you will hear of it."
                ]
            },
        ),
        ({"identifier": "978123"}, None),
        ({"tags": ["a", "b", "c", "d", "e", "f"]}, {"tags": ["Ask for at most 5 tags."]}),
        ({"tags": ["!!!"]}, {"tags": ["A tag needs at least one letter or digit: punctuation alone is not a tag."]}),
        ({"text": "lichens", "min_condition": "mint"}, {"min_condition": ["Choose one of the conditions."]}),
        ({"text": "lichens", "visibility": "friends"}, {"visibility": ["Choose private or public."]}),
        ({"work": 99999}, {"work": ["There is no such work."]}),
    ],
)
def test_a_want_that_cannot_be_is_refused_whole(buyer, fields, errors):
    with pytest.raises(ValidationError) as refused:
        wantlists.want_create(user=buyer, **fields)

    if errors is not None:
        assert refused.value.message_dict == errors
    else:
        assert set(refused.value.message_dict) == {"identifier"}
    assert Want.objects.count() == WantTag.objects.count() == WantWord.objects.count() == Activity.objects.count() == 0


def test_ships_to_me_needs_my_country(buyer):
    buyer.country = ""
    buyer.save()

    with pytest.raises(ValidationError) as refused:
        wantlists.want_create(user=buyer, text="lichens", ships_to_me=True)

    assert refused.value.message_dict == {
        "ships_to_me": ["Set your country on your profile first, so shops can be checked."]
    }


def test_a_hidden_tag_cannot_be_wanted(buyer, shop, staff_user):
    tagging.tag_apply(listing=ListingFactory(shop=shop), user=buyer, name="rude")
    tagging.tag_hide(tag=tagging.find_tag(name="rude"), actor=staff_user, reason="Insulting")

    with pytest.raises(ValidationError) as refused:
        wantlists.want_create(user=buyer, tags=["Rude"])

    assert refused.value.message_dict == {"tags": ["“rude” has been hidden by a moderator and cannot be used."]}


def test_a_want_is_stored_normalised_with_its_word_keys_and_tags_as_their_main_tag(buyer, shop, staff_user, lichens):
    tagging.tag_apply(listing=ListingFactory(shop=shop), user=buyer, name="tomato")
    tagging.tag_apply(listing=ListingFactory(shop=shop), user=buyer, name="tomahto")
    tagging.tag_merge(synonym=tagging.find_tag(name="tomahto"), into=tagging.find_tag(name="tomato"), actor=staff_user)

    want = wantlists.want_create(
        user=buyer,
        text="  Ferns   and the Mosses ",
        tags="Tomahto, first  Edition",
        identifier="978-0-00-000000-2",
        max_price="25",
        currency="gbp",
        min_condition="Very-Good",
    )

    assert (want.text, want.work, want.max_price, want.currency, want.min_condition.slug) == (
        "Ferns and the Mosses",
        lichens,
        Decimal("25"),
        "GBP",
        "very-good",
    )
    assert sorted(want.tags.values_list("name", flat=True)) == ["first edition", "tomato"]
    assert sorted(want.word_keys.values_list("key", flat=True)) == ["fer", "mos"]
    assert want.visibility == "private"


def test_a_want_is_the_persons_activity_private_wants_staying_private(buyer):
    share(buyer, wanted=Audience.EVERYONE)
    private = wantlists.want_create(user=buyer, text="lichens")
    public = wantlists.want_create(user=buyer, text="mosses", visibility="public")

    assert Activity.objects.get(want=private).audience == Audience.ONLY_ME
    assert Activity.objects.get(want=public).audience == Audience.EVERYONE

    wantlists.want_update(want=private, user=buyer, visibility="public")
    wantlists.want_update(want=public, user=buyer, visibility="private")
    assert Activity.objects.get(want=private).audience == Audience.EVERYONE
    assert Activity.objects.get(want=public).audience == Audience.ONLY_ME


def test_only_its_writer_changes_or_deletes_a_want(buyer, other_buyer):
    want = wantlists.want_create(user=buyer, text="lichens")

    with pytest.raises(Exception, match="Only the person who wrote a want"):
        wantlists.want_update(want=want, user=other_buyer, text="mine now")
    with pytest.raises(Exception, match="Only the person who wrote a want"):
        wantlists.want_delete(want=want, user=other_buyer)

    want.refresh_from_db()
    assert want.text == "lichens"


# --- Matching -------------------------------------------------------------------------------------


def test_a_copy_of_a_wanted_work_under_the_maximum_price_tells_its_owner_once(
    buyer, shop, shop_owner, other_shop, other_shop_owner, lichens, committed
):
    wantlists.want_create(user=buyer, work=lichens.pk, max_price="15.00", currency="GBP")

    committed(lambda: _list(shop, shop_owner, title="Too dear", identifier=lichens.identifier, price="15.01"))
    committed(
        lambda: _list(other_shop, other_shop_owner, title="In euros", identifier=lichens.identifier, price="5.00")
    )
    cheap = committed(
        lambda: _list(shop, shop_owner, title="Lichens, a fine copy", identifier=lichens.identifier, price="14.99")
    )
    committed(lambda: _list(shop, shop_owner, title="Lichens of Britain, a bargain", identifier=lichens.identifier))

    assert _told(buyer) == [
        "Found for your want list: Lichens, a fine copy",
        "Found for your want list: Lichens of Britain, a bargain",
    ]
    notification = Notification.objects.filter(recipient=buyer).order_by("pk").first()
    assert notification.url == cheap.get_absolute_url()
    assert notification.body == "14.99 GBP, good, from Olive's Books"
    assert WantMatch.objects.count() == 2

    # Matching again (a task delivered twice) tells nobody again.
    assert wantlists.wants_match(listing=cheap, reason="on_sale") == 0
    assert len(_told(buyer)) == 2


def test_a_price_drop_under_the_maximum_is_a_match_told_once(buyer, shop, shop_owner, lichens, committed):
    listing = committed(lambda: _list(shop, shop_owner, title="Lichens", identifier=lichens.identifier, price="30.00"))
    wantlists.want_create(user=buyer, work=lichens.pk, max_price="20.00", currency="GBP")

    committed(lambda: catalog_services.listing_update(listing=listing, actor=shop_owner, price="25.00"))
    assert _told(buyer) == []
    committed(lambda: catalog_services.listing_update(listing=listing, actor=shop_owner, price="19.00"))
    committed(lambda: catalog_services.listing_update(listing=listing, actor=shop_owner, price="17.00"))

    assert _told(buyer) == ["Found for your want list: Lichens"]
    match = WantMatch.objects.get()
    assert (match.reason, match.price) == ("price_dropped", Decimal("19.00"))


def test_words_match_as_search_finds_them(buyer, other_buyer, shop, shop_owner, committed):
    stem = wantlists.want_create(user=buyer, text="lichen")
    both = wantlists.want_create(user=other_buyer, text="lichens mosses")
    third = UserFactory(username="third")
    wantlists.want_create(user=third, text="ferns")

    committed(lambda: _list(shop, shop_owner, title="Lichens of the Welsh coast", creator="Ann Field"))
    committed(lambda: _list(shop, shop_owner, title="Mosses", description="With plates of lichens."))

    assert list(WantMatch.objects.filter(want=stem).values_list("listing__title", flat=True).order_by("pk")) == [
        "Lichens of the Welsh coast",
        "Mosses",
    ]
    assert list(WantMatch.objects.filter(want=both).values_list("listing__title", flat=True)) == ["Mosses"]
    assert _told(third) == []


def test_tags_conditions_currencies_and_shipping_narrow_a_want(buyer, shop, shop_owner, committed):
    dutch = ShopFactory(slug="dutch", country="NL", currency="GBP", ships_to=["DE"])
    wantlists.want_create(user=buyer, tags=["botany"], min_condition="very-good", ships_to_me=True)

    def tagged(target_shop, title, condition):
        draft = _list(target_shop, target_shop.owner, title=title, condition=condition, status="draft")
        tagging.tag_apply(listing=draft, user=target_shop.owner, name="Botany")
        catalog_services.listing_set_status(listing=draft, actor=target_shop.owner, status="active")

    committed(lambda: tagged(shop, "Good but not good enough", "good"))
    committed(lambda: tagged(shop, "Fine botany", "fine"))
    committed(lambda: tagged(dutch, "Fine, but not sent to Britain", "fine"))
    committed(lambda: _list(shop, shop_owner, title="Untagged fine", condition="fine"))

    assert _told(buyer) == ["Found for your want list: Fine botany"]


def test_the_shops_own_people_and_paused_wants_are_not_told(buyer, shop, shop_owner, shop_staff, committed):
    wantlists.want_create(user=shop_staff, text="herbarium")
    paused = wantlists.want_create(user=buyer, text="herbarium")
    wantlists.want_update(want=paused, user=buyer, is_active=False)

    committed(lambda: _list(shop, shop_owner, title="Herbarium"))

    assert Notification.objects.filter(kind="wantlist.matched").count() == 0


def test_demand_counts_people_per_work_and_tag_in_the_shops_categories(buyer, other_buyer, shop, other_shop, lichens):
    botany = Category.objects.create(name="Botany", slug="botany")
    music = Category.objects.create(name="Music", slug="music")
    ListingFactory(shop=shop, category=botany, work=lichens)
    jazz = Work.objects.create(title="Blue Train", identifier_kind="ean", identifier="0000000000001")
    ListingFactory(shop=other_shop, category=music, work=jazz)
    tagged = ListingFactory(shop=other_shop, category=botany)
    tagging.tag_apply(listing=tagged, user=buyer, name="ferns")
    third = UserFactory(username="third")
    for person in (buyer, other_buyer, third):
        wantlists.want_create(user=person, work=lichens.pk)
    wantlists.want_create(user=buyer, work=lichens.pk, text="signed")  # the same person twice counts once
    wantlists.want_create(user=buyer, work=jazz.pk)
    wantlists.want_create(user=other_buyer, tags=["ferns"])
    wantlists.want_create(user=third, tags=["vinyl"])

    demand = wantlists.shop_demand(shop=shop)

    assert [(work.title, work.people, work.listed_here) for work in demand.works] == [("Lichens of Britain", 3, 1)]
    assert [(tag.name, tag.people) for tag in demand.tags] == [("ferns", 1)]
    assert demand.in_categories is True
