"""Forms of the social pages. They carry what was typed; social.services validates and refuses,
and add_service_errors puts its messages beside the fields they are about."""

from django import forms

from .models import Audience, ListVisibility, SharingSubject
from .services import DEFAULT_AUDIENCES, MAX_LIST_NAME_LENGTH

AUDIENCE_HELP = {
    SharingSubject.BOUGHT: "Purchases are private unless you choose otherwise.",
    SharingSubject.FAVOURITED: "A favourite in a private list stays yours alone whatever you choose here.",
    SharingSubject.WANTED: "A private want stays yours alone whatever you choose here.",
    SharingSubject.FOLLOWS: "Shown on your followers and following lists, and on theirs. Whom you follow always "
    "sees that you do.",
}


def add_service_errors(form: forms.Form, error) -> None:
    """Attach a service's ValidationError (field -> messages) to `form`."""
    pairs = error.message_dict.items() if hasattr(error, "error_dict") else [(None, error.messages)]
    for name, messages in pairs:
        form.add_error(name if name in form.fields else None, messages)


class SharingForm(forms.Form):
    """One audience per kind of activity (and for whom one follows), and recommendations."""

    # The version of the explanation the person was shown: a decision is only recorded
    # against the explanation they read (see the view).
    wording_version = forms.CharField(widget=forms.HiddenInput, max_length=20)
    use_for_recommendations = forms.BooleanField(
        required=False,
        label="Count my views and purchases in recommendations",
        help_text="Only ever in counts of at least three people; never shown as yours.",
    )

    def __init__(self, *args, audiences: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        chosen = {**DEFAULT_AUDIENCES, **(audiences or {})}
        for subject in SharingSubject:
            self.fields[subject.value] = forms.TypedChoiceField(
                label=subject.label,
                choices=Audience.choices,
                coerce=int,
                initial=chosen[subject.value],
                help_text=AUDIENCE_HELP.get(subject, ""),
            )
        self.order_fields([*SharingSubject.values, "use_for_recommendations", "wording_version"])

    def subject_fields(self):
        return [self[subject] for subject in SharingSubject.values]

    def audiences(self) -> dict:
        return {subject: self.cleaned_data[subject] for subject in SharingSubject.values}


class FavouriteListForm(forms.Form):
    name = forms.CharField(label="Name of the list", max_length=MAX_LIST_NAME_LENGTH)
    visibility = forms.TypedChoiceField(
        label="Who sees it", choices=ListVisibility.choices, coerce=int, initial=ListVisibility.PRIVATE
    )
