"""HTML forms for shops and the seller dashboard.

They parse what was typed; the services decide what is allowed, and their
errors are put back on these forms (see views.add_service_errors).
"""

from django import forms
from django_countries import countries

from catalog.models import Category, Condition, Listing
from marketplace.money import CURRENCY_CHOICES

from .models import PaymentMethod

IMAGE_ACCEPT = "image/jpeg,image/png,image/webp,image/gif"


def _country_choices(*, blank: bool) -> list[tuple[str, str]]:
    choices = [(code, name) for code, name in countries]
    return [("", "Choose a country"), *choices] if blank else choices


class ShopCreateForm(forms.Form):
    name = forms.CharField(max_length=80, help_text="Your shop's name, as buyers will see it.")
    slug = forms.CharField(
        label="Shop address",
        max_length=60,
        help_text="Lower-case letters, numbers and hyphens: your storefront will be at /shops/<address>/.",
        widget=forms.TextInput(attrs={"pattern": "[a-z0-9_-]+", "autocapitalize": "none", "spellcheck": "false"}),
    )
    tagline = forms.CharField(max_length=140, required=False, help_text="One line about what you sell.")
    country = forms.ChoiceField(choices=(), help_text="Where you send parcels from.")
    city = forms.CharField(max_length=100, required=False)
    currency = forms.ChoiceField(choices=CURRENCY_CHOICES, initial="EUR", help_text="The currency of your prices.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = _country_choices(blank=True)


class ShopDetailsForm(forms.Form):
    name = forms.CharField(max_length=80)
    tagline = forms.CharField(max_length=140, required=False)
    about = forms.CharField(
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Who you are and what you sell. Markdown: *emphasis*, **bold**, lists and links.",
    )
    country = forms.ChoiceField(choices=())
    city = forms.CharField(max_length=100, required=False)
    logo = forms.FileField(
        required=False,
        help_text="JPEG, PNG, WebP or GIF, up to 5 MB. It is cropped to a square.",
        widget=forms.ClearableFileInput(attrs={"accept": IMAGE_ACCEPT}),
    )
    remove_logo = forms.BooleanField(required=False, label="Remove the logo")
    banner = forms.FileField(
        required=False,
        help_text="A wide picture, cropped to 1600 by 400 pixels.",
        widget=forms.ClearableFileInput(attrs={"accept": IMAGE_ACCEPT}),
    )
    remove_banner = forms.BooleanField(required=False, label="Remove the banner")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = _country_choices(blank=True)


class ShopPoliciesForm(forms.Form):
    currency = forms.ChoiceField(choices=CURRENCY_CHOICES)
    ships_to = forms.MultipleChoiceField(
        choices=(),
        required=False,
        label="Ships to",
        help_text="Countries you ship to besides your own. Hold Ctrl (or ⌘) to choose several.",
        widget=forms.SelectMultiple(attrs={"size": 10}),
    )
    domestic_first_item = forms.DecimalField(label="Domestic: first item", min_value=0, decimal_places=2)
    domestic_additional_item = forms.DecimalField(label="Domestic: each additional item", min_value=0, decimal_places=2)
    international_first_item = forms.DecimalField(label="Abroad: first item", min_value=0, decimal_places=2)
    international_additional_item = forms.DecimalField(
        label="Abroad: each additional item", min_value=0, decimal_places=2
    )
    returns_policy = forms.CharField(
        required=False, max_length=5_000, widget=forms.Textarea(attrs={"rows": 4}), label="Returns"
    )
    payment_methods = forms.MultipleChoiceField(
        choices=PaymentMethod.choices, required=False, widget=forms.CheckboxSelectMultiple, label="Payment accepted"
    )
    processing_days = forms.IntegerField(
        min_value=0, max_value=60, label="Processing time", help_text="Working days before you dispatch an order."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ships_to"].choices = _country_choices(blank=False)


class VacationForm(forms.Form):
    is_on_vacation = forms.BooleanField(required=False, label="The shop is on vacation")
    vacation_message = forms.CharField(
        required=False,
        max_length=280,
        label="Message",
        help_text="Shown on your storefront. Your listings stay visible but cannot be bought.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    vacation_until = forms.DateField(
        required=False, label="Back on", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


class SignInSecurityForm(forms.Form):
    requires_mfa = forms.BooleanField(
        required=False,
        label="Require two-factor authentication of the shop's people",
        help_text="Everyone who works on the shop, you included, then opens its dashboard only with an "
        "authenticator app or a security key turned on for their account.",
    )


class MemberAddForm(forms.Form):
    username = forms.CharField(max_length=150, help_text="Their username on Plural.")
    title = forms.CharField(max_length=60, required=False, help_text='What they do, e.g. "Books and maps".')


class ListingForm(forms.Form):
    title = forms.CharField(max_length=255)
    creator = forms.CharField(max_length=255, required=False, label="Author or artist")
    publisher = forms.CharField(max_length=255, required=False, label="Publisher or label")
    year = forms.IntegerField(required=False)
    format = forms.CharField(max_length=80, required=False, help_text="Hardcover, paperback, LP, CD…")
    identifier = forms.CharField(
        max_length=64,
        required=False,
        label="ISBN, EAN or catalog number",
        help_text="Links your copy to the same work in other shops, so buyers can compare.",
    )
    condition = forms.ModelChoiceField(queryset=Condition.objects.all(), to_field_name="slug", empty_label=None)
    category = forms.ModelChoiceField(queryset=Category.objects.all(), required=False, empty_label="No category")
    description = forms.CharField(
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Markdown: *emphasis*, **bold**, lists and links.",
    )
    price = forms.DecimalField(decimal_places=2, max_digits=9, widget=forms.NumberInput(attrs={"step": "0.01"}))
    currency = forms.ChoiceField(choices=CURRENCY_CHOICES)
    quantity = forms.IntegerField(initial=1, label="Copies in stock")
    sku = forms.CharField(
        max_length=64, required=False, label="SKU", help_text="Your own reference, unique in the shop."
    )
    status = forms.ChoiceField(
        choices=[
            (Listing.Status.DRAFT, "Draft: only your shop's people see it"),
            (Listing.Status.ACTIVE, "Active: on sale"),
            (Listing.Status.PAUSED, "Paused: hidden from buyers"),
            (Listing.Status.SOLD_OUT, "Sold out: add copies to put it back on sale"),
        ],
        initial=Listing.Status.DRAFT,
    )
    image = forms.FileField(
        required=False,
        label="Add an image",
        help_text="JPEG, PNG, WebP or GIF, up to 5 MB. Up to 8 images per listing.",
        widget=forms.ClearableFileInput(attrs={"accept": IMAGE_ACCEPT}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].label_from_instance = lambda category: category.name


class BulkActionForm(forms.Form):
    ACTIONS = [("pause", "Pause"), ("price", "Change price by percent"), ("tag", "Add a tag")]

    action = forms.ChoiceField(choices=ACTIONS)
    percent = forms.DecimalField(
        required=False, max_digits=7, decimal_places=2, label="Percent", help_text="For a price change: -10 is 10% off."
    )
    name = forms.CharField(required=False, max_length=100, label="Tag", help_text="For adding a tag.")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") == "price" and cleaned.get("percent") is None:
            self.add_error("percent", "Enter a percentage, for example -10.")
        if cleaned.get("action") == "tag" and not (cleaned.get("name") or "").strip():
            self.add_error("name", "Enter a tag.")
        return cleaned
