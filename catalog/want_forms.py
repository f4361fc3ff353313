"""The want form: it carries what was typed; catalog.wantlists validates and refuses."""

from django import forms

from marketplace.money import CURRENCY_CHOICES

from .models import Condition, Want
from .wantlists import MAX_WANT_TAGS, MAX_WORDS_LENGTH


class WantForm(forms.Form):
    text = forms.CharField(
        label="Words",
        required=False,
        max_length=MAX_WORDS_LENGTH,
        help_text="Words a listing's title, author or artist, description or tags would have.",
    )
    tags = forms.CharField(
        label="Tags", required=False, max_length=500, help_text=f"Up to {MAX_WANT_TAGS}, separated by commas."
    )
    identifier = forms.CharField(
        label="ISBN, EAN or catalog number",
        required=False,
        max_length=64,
        help_text="Of a work listed on Plural before: you hear of every copy.",
    )
    work = forms.IntegerField(required=False, widget=forms.HiddenInput)
    max_price = forms.CharField(label="The most you would pay", required=False, max_length=20)
    currency = forms.ChoiceField(label="Currency", required=False, choices=[("", "Any currency"), *CURRENCY_CHOICES])
    min_condition = forms.ChoiceField(label="In at least this condition", required=False)
    ships_to_me = forms.BooleanField(label="Only from shops that ship to my country", required=False)
    visibility = forms.ChoiceField(
        label="Who sees this want", choices=Want.Visibility.choices, initial=Want.Visibility.PRIVATE
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["min_condition"].choices = [("", "Any condition")] + [
            (condition.slug, condition.name) for condition in Condition.objects.order_by("rank")
        ]

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        if not data.get("identifier"):
            data.pop("identifier", None)
        return data


def initial_for(want: Want) -> dict:
    return {
        "text": want.text,
        "tags": ", ".join(tag.name for tag in want.tags.all()),
        "work": want.work_id,
        "max_price": want.max_price if want.max_price is not None else "",
        "currency": want.currency,
        "min_condition": want.min_condition.slug if want.min_condition_id else "",
        "ships_to_me": want.ships_to_me,
        "visibility": want.visibility,
    }
