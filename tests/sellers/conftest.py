import pytest
from django.test import Client


@pytest.fixture
def as_user(db):
    """A client signed in as the given person (anonymous for None). CSRF is tested separately."""

    def make(person):
        client = Client(enforce_csrf_checks=False)
        if person is not None:
            client.force_login(person)
        return client

    return make


@pytest.fixture
def people(request):
    """Look a role fixture up by name; 'anonymous' is None."""

    def get(role):
        return None if role == "anonymous" else request.getfixturevalue(role)

    return get
