"""Buying through the real checkout, as a shopper does (orders.services)."""

from orders import services as order_services


def buy(person, *listings, key: str | None = None):
    """`person` puts `listings` in their cart and checks out (with an address of their own)."""
    cart = order_services.cart_get_or_create(user=person, session={})
    for listing in listings:
        order_services.cart_add_item(cart=cart, listing_id=listing.pk)
    address = person.addresses.first() or order_services.address_create(
        user=person, full_name=person.public_name, line1="1 Mill Lane", city="York", postal_code="YO1 7HH", country="GB"
    )
    return order_services.checkout_place(
        buyer=person,
        idempotency_key=key or f"buy-{'-'.join(str(listing.pk) for listing in listings)}",
        address_id=address.pk,
    )
