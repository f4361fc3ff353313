from django import template

from marketplace.countries import country_options as _country_options

register = template.Library()


@register.filter
def country_options(selected):
    """`{{ code|country_options }}`: every country as an <option>, the one with this code selected."""
    return _country_options(str(selected) if selected else None)
