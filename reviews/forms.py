"""HTML forms of the reviews pages: they carry what was typed; reviews.services decides (its
messages are the ones people read, so the forms do not second-guess lengths or ranges)."""

from django import forms
from django.conf import settings

from .models import STAR_CHOICES, BuyerFeedback, FlagReason, ModerationDecision


def _choice(label: str, choices) -> forms.CharField:
    # A plain field showing radio buttons: whatever arrives goes to the service, whose message
    # about it is the one people should read (a ChoiceField would answer "Select a valid choice").
    return forms.CharField(required=False, label=label, widget=forms.RadioSelect(choices=choices))


def _stars(label: str) -> forms.CharField:
    return _choice(label, STAR_CHOICES)


def _text(label: str, *, rows: int = 4, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        required=False, label=label, help_text=help_text, widget=forms.Textarea(attrs={"rows": rows}), strip=False
    )


class ReviewForm(forms.Form):
    stars = _stars("Your rating of the item")
    title = forms.CharField(required=False, label="Title", strip=False)
    text = _text(
        "Your review",
        rows=6,
        help_text="Plain text or markdown (*emphasis*, lists, links). You can edit it for "
        f"{settings.REVIEWS_EDIT_WINDOW.days} days, until the shop replies.",
    )


class RatingForm(forms.Form):
    overall = _stars("Overall")
    item_as_described = _stars("Item as described")
    communication = _stars("Communication")
    shipping_speed = _stars("Shipping speed")
    comment = _text(
        "A few words for other buyers (optional)",
        help_text="The shop sees your rating once it has left its feedback on you, or when the time to rate the "
        "order ends.",
    )


class ReplyForm(forms.Form):
    text = _text("Your reply", rows=3, help_text="Public, signed with your name. A shop replies once.")


class BuyerFeedbackForm(forms.Form):
    value = _choice("Your feedback", BuyerFeedback.Value.choices)
    comment = forms.CharField(required=False, label="A few words (optional)", strip=False)


class FlagForm(forms.Form):
    reason = _choice("Why", FlagReason.choices)
    note = _text("What is wrong (optional unless “Something else”)", rows=2)


class DecisionForm(forms.Form):
    outcome = _choice("Decision", ModerationDecision.Outcome.choices)
    reason = _text("Why", rows=2, help_text="The author and the shop are told.")


class AppealForm(forms.Form):
    statement = _text("Why the moderators should decide otherwise", rows=4)
