from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from marketplace.images import ImageSize, process_image_upload

from .models import BreachNotice, ConsentPurpose, ConsentRecord, DataAccess, DataExport, User

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


# --- Consent -----------------------------------------------------------------------------------

# The version of each explanation people read before choosing (templates/accounts/privacy_consents.html).
# Change it with the wording: each recorded decision names the version its person was shown.
CONSENT_WORDING_VERSION = "2026-01"


def consent_set(*, user: User, purpose: str, is_given: bool) -> ConsentRecord:
    """Record that `user` gave or withdrew consent for `purpose`, and apply it at once: sharing
    and recommendations through the social app, storefront notes through orders, marketing
    e-mail from the record itself (the latest record is the current state)."""
    from orders.models import ThankYouNote
    from orders.services import thank_you_note_set_consent
    from social import services as social_services

    if purpose not in ConsentPurpose.values:
        raise ValidationError({"purpose": ["Unknown purpose."]})
    is_given = bool(is_given)
    with transaction.atomic():
        if purpose == ConsentPurpose.ACTIVITY_SHARING:
            if is_given:
                # Giving it is a choice of audiences, made on the sharing page with its explanation.
                raise ValidationError({"is_given": ["Choose what you share, and with whom, on the sharing page."]})
            social_services.sharing_withdraw(user=user)
        elif purpose == ConsentPurpose.RECOMMENDATIONS:
            social_services.recommendations_use_set(user=user, use_for_recommendations=is_given)
        elif purpose == ConsentPurpose.THANK_YOU_NOTES and not is_given:
            shown = ThankYouNote.objects.filter(
                author=user, direction=ThankYouNote.Direction.FROM_BUYER, show_on_storefront=True
            ).select_related("order")
            for note in shown:
                thank_you_note_set_consent(order=note.order, actor=user, show_on_storefront=False)
        elif purpose == ConsentPurpose.THANK_YOU_NOTES and is_given:
            raise ValidationError(
                {"is_given": ["Each note asks when you write it: agree to show one from its order's page."]}
            )
        return ConsentRecord.objects.create(
            user=user, purpose=purpose, is_given=is_given, wording_version=CONSENT_WORDING_VERSION
        )


# --- Export ------------------------------------------------------------------------------------


def export_request(*, user: User) -> DataExport:
    """Start building a new export of everything about `user` (one at a time: a request while one
    is being prepared returns that one). The task is sent after commit; the person is told when
    it is ready."""
    from .tasks import build_export

    with transaction.atomic():
        User.objects.select_for_update().get(pk=user.pk)
        pending = DataExport.objects.filter(user=user, status=DataExport.Status.PENDING).first()
        if pending is not None:
            return pending
        export = DataExport.objects.create(user=user)
        transaction.on_commit(lambda: build_export.delay(export.pk))
    return export


def export_build(*, export_id: int) -> DataExport | None:
    """Build the zip of a pending export, store it privately and tell its owner. Safe to run
    twice: an export no longer pending is left as it is."""
    from notifications.services import notify

    from . import exports

    export = DataExport.objects.filter(pk=export_id).select_related("user").first()
    if export is None or export.status != DataExport.Status.PENDING:
        return export
    content = exports.build(export.user)
    stamp = timezone.now()
    name = f"plural-export-{export.user.username}-{stamp:%Y%m%d%H%M%S}.zip"
    with transaction.atomic():
        locked = DataExport.objects.select_for_update().get(pk=export.pk)
        if locked.status != DataExport.Status.PENDING:
            return locked
        locked.file.save(name, ContentFile(content), save=False)
        locked.status = DataExport.Status.READY
        locked.format_version = exports.FORMAT_VERSION
        locked.size_bytes = len(content)
        locked.ready_at = stamp
        locked.expires_at = stamp + settings.PRIVACY_EXPORT_DOWNLOAD_PERIOD
        locked.save()
        notify(recipient=locked.user, kind="export.ready", target=locked, context={"url": reverse("accounts:privacy")})
    return locked


def export_fail(*, export_id: int, error: str) -> None:
    DataExport.objects.filter(pk=export_id, status=DataExport.Status.PENDING).update(
        status=DataExport.Status.FAILED, error=error[:300]
    )


def export_downloaded(*, export: DataExport) -> None:
    DataExport.objects.filter(pk=export.pk).update(downloaded_at=timezone.now())


# --- Access log --------------------------------------------------------------------------------


def data_access_record(*, subject: User, accessed_by: User, what: str, reason: str, object_label: str = "") -> None:
    """Note that `accessed_by` (an operator) opened `subject`'s private data, and why; the person
    sees it on their privacy page. Reading one's own data is not noted."""
    if subject.pk == accessed_by.pk:
        return
    DataAccess.objects.create(
        subject=subject,
        accessed_by=accessed_by,
        accessed_by_name=accessed_by.get_username(),
        what=what,
        object_label=object_label[:200],
        reason=(reason or "No reason given")[:300],
    )


# --- Breach notice -----------------------------------------------------------------------------


def breach_notify(*, sent_by: User, title: str, description: str, recipients) -> BreachNotice:
    """Tell each of `recipients`, in the app and by e-mail (as their preferences for this kind
    say: both by default), that their data may have been exposed, and what happened."""
    from notifications.services import notify

    title, description = (title or "").strip(), (description or "").strip()
    errors = {}
    if not title:
        errors["title"] = ["Give the notice a title."]
    if not description:
        errors["description"] = ["Describe what happened, what data it concerns and what people should do."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        notice = BreachNotice.objects.create(title=title[:200], description=description, sent_by=sent_by)
        count = 0
        for person in recipients:
            if person.erased_at is not None:
                continue
            notify(
                recipient=person,
                kind="privacy.breach",
                target=notice,
                context={"subject": notice.title, "body": description, "url": reverse("accounts:privacy")},
            )
            count += 1
        notice.recipients_count = count
        notice.save(update_fields=["recipients_count"])
    return notice


# --- Account deletion --------------------------------------------------------------------------


def account_deletion_blockers(*, user: User) -> list[str]:
    """What must be settled before `user` can delete their account: their shops' orders not yet
    completed, cancelled or returned (the buyers are owed them), and their own orders still on
    the way (the shop needs the address)."""
    from orders.lifecycle import FINAL_STATES, State
    from orders.models import Order

    blockers = []
    open_for_shops = Order.objects.filter(shop__owner=user).exclude(state__in=FINAL_STATES).count()
    if open_for_shops:
        blockers.append(
            f"Your shop has {open_for_shops} open order{'s' if open_for_shops != 1 else ''}: "
            "complete or cancel them first."
        )
    # A delivered order needs the buyer no more; one on its way still needs where it goes.
    on_the_way = [State.NEW, State.ACCEPTED, State.PAID, State.SHIPPED, State.RETURN_REQUESTED, State.PROBLEM]
    open_as_buyer = Order.objects.filter(buyer=user, state__in=on_the_way).count()
    if open_as_buyer:
        blockers.append(
            f"You have {open_as_buyer} order{'s' if open_as_buyer != 1 else ''} still on the way: "
            "wait until they are completed or cancelled."
        )
    return blockers


def account_delete(*, user: User, delete_reviews: bool = False) -> User:
    """Erase `user`: every registered link to them is deleted or anonymised (accounts.privacy),
    their shops close, and their account row becomes an empty "Former member" that orders kept
    for record keeping, reviews kept as history and the other side's conversations point at.
    Refused while orders are open (account_deletion_blockers). The caller re-authenticated them."""
    from catalog.models import Listing
    from reviews.services import author_writings_delete
    from sellers.models import Shop
    from social.recommendations import person_forget

    from .privacy import FORMER_MEMBER, REGISTRY, Erasure

    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.erased_at is not None:
            return user
        blockers = account_deletion_blockers(user=user)
        if blockers:
            raise ValidationError({"__all__": blockers})
        person_forget(user_id=user.pk)
        if delete_reviews:
            author_writings_delete(author=user)
        for shop in Shop.objects.filter(owner=user):
            Listing.objects.filter(shop=shop, status=Listing.Status.ACTIVE).update(status=Listing.Status.PAUSED)
            shop.is_on_vacation, shop.vacation_message = True, "This shop has closed."
            shop.save(update_fields=["is_on_vacation", "vacation_message", "updated_at"])
        for link in REGISTRY:
            rows = link.rows_of(user)
            if link.erasure == Erasure.DELETE:
                rows.delete()
            elif link.erasure == Erasure.ANONYMISE:
                link.anonymise(rows, user)
        old_avatars = [file.name for file in (user.avatar_small, user.avatar_large) if file]
        user.username = f"former-member-{user.pk}"
        user.email = user.first_name = user.last_name = user.bio = user.city = ""
        user.display_name = FORMER_MEMBER
        user.country = ""
        user.avatar_small = user.avatar_large = ""
        user.is_active = user.is_staff = user.is_superuser = False
        user.last_login = None
        user.set_unusable_password()
        user.erased_at = timezone.now()
        user.save()
        storage = User._meta.get_field("avatar_small").storage
        transaction.on_commit(lambda: [storage.delete(name) for name in old_avatars if storage.exists(name)])
    return user


# --- Retention ---------------------------------------------------------------------------------


def retention_purge(*, now=None) -> dict[str, int]:
    """Remove what has been kept longer than settings.PRIVACY_RETENTION says; idempotent."""
    from django.contrib.sessions.models import Session

    from messaging.models import Attachment, Conversation, Report
    from notifications.models import Notification
    from social.models import PersonItem, RecommendationEvent

    now = now or timezone.now()
    periods = settings.PRIVACY_RETENTION
    purged = {}
    # Views not yet counted are dropped, counted ones forget when they happened.
    purged["view_events"] = RecommendationEvent.objects.filter(
        kind=RecommendationEvent.Kind.VIEW, created_at__lt=now - periods["view_events"]
    ).delete()[0]
    PersonItem.objects.filter(viewed_at__lt=now - periods["view_events"]).update(viewed_at=None)
    purged["expired_sessions"] = Session.objects.filter(expire_date__lt=now - periods["expired_sessions"]).delete()[0]
    # A conversation nobody wrote in for the period is closed; one still under a report is the
    # moderators' evidence and waits for them.
    silent = Conversation.objects.filter(last_message_at__lt=now - periods["closed_conversations"]).exclude(
        reports__status=Report.Status.OPEN
    )
    for attachment in Attachment.objects.filter(message__conversation__in=silent):
        for file in (attachment.image, attachment.thumbnail):
            if file and file.storage.exists(file.name):
                file.storage.delete(file.name)
    purged["closed_conversations"] = 0
    for conversation in silent:
        conversation.delete()
        purged["closed_conversations"] += 1
    purged["read_notifications"] = Notification.objects.filter(
        read_at__lt=now - periods["read_notifications"]
    ).delete()[0]
    expired = DataExport.objects.filter(status=DataExport.Status.READY, expires_at__lt=now - periods["expired_exports"])
    count = 0
    for export in expired:
        if export.file and export.file.storage.exists(export.file.name):
            export.file.storage.delete(export.file.name)
        DataExport.objects.filter(pk=export.pk).update(status=DataExport.Status.EXPIRED, file="")
        count += 1
    purged["expired_exports"] = count
    return purged
