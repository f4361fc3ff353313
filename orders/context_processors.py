from django.utils.functional import SimpleLazyObject

from .selectors import cart_item_count


def cart(request):
    """The header's cart count, counted only when a page shows it."""
    user = getattr(request, "user", None)
    session = getattr(request, "session", None)
    return {"cart_item_count": SimpleLazyObject(lambda: cart_item_count(user=user, session=session))}
