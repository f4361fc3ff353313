"""Every write of conversations: starting one, sending, deleting, reading, archiving,
blocking, reporting and moderating. Pages, the API and the e-mail gateway all come here."""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django_countries import countries

from accounts.models import User
from catalog.models import Listing
from marketplace.images import ImageSize, process_image_upload
from marketplace.markdown import render_markdown
from notifications.services import mark_read_about, notify, redact_about
from orders import services as order_services
from orders.models import Offer, Order
from sellers.models import Shop, ShopMember
from sellers.selectors import is_shop_member

from . import selectors
from .access import valid_id
from .models import (
    MESSAGE_MAX_LENGTH,
    Attachment,
    Block,
    Conversation,
    Message,
    ModeratorAccess,
    ParticipantState,
    Report,
)
from .ratelimits import consume_send_allowance
from .reply_addresses import reply_address

logger = logging.getLogger(__name__)

ATTACHMENT_SIZES = [ImageSize("image", 1600, 1600), ImageSize("thumbnail", 320, 320)]
SUBJECT_MAX_LENGTH = 200
LISTABLE_STATUSES = {Listing.Status.ACTIVE, Listing.Status.SOLD_OUT}


@dataclass(frozen=True)
class Started:
    conversation: Conversation
    message: Message
    is_new: bool


# --- Checking what people wrote -------------------------------------------------------------


def _clean_body(body, errors: dict) -> str:
    text = str(body or "").replace("\r\n", "\n").strip()
    if not text:
        errors.setdefault("body", []).append("Write a message.")
    elif len(text) > MESSAGE_MAX_LENGTH:
        errors.setdefault("body", []).append(
            f"A message can be at most {MESSAGE_MAX_LENGTH:,} characters; this one has {len(text):,}."
        )
    return text


def _process_attachments(attachments, errors: dict) -> list[dict]:
    """Each picture re-encoded in two sizes; refusals are collected under "attachments"."""
    attachments = [upload for upload in (attachments or []) if upload]
    if len(attachments) > settings.MESSAGING_MAX_ATTACHMENTS:
        errors.setdefault("attachments", []).append(
            f"Attach at most {settings.MESSAGING_MAX_ATTACHMENTS} pictures to one message."
        )
        return []
    processed = []
    for upload in attachments:
        try:
            processed.append(process_image_upload(upload, sizes=ATTACHMENT_SIZES, crop=False))
        except ValidationError as error:
            name = getattr(upload, "name", "") or "A file"
            errors.setdefault("attachments", []).extend(f"{name}: {message}" for message in error.messages)
    return processed


def _side(*, conversation: Conversation, author) -> bool:
    """Whether `author` writes for the shop (True) or as the buyer (False); PermissionDenied
    for anyone else."""
    if author is None or not author.is_authenticated or not author.is_active:
        raise PermissionDenied("Sign in to write.")
    if conversation.buyer_id == author.pk:
        return False
    if ShopMember.objects.filter(shop_id=conversation.shop_id, user_id=author.pk).exists():
        return True
    raise PermissionDenied("Only the people in a conversation can write in it.")


def _refuse_if_blocked(*, conversation: Conversation, author, for_shop: bool) -> None:
    refusal = selectors.write_refusal(conversation=conversation, author=author, for_shop=for_shop)
    if refusal:
        raise ValidationError(refusal, code="blocked")


def _check_first_contact(*, buyer) -> None:
    """New accounts may open only a few conversations a day (against spam from fresh accounts)."""
    now = timezone.now()
    if buyer.date_joined and now - buyer.date_joined >= settings.MESSAGING_NEW_ACCOUNT_AGE:
        return
    limit = settings.MESSAGING_NEW_ACCOUNT_CONVERSATIONS_PER_DAY
    started = Conversation.objects.filter(buyer=buyer, created_at__gte=now - timedelta(days=1)).count()
    if started >= limit:
        raise ValidationError(
            f"New accounts can start {limit} conversations a day, and you have. You can still write in "
            "the conversations you have; try this one again tomorrow.",
            code="first_contact_limit",
        )


# --- Writing messages -----------------------------------------------------------------------


def _signature(*, author, conversation: Conversation, for_shop: bool) -> str:
    return f"{author.public_name} for {conversation.shop.name}" if for_shop else author.public_name


def _notify_others(*, conversation: Conversation, message: Message, author, for_shop: bool) -> None:
    """Tell every other participant (the buyer, each of the shop's people; never the author)."""
    recipients = [] if conversation.buyer_id == author.pk else [conversation.buyer]
    members = ShopMember.objects.filter(shop_id=conversation.shop_id).select_related("user").order_by("pk")
    recipients += [member.user for member in members if member.user_id not in {author.pk, conversation.buyer_id}]
    pictures = message.attachment_count
    body = message.body + (f"\n\n({pictures} picture{'s' if pictures != 1 else ''} attached)" if pictures else "")
    context = {
        "actor": _signature(author=author, conversation=conversation, for_shop=for_shop),
        "subject": conversation.subject,
        "body": body,
    }
    for recipient in recipients:
        if not recipient.is_active:
            continue
        notify(
            recipient=recipient,
            kind="message.new",
            actor=author,
            target=message,
            context=context,
            reply_to=reply_address(conversation_id=conversation.pk, user_id=recipient.pk),
        )


def _advance_read_state(*, conversation: Conversation, user, message_id: int) -> ParticipantState:
    """Move `user`'s read mark forward to `message_id` (never back)."""
    now = timezone.now()
    state, created = ParticipantState.objects.get_or_create(
        conversation=conversation, user=user, defaults={"last_read_message_id": message_id, "last_read_at": now}
    )
    if not created and (state.last_read_message_id or 0) < message_id:
        ParticipantState.objects.filter(pk=state.pk).filter(
            Q(last_read_message__isnull=True) | Q(last_read_message_id__lt=message_id)
        ).update(last_read_message_id=message_id, last_read_at=now)
        state.last_read_message_id, state.last_read_at = message_id, now
    return state


def _post(
    *,
    conversation: Conversation,
    author,
    for_shop: bool,
    body: str,
    pictures: list[dict],
    source: str,
    email_message_id: str = "",
    offer: Offer | None = None,
) -> Message:
    """Write a checked message, its pictures, the conversation's newest-message mark, the
    author's read mark and the notifications. Runs inside the caller's transaction.
    A message carrying an `offer` notifies nobody: the offer has told its buyer already."""
    now = timezone.now()
    message = Message.objects.create(
        conversation=conversation,
        author=author,
        for_shop=for_shop,
        body=body,
        body_html=render_markdown(body),
        source=source,
        email_message_id=email_message_id,
        offer=offer,
        created_at=now,
    )
    stored: list[str] = []
    try:
        for position, files in enumerate(pictures):
            attachment = Attachment(message=message, position=position)
            attachment.image.save(files["image"].name, files["image"], save=False)
            stored.append(attachment.image.name)
            attachment.thumbnail.save(files["thumbnail"].name, files["thumbnail"], save=False)
            stored.append(attachment.thumbnail.name)
            attachment.save()
        message.attachment_count = len(pictures)
        # A message committed later than a newer one never takes the newest-message mark back.
        Conversation.objects.filter(pk=conversation.pk).filter(
            Q(last_message__isnull=True) | Q(last_message_id__lt=message.pk)
        ).update(last_message=message, last_message_at=now)
        conversation.last_message, conversation.last_message_at = message, now
        _advance_read_state(conversation=conversation, user=author, message_id=message.pk)
        if offer is None:
            _notify_others(conversation=conversation, message=message, author=author, for_shop=for_shop)
    except BaseException:
        storage = Attachment._meta.get_field("image").storage
        for name in stored:
            storage.delete(name)
        raise
    return message


def conversation_start(
    *,
    buyer,
    shop: Shop,
    body: str,
    listing: Listing | None = None,
    subject: str = "",
    attachments=(),
    source: str = Message.Source.WEB,
) -> Started:
    """`buyer` writes to `shop`, about `listing` (one of its listings on sale) or in general.

    Opens a conversation with this first message, and notifies the shop's people. Asking
    again about a listing already talked about adds the message to that conversation
    (is_new False). Refused with ValidationError, nothing stored: a buyer the shop blocked,
    the shop's own people, empty or too long text, pictures that are not acceptable, sending
    too fast, and a new account's sixth conversation of the day (first-contact limit).
    Takes a row lock on the buyer, so that concurrent starts count against the limit in turn."""
    if buyer is None or not buyer.is_authenticated or not buyer.is_active:
        raise PermissionDenied("Sign in to write to a shop.")
    if is_shop_member(user=buyer, shop=shop):
        raise ValidationError(f"You are one of the people of {shop.name}: there is no one to write to here.")
    if listing is not None and (listing.shop_id != shop.pk or listing.status not in LISTABLE_STATUSES):
        raise ValidationError({"listing": ["This listing is not on sale, so there is nothing to ask about it."]})
    if selectors.shop_block_against(shop_id=shop.pk, user_id=buyer.pk):
        raise ValidationError(f"{shop.name} does not accept messages from you.", code="blocked")
    errors: dict[str, list[str]] = {}
    subject = " ".join(str(subject or "").split())
    if len(subject) > SUBJECT_MAX_LENGTH:
        errors["subject"] = [f"A subject can be at most {SUBJECT_MAX_LENGTH} characters."]
    text = _clean_body(body, errors)
    pictures = _process_attachments(attachments, errors)
    if errors:
        raise ValidationError(errors)
    subject = subject or (listing.title[:SUBJECT_MAX_LENGTH] if listing is not None else f"A question for {shop.name}")
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=buyer.pk).first()
        existing = (
            Conversation.objects.select_related("shop", "buyer").filter(buyer=buyer, shop=shop, listing=listing).first()
            if listing is not None
            else None
        )
        if existing is None:
            _check_first_contact(buyer=buyer)
        consume_send_allowance(user=buyer)
        conversation = existing or Conversation.objects.create(
            buyer=buyer,
            shop=shop,
            listing=listing,
            subject=subject,
            context_title=listing.title if listing is not None else "",
        )
        message = _post(
            conversation=conversation, author=buyer, for_shop=False, body=text, pictures=pictures, source=source
        )
    return Started(conversation=conversation, message=message, is_new=existing is None)


def _order_side(*, order: Order, author) -> bool:
    """Whether `author` writes about `order` for its shop (True) or as its buyer (False);
    PermissionDenied for anyone else."""
    if author is None or not author.is_authenticated or not author.is_active:
        raise PermissionDenied("Sign in to write.")
    if order.buyer_id == author.pk:
        return False
    if is_shop_member(user=author, shop=order.shop):
        return True
    raise PermissionDenied("Only the order's buyer and the shop's people can write about it.")


def conversation_start_about_order(
    *, order: Order, author, body: str, attachments=(), source: str = Message.Source.WEB
) -> Started:
    """The order's buyer, or one of its shop's people, writes about `order`: the first message
    opens the order's one conversation between its buyer and its shop, with the order shown at
    its top; later ones are added to it (is_new False). The other side is notified as for any
    message. PermissionDenied for anyone else. Refused with ValidationError, nothing stored: a
    block either way, empty or too long text, pictures that are not acceptable, sending too
    fast. No first-contact limit: an order is already a contact between them.
    Takes a row lock on the buyer, as conversation_start does, so that two first messages sent
    at once open one conversation."""
    for_shop = _order_side(order=order, author=author)
    if for_shop and selectors.person_block_against(by_user_id=order.buyer_id, user_id=author.pk):
        raise ValidationError(f"{order.buyer.public_name} does not accept messages from you any more.", code="blocked")
    if not for_shop and selectors.shop_block_against(shop_id=order.shop_id, user_id=author.pk):
        raise ValidationError(f"{order.shop.name} does not accept messages from you.", code="blocked")
    errors: dict[str, list[str]] = {}
    text = _clean_body(body, errors)
    pictures = _process_attachments(attachments, errors)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=order.buyer_id).first()
        existing = Conversation.objects.select_related("shop", "buyer", "order").filter(order=order).first()
        consume_send_allowance(user=author)
        conversation = existing or Conversation.objects.create(
            buyer_id=order.buyer_id,
            shop_id=order.shop_id,
            order=order,
            subject=f"Order {order.reference} from {order.shop_name}"[:SUBJECT_MAX_LENGTH],
            context_title=f"Order {order.reference}",
        )
        message = _post(
            conversation=conversation, author=author, for_shop=for_shop, body=text, pictures=pictures, source=source
        )
    return Started(conversation=conversation, message=message, is_new=existing is None)


def message_send(
    *,
    conversation: Conversation,
    author,
    body: str,
    attachments=(),
    source: str = Message.Source.WEB,
    email_message_id: str = "",
) -> Message:
    """Post `author`'s message in `conversation` and notify every other participant, in one
    transaction. `author` is its buyer or one of the shop's people (PermissionDenied for
    anyone else). Refused with ValidationError, nothing stored: a block, empty or too long
    text, pictures that are not acceptable, sending too fast (code "rate_limited").
    An e-mail (`email_message_id`) is posted once: sent again, the first message is returned."""
    for_shop = _side(conversation=conversation, author=author)
    _refuse_if_blocked(conversation=conversation, author=author, for_shop=for_shop)
    errors: dict[str, list[str]] = {}
    text = _clean_body(body, errors)
    pictures = _process_attachments(attachments, errors)
    if errors:
        raise ValidationError(errors)
    email_message_id = str(email_message_id or "")[:255]
    if email_message_id:
        posted = Message.objects.filter(conversation=conversation, email_message_id=email_message_id).first()
        if posted is not None:
            return posted
    try:
        with transaction.atomic():
            consume_send_allowance(user=author)
            return _post(
                conversation=conversation,
                author=author,
                for_shop=for_shop,
                body=text,
                pictures=pictures,
                source=source,
                email_message_id=email_message_id,
            )
    except IntegrityError:
        # The same e-mail delivered twice at once: the unique constraint let one through.
        if email_message_id:
            posted = Message.objects.filter(conversation=conversation, email_message_id=email_message_id).first()
            if posted is not None:
                return posted
        raise


def _offer_text(offer: Offer) -> str:
    """What the offer's message says in the thread (and wherever messages are read as text)."""
    currency = offer.currency
    expiry = timezone.localtime(offer.respond_by)
    text = (
        f"A private offer for you: “{offer.listing.title}” for {offer.price} {currency}, shipping to "
        f"{countries.name(offer.ship_to)} {offer.shipping_charge} {currency}, open until "
        f"{expiry:%-d %B %Y, %H:%M} {expiry.tzname()}."
    )
    return f"{text}\n\n{offer.message}" if offer.message else text


def _listing_for_offer(*, conversation: Conversation, listing_id) -> Listing:
    """The listing an offer in `conversation` is for: the one chosen (one of the conversation's
    shop's), or else the conversation's own."""
    if listing_id in (None, ""):
        if conversation.listing_id is None:
            raise ValidationError({"listing": ["Choose the listing the offer is for."]})
        return Listing.objects.select_related("shop").get(pk=conversation.listing_id)
    listing = (
        Listing.objects.select_related("shop")
        .filter(pk=valid_id(listing_id) or 0, shop_id=conversation.shop_id)
        .first()
    )
    if listing is None:
        raise ValidationError({"listing": [f"Choose one of the listings of {conversation.shop.name}."]})
    return listing


def conversation_offer_make(
    *,
    conversation: Conversation,
    actor,
    price,
    shipping_charge,
    ship_to: str,
    valid_days=7,
    message: str = "",
    listing_id=None,
    source: str = Message.Source.WEB,
) -> Offer:
    """One of the shop's people makes the conversation's buyer a private offer from the thread:
    for the conversation's listing, or `listing_id` (one of the shop's). The offer itself is
    orders.services.private_offer_make's, with its rules and refusals (price, shipping charge,
    country, days open, a listing on sale); it goes to this conversation's buyer and no one
    else. It is posted in the thread as the maker's message carrying it, which brings the
    conversation up in both inboxes and unread for the buyer, who is told once (by the offer's
    own notification, not a second one for the message).

    PermissionDenied for the buyer and anyone not of the shop; ValidationError, nothing stored,
    for bad input, a block, or sending too fast."""
    for_shop = _side(conversation=conversation, author=actor)
    if not for_shop:
        raise PermissionDenied("Only the shop's people make offers in a conversation.")
    _refuse_if_blocked(conversation=conversation, author=actor, for_shop=for_shop)
    listing = _listing_for_offer(conversation=conversation, listing_id=listing_id)
    with transaction.atomic():
        offer = order_services.private_offer_make(
            listing=listing,
            actor=actor,
            buyer_username=conversation.buyer.username,
            price=price,
            shipping_charge=shipping_charge,
            ship_to=ship_to,
            valid_days=valid_days,
            message=message,
            conversation=conversation,
        )
        consume_send_allowance(user=actor)
        _post(
            conversation=conversation,
            author=actor,
            for_shop=True,
            body=_offer_text(offer),
            pictures=[],
            source=source,
            offer=offer,
        )
    return offer


def message_delete(*, message: Message, actor) -> Message:
    """Take back one's own message within MESSAGING_DELETE_WINDOW of sending it: its text and
    pictures are removed, the notifications about it lose their text, and a "message deleted"
    trace stays in the conversation. PermissionDenied for anyone but its author;
    ValidationError once the window has passed. Deleting a deleted message changes nothing."""
    if actor is None or message.author_id != actor.pk:
        raise PermissionDenied("Only the person who wrote a message can delete it.")
    if message.is_deleted:
        return message
    if message.offer_id is not None:
        raise ValidationError(
            "A message with an offer stays in the conversation; withdraw the offer on its page instead.",
            code="offer",
        )
    window = settings.MESSAGING_DELETE_WINDOW
    minutes = int(window.total_seconds() // 60)
    if timezone.now() - message.created_at > window:
        raise ValidationError(
            f"A message can be deleted only in the {minutes} minutes after it was sent.", code="too_late"
        )
    storage = Attachment._meta.get_field("image").storage
    with transaction.atomic():
        files = [name for pair in message.attachments.values_list("image", "thumbnail") for name in pair if name]
        now = timezone.now()
        Message.objects.filter(pk=message.pk, deleted_at__isnull=True).update(body="", body_html="", deleted_at=now)
        message.attachments.all().delete()
        redact_about(target=message)
        transaction.on_commit(lambda: [storage.delete(name) for name in files])
    message.body, message.body_html, message.deleted_at = "", "", now
    return message


# --- One's own view of a conversation --------------------------------------------------------


def _require_participant(*, conversation: Conversation, user) -> None:
    _side(conversation=conversation, author=user)


def conversation_mark_read(*, conversation: Conversation, user) -> ParticipantState:
    """`user` has read everything in `conversation` so far; their notifications about its
    messages are marked read too. Only its participants (PermissionDenied)."""
    _require_participant(conversation=conversation, user=user)
    newest = conversation.last_message_id or 0
    messages = Message.objects.filter(conversation=conversation)
    state = ParticipantState.objects.filter(conversation=conversation, user=user).first()
    if state is not None and (state.last_read_message_id or 0) >= newest:
        # Read to the end already (also when the reader answered by e-mail or through the API,
        # which moves the mark without opening the page): only notifications may be left, and
        # one statement marks them, without a transaction of its own on every visit.
        mark_read_about(user=user, targets=messages)
        return state
    with transaction.atomic():
        state = _advance_read_state(conversation=conversation, user=user, message_id=newest)
        mark_read_about(user=user, targets=messages)
    return state


def conversation_archive(*, conversation: Conversation, user, archived: bool = True) -> ParticipantState:
    """Archive (or bring back) `conversation` for `user` alone. An archived conversation
    returns to the inbox by itself when a new message arrives."""
    _require_participant(conversation=conversation, user=user)
    with transaction.atomic():
        state, _ = ParticipantState.objects.get_or_create(conversation=conversation, user=user)
        state.archived_at = timezone.now() if archived else None
        state.save(update_fields=["archived_at"])
    return state


# --- Blocks -----------------------------------------------------------------------------------


def block_create(*, actor, blocked, shop: Shop | None = None) -> Block:
    """`actor` stops `blocked` writing to them, or, with `shop`, to that shop (any of its
    people may). Blocking again changes nothing and returns the block."""
    if actor is None or not actor.is_authenticated:
        raise PermissionDenied("Sign in to block someone.")
    if blocked is None or blocked.pk == actor.pk:
        raise ValidationError({"person": ["You cannot block yourself."]})
    if shop is not None:
        if not is_shop_member(user=actor, shop=shop):
            raise PermissionDenied("Only the shop's people can block someone for it.")
        if is_shop_member(user=blocked, shop=shop):
            raise ValidationError({"person": [f"{blocked.public_name} is one of the people of {shop.name}."]})
        lookup = {"by_shop": shop, "blocked": blocked}
    else:
        lookup = {"by_user": actor, "blocked": blocked}
    try:
        with transaction.atomic():
            block, _ = Block.objects.get_or_create(**lookup, defaults={"created_by": actor})
    except IntegrityError:  # blocked at the same moment from two pages
        block = Block.objects.get(**lookup)
    return block


def block_remove(*, actor, block_id) -> None:
    """Lift one of `actor`'s blocks or one of their shops'. Block.DoesNotExist for any other."""
    block = selectors.blocks_of(user=actor).get(pk=block_id)
    block.delete()


# --- Reports and moderation ----------------------------------------------------------------------


def report_create(
    *, conversation: Conversation, reporter, reason: str, details: str = "", message: Message | None = None
) -> Report:
    """A participant asks the moderators to look at `conversation` (or one of its messages).
    While the report is open, moderators may read the conversation."""
    _require_participant(conversation=conversation, user=reporter)
    errors: dict[str, list[str]] = {}
    if reason not in Report.Reason.values:
        errors["reason"] = ["Choose a reason."]
    details = str(details or "").strip()
    if len(details) > 2000:
        errors["details"] = ["Say it in at most 2,000 characters."]
    if message is not None and message.conversation_id != conversation.pk:
        errors["message"] = ["That message is not in this conversation."]
    if errors:
        raise ValidationError(errors)
    already = Report.objects.filter(
        reporter=reporter, conversation=conversation, message=message, status=Report.Status.OPEN
    ).exists()
    if already:
        raise ValidationError("You have reported this already; a moderator will look at it soon.", code="duplicate")
    try:
        with transaction.atomic():
            return Report.objects.create(
                conversation=conversation, message=message, reporter=reporter, reason=reason, details=details
            )
    except IntegrityError as error:
        raise ValidationError("You have reported this already; a moderator will look at it soon.") from error


def report_resolve(*, report: Report, moderator, resolution: str) -> Report:
    """A moderator closes a report, which ends their access to the conversation (unless another
    report on it is open); the reporter is told of the decision."""
    if moderator is None or not moderator.is_staff:
        raise PermissionDenied("Only moderators resolve reports.")
    resolution = str(resolution or "").strip()
    if not resolution:
        raise ValidationError({"resolution": ["Say what you decided, for the person who reported it."]})
    if len(resolution) > 2000:
        raise ValidationError({"resolution": ["Say it in at most 2,000 characters."]})
    with transaction.atomic():
        changed = Report.objects.filter(pk=report.pk, status=Report.Status.OPEN).update(
            status=Report.Status.RESOLVED, resolved_at=timezone.now(), resolved_by=moderator, resolution=resolution
        )
        if not changed:
            raise ValidationError("This report has been resolved already.")
        report.refresh_from_db()
        notify(
            recipient=report.reporter,
            kind="moderation.decided",
            context={
                "subject": f"Your report about “{report.conversation.subject}”",
                "decision": resolution[:120],
                "body": resolution,
                "url": report.conversation.get_absolute_url(),
            },
        )
    return report


def moderator_access_record(*, conversation: Conversation, moderator, report: Report, via: str) -> ModeratorAccess:
    """Log that `moderator` read `conversation` because of `report` (access_conversation calls this)."""
    return ModeratorAccess.objects.create(conversation=conversation, moderator=moderator, report=report, via=via)
