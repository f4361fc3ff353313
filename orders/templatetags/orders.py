from decimal import Decimal

from django import template

from ..selectors import shop_completion_rate, shop_terms

register = template.Library()


@register.simple_tag
def completion_rate(shop):
    """The shop's completion rate over the last six months (see selectors.shop_completion_rate)."""
    return shop_completion_rate(shop=shop)


@register.simple_tag
def order_terms(shop):
    return shop_terms(shop=shop)


@register.filter
def percent(rate) -> str:
    """A rate as a percentage without trailing zeros: 0.0500 -> "5", 0.0350 -> "3.5"."""
    value = (Decimal(rate) * 100).normalize()
    return f"{value:f}"
