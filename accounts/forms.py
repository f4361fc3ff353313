from django import forms

from .models import ApiToken, User


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


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=80, help_text='What the token is for, e.g. "stock sync script".')
    scope = forms.ChoiceField(
        choices=ApiToken.Scope.choices,
        initial=ApiToken.Scope.READ,
        widget=forms.RadioSelect,
        help_text="A read-only token can look but never change anything.",
    )
