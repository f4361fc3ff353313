"""Schemathesis against the live schema, in process through the WSGI application, as each
role: no operation may answer 5xx, and every answer must match the schema (status code,
content type, headers and body).

Bounded: a few generated examples per operation and role, derandomized so that a run is
reproducible; PLURAL_FUZZ_EXAMPLES raises the count for a longer hunt.
"""

import os
from dataclasses import dataclass

import pytest
import schemathesis
from django.contrib.auth.models import Permission
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.services import api_token_create
from catalog.tagging import tag_apply
from messaging.services import conversation_start
from social.models import ListVisibility
from social.services import favourite_list_create, follow_create
from tests.factories import ListingFactory, UserFactory

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("PLURAL_FUZZ_EXAMPLES", "2"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
ROLES = ["anonymous", "buyer", "shop_owner", "shop_staff", "moderator", "staff_user"]


@pytest.fixture(scope="module")
def api_schema(django_db_blocker):
    with django_db_blocker.unblock():
        return schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


@pytest.fixture
def keep_test_connection():
    """The WSGI handler closes the database connection after each request, as a server must;
    the test's transaction lives on that connection, so (as Django's test client does) not here."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_moderator(db):
    """Not staff, but given both moderation permissions."""
    person = UserFactory(username="mona", display_name="Mona Moderator")
    person.user_permissions.add(
        *Permission.objects.filter(codename__in=["moderate_review", "moderate_tag"]),
    )
    return person


@dataclass
class World:
    listing_id: int
    conversation_id: int
    favourite_list_id: int


@pytest.fixture
def world(shop, other_shop, shop_owner, buyer):
    """Something to find behind the addresses of the second pass."""
    listings = [ListingFactory(shop=shop), ListingFactory(shop=shop), ListingFactory(shop=other_shop)]
    tag_apply(listing=listings[0], user=shop_owner, name="lichens")
    started = conversation_start(buyer=buyer, shop=shop, body="Is the first volume signed?", listing=listings[0])
    follow_create(follower=buyer, shop=shop)
    follow_create(follower=buyer, person=shop_owner)
    favourites = favourite_list_create(owner=buyer, name="Lichens", visibility=ListVisibility.PUBLIC)
    return World(listing_id=listings[0].pk, conversation_id=started.conversation.pk, favourite_list_id=favourites.pk)


def known_path_parameters(path: str, world: World) -> dict:
    """Path parameters that name things in the world, where the path is about them."""
    known = {}
    if "{username}" in path:
        known["username"] = "olive"
    if "{slug}" in path:
        known["slug"] = "lichens" if path.startswith("/api/tags/") else "olives-books"
    if "{id}" in path:
        if path.startswith(("/api/listings/", "/api/shops/{slug}/listings/")):
            known["id"] = world.listing_id
        elif path.startswith("/api/conversations/"):
            known["id"] = world.conversation_id
        elif path.startswith("/api/favourite-lists/"):
            known["id"] = world.favourite_list_id
    return known


@dataclass
class Failure:
    operation: str
    message: str


def fuzz_operation(operation, headers: dict, path_parameters: dict | None = None) -> Failure | None:
    @given(case=operation.as_strategy(path_parameters=path_parameters))
    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        case.call_and_validate(headers=headers, checks=checks)

    # The status endpoint reports the services: its documented 503 says one is down (here the
    # worker, which a test does not run); it is still held to its schema.
    checks = CHECKS[1:] if operation.path == "/api/status/" else CHECKS

    try:
        run()
    except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 (every failure is reported together)
        return Failure(operation=operation.label, message=str(error)[:3000])
    return None


@pytest.mark.parametrize("role", ROLES)
def test_no_operation_fails_or_strays_from_the_schema(
    role, request, settings, keep_test_connection, api_schema, world, shop_staff
):
    # Limits are tested elsewhere; here they would only cut the run short.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "100000/minute", "user": "100000/minute", "search": "100000/minute"},
    }
    person = None if role == "anonymous" else request.getfixturevalue("fuzz_moderator" if role == "moderator" else role)
    headers = {}
    if person is not None:
        secret = api_token_create(user=person, name="fuzz", scope="write").secret
        headers["Authorization"] = f"Bearer {secret}"

    failures = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        failures.append(fuzz_operation(operation, headers))
        # Second pass: the same operation about things that exist, to reach past the 404s.
        known = known_path_parameters(operation.path, world)
        if known:
            failures.append(fuzz_operation(operation, headers, known))
    failures = [failure for failure in failures if failure]

    assert not failures, "\n\n".join(f"{failure.operation}\n{failure.message}" for failure in failures)
