"""Reading notifications and people's choices."""

from dataclasses import dataclass

from .kinds import KINDS
from .models import Notification, Preference


@dataclass(frozen=True)
class Choice:
    kind: str
    label: str
    in_app: bool
    email: str
    always_sent: bool = False


def preferences_for(*, user) -> dict[str, Choice]:
    """Every kind with `user`'s channels: their saved choice or the kind's defaults (one query)."""
    saved = {p.kind: p for p in Preference.objects.filter(user=user)}
    return {
        slug: Choice(kind=slug, label=kind.label, in_app=True, email=kind.email, always_sent=True)
        if kind.always_sent
        else Choice(
            kind=slug,
            label=kind.label,
            in_app=saved[slug].in_app if slug in saved else kind.in_app,
            email=saved[slug].email if slug in saved else kind.email,
        )
        for slug, kind in KINDS.items()
    }


def notifications_for(*, user, unread_only: bool = False):
    notifications = Notification.objects.filter(recipient=user, in_app=True).select_related("actor")
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    return notifications


def unread_count(*, user) -> int:
    """The header badge's number: one count over a partial index of unread rows."""
    return Notification.objects.filter(recipient=user, in_app=True, read_at__isnull=True).count()
