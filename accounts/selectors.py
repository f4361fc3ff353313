import hashlib

from django.db.models import Q, QuerySet

from .models import ApiToken, User


def active_people() -> QuerySet[User]:
    return User.objects.filter(is_active=True)


def person_by_username(*, username: str) -> User:
    return active_people().get(username=username)


def people_search(*, query: str, limit: int = 20) -> QuerySet[User]:
    return (
        active_people()
        .filter(Q(display_name__icontains=query) | Q(username__icontains=query) | Q(city__icontains=query))
        .order_by("username")[:limit]
    )


def api_tokens_of(*, user: User) -> QuerySet[ApiToken]:
    """The person's tokens, newest first, revoked ones included (they show when and that they ended)."""
    return ApiToken.objects.filter(user=user)


def api_token_by_secret(*, secret: str) -> ApiToken | None:
    """The live token whose secret this is, with its person, or None."""
    return (
        ApiToken.objects.select_related("user")
        .filter(secret_hash=api_token_hash(secret), revoked_at__isnull=True, user__is_active=True)
        .first()
    )


def api_token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
