"""Shared fixtures: people in each role, service requirements, isolation."""

import importlib
import os

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from marketplace import celery_app
from tests.factories import ShopFactory, UserFactory
from tests.mailserver import SMTPServer

REQUIRE_SERVICES = os.environ.get("PLURAL_REQUIRE_SERVICES") == "1"


def _missing_service(reason: str) -> None:
    """Skip with the reason, or fail when the run requires real services."""
    if REQUIRE_SERVICES:
        pytest.fail(f"PLURAL_REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


def pytest_configure(config):
    # Parallel test processes share one Redis: each keeps to its own keys, so that one
    # process emptying the cache between tests cannot reset another's rate-limit counters.
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and "KEY_PREFIX" in settings.CACHES["default"]:
        settings.CACHES["default"]["KEY_PREFIX"] += f"-{worker}"


@pytest.fixture
def require_postgresql():
    if not settings.IS_POSTGRESQL:
        _missing_service("this test needs PostgreSQL: set DATABASE_URL=postgres://...")


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def require_chromium():
    if not os.path.exists(CHROMIUM):
        _missing_service(f"this test drives the real browser: install Debian's chromium ({CHROMIUM})")


@pytest.fixture
def require_redis():
    if not settings.REDIS_URL:
        _missing_service("this test needs Redis: set REDIS_URL=redis://...")


@pytest.fixture(autouse=True)
def _isolated_media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Production's slow hash protects stored passwords; tests only need a hash.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _seeded_rows_in_transactional_tests(request):
    """A transactional test ends by emptying every table, the rows that migrations seed
    included; give each transactional test those rows back, as the first test had them."""
    marker = request.node.get_closest_marker("django_db")
    transactional = marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0]))
    if transactional or {"transactional_db", "live_server"} & set(request.fixturenames):
        request.getfixturevalue("transactional_db")
        seed_conditions = importlib.import_module("catalog.migrations.0002_default_conditions").create_conditions
        seed_conditions(django_apps, None)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Rate-limit counters and cached pages must not leak between tests."""
    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern("*")
    else:
        cache.clear()
    yield


@pytest.fixture
def eager_tasks():
    """Tasks run in this process as they are sent, as in the embedded default (no REDIS_URL)."""
    saved = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = saved


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on a free port, and Django's mail pointed at it."""
    server = SMTPServer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield server
    server.stop()


@pytest.fixture
def buyer(db):
    return UserFactory(username="bea", display_name="Bea Buyer", email="bea@example.com")


@pytest.fixture
def other_buyer(db):
    return UserFactory(username="otto", display_name="Otto Other", email="otto@example.com")


@pytest.fixture
def staff_user(db):
    return UserFactory(username="stella", display_name="Stella Staff", is_staff=True)


@pytest.fixture
def shop_owner(db):
    return UserFactory(username="olive", display_name="Olive Owner", email="olive@example.com")


@pytest.fixture
def shop(shop_owner):
    return ShopFactory(name="Olive's Books", slug="olives-books", owner=shop_owner)


@pytest.fixture
def shop_staff(shop):
    from sellers.models import ShopMember

    staff = UserFactory(username="sam", display_name="Sam Staff", email="sam@example.com")
    ShopMember.objects.create(shop=shop, user=staff, role=ShopMember.Role.STAFF)
    return staff


@pytest.fixture
def other_shop_owner(db):
    return UserFactory(username="oscar", display_name="Oscar Elsewhere", email="oscar@example.com")


@pytest.fixture
def other_shop(other_shop_owner):
    return ShopFactory(
        name="Oscar's Records", slug="oscars-records", owner=other_shop_owner, country="NL", currency="EUR"
    )


@pytest.fixture
def people(request):
    """Look a role fixture up by name; 'anonymous' is None."""

    def get(role):
        return None if role == "anonymous" else request.getfixturevalue(role)

    return get


@pytest.fixture
def as_user(db, people):
    """A page client signed in as the person in `role` (anonymous for "anonymous")."""

    def make(role):
        client = Client()
        person = people(role) if isinstance(role, str) else role
        if person is not None:
            client.force_login(person)
        return client

    return make


@pytest.fixture
def api(db, people):
    """An API client authenticated as the person in `role`."""

    def make(role):
        client = APIClient()
        person = people(role) if isinstance(role, str) else role
        if person is not None:
            client.force_authenticate(person)
        return client

    return make
