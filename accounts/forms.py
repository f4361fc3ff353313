from django import forms

from .models import User


class ProfileForm(forms.ModelForm):
    avatar = forms.FileField(
        required=False,
        help_text="JPEG, PNG, WebP or GIF, up to 5 MB. It is cropped to a square.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}),
    )
    remove_avatar = forms.BooleanField(required=False, label="Remove my picture")

    class Meta:
        model = User
        fields = ["display_name", "bio", "country", "city"]
        widgets = {"bio": forms.Textarea(attrs={"rows": 4, "maxlength": 500})}
        help_texts = {
            "display_name": "Shown beside everything you write. Leave empty to use your username.",
            "bio": "A few words about you, up to 500 characters.",
        }


class AccountDeleteForm(forms.Form):
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        required=False,
        help_text="Your password, to make sure it is you.",
    )
    delete_reviews = forms.BooleanField(
        required=False,
        label="Delete my reviews and ratings too",
        help_text="Otherwise they stay, signed “Former member”, so that others can still read them.",
    )
    confirm = forms.BooleanField(label="I understand that this cannot be undone")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if user.has_usable_password():
            self.fields["password"].required = True

    def clean_password(self):
        password = self.cleaned_data.get("password", "")
        if self.user.has_usable_password():
            if not self.user.check_password(password):
                raise forms.ValidationError("That is not your password.")
        elif not recently_signed_in(self.user):
            raise forms.ValidationError("Sign out and sign in again, then delete your account within 15 minutes.")
        return password


def recently_signed_in(user) -> bool:
    """An account without a password (signed in through another provider) re-authenticates by
    signing in again: the deletion must follow within a few minutes."""
    from datetime import timedelta

    from django.utils import timezone

    return user.last_login is not None and timezone.now() - user.last_login < timedelta(minutes=15)


class DataImportForm(forms.Form):
    archive = forms.FileField(
        label="Your Plural export (.zip)",
        help_text="The zip another Plural site gave you. Up to 200 MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,application/zip"}),
    )
    include_shop = forms.BooleanField(
        required=False,
        initial=True,
        label="Bring my shop, its listings and its reviews too",
        help_text="A new shop is opened for you here; its reviews are shown as earned on the other site.",
    )
