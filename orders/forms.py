"""HTML forms of the orders pages: they parse what was typed; the services decide."""

from django import forms
from django_countries import countries

from .lifecycle import RETURN_REASON_CHOICES, RETURN_REASONS
from .models import MAX_RETURN_WINDOW_DAYS


def _country_choices() -> list[tuple[str, str]]:
    return [("", "Choose a country"), *((code, name) for code, name in countries)]


class AddToCartForm(forms.Form):
    listing = forms.IntegerField(widget=forms.HiddenInput)
    quantity = forms.IntegerField(min_value=1, initial=1, widget=forms.NumberInput(attrs={"size": 3}))


class CartQuantityForm(forms.Form):
    quantity = forms.IntegerField(min_value=0, widget=forms.NumberInput(attrs={"size": 3}))


class DestinationForm(forms.Form):
    country = forms.ChoiceField(choices=(), required=False, label="Send to")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = _country_choices()


class AddressForm(forms.Form):
    full_name = forms.CharField(max_length=120, label="Full name")
    line1 = forms.CharField(max_length=200, label="Address", help_text="Street and number.")
    line2 = forms.CharField(max_length=200, required=False, label="Address, second line")
    city = forms.CharField(max_length=100, label="Town or city")
    postal_code = forms.CharField(max_length=20, required=False, label="Postal code")
    region = forms.CharField(max_length=100, required=False, label="Region or state")
    country = forms.ChoiceField(choices=())
    phone = forms.CharField(max_length=40, required=False, help_text="For the carrier, if they need to reach you.")
    is_default = forms.BooleanField(required=False, label="Use this address by default")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = _country_choices()


class CancelForm(forms.Form):
    reason = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}), label="Why (optional)"
    )


class ShopCancelForm(forms.Form):
    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Why you decline or cancel",
        help_text="The buyer sees this. It counts against your completion rate.",
    )


class ReturnRequestForm(forms.Form):
    reason = forms.ChoiceField(choices=RETURN_REASON_CHOICES, widget=forms.RadioSelect, label="Why")
    details = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="What happened",
        help_text="Tell the shop what is wrong. The shop sees this.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Each reason shows the refund it brings before the buyer chooses.
        self.fields["reason"].choices = [
            (code, f"{label}: {RETURN_REASONS[code].rule}") for code, label in RETURN_REASON_CHOICES
        ]


class AcceptForm(forms.Form):
    message = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Message to the buyer",
        help_text="For example your bank details, or where and when to pick the order up.",
    )


class ShipForm(forms.Form):
    carrier = forms.CharField(max_length=80, help_text="For example Royal Mail, DHL, PostNL.")
    tracking_number = forms.CharField(max_length=100, label="Tracking number")


class ReturnDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("accept", "Accept the return"), ("decline", "Decline the return")], widget=forms.RadioSelect
    )
    reason = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Your reason",
        help_text="Needed when you decline. The buyer sees it.",
    )


class ShopTermsForm(forms.Form):
    return_window_days = forms.IntegerField(
        min_value=0,
        max_value=MAX_RETURN_WINDOW_DAYS,
        label="Return window (days after delivery)",
        help_text="0 means you take no returns. Applies to orders placed from now on.",
    )
