from decimal import Decimal

from django import template

from ..selectors import shop_order_facts

register = template.Library()


@register.simple_tag
def order_facts(shop):
    """The shop's completion rate and return window (see selectors.shop_order_facts)."""
    return shop_order_facts(shop=shop)


@register.filter
def percent(rate) -> str:
    """A rate as a percentage without trailing zeros: 0.0500 -> "5", 0.0350 -> "3.5"."""
    value = (Decimal(rate) * 100).normalize()
    return f"{value:f}"
