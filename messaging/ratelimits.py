"""How fast one person may send messages, counted in the cache (Redis in production)."""

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError

logger = logging.getLogger(__name__)


def _count(key: str, *, window: int) -> int | None:
    """Add one to the counter `key` for a window of `window` seconds; None when the cache is
    unreachable (django-redis with IGNORE_EXCEPTIONS answers None instead of raising)."""
    try:
        cache.add(key, 0, timeout=window + 5)
        return cache.incr(key)
    except ValueError:  # the counter expired between add() and incr(): this is the window's first
        cache.set(key, 1, timeout=window + 5)
        return 1


def consume_send_allowance(*, user) -> None:
    """Count one message by `user` against the per-minute and per-hour limits (fixed windows);
    raise ValidationError (code "rate_limited") when either is used up.

    When the cache is unreachable the limits fail open: the message goes through and a
    warning is logged. We choose that because a buyer and a shop reaching each other matters
    more than a burst of spam during a cache outage, and the safeguards kept in the database
    (blocks, the first-contact limit, reports) still hold while Redis is away."""
    now = time.time()
    limits = (
        (60, settings.MESSAGING_SEND_RATE_PER_MINUTE, "a minute"),
        (3600, settings.MESSAGING_SEND_RATE_PER_HOUR, "an hour"),
    )
    for window, limit, period in limits:
        count = _count(f"messaging:sent:{user.pk}:{window}:{int(now // window)}", window=window)
        if count is None:
            logger.warning("Cache unreachable: message rate limits are not enforced for user %s.", user.pk)
            return
        if count > limit:
            raise ValidationError(
                f"You have sent {limit} messages in {period}, the most we allow. Please wait a little "
                "and send it again: what you wrote is still here.",
                code="rate_limited",
            )
