from decimal import Decimal

from django import template
from django.conf import settings

from ..forms import OfferForm, PrivateOfferForm
from ..selectors import kind_words as shop_kind_words
from ..selectors import listing_offers as offers_on_listing
from ..selectors import shop_order_facts

register = template.Library()


@register.simple_tag
def order_facts(shop):
    """The shop's completion rate and return window (see selectors.shop_order_facts)."""
    return shop_order_facts(shop=shop)


@register.simple_tag
def listing_offers(listing, user):
    """What the listing page offers its viewer (selectors.listing_offers), with empty forms to
    make a private offer (for the shop's people) and an offer (for buyers)."""
    return {
        "terms": offers_on_listing(listing=listing, user=user),
        "private_form": PrivateOfferForm(max_days=settings.ORDERS_PRIVATE_OFFER_MAX_DAYS, prefix="private"),
        "offer_form": OfferForm(prefix="offer"),
    }


@register.simple_tag
def kind_words(shop):
    """The buyers' notes the shop may show, with their consent (selectors.kind_words)."""
    return shop_kind_words(shop=shop)


@register.filter
def percent(rate) -> str:
    """A rate as a percentage without trailing zeros: 0.0500 -> "5", 0.0350 -> "3.5"."""
    value = (Decimal(rate) * 100).normalize()
    return f"{value:f}"
