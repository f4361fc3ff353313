"""Conversation pages: the inboxes, a conversation, starting one, blocks, reports, moderation.

Every page that shows or changes a conversation reaches it through access_conversation
(404 for anyone who is not in it) and hands changes to messaging.services."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import User
from catalog.selectors import access_listing_for_view
from orders.selectors import access_order_for_buyer, access_order_for_shop
from sellers.selectors import access_shop_for_edit, is_shop_member, shop_for_storefront

from . import selectors, services
from .access import SHOP, access_conversation, valid_id
from .forms import ConversationOfferForm, MessageForm, ReportForm, ResolveForm, StartForm
from .models import Attachment, Block, Conversation, ModeratorAccess, Report

INBOX_PAGE_SIZE = 20


def add_service_errors(form, error: ValidationError) -> None:
    """A service's refusal on the form: on the field it names, or at the top."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, field_messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, field_messages)


def _box(request) -> str:
    return selectors.ARCHIVED if request.GET.get("box") == selectors.ARCHIVED else selectors.INBOX


def _inbox_context(request, conversations, **extra) -> dict:
    page = Paginator(conversations, INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.get("q", "").strip()[:200]
    params = [f"box={selectors.ARCHIVED}"] if _box(request) == selectors.ARCHIVED else []
    if query:
        params.append(f"q={query}")
    return {"page": page, "box": _box(request), "query": query, "page_query": "&".join(params), **extra}


# --- Inboxes --------------------------------------------------------------------------------


@login_required
def inbox(request):
    """The signed-in person's conversations with shops, and a way to each of their shops' inboxes."""
    query = request.GET.get("q", "").strip()[:200]
    conversations = selectors.inbox(user=request.user, box=_box(request), query=query)
    context = _inbox_context(request, conversations, shops=selectors.shop_inboxes(user=request.user))
    return render(request, "messaging/inbox.html", context)


@login_required
def shop_inbox(request, slug: str):
    shop = access_shop_for_edit(user=request.user, slug=slug)
    query = request.GET.get("q", "").strip()[:200]
    conversations = selectors.inbox(user=request.user, shop=shop, box=_box(request), query=query)
    return render(request, "messaging/shop_inbox.html", _inbox_context(request, conversations, shop=shop))


# --- Starting a conversation -----------------------------------------------------------------


def _listing_to_ask_about(request, shop):
    listing_id = request.GET.get("listing") or request.POST.get("listing")
    if not listing_id:
        return None
    if valid_id(listing_id) is None:
        raise Http404("No such listing.")
    listing = access_listing_for_view(user=request.user, pk=listing_id)
    if listing.shop_id != shop.pk:
        raise Http404("No such listing in this shop.")
    return listing


@login_required
def start(request, slug: str):
    """Write to a shop, from its storefront or about one of its listings."""
    shop = shop_for_storefront(slug=slug)
    listing = _listing_to_ask_about(request, shop)
    earlier = (
        Conversation.objects.filter(buyer=request.user, shop=shop, listing=listing).first()
        if listing is not None
        else None
    )
    form = StartForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            started = services.conversation_start(
                buyer=request.user,
                shop=shop,
                listing=listing,
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
                attachments=form.cleaned_data["attachments"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Your message is on its way to {shop.name}.")
            return redirect(started.message.get_absolute_url())
    return render(
        request,
        "messaging/start.html",
        {
            "form": form,
            "shop": shop,
            "listing": listing,
            "earlier": earlier,
            "is_own_shop": is_shop_member(user=request.user, shop=shop),
        },
    )


def _before(request) -> int | None:
    value = request.GET.get("before", "")
    return int(value) if value.isdigit() and len(value) < 19 else None


# --- Writing about an order ---------------------------------------------------------------------


def _order_conversation(request, order, *, shop=None):
    """Write about `order` (its buyer, or with `shop` one of the shop's people): the first
    message opens its conversation; once it has one, this leads there (a message sent from here
    meanwhile is added to it)."""
    existing = selectors.conversation_for_order(order=order)
    if existing is not None and request.method != "POST":
        return redirect(existing.get_absolute_url())
    # No subject: the order names the conversation.
    form = MessageForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            started = services.conversation_start_about_order(
                order=order,
                author=request.user,
                body=form.cleaned_data["body"],
                attachments=form.cleaned_data["attachments"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            other = order.buyer.public_name if shop is not None else order.shop_name
            messages.success(request, f"Your message about order {order.reference} is on its way to {other}.")
            return redirect(started.message.get_absolute_url())
    return render(
        request,
        "messaging/start_about_order.html",
        {"form": form, "order": order, "shop": shop, "for_shop": shop is not None},
        status=400 if form.errors else 200,
    )


@login_required
def order_conversation(request, pk: int):
    """The buyer writes to the shop about one of their orders."""
    return _order_conversation(request, access_order_for_buyer(user=request.user, order_id=pk))


@login_required
def shop_order_conversation(request, slug: str, pk: int):
    """One of the shop's people writes to the buyer about one of the shop's orders."""
    shop, order = access_order_for_shop(user=request.user, slug=slug, order_id=pk)
    return _order_conversation(request, order, shop=shop)


# --- A conversation ----------------------------------------------------------------------------


def _offer_form(conversation, data=None) -> ConversationOfferForm:
    return ConversationOfferForm(
        data,
        prefix="offer",
        max_days=settings.ORDERS_PRIVATE_OFFER_MAX_DAYS,
        listings=selectors.offerable_listings(conversation=conversation),
        initial={"listing": str(conversation.listing_id or ""), "ship_to": conversation.shop.country.code},
    )


def _conversation_page(request, access, form, *, offer_form=None, state=None, status: int = 200):
    """The conversation; `state` is the reader's own (ParticipantState) when it was just read."""
    conversation = access.conversation
    thread = selectors.thread(conversation=conversation, before=_before(request))
    refusal = None
    if access.is_participant:
        refusal = selectors.write_refusal(conversation=conversation, author=request.user, for_shop=access.for_shop)
    # The people one may block from here: the buyer, for the shop's people; for the buyer,
    # the shop's people who wrote in this part of the thread.
    if access.role == SHOP:
        blockable = [conversation.buyer]
        blocks = {b.blocked_id: b for b in Block.objects.filter(by_shop=conversation.shop, blocked=conversation.buyer)}
    elif access.is_participant:
        blockable = list(
            {
                m.author_id: m.author
                for m in thread.messages
                if m.for_shop and m.author and m.author_id != request.user.pk
            }.values()
        )
        blocks = selectors.blocks_against_shop_writers(conversation=conversation, user=request.user)
    else:
        blockable, blocks = [], {}
    now = timezone.now()
    for message in thread.messages:
        if message.offer is not None:
            message.offer.shown_state = selectors.offer_shown_state(message.offer, now=now)
            message.offer.shown_label = selectors.OFFER_STATE_LABELS.get(
                message.offer.shown_state, message.offer.get_state_display()
            )
    deletable_after = now - settings.MESSAGING_DELETE_WINDOW
    context = {
        "access": access,
        "conversation": conversation,
        "shop": conversation.shop,
        "thread": thread,
        "form": form,
        "refusal": refusal,
        "blockable": [(person, blocks.get(person.pk)) for person in blockable],
        "deletable_ids": {
            m.pk
            for m in thread.messages
            if m.author_id == request.user.pk
            and not m.is_deleted
            and m.offer_id is None
            and m.created_at >= deletable_after
        },
        "offer_form": offer_form or (_offer_form(conversation) if access.for_shop and not refusal else None),
        "moderator_read_dates": selectors.moderator_read_dates(conversation=conversation),
        "is_archived": access.is_participant and _is_archived(conversation, user=request.user, state=state),
        "delete_minutes": int(settings.MESSAGING_DELETE_WINDOW.total_seconds() // 60),
    }
    return render(request, "messaging/conversation.html", context, status=status)


def _is_archived(conversation, *, user, state) -> bool:
    """Archived by `user` since its last message (read from their `state` when at hand)."""
    if state is None:
        return conversation.states.filter(user=user, archived_at__gte=conversation.last_message_at).exists()
    return state.archived_at is not None and state.archived_at >= conversation.last_message_at


@login_required
def conversation(request, pk: int):
    """Read a conversation and answer in it. Opening it marks it read for the reader."""
    if request.method == "POST":
        access = access_conversation(request.user, pk, to_write=True)
        form = MessageForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                message = services.message_send(
                    conversation=access.conversation,
                    author=request.user,
                    body=form.cleaned_data["body"],
                    attachments=form.cleaned_data["attachments"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return redirect(message.get_absolute_url())
        return _conversation_page(request, access, form, status=400)
    access = access_conversation(request.user, pk)
    state = None
    if access.is_participant:
        state = services.conversation_mark_read(conversation=access.conversation, user=request.user)
    return _conversation_page(request, access, MessageForm(), state=state)


@login_required
@require_POST
def conversation_offer(request, pk: int):
    """One of the shop's people makes the conversation's buyer a private offer from the thread."""
    access = access_conversation(request.user, pk, to_write=True)
    if not access.for_shop:
        raise PermissionDenied("Only the shop's people make offers in a conversation.")
    offer_form = _offer_form(access.conversation, request.POST)
    if offer_form.is_valid():
        data = offer_form.cleaned_data
        try:
            offer = services.conversation_offer_make(
                conversation=access.conversation,
                actor=request.user,
                listing_id=data["listing"],
                price=data["price"],
                shipping_charge=data["shipping_charge"],
                ship_to=data["ship_to"],
                valid_days=data["valid_days"],
                message=data["message"],
            )
        except ValidationError as error:
            add_service_errors(offer_form, error)
        else:
            messages.success(request, f"Your private offer is on its way to {offer.buyer.public_name}.")
            return redirect(offer.thread_message.get_absolute_url())
    return _conversation_page(request, access, MessageForm(), offer_form=offer_form, status=400)


@login_required
@require_POST
def message_delete(request, pk: int, message_id: int):
    access = access_conversation(request.user, pk, to_write=True)
    message = access.conversation.messages.filter(pk=valid_id(message_id)).first() if valid_id(message_id) else None
    if message is None:
        raise Http404("No such message.")
    try:
        services.message_delete(message=message, actor=request.user)
    except (PermissionDenied, ValidationError) as refused:
        messages.error(request, refused.messages[0] if isinstance(refused, ValidationError) else str(refused))
    else:
        messages.success(request, "Your message has been deleted.")
    return redirect(message.get_absolute_url())


@login_required
@require_POST
def archive(request, pk: int):
    access = access_conversation(request.user, pk, to_write=True)
    archived = request.POST.get("archived") != "0"
    services.conversation_archive(conversation=access.conversation, user=request.user, archived=archived)
    if archived:
        messages.success(request, "Archived. It comes back to your inbox when someone writes in it.")
        if access.for_shop:
            return redirect("messaging:shop_inbox", slug=access.conversation.shop.slug)
        return redirect("messaging:inbox")
    messages.success(request, "Back in your inbox.")
    return redirect(access.conversation.get_absolute_url())


@login_required
@require_POST
def block(request, pk: int):
    """Block the other side of this conversation: the buyer (for the shop), or one of the
    shop's people (for the buyer)."""
    access = access_conversation(request.user, pk, to_write=True)
    conversation = access.conversation
    person_id = request.POST.get("person", "")
    if access.for_shop:
        if person_id != str(conversation.buyer_id):
            raise Http404("No such person in this conversation.")
        person, shop = conversation.buyer, conversation.shop
    else:
        authors = conversation.messages.filter(for_shop=True).values("author_id")
        person = User.objects.filter(pk=valid_id(person_id), pk__in=authors).first() if valid_id(person_id) else None
        if person is None:
            raise Http404("No such person in this conversation.")
        shop = None
    try:
        services.block_create(actor=request.user, blocked=person, shop=shop)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        target = shop.name if shop else "you"
        messages.success(request, f"{person.public_name} can no longer write to {target}.")
    return redirect(conversation.get_absolute_url())


@login_required
def report(request, pk: int):
    access = access_conversation(request.user, pk, to_write=True)
    conversation = access.conversation
    message = None
    message_id = request.GET.get("message") or request.POST.get("message")
    if message_id:
        message = conversation.messages.filter(pk=valid_id(message_id)).first() if valid_id(message_id) else None
        if message is None:
            raise Http404("No such message.")
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.report_create(
                conversation=conversation, reporter=request.user, message=message, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Thank you. A moderator will look at it; you will hear what they decide.")
            return redirect(conversation.get_absolute_url())
    return render(request, "messaging/report.html", {"form": form, "conversation": conversation, "message": message})


@login_required
def attachment(request, pk: int, attachment_id: int, size: str):
    """A picture of a message, to the conversation's people only (files are never served by URL)."""
    if size not in {"image", "thumbnail"}:
        raise Http404("No such picture.")
    access = access_conversation(request.user, pk, via=ModeratorAccess.Via.ATTACHMENT)
    picture = (
        Attachment.objects.filter(pk=valid_id(attachment_id), message__conversation=access.conversation).first()
        if valid_id(attachment_id)
        else None
    )
    if picture is None:
        raise Http404("No such picture.")
    response = FileResponse(getattr(picture, size).open("rb"), content_type="image/webp")
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- Blocks --------------------------------------------------------------------------------------


@login_required
def blocks(request):
    return render(request, "messaging/blocks.html", {"blocks": list(selectors.blocks_of(user=request.user))})


@login_required
@require_POST
def unblock(request, block_id: int):
    try:
        block = selectors.blocks_of(user=request.user).get(pk=valid_id(block_id) or 0)
        services.block_remove(actor=request.user, block_id=block.pk)
    except Block.DoesNotExist:
        raise Http404("No such block.") from None
    messages.success(
        request, f"{block.blocked.public_name} can write to {block.by_shop.name if block.by_shop else 'you'} again."
    )
    return redirect("messaging:blocks")


# --- Moderation -----------------------------------------------------------------------------------


def _require_moderator(user) -> None:
    if not user.is_staff:
        raise Http404("No such page.")


@login_required
def moderation(request):
    """The moderators' queue of open reports."""
    _require_moderator(request.user)
    page = Paginator(selectors.open_reports(), INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "messaging/moderation.html", {"page": page})


@login_required
@require_POST
def resolve(request, report_id: int):
    _require_moderator(request.user)
    report = Report.objects.select_related("conversation").filter(pk=valid_id(report_id) or 0).first()
    if report is None:
        raise Http404("No such report.")
    form = ResolveForm(request.POST)
    if form.is_valid():
        try:
            services.report_resolve(report=report, moderator=request.user, resolution=form.cleaned_data["resolution"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "The report is resolved; the person who made it has been told.")
    else:
        messages.error(request, "Say what you decided, for the person who reported it.")
    return redirect(reverse("messaging:moderation"))


# --- What conversations are worth to a shop ---------------------------------------------------------


@login_required
def conversation_value(request, slug: str):
    """For the shop's people: how many of its conversations led to an order, and their revenue."""
    shop = access_shop_for_edit(user=request.user, slug=slug)
    value = selectors.conversation_value(shop=shop)
    return render(request, "messaging/conversation_value.html", {"shop": shop, "value": value})
