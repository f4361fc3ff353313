"""catalog.tagging's writes: applying and removing tags, names, synonyms, hiding and use counts."""

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError

from catalog import tagging
from catalog.models import Listing, Tag, TagFollow, TaggedListing
from catalog.services import listings_bulk_add_tag
from tests.factories import ListingFactory, UserFactory

pytestmark = pytest.mark.django_db


def _applications():
    return sorted(TaggedListing.objects.values_list("tag__name", "content_object_id", "tagged_by__username"))


def _use_counts():
    return dict(Tag.objects.values_list("name", "use_count"))


# --- Names ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("  Sci-Fi  ", "sci-fi"),
        ("First\tEdition\n", "first edition"),
        ("Field   Guide", "field guide"),
        ("\uff26\uff35\uff2c\uff2c\u3000\uff37\uff29\uff24\uff34\uff28", "full width"),  # full-width (NFKC)
        ("ﬁeld notes", "field notes"),  # the "fi" ligature
        ("cafe\u0301", "café"),  # e + combining acute: one character after normalising
        ("C++", "c++"),
        ("x" * 50, "x" * 50),
    ],
)
def test_tag_names_are_stored_normalised(typed, stored):
    assert tagging.normalise_tag_name(typed) == stored


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter a tag."),
        ("   \t", "Enter a tag."),
        ("x" * 51, "A tag can be at most 50 characters long (this one has 51)."),
        ("x" * 5000, "A tag can be at most 50 characters long."),
        ("!!!", "A tag needs at least one letter or digit: punctuation alone is not a tag."),
        ("-- … --", "A tag needs at least one letter or digit: punctuation alone is not a tag."),
        ("🍅", "A tag needs at least one letter or digit: punctuation alone is not a tag."),
        ("maps, atlases", "A tag cannot contain commas or semicolons: add one tag at a time."),
        ("maps;atlases", "A tag cannot contain commas or semicolons: add one tag at a time."),
        ("map\x00s", "A tag cannot contain control characters."),
    ],
)
def test_a_refused_tag_says_why_and_saves_nothing(shop, buyer, typed, message):
    listing = ListingFactory(shop=shop)

    with pytest.raises(ValidationError) as refused:
        tagging.tag_apply(listing=listing, user=buyer, name=typed)

    assert refused.value.message_dict == {"name": [message]}
    assert Tag.objects.count() == 0
    assert TaggedListing.objects.count() == 0


def test_names_that_differ_only_in_case_spacing_or_unicode_form_are_one_tag(shop, buyer, other_buyer):
    listing = ListingFactory(shop=shop)

    tagging.tag_apply(listing=listing, user=buyer, name="Café  Culture")
    tagging.tag_apply(listing=listing, user=other_buyer, name="cafe\u0301 culture")

    assert list(Tag.objects.values_list("name", "slug", "use_count")) == [("café culture", "café-culture", 2)]


def test_tags_never_take_the_slug_of_a_tag_page_of_its_own():
    listing = ListingFactory()

    tagging.tag_apply(listing=listing, user=UserFactory(), name="Following")

    assert Tag.objects.get().slug == "following-tag"


# --- Applying ---------------------------------------------------------------------------------------


def test_a_shopper_tags_a_listing_once_however_often_they_apply_it(shop, buyer):
    listing = ListingFactory(shop=shop)

    first = tagging.tag_apply(listing=listing, user=buyer, name="Botany")
    again = tagging.tag_apply(listing=listing, user=buyer, name="BOTANY")

    assert again.pk == first.pk
    assert (first.tag.name, first.tagged_by_id, first.is_seller_tag) == ("botany", buyer.pk, False)
    assert _use_counts() == {"botany": 1}


@pytest.mark.parametrize("member", ["shop_owner", "shop_staff"])
def test_the_shops_people_make_seller_tags_on_any_of_their_listings(request, shop, member):
    person = request.getfixturevalue(member)
    draft = ListingFactory(shop=shop, status="draft", published_at=None)

    application = tagging.tag_apply(listing=draft, user=person, name="maps")

    assert (application.is_seller_tag, application.content_object_id) == (True, draft.pk)


@pytest.mark.parametrize("status", ["draft", "paused", "sold_out"])
def test_shoppers_tag_only_listings_for_sale(shop, buyer, status):
    listing = ListingFactory(shop=shop, status=status, quantity=0 if status == "sold_out" else 1)

    with pytest.raises(ValidationError) as refused:
        tagging.tag_apply(listing=listing, user=buyer, name="maps")

    assert refused.value.message_dict == {"listing": ["Only listings for sale can be tagged."]}
    assert Tag.objects.count() == 0


def test_anonymous_people_cannot_tag(shop):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        tagging.tag_apply(listing=ListingFactory(shop=shop), user=AnonymousUser(), name="maps")
    assert TaggedListing.objects.count() == 0


def test_applying_a_synonym_applies_its_main_tag(shop, buyer, staff_user):
    listing = ListingFactory(shop=shop)
    tomato = Tag.objects.create(name="tomato")
    tagging.tag_merge(synonym=Tag.objects.create(name="tomahto"), into=tomato, actor=staff_user)

    application = tagging.tag_apply(listing=listing, user=buyer, name="Tomahto")

    assert application.tag == tomato
    assert _use_counts() == {"tomato": 1, "tomahto": 0}


@pytest.mark.parametrize("name", ["rude", "rudish"])
def test_a_hidden_tag_or_its_synonym_cannot_be_applied(shop, buyer, staff_user, name):
    rude = Tag.objects.create(name="rude")
    tagging.tag_merge(synonym=Tag.objects.create(name="rudish"), into=rude, actor=staff_user)
    tagging.tag_hide(tag=rude, actor=staff_user, reason="Insulting")

    with pytest.raises(ValidationError) as refused:
        tagging.tag_apply(listing=ListingFactory(shop=shop), user=buyer, name=name)

    assert refused.value.message_dict == {"name": [f"“{name}” has been hidden by a moderator and cannot be used."]}
    assert TaggedListing.objects.count() == 0


def test_bulk_add_tag_refuses_a_bad_name_for_every_listing(shop, shop_owner):
    first, second = ListingFactory(shop=shop), ListingFactory(shop=shop)

    with pytest.raises(ValidationError) as refused:
        listings_bulk_add_tag(shop=shop, actor=shop_owner, listing_ids=[first.pk, second.pk], name="?!")

    assert refused.value.message_dict == {
        "name": ["A tag needs at least one letter or digit: punctuation alone is not a tag."]
    }
    assert TaggedListing.objects.count() == 0


# --- Removing ---------------------------------------------------------------------------------------


def test_people_remove_only_their_own_applications(shop, buyer, other_buyer):
    listing = ListingFactory(shop=shop)
    tagging.tag_apply(listing=listing, user=buyer, name="maps")
    tagging.tag_apply(listing=listing, user=other_buyer, name="maps")
    tagging.tag_apply(listing=listing, user=other_buyer, name="atlas")

    assert tagging.tag_remove(listing=listing, user=buyer, slug="atlas") == 0
    assert tagging.tag_remove(listing=listing, user=buyer, slug="maps") == 1

    assert _applications() == [("atlas", listing.pk, "otto"), ("maps", listing.pk, "otto")]
    assert _use_counts() == {"atlas": 1, "maps": 1}


# --- Merging ----------------------------------------------------------------------------------------


def test_merging_moves_applications_and_follows_to_the_main_tag_once(shop, buyer, other_buyer, staff_user):
    # given "tomahto" and "tomato" on the same listing by one person, and each followed
    listing, other = ListingFactory(shop=shop), ListingFactory(shop=shop)
    tagging.tag_apply(listing=listing, user=buyer, name="tomahto")
    tagging.tag_apply(listing=listing, user=buyer, name="tomato")
    tagging.tag_apply(listing=other, user=other_buyer, name="tomahto")
    tomahto, tomato = Tag.objects.get(name="tomahto"), Tag.objects.get(name="tomato")
    tagging.tag_follow(user=buyer, tag=tomahto)
    tagging.tag_follow(user=buyer, tag=tomato)
    tagging.tag_follow(user=other_buyer, tag=tomahto)
    tomatoe = Tag.objects.create(name="tomatoe", merged_into=tomahto)

    # when a moderator merges "tomahto" into "tomato"
    main = tagging.tag_merge(synonym=tomahto, into=tomato, actor=staff_user)

    # then everything leads to "tomato", with one application per person and listing
    assert main == tomato
    assert _applications() == [("tomato", listing.pk, "bea"), ("tomato", other.pk, "otto")]
    assert sorted(TagFollow.objects.values_list("user__username", "tag__name")) == [
        ("bea", "tomato"),
        ("otto", "tomato"),
    ]
    assert _use_counts() == {"tomato": 2, "tomahto": 0, "tomatoe": 0}
    tomahto.refresh_from_db()
    tomatoe.refresh_from_db()
    assert (tomahto.merged_into, tomahto.merged_by) == (tomato, staff_user)
    assert tomatoe.merged_into == tomato  # synonyms stay one hop from their main tag


def test_merging_into_a_synonym_merges_into_its_main_tag(staff_user):
    tomato = Tag.objects.create(name="tomato")
    tomahto = Tag.objects.create(name="tomahto", merged_into=tomato)
    pomodoro = Tag.objects.create(name="pomodoro")

    assert tagging.tag_merge(synonym=pomodoro, into=tomahto, actor=staff_user) == tomato
    assert Tag.objects.get(name="pomodoro").merged_into == tomato


@pytest.mark.parametrize(
    ("synonym", "into", "message"),
    [
        ("tomato", "tomato", "A tag cannot be merged into itself or into one of its synonyms."),
        ("tomato", "tomahto", "A tag cannot be merged into itself or into one of its synonyms."),
        ("tomahto", "tomato", "“tomahto” is already merged into “tomato”."),
        ("tomato", "rude", "“rude” is hidden: unhide it first, or merge into another tag."),
    ],
)
def test_refused_merges_change_nothing(staff_user, synonym, into, message):
    tomato = Tag.objects.create(name="tomato")
    Tag.objects.create(name="tomahto", merged_into=tomato)
    Tag.objects.create(name="rude", is_hidden=True, hidden_reason="Insulting")
    before = list(Tag.objects.order_by("pk").values())

    with pytest.raises(ValidationError) as refused:
        tagging.tag_merge(synonym=Tag.objects.get(name=synonym), into=Tag.objects.get(name=into), actor=staff_user)

    assert refused.value.message_dict == {"into": [message]}
    assert list(Tag.objects.order_by("pk").values()) == before


@pytest.mark.parametrize("role", ["buyer", "shop_owner"])
def test_only_moderators_merge_hide_unhide_or_recount(request, shop, role):
    person = request.getfixturevalue(role)
    tomato, tomahto = Tag.objects.create(name="tomato"), Tag.objects.create(name="tomahto")
    before = list(Tag.objects.order_by("pk").values())

    for attempt in [
        lambda: tagging.tag_merge(synonym=tomahto, into=tomato, actor=person),
        lambda: tagging.tag_hide(tag=tomato, actor=person, reason="No"),
        lambda: tagging.tag_unhide(tag=tomato, actor=person),
        lambda: tagging.tags_recount(actor=person),
    ]:
        with pytest.raises(PermissionDenied):
            attempt()

    assert list(Tag.objects.order_by("pk").values()) == before


def test_the_moderate_tag_permission_makes_a_moderator_without_staff_status(buyer):
    buyer.user_permissions.add(Permission.objects.get(codename="moderate_tag", content_type__app_label="catalog"))
    tomato, tomahto = Tag.objects.create(name="tomato"), Tag.objects.create(name="tomahto")

    tagging.tag_merge(synonym=tomahto, into=tomato, actor=type(buyer).objects.get(pk=buyer.pk))

    assert Tag.objects.get(name="tomahto").merged_into == tomato


# --- Hiding -----------------------------------------------------------------------------------------


def test_hiding_needs_a_reason_and_records_the_decision(staff_user):
    tag = Tag.objects.create(name="rude")

    for reason, message in [
        ("  ", "Give the reason for hiding the tag: it is kept with the decision."),
        ("x" * 201, "Keep the reason to 200 characters."),
    ]:
        with pytest.raises(ValidationError) as refused:
            tagging.tag_hide(tag=tag, actor=staff_user, reason=reason)
        assert refused.value.message_dict == {"reason": [message]}
        assert Tag.objects.get(pk=tag.pk).is_hidden is False

    tagging.tag_hide(tag=tag, actor=staff_user, reason="  Insulting   to sellers ")

    tag.refresh_from_db()
    assert (tag.is_hidden, tag.hidden_reason, tag.hidden_by) == (True, "Insulting to sellers", staff_user)
    assert tag.hidden_at is not None


def test_unhiding_brings_the_applications_back(shop, buyer, staff_user):
    listing = ListingFactory(shop=shop)
    tagging.tag_apply(listing=listing, user=buyer, name="rude")
    tag = Tag.objects.get(name="rude")
    tagging.tag_hide(tag=tag, actor=staff_user, reason="Insulting")
    assert tagging.listing_tag_summaries(listing_ids=[listing.pk])[listing.pk] == []

    tagging.tag_unhide(tag=tag, actor=staff_user)

    assert [summary.name for summary in tagging.listing_tag_summaries(listing_ids=[listing.pk])[listing.pk]] == ["rude"]
    with pytest.raises(ValidationError) as refused:
        tagging.tag_unhide(tag=tag, actor=staff_user)
    assert refused.value.message_dict == {"tag": ["“rude” is not hidden."]}


# --- Counts -----------------------------------------------------------------------------------------


def test_counting_again_heals_uses_left_by_deleted_listings(shop, buyer, staff_user):
    listing = ListingFactory(shop=shop)
    kept = ListingFactory(shop=shop)
    tagging.tag_apply(listing=listing, user=buyer, name="maps")
    tagging.tag_apply(listing=kept, user=buyer, name="maps")
    Listing.objects.filter(pk=listing.pk).delete()  # as deleting a shop does
    assert _use_counts() == {"maps": 2}

    assert tagging.tags_recount(actor=staff_user) == 1

    assert _use_counts() == {"maps": 1}


# --- A listing's tags -------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 5])
def test_summaries_of_many_listings_take_one_query(django_assert_num_queries, shop, shop_owner, size):
    listings = [ListingFactory(shop=shop) for _ in range(size)]
    shoppers = [UserFactory() for _ in range(size)]
    for listing in listings:
        tagging.tag_apply(listing=listing, user=shop_owner, name="maps")
        for shopper in shoppers:
            tagging.tag_apply(listing=listing, user=shopper, name="maps")
            tagging.tag_apply(listing=listing, user=shopper, name=f"note {shopper.pk}")
    untagged = ListingFactory(shop=shop)

    with django_assert_num_queries(1):
        summaries = tagging.listing_tag_summaries(
            listing_ids=[*(listing.pk for listing in listings), untagged.pk], viewer=shoppers[0]
        )

    assert summaries[untagged.pk] == []
    first = summaries[listings[0].pk]
    assert (first[0].name, first[0].people, first[0].shoppers, first[0].from_shop) == ("maps", size + 1, size, True)
    assert first[0].applied_by_viewer is True
    assert [summary.people for summary in first.from_shoppers_only] == [1] * size
    assert [summary.applied_by_viewer for summary in first.from_shoppers_only].count(True) == 1
