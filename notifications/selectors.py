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


def choices_for_many(*, user_ids, kind: str) -> dict[int, Choice]:
    """Each of these people's channels for `kind`: their saved choice or the kind's defaults
    (one query, none for a kind that is always sent)."""
    spec = KINDS[kind]
    default = Choice(kind=kind, label=spec.label, in_app=True, email=spec.email, always_sent=True)
    if spec.always_sent:
        return dict.fromkeys(user_ids, default)
    default = Choice(kind=kind, label=spec.label, in_app=spec.in_app, email=spec.email)
    choices = dict.fromkeys(user_ids, default)
    saved = Preference.objects.filter(user_id__in=list(user_ids), kind=kind).values_list("user_id", "in_app", "email")
    for user_id, in_app, email in saved:
        choices[user_id] = Choice(kind=kind, label=spec.label, in_app=in_app, email=email)
    return choices


def notifications_for(*, user, unread_only: bool = False):
    notifications = Notification.objects.filter(recipient=user, in_app=True).select_related("actor")
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    return notifications


def unread_count(*, user) -> int:
    """The header badge's number: one count over a partial index of unread rows."""
    return Notification.objects.filter(recipient=user, in_app=True, read_at__isnull=True).count()
