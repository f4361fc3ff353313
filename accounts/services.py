from django.core.exceptions import ValidationError
from django.db import transaction

from marketplace.images import ImageSize, process_image_upload

from .models import User

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
