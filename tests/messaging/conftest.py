import pytest
from django.test import Client
from rest_framework.test import APIClient

from messaging import services
from tests.factories import ListingFactory


@pytest.fixture
def listing(shop):
    return ListingFactory(shop=shop, title="A Field Guide to Lichens", price="12.50")


@pytest.fixture
def conversation(buyer, shop, listing, shop_staff):
    """Bea asked Olive's Books about the lichen guide; the shop has two people, Olive and Sam."""
    return services.conversation_start(
        buyer=buyer, shop=shop, listing=listing, body="Is the lichen guide still available?"
    ).conversation


@pytest.fixture
def as_user(db):
    def make(person, *, csrf: bool = False):
        client = Client(enforce_csrf_checks=csrf)
        if person is not None:
            client.force_login(person)
        return client

    return make


@pytest.fixture
def api(db):
    def make(person=None):
        client = APIClient()
        if person is not None:
            client.force_authenticate(person)
        return client

    return make
