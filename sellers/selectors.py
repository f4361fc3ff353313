from decimal import Decimal

from .models import Shop


def shipping_cost(*, shop: Shop, destination_country: str, item_count: int) -> Decimal | None:
    """What `shop` charges to send `item_count` items to `destination_country`,
    in the shop's currency, or None when the shop does not ship there."""
    if item_count < 1:
        return Decimal("0.00")
    if destination_country == shop.country.code:
        first, additional = shop.domestic_first_item, shop.domestic_additional_item
    elif destination_country in {country.code for country in shop.ships_to}:
        first, additional = shop.international_first_item, shop.international_additional_item
    else:
        return None
    return first + additional * (item_count - 1)
