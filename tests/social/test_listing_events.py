"""What a listing's changes tell other people: a shop's followers hear of its new listings,
the people who saved a listing hear of a lower price, each once, in batches that resume where
they stopped, and nothing is lost while the broker is away."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog import services as catalog_services
from notifications.models import Notification
from social import services
from social.models import ListingEvent
from tests.factories import ListingFactory, UserFactory
from tests.notifications.conftest import broker_at, redis_stopped_broker  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


@pytest.fixture
def committed(django_capture_on_commit_callbacks, eager_tasks):
    """Run a change as a request would: its after-commit work (here, the tasks) runs too."""

    def run(change):
        with django_capture_on_commit_callbacks(execute=True):
            return change()

    return run


def _followers(shop, count: int) -> list:
    people = [UserFactory(username=f"follower{number}") for number in range(count)]
    for person in people:
        services.follow_create(follower=person, shop=shop)
    return people


def _create(shop, actor, **fields):
    values = {"title": "Herbarium", "price": "12.00", "condition": "good", "status": "active", **fields}
    return catalog_services.listing_create(shop=shop, actor=actor, **values)


def _told(kind: str) -> list[tuple[str, str]]:
    return sorted(Notification.objects.filter(kind=kind).values_list("recipient__username", "title"))


def test_a_new_listing_tells_each_follower_of_the_shop_once(shop, shop_owner, shop_staff, committed):
    followers = _followers(shop, 3)
    services.follow_create(follower=shop_owner, shop=shop)
    closed = UserFactory(username="closed")
    services.follow_create(follower=closed, shop=shop)
    closed.is_active = False  # the account was closed since
    closed.save()

    listing = committed(lambda: _create(shop, shop_owner))

    assert _told("shop.listed") == [(person.username, "Olive's Books listed Herbarium") for person in followers]
    assert Notification.objects.get(recipient=followers[0], kind="shop.listed").url == listing.get_absolute_url()
    event = ListingEvent.objects.get()
    assert (event.kind, event.is_new, event.stage, event.done_at is not None) == ("on_sale", True, "done", True)

    # Delivered twice by the broker: nobody hears of it again.
    assert services.listing_event_process(event_id=event.pk) is False
    assert Notification.objects.filter(kind="shop.listed").count() == 3


def test_drafts_tell_nobody_and_a_listing_back_on_sale_is_no_news_to_followers(shop, shop_owner, committed):
    _followers(shop, 2)
    draft = committed(lambda: _create(shop, shop_owner, status="draft"))
    assert Notification.objects.count() == 0

    committed(lambda: catalog_services.listing_set_status(listing=draft, actor=shop_owner, status="active"))
    committed(lambda: catalog_services.listing_set_status(listing=draft, actor=shop_owner, status="paused"))
    committed(lambda: catalog_services.listing_set_status(listing=draft, actor=shop_owner, status="active"))

    assert Notification.objects.filter(kind="shop.listed").count() == 2
    # Back on sale it is news only to wants, and there is none: no event was written for it.
    assert list(ListingEvent.objects.values_list("is_new", flat=True)) == [True]


def test_an_event_is_written_only_when_someone_could_hear_of_it(shop, shop_owner, buyer):
    from catalog import wantlists

    quiet = _create(shop, shop_owner, title="Nobody follows, nobody wants")
    catalog_services.listing_update(listing=quiet, actor=shop_owner, price="5.00")
    assert ListingEvent.objects.count() == 0

    wantlists.want_create(user=buyer, text="something else entirely")
    _create(shop, shop_owner, title="Somebody wants something")
    catalog_services.listing_update(listing=quiet, actor=shop_owner, price="4.00")
    assert list(ListingEvent.objects.values_list("kind", flat=True)) == ["on_sale", "price_dropped"]


def test_followers_are_told_in_batches_that_resume_where_they_stopped(shop, shop_owner, monkeypatch):
    monkeypatch.setattr(services, "FANOUT_BATCH", 2)
    followers = _followers(shop, 5)
    listing = _create(shop, shop_owner)  # the test's transaction never commits: no task ran
    event = ListingEvent.objects.get(listing=listing)
    # A worker told the first two, committed, and died.
    ListingEvent.objects.filter(pk=event.pk).update(told_through=followers[1].pk)

    assert services.listing_event_process(event_id=event.pk) is True

    assert _told("shop.listed") == [(person.username, "Olive's Books listed Herbarium") for person in followers[2:]]
    event.refresh_from_db()
    assert event.stage == "done"


def test_a_lower_price_tells_each_person_who_saved_it_once(shop, shop_owner, buyer, other_buyer, committed):
    listing = ListingFactory(shop=shop, title="Herbarium", price=Decimal("12.00"))
    services.favourite_add(owner=buyer, listing=listing)
    ferns = services.favourite_list_create(owner=buyer, name="Ferns")
    services.favourite_add(owner=buyer, listing=listing, favourite_list=ferns)
    services.favourite_add(owner=other_buyer, listing=listing)
    services.favourite_add(owner=UserFactory(username="elsewhere"), listing=ListingFactory(shop=shop))

    committed(lambda: catalog_services.listing_update(listing=listing, actor=shop_owner, price="15.00"))
    assert Notification.objects.count() == 0
    committed(lambda: catalog_services.listing_update(listing=listing, actor=shop_owner, price="9.50"))

    assert _told("favourite.price_dropped") == [
        ("bea", "Herbarium now costs 9.50 GBP"),
        ("otto", "Herbarium now costs 9.50 GBP"),
    ]
    event = ListingEvent.objects.get(kind="price_dropped")
    assert (event.old_price, event.new_price) == (Decimal("15.00"), Decimal("9.50"))


def test_a_bulk_price_cut_tells_the_savers_of_each_listing_on_sale(shop, shop_owner, buyer, committed):
    on_sale = ListingFactory(shop=shop, title="On sale", price=Decimal("10.00"))
    paused = ListingFactory(shop=shop, title="Paused", price=Decimal("10.00"), status="paused")
    services.favourite_add(owner=buyer, listing=on_sale)

    committed(
        lambda: catalog_services.listings_bulk_change_price(
            shop=shop, actor=shop_owner, listing_ids=[on_sale.pk, paused.pk], percent="-20"
        )
    )

    assert _told("favourite.price_dropped") == [("bea", "On sale now costs 8.00 GBP")]
    assert list(ListingEvent.objects.values_list("listing_id", flat=True)) == [on_sale.pk]


def test_an_event_no_longer_true_when_its_turn_comes_tells_nobody(shop, shop_owner, buyer):
    listing = ListingFactory(shop=shop, price=Decimal("12.00"))
    services.favourite_add(owner=buyer, listing=listing)
    _followers(shop, 1)
    catalog_services.listing_update(listing=listing, actor=shop_owner, price="10.00")
    catalog_services.listing_update(listing=listing, actor=shop_owner, price="11.00")
    paused_later = _create(shop, shop_owner, title="Withdrawn at once")
    catalog_services.listing_set_status(listing=paused_later, actor=shop_owner, status="paused")

    for event in ListingEvent.objects.order_by("pk"):
        services.listing_event_process(event_id=event.pk)

    assert Notification.objects.count() == 0
    assert not ListingEvent.objects.filter(done_at__isnull=True).exists()


def test_events_wait_out_a_broker_outage_and_the_sweeper_hands_them_over(
    shop,
    shop_owner,
    redis_stopped_broker,  # noqa: F811 - the fixture imported above
    django_capture_on_commit_callbacks,
):
    _followers(shop, 2)
    with django_capture_on_commit_callbacks(execute=True):
        _create(shop, shop_owner)  # the enqueue after commit fails: the broker is unreachable

    event = ListingEvent.objects.get()
    assert event.done_at is None and Notification.objects.count() == 0

    from marketplace import celery_app

    celery_app.conf.task_always_eager = True  # the broker is back (here: tasks run in this process)
    assert services.listing_events_sweep(older_than=timezone.now() + datetime.timedelta(minutes=3)) == 1

    assert Notification.objects.filter(kind="shop.listed").count() == 2
    assert services.listing_events_sweep(older_than=timezone.now() + datetime.timedelta(minutes=3)) == 0
