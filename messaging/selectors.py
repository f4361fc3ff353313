"""Reading conversations: inboxes with unread counts, threads, blocks and reports."""

from dataclasses import dataclass

from django.db.models import Count, Exists, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, TruncDate

from sellers.models import Shop, ShopMember

from .models import Attachment, Block, Conversation, Message, ModeratorAccess, ParticipantState, Report

INBOX = "inbox"
ARCHIVED = "archived"
THREAD_PAGE_SIZE = 50


def _member_shop_ids(user):
    return ShopMember.objects.filter(user_id=user.pk).values("shop_id")


def conversations_of(*, user) -> QuerySet[Conversation]:
    """Every conversation `user` takes part in: as its buyer, or as one of its shop's people."""
    if user is None or not user.is_authenticated:
        return Conversation.objects.none()
    return Conversation.objects.filter(Q(buyer_id=user.pk) | Q(shop_id__in=_member_shop_ids(user)))


def with_viewer_state(conversations: QuerySet[Conversation], *, user) -> QuerySet[Conversation]:
    """Annotate each conversation with `user`'s own state: `viewer_unread` (messages by
    others after the last one they read), `viewer_last_read_id` and `viewer_archived_at`."""
    state = ParticipantState.objects.filter(conversation_id=OuterRef("pk"), user_id=user.pk)
    unread = (
        Message.objects.filter(conversation_id=OuterRef("pk"), pk__gt=OuterRef("viewer_last_read_id"))
        .exclude(author_id=user.pk)
        .order_by()
        .values("conversation_id")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return conversations.annotate(
        viewer_last_read_id=Coalesce(
            Subquery(state.values("last_read_message_id")[:1], output_field=IntegerField()), Value(0)
        ),
        viewer_archived_at=Subquery(state.values("archived_at")[:1]),
    ).annotate(viewer_unread=Coalesce(Subquery(unread, output_field=IntegerField()), Value(0)))


def _in_box(conversations: QuerySet[Conversation], box: str) -> QuerySet[Conversation]:
    # Archived until a message arrives after the archiving.
    archived = Q(viewer_archived_at__isnull=False, viewer_archived_at__gte=F("last_message_at"))
    return conversations.filter(archived) if box == ARCHIVED else conversations.exclude(archived)


def _matching(conversations: QuerySet[Conversation], query: str) -> QuerySet[Conversation]:
    """Conversations whose subject, context, other party or any message that still stands
    contains `query`. Plain `icontains`: it only ever runs over one person's conversations."""
    words = Message.objects.filter(conversation_id=OuterRef("pk"), deleted_at__isnull=True, body__icontains=query)
    return conversations.filter(
        Q(subject__icontains=query)
        | Q(context_title__icontains=query)
        | Q(shop__name__icontains=query)
        | Q(buyer__display_name__icontains=query)
        | Q(buyer__username__icontains=query)
        | Exists(words)
    )


def inbox(*, user, shop: Shop | None = None, box: str = INBOX, query: str = "") -> QuerySet[Conversation]:
    """`user`'s conversations as a buyer, or `shop`'s (the caller has checked that `user` is
    one of its people), newest activity first, with their unread counts (one query)."""
    conversations = (
        Conversation.objects.filter(shop_id=shop.pk) if shop is not None else Conversation.objects.filter(buyer=user)
    )
    conversations = _in_box(with_viewer_state(conversations, user=user), box)
    query = query.strip()
    if query:
        conversations = _matching(conversations, query)
    return conversations.select_related("shop", "buyer", "listing", "last_message__author").order_by(
        "-last_message_at", "-pk"
    )


def all_conversations(*, user, box: str = INBOX, query: str = "") -> QuerySet[Conversation]:
    """Everything `user` takes part in (the API's list), with unread counts."""
    conversations = _in_box(with_viewer_state(conversations_of(user=user), user=user), box)
    query = query.strip()
    if query:
        conversations = _matching(conversations, query)
    return conversations.select_related("shop", "buyer", "listing", "last_message__author").order_by(
        "-last_message_at", "-pk"
    )


def _unread_filter(user) -> Q:
    # The author's own state moves to each message they send, so "the last message is past
    # what I read" means "someone else wrote since".
    return Q(last_message_id__gt=Coalesce(F("viewer_last_read_id"), Value(0), output_field=IntegerField()))


def unread_conversation_count(*, user) -> int:
    """The header badge: conversations with something `user` has not read (one query)."""
    state = ParticipantState.objects.filter(conversation_id=OuterRef("pk"), user_id=user.pk)
    return (
        conversations_of(user=user)
        .annotate(viewer_last_read_id=Subquery(state.values("last_read_message_id")[:1], output_field=IntegerField()))
        .filter(_unread_filter(user))
        .count()
    )


def shop_inboxes(*, user) -> list[Shop]:
    """The shops `user` is one of the people of, each with `unread_conversations` (one query)."""
    state = ParticipantState.objects.filter(conversation_id=OuterRef("pk"), user_id=user.pk)
    unread = (
        Conversation.objects.filter(shop_id=OuterRef("pk"))
        .annotate(viewer_last_read_id=Subquery(state.values("last_read_message_id")[:1], output_field=IntegerField()))
        .filter(_unread_filter(user))
        .order_by()
        .values("shop_id")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return list(
        Shop.objects.filter(members__user_id=user.pk)
        .annotate(unread_conversations=Coalesce(Subquery(unread, output_field=IntegerField()), Value(0)))
        .order_by("name", "pk")
    )


@dataclass
class Thread:
    messages: list[Message]
    older_than: int | None  # the id to ask for older messages with, when there are any


def thread(*, conversation: Conversation, before: int | None = None, size: int = THREAD_PAGE_SIZE) -> Thread:
    """The newest `size` messages (before message id `before`), oldest first, with authors and
    pictures (two queries)."""
    messages = conversation.messages.select_related("author").prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("position", "pk"))
    )
    if before is not None:
        messages = messages.filter(pk__lt=before)
    newest = list(messages.order_by("-pk")[: size + 1])
    has_older = len(newest) > size
    newest = newest[:size]
    return Thread(messages=newest[::-1], older_than=newest[-1].pk if has_older else None)


def moderator_read_dates(*, conversation: Conversation) -> list:
    """The days on which a moderator read this conversation, for its participants to see."""
    return list(
        ModeratorAccess.objects.filter(conversation=conversation)
        .annotate(day=TruncDate("accessed_at"))
        .order_by("day")
        .values_list("day", flat=True)
        .distinct()
    )


def shop_block_against(*, shop_id: int, user_id: int) -> Block | None:
    return Block.objects.filter(by_shop_id=shop_id, blocked_id=user_id).first()


def person_block_against(*, by_user_id: int, user_id: int) -> Block | None:
    return Block.objects.filter(by_user_id=by_user_id, blocked_id=user_id).first()


def write_refusal(*, conversation: Conversation, author, for_shop: bool) -> str | None:
    """Why `author` may not write in `conversation` (a block), or None. The same words go to
    the page, the API and the e-mail gateway."""
    if for_shop:
        if person_block_against(by_user_id=conversation.buyer_id, user_id=author.pk):
            return f"{conversation.buyer.public_name} does not accept messages from you any more."
        return None
    if shop_block_against(shop_id=conversation.shop_id, user_id=author.pk):
        return f"{conversation.shop.name} does not accept messages from you."
    return None


def blocks_of(*, user) -> QuerySet[Block]:
    """The blocks `user` may see and lift: their own, and those of the shops they are one of the people of."""
    if user is None or not user.is_authenticated:
        return Block.objects.none()
    return (
        Block.objects.filter(Q(by_user_id=user.pk) | Q(by_shop_id__in=_member_shop_ids(user)))
        .select_related("blocked", "by_shop", "created_by")
        .order_by("by_shop__name", "-created_at", "-pk")
    )


def open_reports() -> QuerySet[Report]:
    """The moderators' queue, oldest first."""
    return (
        Report.objects.filter(status=Report.Status.OPEN)
        .select_related("conversation__shop", "conversation__buyer", "reporter", "message")
        .order_by("created_at", "pk")
    )
