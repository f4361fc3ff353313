from django.utils.functional import SimpleLazyObject

from .selectors import UNREAD_BADGE_CAP, unread_conversation_count


def _badge(user) -> str:
    unread = unread_conversation_count(user=user)
    if unread >= UNREAD_BADGE_CAP:
        return f"{UNREAD_BADGE_CAP - 1}+"
    return str(unread) if unread else ""


def unread_conversations(request):
    """The header's "Messages" badge ("", "7", "99+"): counted only when a page shows it, for
    signed-in people."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_conversations": SimpleLazyObject(lambda: _badge(user))}
