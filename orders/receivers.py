"""Signal receivers of the orders side, connected in OrdersConfig.ready with their sender."""

from .selectors import SESSION_CART_KEY
from .services import cart_count_remember, cart_merge_guest


def merge_guest_cart_on_login(sender, request, user, **kwargs) -> None:
    """A guest's cart survives signing in: its items move into the person's own cart, whose
    count the header then shows.

    Django keeps the session's data when it changes the session key at login, so the guest
    cart's token is still there to find."""
    session = getattr(request, "session", None)
    token = session.pop(SESSION_CART_KEY, None) if session is not None else None
    if token:
        cart_merge_guest(token=token, user=user)
    if session is not None:
        cart_count_remember(user=user, session=session)
