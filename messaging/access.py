"""Who may see a conversation. Every page and endpoint reaches a conversation through
access_conversation, and nothing else."""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import Http404

from sellers.models import ShopMember

from .models import Conversation, ModeratorAccess, Report

BUYER = "buyer"
SHOP = "shop"
MODERATOR = "moderator"
LARGEST_ID = 2**63 - 1


@dataclass(frozen=True)
class ConversationAccess:
    conversation: Conversation
    role: str
    report: Report | None = None

    @property
    def is_participant(self) -> bool:
        return self.role in {BUYER, SHOP}

    @property
    def for_shop(self) -> bool:
        return self.role == SHOP


def valid_id(value) -> int | None:
    """`value` as a row id, or None when it cannot be one (a guessed id past the database's
    range would otherwise be an error, not a 404)."""
    text = str(value)
    return int(text) if text.isdigit() and int(text) <= LARGEST_ID else None


def _not_found() -> Http404:
    return Http404("No such conversation.")


def access_conversation(
    user, conversation_id, *, via: str = ModeratorAccess.Via.PAGE, to_write: bool = False
) -> ConversationAccess:
    """The conversation `conversation_id` and `user`'s role in it: its buyer, one of the shop's
    people, or a moderator. Http404 for everyone else, so that a guessed id cannot be told
    from one that does not exist.

    Moderators (is_staff) may read a conversation while a report on it is open, and only
    then; each read is recorded (services.moderator_access_record) and shown to the
    participants. Moderators do not write in conversations: with `to_write` they get
    PermissionDenied (they know it exists)."""
    if user is None or not user.is_authenticated:
        raise _not_found()
    pk = valid_id(conversation_id)
    if pk is None:
        raise _not_found()
    conversation = (
        Conversation.objects.select_related("shop", "buyer", "listing", "order")
        .annotate(viewer_is_shop_person=Exists(ShopMember.objects.filter(shop_id=OuterRef("shop_id"), user_id=user.pk)))
        .filter(pk=pk)
        .first()
    )
    if conversation is None:
        raise _not_found()
    if conversation.buyer_id == user.pk:
        return ConversationAccess(conversation, BUYER)
    if conversation.viewer_is_shop_person:
        return ConversationAccess(conversation, SHOP)
    if user.is_staff:
        report = conversation.reports.filter(status=Report.Status.OPEN).order_by("created_at", "pk").first()
        if report is not None:
            if to_write:
                raise PermissionDenied("Moderators may read a reported conversation, not write in it.")
            from .services import moderator_access_record

            moderator_access_record(conversation=conversation, moderator=user, report=report, via=via)
            return ConversationAccess(conversation, MODERATOR, report)
    raise _not_found()
