import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from marketplace.images import ImageSize, process_image_upload

from .models import ApiToken, User
from .selectors import api_token_hash

AVATAR_SIZES = [ImageSize("small", 64, 64), ImageSize("large", 256, 256)]
PROFILE_FIELDS = ("display_name", "bio", "country", "city")


def profile_update(*, user: User, avatar=None, remove_avatar: bool = False, **fields) -> User:
    """Change the profile fields given and, if an avatar upload is given,
    replace the avatar with its re-encoded fixed-size copies.

    The avatar is processed before anything is written, so a refused image
    leaves the whole profile unchanged.
    """
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"not profile fields: {sorted(unknown)}")
    processed = None
    if avatar:
        try:
            processed = process_image_upload(avatar, sizes=AVATAR_SIZES)
        except ValidationError as error:
            raise ValidationError({"avatar": error.messages}) from error
    for name, value in fields.items():
        setattr(user, name, value.strip() if isinstance(value, str) else value)
    user.full_clean(exclude=["password", "avatar_small", "avatar_large"])
    old_files = [user.avatar_small, user.avatar_large] if (processed or remove_avatar) else []
    old_names = [file.name for file in old_files if file]
    with transaction.atomic():
        if processed:
            user.avatar_small.save(processed["small"].name, processed["small"], save=False)
            user.avatar_large.save(processed["large"].name, processed["large"], save=False)
        elif remove_avatar:
            user.avatar_small = user.avatar_large = ""
        user.save()
        storage = User._meta.get_field("avatar_small").storage
        transaction.on_commit(lambda: [storage.delete(name) for name in old_names if storage.exists(name)])
    return user


API_TOKEN_PREFIX = "plural_"  # noqa: S105 (a marker that tells our tokens apart, not a secret)
MAX_LIVE_API_TOKENS = 20
# last_used_at is written at most this often per token, so that a busy script does not
# turn every read into a write.
API_TOKEN_USE_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class NewApiToken:
    token: ApiToken
    secret: str  # shown once: only its hash is stored


def api_token_create(*, user: User, name: str, scope: str) -> NewApiToken:
    """Make a token for the person; the returned secret is never retrievable again."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["Give the token a name, to recognise it later."]})
    if scope not in ApiToken.Scope.values:
        raise ValidationError({"scope": [f"Choose one of: {', '.join(ApiToken.Scope.values)}."]})
    with transaction.atomic():
        # Locks the person's row so that two requests cannot both pass the limit.
        User.objects.select_for_update().get(pk=user.pk)
        if ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() >= MAX_LIVE_API_TOKENS:
            raise ValidationError(
                {"non_field_errors": [f"You have {MAX_LIVE_API_TOKENS} tokens: revoke one before making another."]}
            )
        secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = ApiToken(user=user, name=name, scope=scope, prefix=secret[:12], secret_hash=api_token_hash(secret))
        token.full_clean()
        token.save()
    return NewApiToken(token=token, secret=secret)


def api_token_revoke(*, user: User, token_id: int) -> ApiToken:
    """Revoke one of the person's own tokens (another person's is "not found")."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token_id, user=user)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
    return token


def api_token_mark_used(*, token: ApiToken) -> None:
    """Record that the token was just used (to the minute)."""
    now = timezone.now()
    if token.last_used_at and now - token.last_used_at < API_TOKEN_USE_RESOLUTION:
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now
