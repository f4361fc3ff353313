"""Operators merge works that are one and the same: the copies are compared on one page, the old
pages and identifiers lead there, and nobody else can do it."""

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from catalog import services
from catalog.models import Listing, Work
from tests.factories import ListingFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator():
    person = UserFactory(username="opal", is_staff=True)
    person.user_permissions.add(Permission.objects.get(codename="change_work"))
    return person


@pytest.fixture
def hardback():
    return Work.objects.create(title="Mosses", identifier_kind="isbn", identifier="9780000000002")


@pytest.fixture
def paperback():
    return Work.objects.create(title="Mosses (paperback)", identifier_kind="isbn", identifier="9781861972712")


def test_merging_moves_the_copies_and_the_old_identifier_joins_the_merged_work(
    operator, shop, shop_owner, hardback, paperback
):
    ListingFactory(shop=shop, work=hardback)
    ListingFactory(shop=shop, work=paperback)
    ListingFactory(shop=shop, work=paperback)

    moved = services.works_merge(actor=operator, into=hardback, works=[hardback, paperback])

    assert moved == 2
    assert Listing.objects.filter(work=hardback).count() == 3
    paperback.refresh_from_db()
    assert paperback.merged_into == hardback and paperback.merged_at is not None
    # a listing typed later with the paperback's ISBN is compared with the others
    later = services.listing_create(
        shop=shop, actor=shop_owner, title="Mosses", price="5.00", condition="good", identifier="978-1-86197-271-2"
    )
    assert later.work == hardback


def test_a_work_merged_earlier_follows_the_second_merge_in_one_hop(operator, hardback, paperback):
    third = Work.objects.create(title="Mosses, 2nd ed.", identifier_kind="isbn", identifier="9780306406157")
    services.works_merge(actor=operator, into=paperback, works=[third])

    services.works_merge(actor=operator, into=hardback, works=[paperback])

    third.refresh_from_db()
    assert third.merged_into == hardback


def test_only_operators_merge_and_a_refused_merge_changes_nothing(
    shop, shop_owner, staff_user, operator, hardback, paperback
):
    copy = ListingFactory(shop=shop, work=paperback)
    for person in (shop_owner, staff_user):  # a seller; staff without the permission
        with pytest.raises(PermissionDenied):
            services.works_merge(actor=person, into=hardback, works=[paperback])
    services.works_merge(actor=operator, into=paperback, works=[Work.objects.create(title="x", identifier="1")])

    # into a work that was itself merged: refused, with the way out
    with pytest.raises(ValidationError) as refused:
        services.works_merge(actor=operator, into=Work.objects.get(identifier="1"), works=[hardback])
    assert "merge into that one" in refused.value.message_dict["into"][0]
    with pytest.raises(ValidationError):
        services.works_merge(actor=operator, into=hardback, works=[hardback])

    copy.refresh_from_db()
    hardback.refresh_from_db()
    assert copy.work == paperback and hardback.merged_into is None


def test_a_merged_works_page_and_api_lead_to_the_work_it_became(client, operator, shop, hardback, paperback):
    copy = ListingFactory(shop=shop, work=paperback, title="The paperback copy")
    services.works_merge(actor=operator, into=hardback, works=[paperback])

    response = client.get(f"/works/{paperback.pk}/")
    assert response.status_code == 301 and response["Location"] == f"/works/{hardback.pk}/"
    data = client.get(f"/api/works/{paperback.pk}/").json()
    assert data["work"]["id"] == hardback.pk
    page = client.get(f"/works/{hardback.pk}/").content.decode()
    assert f'href="/listings/{copy.pk}/"' in page


def test_the_admin_merges_into_a_new_hand_made_work(operator, shop, hardback, paperback):
    ListingFactory(shop=shop, work=hardback)
    ListingFactory(shop=shop, work=paperback)
    client = Client()
    client.force_login(operator)
    url = "/admin/catalog/work/"
    selected = {"action": "merge_works", "_selected_action": [hardback.pk, paperback.pk]}

    # the action asks where to; neither a work nor a title is refused
    asked = client.post(url, selected)
    assert asked.status_code == 200 and "Merge them" in asked.content.decode()
    refused = client.post(url, {**selected, "apply": "1"})
    assert "Choose the work to merge into, or give the title of a new one." in refused.content.decode()
    assert Work.objects.filter(merged_into__isnull=False).count() == 0

    client.post(url, {**selected, "apply": "1", "new_title": "Mosses of Europe", "new_creator": "Ada Moss"})

    made = Work.objects.get(identifier_kind=Work.IdentifierKind.MANUAL)
    assert (made.title, made.creator) == ("Mosses of Europe", "Ada Moss")
    assert Listing.objects.filter(work=made).count() == 2
    assert set(Work.objects.filter(merged_into=made)) == {hardback, paperback}
