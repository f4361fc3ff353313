"""Fixtures of the social tests: people who chose what they share, friends, listings of works."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from social import services
from social.models import Audience
from tests.factories import ListingFactory, UserFactory
from tests.sharing import share


def share_everything(person, level=Audience.EVERYONE):
    return share(person, **dict.fromkeys(services.DEFAULT_AUDIENCES, level))


@pytest.fixture
def friends(buyer, other_buyer):
    """Bea and Otto follow each other."""
    services.follow_create(follower=buyer, person=other_buyer)
    services.follow_create(follower=other_buyer, person=buyer)
    return buyer, other_buyer


@pytest.fixture
def stranger(db):
    return UserFactory(username="sid", display_name="Sid Stranger", email="sid@example.com")


@pytest.fixture
def fan(buyer):
    """Fay follows Bea; Bea does not follow Fay back."""
    person = UserFactory(username="fay", display_name="Fay Follower", email="fay@example.com")
    services.follow_create(follower=person, person=buyer)
    return person


@pytest.fixture
def listing(shop):
    return ListingFactory(shop=shop, title="A Field Guide to Lichens")


@pytest.fixture
def signed_in():
    def make(person):
        client = Client()
        if person is not None:
            client.force_login(person)
        return client

    return make


@pytest.fixture
def api():
    def make(person=None):
        client = APIClient()
        if person is not None:
            client.force_authenticate(person)
        return client

    return make
