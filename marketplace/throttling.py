"""API rate limits: per person (or token's person), per anonymous IP address, and per scope
for the expensive endpoints. Rates are read from settings on each request (PLURAL_API_RATE_*),
counted in the default cache: Redis in production, shared by every web process.

With Redis down the cache fails soft (django-redis IGNORE_EXCEPTIONS): nothing is counted
and requests are let through, which keeps the API up rather than refusing everybody.
"""

from django.conf import settings
from rest_framework import throttling


class _RatesFromSettings:
    # DRF binds its rates when the module is imported; reading them here lets an
    # environment (or a test's settings) change them.
    def get_rate(self):
        return settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"].get(self.scope)


class AnonymousRateThrottle(_RatesFromSettings, throttling.AnonRateThrottle):
    """Requests from one IP address without credentials."""


class PersonRateThrottle(_RatesFromSettings, throttling.UserRateThrottle):
    """Requests of one signed-in person, whether by session or token."""


class ScopedRateThrottle(_RatesFromSettings, throttling.ScopedRateThrottle):
    """Requests of one person (or IP) to the views sharing a `throttle_scope`."""

    def allow_request(self, request, view):
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return throttling.SimpleRateThrottle.allow_request(self, request, view)
