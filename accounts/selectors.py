from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse

from .models import ConsentPurpose, ConsentRecord, DataAccess, DataExport, User


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


# --- Privacy -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeldKind:
    slug: str
    label: str
    count: int
    retention: str
    url: str


# What the privacy page lists: (slug, label, model, lookup to the person, retention, url name).
HELD_KINDS = [
    ("profile", "Your profile and e-mail", None, None, "As long as your account.", "accounts:profile_edit"),
    ("addresses", "Delivery addresses", "orders.Address", "user", "Until you delete them.", "orders:addresses"),
    (
        "orders",
        "Orders",
        "orders.Order",
        "buyer",
        "Ten years, for the shops' record keeping; after account deletion without your name or address.",
        "orders:list",
    ),
    (
        "messages",
        "Messages you wrote",
        "messaging.Message",
        "author",
        "Conversations with no new message are closed after {closed_conversations}.",
        "messaging:inbox",
    ),
    ("reviews", "Reviews you wrote", "reviews.Review", "author", "Until you delete them.", "reviews:mine"),
    (
        "ratings",
        "Ratings of shops you gave",
        "reviews.SellerRating",
        "author",
        "Until you delete them.",
        "reviews:mine",
    ),
    ("tags", "Tags you put on listings", "catalog.TaggedListing", "tagged_by", "Until you remove them.", "tags:cloud"),
    (
        "favourites",
        "Favourites",
        "social.Favourite",
        "favourite_list__owner",
        "Until you remove them.",
        "social:favourites",
    ),
    ("follows", "People and shops you follow", "social.Follow", "follower", "Until you unfollow.", "social:feed"),
    (
        "activity",
        "Your activity, each with its audience",
        "social.Activity",
        "actor",
        "Until you withdraw it or stop sharing.",
        "social:activity",
    ),
    (
        "views",
        "What you looked at (for recommendations)",
        "social.PersonItem",
        "user",
        "When you looked is forgotten after {view_events}.",
        "social:sharing",
    ),
    ("wants", "Want lists", "catalog.Want", "user", "Until you delete them.", "wants:list"),
    (
        "consents",
        "Consents you gave or withdrew",
        "accounts.ConsentRecord",
        "user",
        "As long as your account: the proof of what you agreed to.",
        "accounts:privacy_consents",
    ),
    (
        "sessions",
        "Signed-in sessions",
        None,
        None,
        "Two weeks from sign-in; no IP address is kept with them. Expired ones are removed.",
        "account_logout",
    ),
    (
        "notification_preferences",
        "Notification preferences",
        "notifications.Preference",
        "user",
        "As long as your account.",
        "notifications:preferences",
    ),
    (
        "notifications",
        "Notifications",
        "notifications.Notification",
        "recipient",
        "Read ones are removed after {read_notifications}.",
        "notifications:centre",
    ),
    (
        "exports",
        "Data exports",
        "accounts.DataExport",
        "user",
        "Each can be downloaded for {export_period}, then its file is removed.",
        "accounts:privacy",
    ),
]


def _days(period) -> str:
    days = period.days
    return "a day" if days == 1 else f"{days} days"


def retention_words() -> dict[str, str]:
    periods = {name: _days(period) for name, period in settings.PRIVACY_RETENTION.items()}
    return {**periods, "export_period": _days(settings.PRIVACY_EXPORT_DOWNLOAD_PERIOD)}


def privacy_overview(*, user) -> list[HeldKind]:
    """Every kind of data held about `user`, counted in one query."""
    counted = {}
    for slug, _label, model_label, lookup, _retention, _url in HELD_KINDS:
        if model_label is None:
            continue
        model = apps.get_model(model_label)
        counted[f"held_{slug}"] = Coalesce(
            Subquery(
                model._default_manager.filter(**{lookup: OuterRef("pk")})
                .order_by()
                .values(lookup)
                .annotate(total=Count("pk"))
                .values("total")[:1]
            ),
            0,
        )
    counts = User.objects.filter(pk=user.pk).annotate(**counted).values(*counted).get()
    words = retention_words()
    return [
        HeldKind(
            slug=slug,
            label=label,
            count=counts.get(f"held_{slug}"),
            retention=retention.format(**words),
            url=reverse(url_name),
        )
        for slug, label, model_label, _lookup, retention, url_name in HELD_KINDS
    ]


@dataclass(frozen=True)
class ConsentState:
    purpose: str
    label: str
    explanation: str
    is_given: bool
    decided_at: object
    can_give_here: bool
    give_url: str


CONSENT_EXPLANATIONS = {
    ConsentPurpose.ACTIVITY_SHARING: (
        "What you favourite, tag, review, buy, list or want can be shown to the people you choose, "
        "kind by kind. Until you choose, only you see it. Stopping hides all of it from everyone at once."
    ),
    ConsentPurpose.RECOMMENDATIONS: (
        "What you look at and buy is counted, with everyone else's, in “people who looked at this also "
        "looked at…”. No figure rests on fewer than a few people. Switching off takes your views and "
        "purchases out of every count at once."
    ),
    ConsentPurpose.MARKETING_EMAIL: (
        "Now and then, an e-mail about new features of Plural and shops' seasonal offers. "
        "Without it you only receive e-mail about your own orders, messages and the news you chose."
    ),
    ConsentPurpose.THANK_YOU_NOTES: (
        "A shop may show a thank-you note you wrote on its storefront, with your name, if you agreed "
        "when writing it. Withdrawing takes every note of yours off every storefront at once."
    ),
}


def consent_states(*, user) -> list[ConsentState]:
    from orders.models import ThankYouNote
    from social.models import SharingSettings

    sharing = SharingSettings.objects.filter(user_id=user.pk).first()
    latest = {}
    for record in ConsentRecord.objects.filter(user_id=user.pk).order_by("decided_at", "pk"):
        latest[record.purpose] = record
    shown_notes = ThankYouNote.objects.filter(
        author_id=user.pk, direction=ThankYouNote.Direction.FROM_BUYER, show_on_storefront=True
    ).exists()

    def record_time(purpose):
        record = latest.get(purpose)
        return record.decided_at if record else None

    return [
        ConsentState(
            ConsentPurpose.ACTIVITY_SHARING,
            ConsentPurpose.ACTIVITY_SHARING.label,
            CONSENT_EXPLANATIONS[ConsentPurpose.ACTIVITY_SHARING],
            bool(sharing and sharing.is_sharing),
            sharing.sharing_since if sharing else None,
            False,
            reverse("social:sharing"),
        ),
        ConsentState(
            ConsentPurpose.RECOMMENDATIONS,
            ConsentPurpose.RECOMMENDATIONS.label,
            CONSENT_EXPLANATIONS[ConsentPurpose.RECOMMENDATIONS],
            sharing.use_for_recommendations if sharing else True,
            sharing.updated_at if sharing else None,
            True,
            "",
        ),
        ConsentState(
            ConsentPurpose.MARKETING_EMAIL,
            ConsentPurpose.MARKETING_EMAIL.label,
            CONSENT_EXPLANATIONS[ConsentPurpose.MARKETING_EMAIL],
            bool(latest.get(ConsentPurpose.MARKETING_EMAIL) and latest[ConsentPurpose.MARKETING_EMAIL].is_given),
            record_time(ConsentPurpose.MARKETING_EMAIL),
            True,
            "",
        ),
        ConsentState(
            ConsentPurpose.THANK_YOU_NOTES,
            ConsentPurpose.THANK_YOU_NOTES.label,
            CONSENT_EXPLANATIONS[ConsentPurpose.THANK_YOU_NOTES],
            shown_notes,
            record_time(ConsentPurpose.THANK_YOU_NOTES),
            False,
            reverse("orders:list"),
        ),
    ]


def consent_history(*, user) -> list[ConsentRecord]:
    return list(ConsentRecord.objects.filter(user_id=user.pk)[:50])


@dataclass(frozen=True)
class AccessEntry:
    accessed_at: object
    by: str
    what: str
    reason: str


def access_log(*, user, limit: int = 100) -> list[AccessEntry]:
    """Who opened `user`'s private data, newest first: operators' reads (DataAccess), moderators'
    reads of conversations they are in that were reported, and of their escalated cases."""
    from messaging.models import ModeratorAccess
    from orders.models import CaseAccessLog

    entries = [
        AccessEntry(access.accessed_at, access.accessed_by_name, access.get_what_display(), access.reason)
        for access in DataAccess.objects.filter(subject_id=user.pk)[:limit]
    ]
    conversation_reads = (
        ModeratorAccess.objects.filter(Q(conversation__buyer_id=user.pk) | Q(conversation__shop__owner_id=user.pk))
        .select_related("moderator", "report", "conversation")
        .order_by("-accessed_at")[:limit]
    )
    entries += [
        AccessEntry(
            read.accessed_at,
            read.moderator.get_username() if read.moderator else "A former moderator",
            f"The conversation “{read.conversation.subject}” ({read.get_via_display().lower()})",
            f"It was reported: {read.report.get_reason_display().lower()}",
        )
        for read in conversation_reads
    ]
    case_reads = (
        CaseAccessLog.objects.filter(Q(case__order__buyer_id=user.pk) | Q(case__order__shop__owner_id=user.pk))
        .select_related("case")
        .order_by("-accessed_at")[:limit]
    )
    entries += [
        AccessEntry(
            read.accessed_at,
            read.moderator_name,
            f"The problem case of order {read.case.order_id}",
            "The case was brought to the moderators",
        )
        for read in case_reads
    ]
    entries.sort(key=lambda entry: entry.accessed_at, reverse=True)
    return entries[:limit]


def exports_of(*, user) -> list[DataExport]:
    return list(DataExport.objects.filter(user_id=user.pk)[:10])


def access_export(*, user, export_id) -> DataExport:
    """The export, if `user` owns it and it can still be downloaded; DataExport.DoesNotExist
    otherwise (the same answer whether it belongs to someone else, expired or never existed)."""
    if not user.is_authenticated:
        raise DataExport.DoesNotExist
    export = DataExport.objects.get(pk=export_id, user_id=user.pk)
    if not export.is_downloadable or not export.file:
        raise DataExport.DoesNotExist
    return export


def earned_elsewhere_of(*, shop) -> list:
    from .models import EarnedElsewhere

    return list(EarnedElsewhere.objects.filter(shop=shop).order_by("-written_at", "-pk"))
