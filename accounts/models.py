from django.contrib.auth.models import AbstractUser
from django.db import models
from django.urls import reverse
from django_countries.fields import CountryField


def avatar_upload_to(user: "User", filename: str) -> str:
    return f"avatars/{user.pk}/{filename}"


class User(AbstractUser):
    """A person on Plural: a buyer, a seller, or both.

    The username is the public handle used in profile addresses; the display
    name is what other people see beside everything the person writes.
    """

    display_name = models.CharField(max_length=80, blank=True)
    bio = models.TextField("short bio", max_length=500, blank=True)
    country = CountryField(blank=True)
    city = models.CharField(max_length=100, blank=True)
    avatar_small = models.ImageField(upload_to=avatar_upload_to, blank=True)
    avatar_large = models.ImageField(upload_to=avatar_upload_to, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~models.Q(username=""), name="accounts_user_username_not_empty"),
        ]

    def __str__(self) -> str:
        return self.public_name

    @property
    def public_name(self) -> str:
        return self.display_name or self.username

    @property
    def location(self) -> str:
        return ", ".join(part for part in (self.city, self.country.name if self.country else "") if part)

    def get_absolute_url(self) -> str:
        return reverse("accounts:profile", kwargs={"username": self.username})
