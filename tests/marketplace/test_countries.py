"""The country menus written from options escaped once per language are the HTML the template
loop and Django's Select widget write."""

import pytest
from django import forms
from django.template import Context, Template
from django.utils import translation
from django_countries import countries

from marketplace.countries import CountrySelect, country_options

LOOP = Template(
    '{% for code, name in choices %}<option value="{{ code }}"{% if code == selected %} selected{% endif %}>'
    "{{ name }}</option>{% endfor %}"
)
CHOICES = [("", "Choose a country"), *((code, name) for code, name in countries)]


@pytest.mark.parametrize("selected", [None, "", "NL", "ZW", "AF", "XX"])
def test_country_options_are_what_the_template_loop_wrote(selected):
    expected = LOOP.render(Context({"choices": list(countries), "selected": selected}))

    assert country_options(selected) == expected


@pytest.mark.parametrize("value", [None, "", "NL", "ZW", "XX"])
@pytest.mark.parametrize(
    "attrs", [None, {"id": "id_country", "required": True, "aria-describedby": 'id_country_help "x"', "x": False}]
)
def test_country_select_is_what_djangos_select_wrote(value, attrs):
    expected = forms.Select(choices=CHOICES).render("country", value, attrs)

    assert CountrySelect(choices=CHOICES).render("country", value, attrs) == expected


def test_country_select_follows_the_language_and_escapes_labels():
    choices = [("a", "Tom & Jerry <b>"), ("b", "Plain")]
    assert CountrySelect(choices=choices).render("c", "b") == forms.Select(choices=choices).render("c", "b")
    with translation.override("de"):
        german = country_options("DE")
    assert "Deutschland" in german
    assert "Deutschland" not in country_options("DE")


def test_a_form_with_the_country_select_renders_as_before():
    class Stock(forms.Form):
        country = forms.ChoiceField(choices=CHOICES)

    class Fast(forms.Form):
        country = forms.ChoiceField(choices=CHOICES, widget=CountrySelect)

    for data in (None, {"country": "XX"}, {"country": "NL"}):
        assert str(Fast(data)["country"]) == str(Stock(data)["country"])
