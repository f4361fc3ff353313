"""Where each person is signed in: allauth's session records (allauth.usersessions: address,
browser, started, last seen), with the last activity refreshed at most every few minutes, not
written on every request as allauth's own tracking would."""

import time

from allauth.usersessions.models import UserSession

SEEN_AT_KEY = "plural_session_seen_at"
# How stale "last seen" may get: one write per session per interval at most.
ACTIVITY_INTERVAL_SECONDS = 300


def remember_sign_in(sender, request, user, **kwargs) -> None:
    """A fresh sign-in was just seen (allauth records its session itself)."""
    if request is not None and hasattr(request, "session"):
        request.session[SEEN_AT_KEY] = int(time.time())


class SessionActivityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is not None and session.session_key and user is not None and user.is_authenticated:
            now = int(time.time())
            if now - session.get(SEEN_AT_KEY, 0) >= ACTIVITY_INTERVAL_SECONDS:
                UserSession.objects.create_from_request(request)
                session[SEEN_AT_KEY] = now
        return self.get_response(request)
