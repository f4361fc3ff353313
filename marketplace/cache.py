"""The django-redis client for Plural's cache: add() fails open while Redis is down."""

import logging

from django_redis.client import DefaultClient
from django_redis.exceptions import ConnectionInterrupted

logger = logging.getLogger(__name__)


class FailOpenClient(DefaultClient):
    """django-redis's client, except that add() answers True while Redis is unreachable.

    With IGNORE_EXCEPTIONS django-redis answers None ("not added") to add() during an
    outage. allauth takes a lock with cache.add() before it counts a login attempt and
    treats a lock it cannot take as a rate-limit hit, so every login was refused with
    429 "too many requests" while Redis was down. We choose to fail open: with the cache
    down there are no counters, so rate limits are not enforced until Redis is back
    (logged as a warning), while passwords are checked as usual. Do not use cache.add()
    as a lock for anything that must not run twice; use the database for that.
    """

    def add(self, key, *args, **kwargs) -> bool:
        try:
            return super().add(key, *args, **kwargs)
        except ConnectionInterrupted as error:
            if not self._backend._ignore_exceptions:
                raise
            logger.warning("Cache unreachable (%s): add(%r) fails open, rate limits are not enforced.", error, key)
            return True
