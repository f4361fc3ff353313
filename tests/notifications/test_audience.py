"""notify_audience: many people told at once, set-based in SQL, each exactly as notify() would
have told them, in two queries whatever their number."""

import pytest
from django.contrib.contenttypes.models import ContentType

from accounts.models import User
from notifications import services
from notifications.kinds import EmailMode
from notifications.models import Delivery, Notification, Preference
from tests.factories import ListingFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]

CONTEXT = {"subject": "Herbarium"}


def crowd(kind: str) -> list:
    """Someone for every choice a person can make for `kind`, someone without an e-mail address,
    someone who never chose (the kind's defaults)."""
    choices = {
        "at-once": {"in_app": True, "email": EmailMode.IMMEDIATE},
        "digest": {"in_app": True, "email": EmailMode.DIGEST},
        "in-app-only": {"in_app": True, "email": EmailMode.OFF},
        "mail-only": {"in_app": False, "email": EmailMode.IMMEDIATE},
        "digest-only": {"in_app": False, "email": EmailMode.DIGEST},
        "nothing": {"in_app": False, "email": EmailMode.OFF},
    }
    people = [UserFactory(username="defaults")]
    for name, choice in choices.items():
        person = UserFactory(username=name)
        # Saved directly: the preferences page keeps no choice for a kind that is always sent,
        # but a row saved before it became one must not count either.
        Preference.objects.create(user=person, kind=kind, **choice)
        people.append(person)
    people.append(UserFactory(username="no-address", email=""))
    return people


def written() -> tuple[list, list]:
    """Every notification and delivery, as what each person got, ids aside."""
    notifications = sorted(
        (n.recipient.username, n.kind, n.actor_id, n.title, n.body, n.url, n.target_type_id, n.target_id, n.in_app)
        for n in Notification.objects.select_related("recipient")
    )
    deliveries = sorted(
        (
            d.notification.recipient.username,
            d.channel,
            d.mode,
            d.status,
            d.attempts,
            d.idempotency_key == f"notification-{d.notification_id}-email",
            round((d.next_attempt_at - d.notification.created_at).total_seconds()),
        )
        for d in Delivery.objects.select_related("notification__recipient")
    )
    return notifications, deliveries


@pytest.mark.parametrize("kind", ["shop.listed", "message.new", "privacy.breach"])
def test_everyone_gets_what_notify_would_have_given_them(kind, shop_owner, django_capture_on_commit_callbacks):
    # given people with every choice for a kind that goes to the digest by default, one that is
    # sent at once by default and one that is always sent whatever the choice, and the actor
    people = [*crowd(kind), shop_owner]
    listing = ListingFactory(title="Herbarium")
    with django_capture_on_commit_callbacks() as one_by_one:
        for person in people:
            services.notify(recipient=person, kind=kind, actor=shop_owner, target=listing, context=CONTEXT)
    expected = written()
    Notification.objects.all().delete()

    # when they are told at once
    with django_capture_on_commit_callbacks() as at_once:
        told = services.notify_audience(
            audience=User.objects.filter(pk__in=[person.pk for person in people]).values("pk"),
            kind=kind,
            actor=shop_owner,
            target=listing,
            context=CONTEXT,
        )

    # then the same rows are written, and the immediate e-mails are handed over in one go
    assert written() == expected
    assert told == len(expected[0]) == Notification.objects.count()
    assert "olive" not in {row[0] for row in expected[0]}  # never the actor
    assert len(at_once) == (1 if one_by_one else 0)


def test_what_the_defaults_and_each_choice_give(shop_owner):
    people = crowd("shop.listed")

    services.notify_audience(
        audience=User.objects.filter(pk__in=[person.pk for person in people]).values("pk"),
        kind="shop.listed",
        actor=shop_owner,
        context={"actor": "Olive's Books", "subject": "Herbarium"},
    )

    assert sorted(Notification.objects.values_list("recipient__username", "in_app", "title")) == [
        ("at-once", True, "Olive's Books listed Herbarium"),
        ("defaults", True, "Olive's Books listed Herbarium"),
        ("digest", True, "Olive's Books listed Herbarium"),
        ("digest-only", False, "Olive's Books listed Herbarium"),
        ("in-app-only", True, "Olive's Books listed Herbarium"),
        ("mail-only", False, "Olive's Books listed Herbarium"),
        ("no-address", True, "Olive's Books listed Herbarium"),
    ]
    assert sorted(Delivery.objects.values_list("notification__recipient__username", "mode")) == [
        ("at-once", EmailMode.IMMEDIATE),
        ("defaults", EmailMode.DIGEST),
        ("digest", EmailMode.DIGEST),
        ("digest-only", EmailMode.DIGEST),
        ("mail-only", EmailMode.IMMEDIATE),
    ]


def test_the_immediate_emails_go_out_once_after_commit_in_batches(
    shop_owner, smtp_server, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "DRAIN_BATCH", 2)
    people = [UserFactory(username=f"reader{number}") for number in range(5)]

    with django_capture_on_commit_callbacks(execute=True):
        services.notify_audience(
            audience=User.objects.filter(pk__in=[person.pk for person in people]).values("pk"),
            kind="message.new",
            actor=shop_owner,
            context=CONTEXT,
        )

    keys = [f"<notification-{pk}-email@plural.localhost>" for pk in Notification.objects.values_list("pk", flat=True)]
    assert sorted(smtp_server.mailbox.message_ids()) == sorted(keys)
    assert set(Delivery.objects.values_list("status", "attempts")) == {(Delivery.Status.SENT, 1)}


@pytest.mark.parametrize("size", [3, 30])
def test_two_queries_whatever_the_number_of_people(size, shop_owner, django_assert_num_queries):
    people = [UserFactory(username=f"reader{number}") for number in range(size)]
    listing = ListingFactory(title="Herbarium")
    audience = User.objects.filter(pk__in=[person.pk for person in people]).values("pk")
    ContentType.objects.get_for_model(listing)  # cached from then on, as in a running worker

    with django_assert_num_queries(2):  # the notifications, their deliveries
        assert services.notify_audience(audience=audience, kind="shop.listed", target=listing, context=CONTEXT) == size
    assert Delivery.objects.count() == size


def test_an_audience_of_nobody_writes_nothing(buyer, django_assert_num_queries):
    nobody, only_the_actor = User.objects.filter(pk__in=[]), User.objects.filter(pk=buyer.pk)

    with django_assert_num_queries(0):
        assert services.notify_audience(audience=nobody.values("pk"), kind="shop.listed", context=CONTEXT) == 0
    with django_assert_num_queries(1):
        told = services.notify_audience(
            audience=only_the_actor.values("pk"), kind="shop.listed", actor=buyer, context=CONTEXT
        )
    assert told == 0 and not Notification.objects.exists()
