"""Telling a shop's followers of a new listing, set-based in batches: each follower exactly as
notify() would tell them, once, resumed after a crash in the middle of a batch, in a number of
queries that does not grow with the number of followers."""

from decimal import Decimal

import pytest

from catalog import services as catalog_services
from notifications import services as notification_services
from notifications.kinds import EmailMode
from notifications.models import Delivery, Notification
from social import services
from social.models import ListingEvent
from tests.factories import ListingFactory, ShopFactory, UserFactory

pytestmark = pytest.mark.django_db


def _followers(shop, count: int, prefix: str = "follower") -> list:
    people = [UserFactory(username=f"{prefix}{number}") for number in range(count)]
    for person in people:
        services.follow_create(follower=person, shop=shop)
    return people


def _new_listing(shop, actor):
    """A listing put on sale in a transaction that never commits here: its event waits."""
    listing = catalog_services.listing_create(
        shop=shop, actor=actor, title="Herbarium", price="12.00", condition="good", status="active"
    )
    return listing, ListingEvent.objects.get(listing=listing)


def _told() -> list[str]:
    return sorted(Notification.objects.filter(kind="shop.listed").values_list("recipient__username", flat=True))


def test_each_follower_gets_their_own_choice_and_the_immediate_emails_go_out_once(
    shop, shop_owner, smtp_server, eager_tasks, django_capture_on_commit_callbacks
):
    followers = _followers(shop, 2)
    eager, silent = _followers(shop, 2, prefix="chooser")
    notification_services.preferences_update(user=eager, choices={"shop.listed": {"email": EmailMode.IMMEDIATE}})
    notification_services.preferences_update(
        user=silent, choices={"shop.listed": {"in_app": False, "email": EmailMode.OFF}}
    )
    services.follow_create(follower=shop_owner, shop=shop)  # the actor follows their own shop

    with django_capture_on_commit_callbacks(execute=True):
        _new_listing(shop, shop_owner)

    assert _told() == sorted([person.username for person in followers] + [eager.username])
    assert sorted(Delivery.objects.values_list("notification__recipient__username", "mode", "status")) == [
        ("chooser0", EmailMode.IMMEDIATE, Delivery.Status.SENT),
        ("follower0", EmailMode.DIGEST, Delivery.Status.PENDING),
        ("follower1", EmailMode.DIGEST, Delivery.Status.PENDING),
    ]
    [mail] = smtp_server.mailbox.messages
    assert (mail["To"], mail["Subject"]) == (eager.email, "Olive's Books listed Herbarium")


def test_a_worker_that_dies_in_the_middle_of_a_batch_resumes_without_telling_anyone_twice(
    shop, shop_owner, monkeypatch
):
    monkeypatch.setattr(services, "FANOUT_BATCH", 2)
    followers = _followers(shop, 5)
    _, event = _new_listing(shop, shop_owner)
    real_notify_audience = services.notify_audience
    batches = []

    def dies_after_writing_the_second_batch(**arguments):
        batches.append(real_notify_audience(**arguments))
        if len(batches) == 2:
            raise SystemExit("the worker was killed before the batch committed")

    monkeypatch.setattr(services, "notify_audience", dies_after_writing_the_second_batch)
    with pytest.raises(SystemExit):
        services.listing_event_process(event_id=event.pk)

    # the first batch committed with its progress, the second went with the dead worker
    assert _told() == ["follower0", "follower1"]
    event.refresh_from_db()
    assert (event.stage, event.told_through) == (ListingEvent.Stage.PEOPLE, followers[1].pk)

    monkeypatch.setattr(services, "notify_audience", real_notify_audience)
    assert services.listing_event_process(event_id=event.pk) is True

    assert _told() == [person.username for person in followers]
    assert Delivery.objects.count() == 5
    event.refresh_from_db()
    assert event.stage == ListingEvent.Stage.DONE

    # a second delivery of the task writes nothing
    assert services.listing_event_process(event_id=event.pk) is False
    assert (Notification.objects.count(), Delivery.objects.count()) == (5, 5)


def test_a_batch_that_ends_on_the_last_follower_finishes_cleanly(shop, shop_owner, monkeypatch):
    monkeypatch.setattr(services, "FANOUT_BATCH", 2)
    _followers(shop, 4)
    _, event = _new_listing(shop, shop_owner)

    assert services.listing_event_process(event_id=event.pk) is True

    assert _told() == [f"follower{number}" for number in range(4)]
    event.refresh_from_db()
    assert (event.stage, event.told_through) == (ListingEvent.Stage.DONE, 0)


def test_the_savers_of_a_listing_are_told_in_batches_once_each(shop, shop_owner, monkeypatch):
    monkeypatch.setattr(services, "FANOUT_BATCH", 2)
    listing = ListingFactory(shop=shop, title="Herbarium", price=Decimal("12.00"))
    savers = [UserFactory(username=f"saver{number}") for number in range(3)]
    for saver in savers:
        services.favourite_add(owner=saver, listing=listing)
    second_list = services.favourite_list_create(owner=savers[0], name="Ferns")
    services.favourite_add(owner=savers[0], listing=listing, favourite_list=second_list)

    catalog_services.listing_update(listing=listing, actor=shop_owner, price="9.00")
    event = ListingEvent.objects.get(kind=ListingEvent.Kind.PRICE_DROPPED)
    assert services.listing_event_process(event_id=event.pk) is True

    assert sorted(Notification.objects.values_list("recipient__username", "title")) == [
        (saver.username, "Herbarium now costs 9.00 GBP") for saver in savers
    ]


def test_the_queries_do_not_grow_with_the_number_of_followers(shop_owner, django_assert_num_queries):
    few, many = (ShopFactory(owner=shop_owner, slug=slug) for slug in ("few", "many"))
    _followers(few, 2, prefix="few")
    _followers(many, 12, prefix="many")
    events = {shop.slug: _new_listing(shop, shop_owner)[1] for shop in (few, many)}
    services.listing_event_process(event_id=events["few"].pk)  # the content type is cached from then on
    ListingEvent.objects.filter(pk=events["few"].pk).update(done_at=None, stage=ListingEvent.Stage.PEOPLE)
    Notification.objects.all().delete()

    for slug, followers in (("few", 2), ("many", 12)):
        # the event, its listing, its actor, the end of the batch, the notifications, their
        # deliveries, the progress; the event and its listing again, the listing's tags, the want
        # lists, done; the savepoints of the two transactions
        with django_assert_num_queries(16):
            services.listing_event_process(event_id=events[slug].pk)
        assert Notification.objects.filter(recipient__username__startswith=slug).count() == followers
