import pytest
from allauth.account.models import EmailAddress
from django.core.management import CommandError, call_command

from accounts.demo import DEMO_PASSWORD
from accounts.models import User
from messaging.models import Conversation, Message
from sellers.models import Shop

pytestmark = pytest.mark.django_db


def _snapshot():
    return list(User.objects.order_by("username").values_list("username", "display_name", "country", "city", "bio"))


def test_seed_demo_is_deterministic_and_idempotent():
    call_command("seed_demo", seed=7, stdout=None)
    first = _snapshot()
    call_command("seed_demo", seed=7)

    assert _snapshot() == first
    assert len(first) == 24
    assert EmailAddress.objects.filter(verified=True, primary=True).count() == 24
    assert User.objects.get(username="amara1").check_password(DEMO_PASSWORD)


def test_seed_demo_holds_a_couple_of_conversations_once(eager_tasks):
    call_command("seed_demo", seed=7)
    call_command("seed_demo", seed=7)

    conversations = {c.subject: c for c in Conversation.objects.select_related("shop", "listing")}
    assert sorted(conversations) == ["Do you buy collections?", "The Times Atlas of the World, 1967"]
    about_atlas = conversations["The Times Atlas of the World, 1967"]
    assert about_atlas.shop.slug == "harbour-lights-books" and about_atlas.listing.sku == "DEMO-ATLAS"
    assert list(about_atlas.messages.values_list("author__username", "for_shop")) == [
        ("chiara3", False),
        ("amara1", True),
        ("bruno2", True),
    ]
    assert Message.objects.count() == 5


def test_seed_demo_with_another_seed_gives_other_people():
    call_command("seed_demo", seed=7)
    first = _snapshot()
    Shop.objects.all().delete()  # shops protect their owners
    User.objects.all().delete()

    call_command("seed_demo", seed=8)

    assert _snapshot() != first


def test_seed_demo_refuses_production_without_explicit_consent(settings):
    settings.IS_PRODUCTION = True

    with pytest.raises(CommandError, match="Refusing"):
        call_command("seed_demo")

    assert User.objects.count() == 0
