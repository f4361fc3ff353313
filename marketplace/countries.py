"""The list of countries as HTML <option>s, escaped once per language instead of on every page.

About 250 countries through the template engine cost more than the rest of a page: 10 to 25 ms
for the cart's and the listing page's country menus, and more for Django's Select widget (two
template includes per option) in the checkout's address form. The options are the same on
every page but for the one selected, so each language's are escaped once and kept in the
process. The HTML is the same as the template loop and Django's widget write, character for
character (tests/marketplace/test_countries.py compares them)."""

import functools

from django import forms
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django_countries import countries


@functools.lru_cache(maxsize=32)
def _options(language: str | None, choices: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str, str], ...]:
    """(value, '<option value="…"', '>label</option>') for each choice, escaped."""
    del language  # only part of the cache key: the labels come translated
    return tuple(
        (value, format_html('<option value="{}"', value), format_html(">{}</option>", label))
        for value, label in choices
    )


def _joined(choices: tuple[tuple[str, str], ...], selected: str | None, separator: str) -> str:
    """The options joined by `separator`, the first whose value is `selected` marked so."""
    parts = []
    for value, opening, closing in _options(get_language(), choices):
        if value == selected:
            parts.append(f"{opening} selected{closing}")
            selected = None
        else:
            parts.append(opening + closing)
    return separator.join(parts)


def country_options(selected: str | None) -> SafeString:
    """Every country as an <option>, the one whose code is `selected` marked: what
    `{% for code, name in countries %}<option value="{{ code }}"{% if code == selected %}
    selected{% endif %}>{{ name }}</option>{% endfor %}` writes."""
    choices = tuple((code, str(name)) for code, name in countries)
    return mark_safe(_joined(choices, selected, ""))  # noqa: S308 (each part escaped by _options)


# Between two options of Django's select.html (each option's template ends with a newline).
_WIDGET_SEPARATOR = "\n\n  "


class CountrySelect(forms.Select):
    """Django's Select for the list of countries: the HTML its templates write, without
    rendering two templates for each of the ~250 options."""

    def render(self, name, value, attrs=None, renderer=None):
        if any(isinstance(label, (list, tuple)) for _, label in self.choices):
            return super().render(name, value, attrs, renderer)  # option groups: Django's own
        choices = tuple((str(choice), str(label)) for choice, label in self.choices)
        selected = self.format_value(value)
        attributes = "".join(
            f" {conditional_escape(key)}" + ("" if item is True else f'="{conditional_escape(item)}"')
            for key, item in self.build_attrs(self.attrs, attrs).items()
            if item is not False
        )
        options = _joined(choices, selected[0] if selected else None, _WIDGET_SEPARATOR)
        options = f"\n  {options}\n" if choices else ""
        return mark_safe(f'<select name="{conditional_escape(name)}"{attributes}>{options}\n</select>')  # noqa: S308
