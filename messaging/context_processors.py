from django.utils.functional import SimpleLazyObject

from .selectors import unread_conversation_count


def unread_conversations(request):
    """The header's "Messages" badge: counted only when a page shows it, for signed-in people."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_conversations": SimpleLazyObject(lambda: unread_conversation_count(user=user))}
