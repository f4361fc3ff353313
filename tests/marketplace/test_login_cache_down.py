"""Logging in while the cache, which holds allauth's rate-limit counters, is down.

Our choice (marketplace/cache.py): the rate limits fail open while Redis is
unreachable, with a warning in the log, and passwords are checked as usual.
"""

import logging
import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.cache import caches
from django.urls import reverse

from tests.factories import TEST_PASSWORD, UserFactory

LOGIN_URL = "/accounts/login/"
WRONG_PASSWORD = "The username and/or password you specified are not correct."
TOO_MANY_ATTEMPTS = "Too many failed login attempts. Try again later."


@pytest.fixture
def bea(db):
    return UserFactory(username="bea", email="bea@example.com")


def log_in(client, password: str):
    return client.post(LOGIN_URL, {"login": "bea", "password": password})


def test_correct_password_logs_in_while_the_cache_is_down(client, bea, redis_stopped, caplog):
    with caplog.at_level(logging.WARNING, logger="marketplace.cache"):
        response = log_in(client, TEST_PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.session[SESSION_KEY] == str(bea.pk)
    assert "rate limits are not enforced" in caplog.text


def test_wrong_password_is_refused_while_the_cache_is_down(client, bea, redis_stopped):
    response = log_in(client, "not the password")

    assert response.status_code == 200
    assert WRONG_PASSWORD in response.content.decode()
    assert TOO_MANY_ATTEMPTS not in response.content.decode()
    assert SESSION_KEY not in client.session


def test_rate_limit_still_applies_while_the_cache_is_up(client, bea):
    # ACCOUNT_RATE_LIMITS["login_failed"]: 5 failures per login in 5 minutes.
    for _ in range(5):
        assert WRONG_PASSWORD in log_in(client, "not the password").content.decode()

    response = log_in(client, TEST_PASSWORD)

    assert TOO_MANY_ATTEMPTS in response.content.decode()
    assert SESSION_KEY not in client.session


def test_login_with_a_hung_cache_waits_for_one_timeout_not_one_per_call(client, bea, redis_hung, settings):
    """A hang guard, not a speed test: without the breaker this took 6 to 10 s
    (about twenty cache calls, each waiting the 0.5 s socket timeout)."""
    timeout = settings.CACHES["default"]["OPTIONS"]["SOCKET_TIMEOUT"]
    started = time.monotonic()

    response = log_in(client, TEST_PASSWORD)

    assert time.monotonic() - started < timeout * 5
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(bea.pk)


def test_cache_calls_resume_once_redis_answers_again(require_redis):
    client = caches["default"].client
    client._unreachable_until = time.monotonic() + 60

    assert caches["default"].get("anything", "fallback") == "fallback"
    client._unreachable_until = 0.0
    caches["default"].set("breaker-probe", "value", timeout=5)
    assert caches["default"].get("breaker-probe") == "value"
