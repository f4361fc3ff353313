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


class ApiToken(models.Model):
    """A personal API token: a secret a person gives a script or app to act as them.

    Only a SHA-256 hash of the secret is kept (the secret is 256 random bits, so a fast
    hash is enough); the secret itself is shown once, when the token is made.
    """

    class Scope(models.TextChoices):
        READ = "read", "Read only"
        WRITE = "write", "Read and write"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80, help_text="What the token is for, to recognise it later.")
    scope = models.CharField(max_length=5, choices=Scope.choices, default=Scope.READ)
    prefix = models.CharField(max_length=16, help_text="The first characters of the secret, to recognise it.")
    secret_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(name=""), name="accounts_apitoken_name_not_empty"),
            models.CheckConstraint(condition=models.Q(scope__in=["read", "write"]), name="accounts_apitoken_scope"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.WRITE
