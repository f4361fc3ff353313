"""Fixtures that put Plural in embedded mode or point it at a Redis that is down."""

import re
import socket

import pytest

from marketplace.settings import redis_cache

STATUS_ROW = re.compile(r'<th scope="row">([^<]+)</th>\s*<td><span class="badge status-(\w+)">')


def checks_by_name(payload: dict) -> dict[str, dict]:
    """The checks of a /api/status/ answer, by service name."""
    return {check["name"]: check for check in payload["checks"]}


def page_states(html: str) -> dict[str, str]:
    """The state of each service on the /status/ page, by label."""
    return dict(STATUS_ROW.findall(html))


@pytest.fixture
def embedded(settings):
    """No REDIS_URL: local-memory cache, tasks run in the web process."""
    settings.REDIS_URL = ""
    settings.CELERY_BROKER_URL = "memory://"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture
def use_redis_at(settings):
    """Configure the cache and the broker as if REDIS_URL were `url`.

    Changing settings.CACHES makes Django close and forget its cache connections
    (django.test.signals.clear_cache_handlers), and again when the test ends.
    """

    def configure(url: str) -> None:
        settings.REDIS_URL = url
        settings.CELERY_BROKER_URL = url
        settings.CELERY_TASK_ALWAYS_EAGER = False
        settings.CACHES = {"default": redis_cache(url)}

    return configure


@pytest.fixture
def redis_stopped(use_redis_at):
    """Redis is not running: nothing listens on the port, connections are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    use_redis_at(f"redis://127.0.0.1:{port}/0")


@pytest.fixture
def redis_hung(use_redis_at):
    """Redis hangs: the kernel accepts connections, nothing ever answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        use_redis_at(f"redis://127.0.0.1:{listener.getsockname()[1]}/0")
        yield
