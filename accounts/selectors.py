from django.db.models import Q, QuerySet

from .models import User


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
