from .selectors import SESSION_CART_COUNT_KEY


def cart(request):
    """The header's cart count, as the session remembers it: no query on any page."""
    session = getattr(request, "session", None)
    return {"cart_item_count": session.get(SESSION_CART_COUNT_KEY, 0) if session is not None else 0}
