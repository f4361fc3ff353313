"""HTML forms of the orders pages: they parse what was typed; the services decide."""

from django import forms
from django_countries import countries

from marketplace.countries import CountrySelect

from .lifecycle import CASE_REASON_CHOICES, PROPOSED_REMEDIES, RETURN_REASON_CHOICES, RETURN_REASONS, Remedy
from .models import MAX_OFFER_RESPONSE_DAYS, MAX_RETURN_WINDOW_DAYS


def _country_choices() -> list[tuple[str, str]]:
    return [("", "Choose a country"), *((code, name) for code, name in countries)]


class AddToCartForm(forms.Form):
    listing = forms.IntegerField(widget=forms.HiddenInput)
    quantity = forms.IntegerField(min_value=1, initial=1, widget=forms.NumberInput(attrs={"size": 3}))


class CartQuantityForm(forms.Form):
    quantity = forms.IntegerField(min_value=0, widget=forms.NumberInput(attrs={"size": 3}))


class DestinationForm(forms.Form):
    country = forms.ChoiceField(choices=(), required=False, label="Send to", widget=CountrySelect)

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
    country = forms.ChoiceField(choices=(), widget=CountrySelect)
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


# --- Offers -------------------------------------------------------------------------------------
# Amounts are read as text: the services check them (above zero, two decimals, not absurd) and
# say what is wrong in one voice for the pages and the API.


def _amount_field(label: str, **kwargs) -> forms.CharField:
    return forms.CharField(
        label=label, max_length=20, widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 8}), **kwargs
    )


def _message_field(label: str, help_text: str = "", limit: int = 1000) -> forms.CharField:
    return forms.CharField(
        required=False,
        max_length=limit,
        widget=forms.Textarea(attrs={"rows": 2}),
        label=label,
        help_text=help_text,
    )


class OfferTermsForm(forms.Form):
    accepts_offers = forms.BooleanField(required=False, label="Buyers may offer a price on my listings")
    offer_response_days = forms.IntegerField(
        min_value=1,
        max_value=MAX_OFFER_RESPONSE_DAYS,
        label="Days to answer an offer",
        help_text="An offer you have not answered by then lapses; a buyer has as long to answer your counter-offer.",
    )


class PrivateOfferForm(forms.Form):
    buyer = forms.CharField(max_length=150, label="For (username)", help_text="Only this person can see the offer.")
    price = _amount_field("Price")
    shipping_charge = _amount_field("Shipping charge", help_text="What you charge to send it; 0 for free shipping.")
    ship_to = forms.ChoiceField(
        choices=(),
        label="Country to ship to",
        help_text="Also a country you do not usually ship to.",
        widget=CountrySelect,
    )
    valid_days = forms.IntegerField(min_value=1, initial=7, label="Open for (days)")
    message = _message_field("A note with the offer (optional)")

    def __init__(self, *args, max_days: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ship_to"].choices = _country_choices()
        self.fields["valid_days"].max_value = max_days
        self.fields["valid_days"].widget.attrs["max"] = max_days


class OfferForm(forms.Form):
    price = _amount_field("Your price")
    message = _message_field("A note for the shop (optional)")


class CounterOfferForm(forms.Form):
    price = _amount_field("Your counter-offer")
    message = _message_field("A note for the buyer (optional)")


class OfferDeclineForm(forms.Form):
    message = _message_field("Why (optional)")


class OfferOrderForm(forms.Form):
    """Where an offer's copy goes and how it is paid: the choices are the buyer's addresses and
    the shop's payment methods."""

    address = forms.ChoiceField(choices=(), label="Send it to")
    payment_method = forms.ChoiceField(choices=(), label="Payment")
    note = _message_field("A note for the shop (optional)")

    def __init__(self, *args, addresses, payment_options, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["address"].choices = [(str(address.pk), str(address)) for address in addresses]
        self.fields["payment_method"].choices = [(option.method, option.label) for option in payment_options]
        default = next((address for address in addresses if address.is_default), None)
        if default is not None:
            self.fields["address"].initial = str(default.pk)


# --- Thank-you notes ----------------------------------------------------------------------------


class ShopNoteForm(forms.Form):
    text = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Your thank-you note",
        help_text="The buyer sees it on their order page, signed with your name; it is printed on the packing slip.",
    )


class BuyerNoteForm(forms.Form):
    text = forms.CharField(
        max_length=2000, widget=forms.Textarea(attrs={"rows": 4}), label="Your thank-you note to the shop"
    )
    show_on_storefront = forms.BooleanField(
        required=False,
        label="The shop may show my note, signed with my name, on its storefront",
        help_text="You can withdraw this at any time.",
    )


# --- Problem cases ------------------------------------------------------------------------------


class CaseOpenForm(forms.Form):
    reason = forms.ChoiceField(choices=CASE_REASON_CHOICES, widget=forms.RadioSelect, label="What is wrong")
    details = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="What happened",
        help_text="The shop reads this, and Plural's moderators if it comes to that.",
    )


class CaseMessageForm(forms.Form):
    text = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 3}), label="Your message")


class ProposalForm(forms.Form):
    remedy = forms.ChoiceField(
        choices=[(value, label) for value, label in Remedy.choices if value in PROPOSED_REMEDIES],
        widget=forms.RadioSelect,
        label="Your proposal",
    )
    amount = _amount_field("Amount to refund", required=False, help_text="For a partial refund.")
    message = _message_field("A note for the buyer (optional)", limit=2000)


class ProposalDeclineForm(forms.Form):
    message = _message_field("Why not (optional)", limit=2000)


class EscalateForm(forms.Form):
    reason = _message_field("What the moderators should know (optional)", limit=2000)


class DecisionForm(forms.Form):
    remedy = forms.ChoiceField(choices=Remedy.choices, widget=forms.RadioSelect, label="Decision")
    amount = _amount_field("Amount to refund", required=False, help_text="For a partial refund.")
    reasons = forms.CharField(
        max_length=4000, widget=forms.Textarea(attrs={"rows": 4}), label="Reasons", help_text="Both sides read them."
    )


class AppealForm(forms.Form):
    reasons = forms.CharField(
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Why you appeal",
        help_text="A different moderator decides the appeal. A decision can be appealed once.",
    )
