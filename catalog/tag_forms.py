"""Forms of the tag pages. They only carry what was typed: catalog.tagging validates and
refuses, and `add_service_errors` puts its messages beside the fields they are about."""

from django import forms
from django.core.exceptions import ValidationError

from . import tagging


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Attach a service's ValidationError (field -> messages) to `form`; messages about a
    field the form does not have go to the top of the form."""
    for name, messages in error.message_dict.items() if hasattr(error, "error_dict") else [(None, error.messages)]:
        form.add_error(name if name in form.fields else None, messages)


class TagApplyForm(forms.Form):
    name = forms.CharField(
        label="Add a tag",
        strip=False,
        help_text=f"One tag at a time, up to {tagging.MAX_TAG_LENGTH} characters.",
    )


class _TagNamed(forms.Form):
    """A form naming an existing tag, as moderators type it (or as a tag page sends it)."""

    tag = forms.CharField(label="Tag", max_length=1000)

    def clean_tag(self):
        tag = tagging.find_tag(name=self.cleaned_data["tag"])
        if tag is None:
            raise ValidationError(f"No tag is called “{self.cleaned_data['tag']}”.")
        return tag


class TagMergeForm(_TagNamed):
    tag = forms.CharField(label="Merge the tag", max_length=1000, help_text="The synonym, e.g. tomahto.")
    into = forms.CharField(label="into", max_length=1000, help_text="The tag both should lead to, e.g. tomato.")

    def clean_into(self):
        tag = tagging.find_tag(name=self.cleaned_data["into"])
        if tag is None:
            raise ValidationError(f"No tag is called “{self.cleaned_data['into']}”.")
        return tag


class TagHideForm(_TagNamed):
    tag = forms.CharField(label="Hide the tag", max_length=1000)
    reason = forms.CharField(
        label="Reason",
        max_length=1000,
        help_text=f"Kept with the decision; up to {tagging.MAX_HIDDEN_REASON_LENGTH} characters.",
    )


class TagUnhideForm(_TagNamed):
    pass
