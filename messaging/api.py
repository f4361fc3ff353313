"""The conversations API: the same operations as the pages, through the same access helper
and services. A conversation someone is not in answers 404, whatever its id."""

from django.conf import settings
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import parsers, serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.models import User
from catalog.models import Listing
from orders.selectors import access_order_for_buyer, access_order_for_shop
from sellers.selectors import access_shop_for_edit, shop_for_storefront

from . import selectors, services
from .access import access_conversation, valid_id
from .models import MESSAGE_MAX_LENGTH, Block, Conversation, Message, ModeratorAccess, Report

TAGS = ["conversations"]

# --- Serializers ------------------------------------------------------------------------------


class PersonSerializer(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.CharField(source="public_name")


class ShopBriefSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()


class ContextSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["listing", "order"], help_text="What it is about.")
    id = serializers.IntegerField(allow_null=True, help_text="Null once the listing is gone.")
    title = serializers.CharField()
    url = serializers.CharField(
        allow_blank=True,
        help_text="Its page; for an order, the caller's side of it (buyer's or shop's).",
    )


class LastMessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    signature = serializers.CharField()
    excerpt = serializers.CharField(allow_blank=True)
    is_deleted = serializers.BooleanField()
    created_at = serializers.DateTimeField()


def signature(message: Message, conversation: Conversation) -> str:
    """Who wrote it, as the conversation shows it: "Sam Staff for Olive's Books"."""
    name = message.author.public_name if message.author else "A former member"
    return f"{name} for {conversation.shop.name}" if message.for_shop else name


def _context(conversation: Conversation, role: str) -> dict | None:
    """What the conversation is about, with the page of it for the caller's `role`."""
    if conversation.order_id is not None:
        order = conversation.order
        if role == "buyer":
            url = order.get_absolute_url()
        elif role == "shop":
            url = reverse("orders:shop_order", kwargs={"slug": conversation.shop.slug, "pk": order.pk})
        else:
            url = ""
        return {"kind": "order", "id": order.pk, "title": f"Order {order.reference}", "url": url}
    if conversation.listing_id is None and not conversation.context_title:
        return None
    listing = conversation.listing
    return {
        "kind": "listing",
        "id": listing.pk if listing else None,
        "title": listing.title if listing else conversation.context_title,
        "url": listing.get_absolute_url() if listing else "",
    }


class ConversationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    subject = serializers.CharField()
    shop = ShopBriefSerializer()
    buyer = PersonSerializer()
    context = serializers.SerializerMethodField()
    last_message = serializers.SerializerMethodField()
    last_message_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()
    unread = serializers.IntegerField(source="viewer_unread", help_text="Messages by others not read yet.")
    is_archived = serializers.SerializerMethodField()
    url = serializers.CharField(source="get_absolute_url", help_text="The conversation's page.")

    @extend_schema_field(ContextSerializer(allow_null=True))
    def get_context(self, conversation):
        # The lists hold the caller's own conversations: when not its buyer, they are of its shop.
        role = getattr(conversation, "role", None)
        if role is None:
            request = self.context.get("request")
            role = "buyer" if request is not None and conversation.buyer_id == request.user.pk else "shop"
        return _context(conversation, role)

    @extend_schema_field(LastMessageSerializer(allow_null=True))
    def get_last_message(self, conversation):
        message = conversation.last_message
        if message is None:
            return None
        return {
            "id": message.pk,
            "signature": signature(message, conversation),
            "excerpt": "" if message.is_deleted else message.body[:200],
            "is_deleted": message.is_deleted,
            "created_at": message.created_at,
        }

    def get_is_archived(self, conversation) -> bool:
        archived_at = getattr(conversation, "viewer_archived_at", None)
        return archived_at is not None and archived_at >= conversation.last_message_at


class OfferListingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


class ThreadOfferSerializer(serializers.Serializer):
    """A private offer made in a conversation, as both sides see it there."""

    id = serializers.IntegerField()
    listing = OfferListingSerializer()
    signed_as = serializers.CharField(help_text="The shop's person who made it.")
    price = serializers.DecimalField(max_digits=8, decimal_places=2)
    shipping_charge = serializers.DecimalField(max_digits=8, decimal_places=2)
    ship_to = serializers.CharField(help_text="ISO 3166-1 alpha-2 code of the country it is for.")
    currency = serializers.CharField()
    state = serializers.SerializerMethodField(help_text="open, ordered (accepted), declined, withdrawn or expired.")
    state_label = serializers.SerializerMethodField()
    respond_by = serializers.DateTimeField(help_text="When it expires unless accepted.")
    created_at = serializers.DateTimeField()
    url = serializers.SerializerMethodField(
        help_text="Its page for the caller: the buyer's (to accept it), the shop's."
    )

    def get_state(self, offer) -> str:
        return selectors.offer_shown_state(offer)

    def get_state_label(self, offer) -> str:
        state = selectors.offer_shown_state(offer)
        return selectors.OFFER_STATE_LABELS.get(state, offer.get_state_display())

    def get_url(self, offer) -> str:
        role = self.context.get("role")
        if role == "buyer":
            return offer.get_absolute_url()
        if role == "shop":
            return reverse("orders:shop_offer", kwargs={"slug": self.context["shop_slug"], "pk": offer.pk})
        return ""


class ConversationOfferWriteSerializer(serializers.Serializer):
    listing = serializers.IntegerField(
        required=False, allow_null=True, help_text="One of the shop's listings; default: the conversation's."
    )
    price = serializers.CharField(max_length=20, help_text="In the shop's currency, for example 12.50.")
    shipping_charge = serializers.CharField(max_length=20, help_text="In the shop's currency; 0 for free shipping.")
    ship_to = serializers.CharField(max_length=2, help_text="ISO 3166-1 alpha-2 code of the country it is sent to.")
    valid_days = serializers.IntegerField(required=False, default=7, help_text="How many days it stays open.")
    message = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)


class ConversationDetailSerializer(ConversationSerializer):
    role = serializers.ChoiceField(choices=["buyer", "shop", "moderator"], help_text="How the caller takes part.")
    can_write = serializers.BooleanField()
    write_refusal = serializers.CharField(allow_blank=True, help_text="Why the caller may not write, if so.")
    moderator_reads = serializers.ListField(
        child=serializers.DateField(), help_text="Days on which a moderator read it because it was reported."
    )
    messages_url = serializers.CharField()
    offers = serializers.SerializerMethodField(help_text="The private offers made in it, oldest first.")

    @extend_schema_field(ThreadOfferSerializer(many=True))
    def get_offers(self, conversation):
        context = {"role": conversation.role, "shop_slug": conversation.shop.slug}
        return ThreadOfferSerializer(conversation.thread_offers, many=True, context=context).data


class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    image = serializers.CharField(help_text="Up to 1600 pixels a side, WebP.")
    thumbnail = serializers.CharField(help_text="Up to 320 pixels a side, WebP.")


class MessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    author = PersonSerializer(allow_null=True)
    signature = serializers.SerializerMethodField()
    for_shop = serializers.BooleanField(help_text="Written as one of the shop's people.")
    body = serializers.CharField(allow_blank=True, help_text="Markdown; empty once deleted.")
    body_html = serializers.CharField(allow_blank=True, help_text="Sanitised HTML.")
    attachments = serializers.SerializerMethodField()
    source = serializers.ChoiceField(choices=Message.Source.choices)
    created_at = serializers.DateTimeField()
    is_deleted = serializers.BooleanField()
    deleted_at = serializers.DateTimeField(allow_null=True)
    can_delete = serializers.SerializerMethodField()
    offer = serializers.SerializerMethodField(help_text="The private offer this message carries, if any.")

    @extend_schema_field(ThreadOfferSerializer(allow_null=True))
    def get_offer(self, message):
        if message.offer_id is None:
            return None
        conversation = self.context["conversation"]
        context = {"role": self.context.get("role", ""), "shop_slug": conversation.shop.slug}
        return ThreadOfferSerializer(message.offer, context=context).data

    def get_signature(self, message) -> str:
        return signature(message, self.context["conversation"])

    @extend_schema_field(AttachmentSerializer(many=True))
    def get_attachments(self, message):
        def url(picture, size):
            path = reverse(
                "messaging:attachment",
                kwargs={"pk": message.conversation_id, "attachment_id": picture.pk, "size": size},
            )
            return self.context["request"].build_absolute_uri(path)

        return [
            {"id": picture.pk, "image": url(picture, "image"), "thumbnail": url(picture, "thumbnail")}
            for picture in message.attachments.all()
        ]

    def get_can_delete(self, message) -> bool:
        return (
            message.author_id == self.context["request"].user.pk
            and not message.is_deleted
            and message.offer_id is None
            and timezone.now() - message.created_at <= settings.MESSAGING_DELETE_WINDOW
        )


class MessageWriteSerializer(serializers.Serializer):
    body = serializers.CharField(
        allow_blank=True, trim_whitespace=False, help_text=f"Markdown, at most {MESSAGE_MAX_LENGTH} characters."
    )
    attachments = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        default=list,
        help_text=f"Up to {settings.MESSAGING_MAX_ATTACHMENTS} JPEG, PNG, WebP or GIF images (multipart).",
    )


class ConversationStartSerializer(MessageWriteSerializer):
    shop = serializers.SlugField(help_text="The shop's slug.")
    listing = serializers.IntegerField(required=False, allow_null=True, help_text="A listing of that shop.")
    subject = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class ReadStateSerializer(serializers.Serializer):
    last_read_message = serializers.IntegerField(source="last_read_message_id", allow_null=True)
    last_read_at = serializers.DateTimeField(allow_null=True)
    archived_at = serializers.DateTimeField(allow_null=True)


class BlockSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    person = PersonSerializer(source="blocked")
    shop = ShopBriefSerializer(source="by_shop", allow_null=True, help_text="Blocked for this shop; null: for you.")
    created_at = serializers.DateTimeField()


class BlockWriteSerializer(serializers.Serializer):
    username = serializers.CharField(help_text="Who may no longer write.")
    shop = serializers.SlugField(required=False, allow_blank=True, default="", help_text="Block for one of your shops.")


class ReportWriteSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=Report.Reason.choices)
    details = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    message = serializers.IntegerField(required=False, allow_null=True, help_text="One message of the conversation.")


class ReportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    conversation = serializers.IntegerField(source="conversation_id")
    message = serializers.IntegerField(source="message_id", allow_null=True)
    reason = serializers.ChoiceField(choices=Report.Reason.choices)
    details = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=Report.Status.choices)
    created_at = serializers.DateTimeField()
    resolution = serializers.CharField(allow_blank=True)


class ModerationReportSerializer(ReportSerializer):
    reporter = PersonSerializer()
    subject = serializers.CharField(source="conversation.subject")


class ResolveSerializer(serializers.Serializer):
    resolution = serializers.CharField(max_length=2000, help_text="Read by the person who reported it.")


UnreadCountSerializer = inline_serializer(
    "UnreadConversations",
    {
        "unread_conversations": serializers.IntegerField(
            help_text=f"Conversations with unread messages, counted up to {selectors.UNREAD_BADGE_CAP}."
        ),
        "more": serializers.BooleanField(help_text="True when the count reached the cap: there may be more."),
    },
)


# --- Views ------------------------------------------------------------------------------------


class MessageCursor(CursorPagination):
    ordering = "-id"
    page_size = 50


class ConversationListAPIView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [parsers.JSONParser, parsers.MultiPartParser, parsers.FormParser]
    serializer_class = ConversationSerializer
    queryset = Conversation.objects.none()

    @extend_schema(
        tags=TAGS,
        summary="My conversations",
        description="Conversations the caller takes part in (as a buyer or for a shop), newest activity first, "
        "each with its unread count. Search with `q` (subject, listing, the other party, message text).",
        parameters=[
            OpenApiParameter("box", str, enum=["inbox", "archived"], description="Default: inbox."),
            OpenApiParameter("q", str, description="Words to look for in one's conversations."),
            OpenApiParameter("shop", str, description="Only this shop's conversations (one of the caller's shops)."),
            OpenApiParameter("as_buyer", bool, description="Only those where the caller is the buyer."),
        ],
        responses=ConversationSerializer(many=True),
    )
    def get(self, request):
        params = request.query_params
        box = selectors.ARCHIVED if params.get("box") == selectors.ARCHIVED else selectors.INBOX
        query = params.get("q", "")[:200]
        if params.get("shop"):
            shop = access_shop_for_edit(user=request.user, slug=params["shop"])
            conversations = selectors.inbox(user=request.user, shop=shop, box=box, query=query)
        elif params.get("as_buyer") in {"1", "true", "yes"}:
            conversations = selectors.inbox(user=request.user, box=box, query=query)
        else:
            conversations = selectors.all_conversations(user=request.user, box=box, query=query)
        page = self.paginate_queryset(conversations)
        return self.get_paginated_response(ConversationSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(
        tags=TAGS,
        summary="Write to a shop",
        description="Start a conversation with a shop (about one of its listings, or in general) with a first "
        "message. Asking again about the same listing adds the message to that conversation (200 instead of 201).",
        request={"multipart/form-data": ConversationStartSerializer, "application/json": ConversationStartSerializer},
        responses={201: ConversationDetailSerializer, 200: ConversationDetailSerializer},
    )
    def post(self, request):
        data = ConversationStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        shop = shop_for_storefront(slug=values["shop"])
        listing = None
        if values.get("listing") is not None:
            # Only listings on sale: a draft's id answers like one that does not exist.
            listing = Listing.objects.filter(
                pk=valid_id(values["listing"]) or 0, shop=shop, status__in=services.LISTABLE_STATUSES
            ).first()
            if listing is None:
                raise serializers.ValidationError({"listing": ["This shop has no such listing on sale."]})
        started = services.conversation_start(
            buyer=request.user,
            shop=shop,
            listing=listing,
            subject=values["subject"],
            body=values["body"],
            attachments=request.FILES.getlist("attachments") or values["attachments"],
            source=Message.Source.API,
        )
        access = access_conversation(request.user, started.conversation.pk, via=ModeratorAccess.Via.API)
        return Response(
            _detail(request, access), status=status.HTTP_201_CREATED if started.is_new else status.HTTP_200_OK
        )


def _detail(request, access) -> dict:
    conversation = selectors.with_viewer_state(
        Conversation.objects.select_related("shop", "buyer", "listing", "order", "last_message__author"),
        user=request.user,
    ).get(pk=access.conversation.pk)
    refusal = ""
    if access.is_participant:
        refusal = (
            selectors.write_refusal(conversation=conversation, author=request.user, for_shop=access.for_shop) or ""
        )
    conversation.role = access.role
    conversation.can_write = access.is_participant and not refusal
    conversation.write_refusal = refusal if access.is_participant else "Moderators read, they do not write."
    conversation.moderator_reads = selectors.moderator_read_dates(conversation=conversation)
    conversation.messages_url = reverse("api-conversation-messages", kwargs={"pk": conversation.pk})
    conversation.thread_offers = selectors.offers_in_conversation(conversation=conversation)
    return ConversationDetailSerializer(conversation, context={"request": request}).data


class UnreadConversationsAPIView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = UnreadCountSerializer
    queryset = Conversation.objects.none()

    @extend_schema(tags=TAGS, summary="How many conversations have unread messages", responses=UnreadCountSerializer)
    def get(self, request):
        unread = selectors.unread_conversation_count(user=request.user)
        return Response({"unread_conversations": unread, "more": unread >= selectors.UNREAD_BADGE_CAP})


class ConversationDetailAPIView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = ConversationDetailSerializer
    queryset = Conversation.objects.none()

    @extend_schema(
        tags=TAGS,
        summary="A conversation",
        description="Its subject, context, parties and the caller's state; its messages are at `messages_url`. "
        "404 for anyone not in it (moderators: while a report on it is open, and each read is logged).",
    )
    def get(self, request, pk):
        access = access_conversation(request.user, pk, via=ModeratorAccess.Via.API)
        return Response(_detail(request, access))


class MessagesAPIView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [parsers.JSONParser, parsers.MultiPartParser, parsers.FormParser]
    serializer_class = MessageSerializer
    pagination_class = MessageCursor
    queryset = Message.objects.none()

    @extend_schema(
        tags=TAGS,
        summary="A conversation's messages, newest first (cursor pages)",
        responses=MessageSerializer(many=True),
    )
    def get(self, request, pk):
        access = access_conversation(request.user, pk, via=ModeratorAccess.Via.API)
        messages = access.conversation.messages.select_related("author", "offer__listing").prefetch_related(
            "attachments"
        )
        page = self.paginate_queryset(messages)
        context = {"request": request, "conversation": access.conversation, "role": access.role}
        return self.get_paginated_response(MessageSerializer(page, many=True, context=context).data)

    @extend_schema(
        tags=TAGS,
        summary="Send a message",
        description="Markdown text and up to four pictures (multipart). Refused with 400 and nothing stored: "
        "empty or too long text, pictures that are not images or too large, a block, sending too fast.",
        request={"multipart/form-data": MessageWriteSerializer, "application/json": MessageWriteSerializer},
        responses={201: MessageSerializer},
    )
    def post(self, request, pk):
        access = access_conversation(request.user, pk, to_write=True)
        data = MessageWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message = services.message_send(
            conversation=access.conversation,
            author=request.user,
            body=data.validated_data["body"],
            attachments=request.FILES.getlist("attachments") or data.validated_data["attachments"],
            source=Message.Source.API,
        )
        context = {"request": request, "conversation": access.conversation, "role": access.role}
        return Response(MessageSerializer(message, context=context).data, status=status.HTTP_201_CREATED)


class MessageDetailAPIView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = MessageSerializer
    queryset = Message.objects.none()

    @extend_schema(
        tags=TAGS,
        summary="Delete my message",
        description="Only its author, within the deletion window; a 'message deleted' trace stays.",
        responses=MessageSerializer,
    )
    def delete(self, request, pk, message_id):
        access = access_conversation(request.user, pk, to_write=True)
        message = access.conversation.messages.filter(pk=valid_id(message_id) or 0).first()
        if message is None:
            raise Http404("No such message.")
        message = services.message_delete(message=message, actor=request.user)
        context = {"request": request, "conversation": access.conversation, "role": access.role}
        return Response(MessageSerializer(message, context=context).data)


class ReadAPIView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = ReadStateSerializer
    queryset = Conversation.objects.none()

    @extend_schema(tags=TAGS, summary="Mark a conversation read", request=None, responses=ReadStateSerializer)
    def post(self, request, pk):
        access = access_conversation(request.user, pk, to_write=True)
        state = services.conversation_mark_read(conversation=access.conversation, user=request.user)
        return Response(ReadStateSerializer(state).data)


class ArchiveAPIView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = ReadStateSerializer
    queryset = Conversation.objects.none()

    @extend_schema(tags=TAGS, summary="Archive a conversation (for me)", request=None, responses=ReadStateSerializer)
    def post(self, request, pk):
        access = access_conversation(request.user, pk, to_write=True)
        state = services.conversation_archive(conversation=access.conversation, user=request.user, archived=True)
        return Response(ReadStateSerializer(state).data)

    @extend_schema(tags=TAGS, summary="Bring a conversation back to my inbox", responses=ReadStateSerializer)
    def delete(self, request, pk):
        access = access_conversation(request.user, pk, to_write=True)
        state = services.conversation_archive(conversation=access.conversation, user=request.user, archived=False)
        return Response(ReadStateSerializer(state).data)


class ReportsAPIView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = ReportSerializer
    queryset = Report.objects.none()

    @extend_schema(
        tags=TAGS,
        summary="Report a conversation or one of its messages",
        description="Moderators may read the conversation while the report is open; participants see when they did.",
        request=ReportWriteSerializer,
        responses={201: ReportSerializer},
    )
    def post(self, request, pk):
        access = access_conversation(request.user, pk, to_write=True)
        data = ReportWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message = None
        if data.validated_data.get("message") is not None:
            message = access.conversation.messages.filter(pk=valid_id(data.validated_data["message"]) or 0).first()
            if message is None:
                raise serializers.ValidationError({"message": ["That message is not in this conversation."]})
        report = services.report_create(
            conversation=access.conversation,
            reporter=request.user,
            reason=data.validated_data["reason"],
            details=data.validated_data["details"],
            message=message,
        )
        return Response(ReportSerializer(report).data, status=status.HTTP_201_CREATED)


class BlocksAPIView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = BlockSerializer
    queryset = Block.objects.none()

    @extend_schema(tags=TAGS, summary="The people I or my shops blocked", responses=BlockSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(selectors.blocks_of(user=request.user))
        return self.get_paginated_response(BlockSerializer(page, many=True).data)

    @extend_schema(
        tags=TAGS,
        summary="Block someone",
        description="They can no longer write to you, or with `shop` to that shop of yours.",
        request=BlockWriteSerializer,
        responses={201: BlockSerializer},
    )
    def post(self, request):
        data = BlockWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        person = User.objects.filter(username__iexact=data.validated_data["username"].lstrip("@")).first()
        if person is None:
            raise serializers.ValidationError({"username": ["No one on Plural has this username."]})
        shop = None
        if data.validated_data["shop"]:
            shop = access_shop_for_edit(user=request.user, slug=data.validated_data["shop"])
        block = services.block_create(actor=request.user, blocked=person, shop=shop)
        return Response(BlockSerializer(block).data, status=status.HTTP_201_CREATED)


class BlockDetailAPIView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = BlockSerializer
    queryset = Block.objects.none()

    @extend_schema(tags=TAGS, summary="Unblock", responses={204: None})
    def delete(self, request, block_id):
        try:
            services.block_remove(actor=request.user, block_id=valid_id(block_id) or 0)
        except Block.DoesNotExist:
            raise Http404("No such block.") from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class ModerationReportsAPIView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = ModerationReportSerializer
    queryset = Report.objects.none()

    @extend_schema(tags=TAGS, summary="Open reports (moderators)", responses=ModerationReportSerializer(many=True))
    def get(self, request):
        if not request.user.is_staff:
            raise Http404("No such page.")
        page = self.paginate_queryset(selectors.open_reports())
        return self.get_paginated_response(ModerationReportSerializer(page, many=True).data)


class ResolveReportAPIView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = ModerationReportSerializer
    queryset = Report.objects.none()

    @extend_schema(
        tags=TAGS,
        summary="Resolve a report (moderators)",
        description="Ends moderators' access to the conversation unless another report on it is open.",
        request=ResolveSerializer,
        responses=ModerationReportSerializer,
    )
    def post(self, request, report_id):
        if not request.user.is_staff:
            raise Http404("No such page.")
        report = Report.objects.select_related("conversation", "reporter").filter(pk=valid_id(report_id) or 0).first()
        if report is None:
            raise Http404("No such report.")
        data = ResolveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = services.report_resolve(
            report=report, moderator=request.user, resolution=data.validated_data["resolution"]
        )
        return Response(ModerationReportSerializer(report).data)


# --- Orders, offers and what conversations bring ----------------------------------------------------


def _order_conversation_get(request, order):
    conversation = selectors.conversation_for_order(order=order)
    if conversation is None:
        raise Http404("Nobody has written about this order yet.")
    return Response(_detail(request, access_conversation(request.user, conversation.pk, via=ModeratorAccess.Via.API)))


def _order_conversation_post(request, order):
    data = MessageWriteSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    started = services.conversation_start_about_order(
        order=order,
        author=request.user,
        body=data.validated_data["body"],
        attachments=request.FILES.getlist("attachments") or data.validated_data["attachments"],
        source=Message.Source.API,
    )
    access = access_conversation(request.user, started.conversation.pk, via=ModeratorAccess.Via.API)
    return Response(_detail(request, access), status=status.HTTP_201_CREATED if started.is_new else status.HTTP_200_OK)


ORDER_WRITE_DESCRIPTION = (
    "The first message opens the order's one conversation between its buyer and its shop, with the order at its "
    "top (201); later ones are added to it (200). 404 for an order that is not the caller's."
)


class OrderConversationAPIView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [parsers.JSONParser, parsers.MultiPartParser, parsers.FormParser]
    serializer_class = ConversationDetailSerializer
    queryset = Conversation.objects.none()

    @extend_schema(tags=TAGS, summary="The conversation about my order (404 until someone wrote)")
    def get(self, request, pk):
        return _order_conversation_get(request, access_order_for_buyer(user=request.user, order_id=pk))

    @extend_schema(
        tags=TAGS,
        summary="Write to the shop about my order",
        description=ORDER_WRITE_DESCRIPTION,
        request={"multipart/form-data": MessageWriteSerializer, "application/json": MessageWriteSerializer},
        responses={201: ConversationDetailSerializer, 200: ConversationDetailSerializer},
    )
    def post(self, request, pk):
        return _order_conversation_post(request, access_order_for_buyer(user=request.user, order_id=pk))


class ShopOrderConversationAPIView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [parsers.JSONParser, parsers.MultiPartParser, parsers.FormParser]
    serializer_class = ConversationDetailSerializer
    queryset = Conversation.objects.none()

    @extend_schema(tags=TAGS, summary="The conversation about one of my shop's orders (404 until someone wrote)")
    def get(self, request, slug, pk):
        _, order = access_order_for_shop(user=request.user, slug=slug, order_id=pk)
        return _order_conversation_get(request, order)

    @extend_schema(
        tags=TAGS,
        summary="Write to the buyer about one of my shop's orders",
        description=ORDER_WRITE_DESCRIPTION,
        request={"multipart/form-data": MessageWriteSerializer, "application/json": MessageWriteSerializer},
        responses={201: ConversationDetailSerializer, 200: ConversationDetailSerializer},
    )
    def post(self, request, slug, pk):
        _, order = access_order_for_shop(user=request.user, slug=slug, order_id=pk)
        return _order_conversation_post(request, order)


class ConversationOffersAPIView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = ThreadOfferSerializer
    queryset = Conversation.objects.none()
    pagination_class = None  # answered whole: a conversation holds a few offers

    @extend_schema(
        tags=TAGS, summary="The private offers made in a conversation", responses=ThreadOfferSerializer(many=True)
    )
    def get(self, request, pk):
        access = access_conversation(request.user, pk, via=ModeratorAccess.Via.API)
        offers = selectors.offers_in_conversation(conversation=access.conversation)
        context = {"role": access.role, "shop_slug": access.conversation.shop.slug}
        return Response(ThreadOfferSerializer(offers, many=True, context=context).data)

    @extend_schema(
        tags=TAGS,
        summary="Make the buyer a private offer (the shop's people)",
        description="To the conversation's buyer, for the conversation's listing or another of the shop's: its own "
        "price, a shipping charge to one country and how many days it stays open, under the rules of private "
        "offers. It is posted in the conversation, which comes up in both inboxes; the buyer is told once. 403 for "
        "the buyer; 400 with field errors, nothing made, for bad input.",
        request=ConversationOfferWriteSerializer,
        responses={201: ThreadOfferSerializer},
    )
    def post(self, request, pk):
        access = access_conversation(request.user, pk, to_write=True)
        data = ConversationOfferWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        offer = services.conversation_offer_make(
            conversation=access.conversation,
            actor=request.user,
            listing_id=values.get("listing"),
            price=values["price"],
            shipping_charge=values["shipping_charge"],
            ship_to=values["ship_to"],
            valid_days=values["valid_days"],
            message=values["message"],
            source=Message.Source.API,
        )
        context = {"role": access.role, "shop_slug": access.conversation.shop.slug}
        return Response(ThreadOfferSerializer(offer, context=context).data, status=status.HTTP_201_CREATED)


class ConversationValueMonthSerializer(serializers.Serializer):
    month = serializers.DateField(help_text="The month's first day: conversations begun that month.")
    conversations = serializers.IntegerField()
    led_to_order = serializers.IntegerField(help_text="Of those, how many were followed by an order in the window.")
    rate = serializers.IntegerField(allow_null=True, help_text="The share that led to an order, in percent.")
    orders = serializers.IntegerField(help_text="The orders that followed them, each counted once.")
    revenue = serializers.DictField(
        child=serializers.DecimalField(max_digits=12, decimal_places=2), help_text="Their totals, by currency."
    )


class ConversationValueSerializer(serializers.Serializer):
    window_days = serializers.IntegerField(help_text="An order counts when placed this many days after, at most.")
    months = ConversationValueMonthSerializer(many=True, help_text="The last 12 months, newest first.")
    total = ConversationValueMonthSerializer()


class ConversationValueAPIView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = ConversationValueSerializer
    queryset = Conversation.objects.none()

    @extend_schema(
        tags=TAGS,
        summary="What a shop's conversations brought (its people only)",
        description="Per month of the last 12 and in total: conversations begun, how many led to an order (the "
        "buyer ordered from the shop within window_days after it began; cancelled and returned orders do not "
        "count), those orders and their revenue. 404 for everyone but the shop's people.",
    )
    def get(self, request, slug):
        shop = access_shop_for_edit(user=request.user, slug=slug)
        return Response(ConversationValueSerializer(selectors.conversation_value(shop=shop)).data)
