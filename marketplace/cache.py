"""The django-redis client for Plural's cache: it fails open and fast while Redis is down."""

import functools
import logging
import time

from django_redis.client import DefaultClient
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import ConnectionError as RedisConnectionError

logger = logging.getLogger(__name__)

# After a failure, calls skip Redis for this long: a hung Redis would otherwise
# cost every cache call its full socket timeout, and a login makes about twenty.
OUTAGE_BACKOFF_SECONDS = 5.0
REDIS_CALLING_METHODS = (
    "set", "add", "get", "persist", "expire", "pexpire", "pexpire_at", "expire_at", "lock", "delete",
    "delete_pattern", "delete_many", "clear", "get_many", "set_many", "incr", "decr", "ttl", "pttl",
    "has_key", "iter_keys", "keys", "touch",
)  # fmt: skip


class FailOpenClient(DefaultClient):
    """django-redis's client, with two changes for when Redis is unreachable.

    add() answers True. With IGNORE_EXCEPTIONS django-redis answers None ("not
    added") to add() during an outage; allauth takes a lock with cache.add()
    before it counts a login attempt and treats a lock it cannot take as a
    rate-limit hit, so every login was refused with 429 while Redis was down. We
    choose to fail open: with the cache down there are no counters, so rate
    limits are not enforced until Redis is back (logged as a warning), while
    passwords are checked as usual. Do not use cache.add() as a lock for anything
    that must not run twice; use the database for that.

    After a failed call the client stops calling Redis for OUTAGE_BACKOFF_SECONDS
    (a small circuit breaker), so a hung Redis slows one request, not all of them.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._unreachable_until = 0.0

    def get_next_client_index(self, *args, **kwargs) -> int:
        # Every way of getting a connection passes here first.
        if time.monotonic() < self._unreachable_until:
            raise ConnectionInterrupted(connection=None) from RedisConnectionError("Redis marked unreachable")
        return super().get_next_client_index(*args, **kwargs)

    def add(self, key, *args, **kwargs) -> bool:
        try:
            return self._add_or_trip(key, *args, **kwargs)
        except ConnectionInterrupted as error:
            if not self._backend._ignore_exceptions:
                raise
            logger.warning("Cache unreachable (%s): add(%r) fails open, rate limits are not enforced.", error, key)
            return True


def _tripping_breaker(method):
    @functools.wraps(method)
    def call(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except ConnectionInterrupted:
            if time.monotonic() >= self._unreachable_until:
                self._unreachable_until = time.monotonic() + OUTAGE_BACKOFF_SECONDS
            raise

    return call


for _name in REDIS_CALLING_METHODS:
    setattr(
        FailOpenClient, _name if _name != "add" else "_add_or_trip", _tripping_breaker(getattr(DefaultClient, _name))
    )
