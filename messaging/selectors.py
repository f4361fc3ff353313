"""Reading conversations: inboxes with unread counts, threads, blocks and reports, and what
conversations are worth to a shop."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate, TruncMonth
from django.utils import timezone

from catalog.models import Listing
from orders.lifecycle import ANSWERABLE_OFFER_STATES, OfferState, State
from orders.models import Offer, Order
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
    return conversations.select_related("shop", "buyer", "listing", "order", "last_message__author").order_by(
        "-last_message_at", "-pk"
    )


def all_conversations(*, user, box: str = INBOX, query: str = "") -> QuerySet[Conversation]:
    """Everything `user` takes part in (the API's list), with unread counts."""
    conversations = _in_box(with_viewer_state(conversations_of(user=user), user=user), box)
    query = query.strip()
    if query:
        conversations = _matching(conversations, query)
    return conversations.select_related("shop", "buyer", "listing", "order", "last_message__author").order_by(
        "-last_message_at", "-pk"
    )


def _unread_filter(user) -> Q:
    # The author's own state moves to each message they send, so "the last message is past
    # what I read" means "someone else wrote since".
    return Q(last_message_id__gt=Coalesce(F("viewer_last_read_id"), Value(0), output_field=IntegerField()))


# The header badge's count (see unread_conversation_count): each side counted through its
# own index, one read-state probe per conversation. Table names only are put in; values are
# parameters.
_UNREAD_SQL = """
SELECT (
    SELECT COUNT(*) FROM (
        SELECT c.id FROM {conversation} c
        WHERE c.buyer_id = %s AND c.last_message_id > COALESCE(
            (SELECT s.last_read_message_id FROM {state} s WHERE s.conversation_id = c.id AND s.user_id = %s), 0)
        LIMIT %s
    ) as_buyer
) + (
    SELECT COUNT(*) FROM (
        SELECT c.id FROM {conversation} c
        JOIN {member} m ON m.shop_id = c.shop_id AND m.user_id = %s
        WHERE c.buyer_id <> %s AND c.last_message_id > COALESCE(
            (SELECT s.last_read_message_id FROM {state} s WHERE s.conversation_id = c.id AND s.user_id = %s), 0)
        LIMIT %s
    ) for_shops
)
"""
# The badge says "99+" past this: a shop's owner may have tens of thousands of unread
# conversations, and counting them all on every page they open cost 90-250 ms at M.
UNREAD_BADGE_CAP = 100


def unread_conversation_count(*, user) -> int:
    """The header badge: conversations with something `user` has not read (one query),
    counted up to UNREAD_BADGE_CAP.

    The author's own read mark moves to each message they send, so "the last message is past
    what I read" means "someone else wrote since" (as _unread_filter). Counted as their
    conversations as a buyer plus their shops' with someone else, each side read through its
    index and stopped at the cap: joined by OR (conversations_of) the two sides scanned all
    100,000 conversations (90 ms), and the same union built with the ORM cost 10 ms of
    Python, on every page a signed-in person opens."""
    sql = _UNREAD_SQL.format(
        conversation=Conversation._meta.db_table,
        state=ParticipantState._meta.db_table,
        member=ShopMember._meta.db_table,
    )
    cap = UNREAD_BADGE_CAP
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk, user.pk, cap, user.pk, user.pk, user.pk, cap])
        return min(cursor.fetchone()[0], cap)


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
    """The newest `size` messages (before message id `before`), oldest first, with authors,
    the offers they carry and pictures (two queries)."""
    messages = conversation.messages.select_related("author", "offer__listing").prefetch_related(
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


def blocks_against_shop_writers(*, conversation: Conversation, user) -> dict[int, Block]:
    """The blocks `user` made against people who wrote in `conversation` for its shop, by the
    blocked person's id (one query, also when the page shown has no such message, so that a
    thread page makes the same number of queries at any length)."""
    wrote_here = Message.objects.filter(
        conversation_id=conversation.pk, for_shop=True, author_id=OuterRef("blocked_id")
    )
    return {block.blocked_id: block for block in Block.objects.filter(Exists(wrote_here), by_user_id=user.pk)}


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


# --- Orders and offers in conversations --------------------------------------------------------


def conversation_for_order(*, order: Order) -> Conversation | None:
    """The order's one conversation, if someone has written about it."""
    return Conversation.objects.filter(order_id=order.pk).first()


OFFERABLE_LISTINGS_SHOWN = 200


def offerable_listings(*, conversation: Conversation) -> list:
    """The shop's listings on sale with a copy in stock that an offer in `conversation` may be
    for, the conversation's own first (one query; at most OFFERABLE_LISTINGS_SHOWN)."""
    return list(
        Listing.objects.filter(shop_id=conversation.shop_id, status=Listing.Status.ACTIVE, quantity__gte=1)
        .annotate(is_other=Case(When(pk=conversation.listing_id or 0, then=Value(0)), default=Value(1)))
        .order_by("is_other", "title", "pk")[:OFFERABLE_LISTINGS_SHOWN]
    )


def offer_shown_state(offer: Offer, *, now: datetime.datetime | None = None) -> str:
    """The offer's state as people should see it: one whose time to answer has passed is
    expired, even before the timer (orders.tasks) has closed it."""
    if offer.state in ANSWERABLE_OFFER_STATES and offer.respond_by <= (now or timezone.now()):
        return OfferState.EXPIRED
    return offer.state


# How each state of a private offer reads in a conversation: accepting one orders it.
OFFER_STATE_LABELS = {
    OfferState.OPEN: "Open",
    OfferState.ORDERED: "Accepted and ordered",
    OfferState.DECLINED: "Declined",
    OfferState.WITHDRAWN: "Withdrawn",
    OfferState.EXPIRED: "Expired",
}


def offers_in_conversation(*, conversation: Conversation) -> list[Offer]:
    """The private offers made in `conversation`, oldest first, with their listings (one query)."""
    return list(conversation.offers.select_related("listing").order_by("created_at", "pk"))


# --- What conversations are worth to a shop ---------------------------------------------------

# An order counts as coming from a conversation when the conversation's buyer placed it at
# that shop after the conversation began and within this long. Thirty days: long enough for
# what people weigh before buying something second-hand or rare (asking about its condition,
# postage abroad, a private offer open for up to a fortnight), short enough that a regular
# buyer's orders months later are not all credited to one old question.
CONVERSATION_ORDER_WINDOW = datetime.timedelta(days=30)
CONVERSATION_VALUE_MONTHS = 12
# Orders that brought the shop nothing in the end.
ORDERS_WITHOUT_REVENUE = [State.CANCELLED, State.RETURNED]


@dataclass
class ConversationValueMonth:
    month: datetime.date  # its first day
    conversations: int = 0  # begun that month
    led_to_order: int = 0  # of those, how many were followed by an order within the window
    orders: int = 0  # the orders that followed them, each counted once
    revenue: dict[str, Decimal] = field(default_factory=dict)  # their totals, by currency

    @property
    def rate(self) -> int | None:
        """The share of conversations that led to an order, in whole percent."""
        return round(100 * self.led_to_order / self.conversations) if self.conversations else None


@dataclass
class ConversationValue:
    months: list[ConversationValueMonth]  # newest first
    total: ConversationValueMonth
    window_days: int


def _months_back(now: datetime.datetime, count: int) -> list[datetime.date]:
    first = timezone.localtime(now).date().replace(day=1)
    months = []
    for _ in range(count):
        months.append(first)
        first = (first - datetime.timedelta(days=1)).replace(day=1)
    return months


def _month_key(value) -> datetime.date:
    return timezone.localtime(value).date() if isinstance(value, datetime.datetime) else value


def conversation_value(*, shop: Shop, now: datetime.datetime | None = None) -> ConversationValue:
    """How many of `shop`'s conversations led to an order (see CONVERSATION_ORDER_WINDOW) and the
    revenue of those orders, per month of the conversation's beginning over the last
    CONVERSATION_VALUE_MONTHS months, and in total. Two aggregate queries, whatever the number
    of conversations and orders.

    A conversation led to an order when its buyer placed one at the shop in the window after
    it began (cancelled and returned orders do not count). Every conversation counts, also one
    about an earlier order: what was said there can bring the next. An order that followed
    several conversations is counted once, for the latest one begun before it, so that no
    revenue is counted twice."""
    now = now or timezone.now()
    months = _months_back(now, CONVERSATION_VALUE_MONTHS)
    tz = timezone.get_current_timezone()
    since = datetime.datetime.combine(months[-1], datetime.time.min, tzinfo=tz)
    window_end = ExpressionWrapper(OuterRef("created_at") + CONVERSATION_ORDER_WINDOW, output_field=DateTimeField())
    window_start = ExpressionWrapper(OuterRef("placed_at") - CONVERSATION_ORDER_WINDOW, output_field=DateTimeField())
    counted_orders = Order.objects.filter(shop_id=shop.pk).exclude(state__in=ORDERS_WITHOUT_REVENUE)

    followed_by_order = counted_orders.filter(
        buyer_id=OuterRef("buyer_id"), placed_at__gte=OuterRef("created_at"), placed_at__lt=window_end
    )
    conversation_rows = (
        Conversation.objects.filter(shop_id=shop.pk, created_at__gte=since)
        .annotate(month=TruncMonth("created_at"), led=Exists(followed_by_order))
        .order_by()
        .values("month")
        .annotate(conversations=Count("pk"), led_to_order=Count("pk", filter=Q(led=True)))
    )
    latest_conversation_before = (
        Conversation.objects.filter(
            shop_id=shop.pk,
            buyer_id=OuterRef("buyer_id"),
            created_at__lte=OuterRef("placed_at"),
            created_at__gt=window_start,
        )
        .order_by("-created_at", "-pk")
        .values("created_at")[:1]
    )
    order_rows = (
        counted_orders.filter(placed_at__gte=since)
        .annotate(conversation_began=Subquery(latest_conversation_before))
        .filter(conversation_began__gte=since)
        .annotate(month=TruncMonth("conversation_began"))
        .order_by()
        .values("month", "currency")
        .annotate(orders=Count("pk"), revenue=Sum("total"))
    )

    by_month = {month: ConversationValueMonth(month=month) for month in months}
    for row in conversation_rows:
        entry = by_month.get(_month_key(row["month"]))
        if entry is not None:
            entry.conversations, entry.led_to_order = row["conversations"], row["led_to_order"]
    for row in order_rows:
        entry = by_month.get(_month_key(row["month"]))
        if entry is not None:
            entry.orders += row["orders"]
            entry.revenue[row["currency"]] = entry.revenue.get(row["currency"], Decimal("0")) + row["revenue"]
    total = ConversationValueMonth(month=months[-1])
    for entry in by_month.values():
        total.conversations += entry.conversations
        total.led_to_order += entry.led_to_order
        total.orders += entry.orders
        for currency, amount in entry.revenue.items():
            total.revenue[currency] = total.revenue.get(currency, Decimal("0")) + amount
    return ConversationValue(
        months=[by_month[month] for month in months], total=total, window_days=CONVERSATION_ORDER_WINDOW.days
    )
