from django import forms
from django.conf import settings

from orders.forms import PrivateOfferForm

from .models import MESSAGE_MAX_LENGTH, Report


class MultipleImageInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Several pictures in one input; each is checked by the service (marketplace.images)."""

    widget = MultipleImageInput

    def clean(self, data, initial=None):
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleImageField, self).clean(upload, initial) for upload in files]


class MessageForm(forms.Form):
    # Emptiness and length are checked by the service, which words its refusals for every channel.
    body = forms.CharField(
        label="Your message",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": MESSAGE_MAX_LENGTH}),
        help_text="Markdown works: *italic*, **bold**, lists and links.",
    )
    attachments = MultipleImageField(
        label="Pictures",
        required=False,
        help_text=f"Up to {settings.MESSAGING_MAX_ATTACHMENTS} JPEG, PNG, WebP or GIF images, 5 MB each.",
        widget=MultipleImageInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}),
    )


class StartForm(MessageForm):
    subject = forms.CharField(
        label="Subject", max_length=200, required=False, help_text="Leave it empty to use the listing's title."
    )
    field_order = ["subject", "body", "attachments"]


class ReportForm(forms.Form):
    reason = forms.ChoiceField(label="What is wrong?", choices=Report.Reason.choices, widget=forms.RadioSelect)
    details = forms.CharField(
        label="Anything the moderators should know",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class ResolveForm(forms.Form):
    resolution = forms.CharField(
        label="Your decision",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The person who reported it reads this.",
    )


class ConversationOfferForm(PrivateOfferForm):
    """A private offer made from a conversation: always to its buyer (no one is named), for
    one of the shop's listings on sale (the conversation's own first)."""

    buyer = None
    listing = forms.ChoiceField(choices=(), label="The listing")
    # The service says what is wrong with a number of days (none, or more than allowed).
    valid_days = forms.IntegerField(
        initial=7, label="Open for (days)", help_text="It expires after this many days if the buyer has not accepted."
    )
    field_order = ["listing", "price", "shipping_charge", "ship_to", "valid_days", "message"]

    def __init__(self, *args, listings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["listing"].choices = [
            (str(listing.pk), f"{listing.title} · {listing.price} {listing.currency}") for listing in listings
        ]
