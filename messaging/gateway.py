"""Plural's inbound mail gateway: an SMTP server (aiosmtpd) at which e-mail replies to
message notifications arrive, and become messages in their conversations.

An address is checked at RCPT time (a forged, expired or unknown one is refused with 550
there, so the sender's mail server bounces it at once) and again at DATA time, where the
reply's text is extracted (messaging.email_replies) and posted with services.message_send,
the service the pages use: the same blocks, limits and notifications apply. Nothing is
posted unless the answer is 250."""

import asyncio
import logging
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.utils import getaddresses

from aiosmtpd.controller import Controller
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections

from accounts.models import User
from sellers.models import ShopMember

from . import services
from .email_replies import is_automatic, reply_text
from .models import Conversation, Message
from .reply_addresses import ExpiredReplyAddress, InvalidReplyAddress, read_reply_address

logger = logging.getLogger(__name__)

UNKNOWN = "550 5.1.1 No such reply address"
EXPIRED = "550 5.1.1 This reply address has expired: please answer on the website"
NOT_A_PARTICIPANT = "550 5.7.1 You can no longer write in this conversation"
SOMEONE_ELSE = "550 5.7.1 This reply address was given to someone else"
ONE_RECIPIENT = "452 4.5.3 One reply address per e-mail, please"


def _smtp_text(text: str) -> str:
    """One line of ASCII, as SMTP replies must be."""
    text = text.replace("\u201c", '"').replace("\u201d", '"').replace("\u2019", "'")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(ascii_text.split())[:400]


@dataclass(frozen=True)
class ReplyTarget:
    conversation: Conversation
    user: User


class Refused(Exception):
    def __init__(self, reply: str):
        super().__init__(reply)
        self.reply = reply


def reply_target(address: str) -> ReplyTarget:
    """The conversation and person a reply address stands for, if it is genuine, current,
    and its person still takes part in the conversation; Refused (with the SMTP reply) if not."""
    try:
        parsed = read_reply_address(address)
    except ExpiredReplyAddress:
        raise Refused(EXPIRED) from None
    except InvalidReplyAddress:
        raise Refused(UNKNOWN) from None
    conversation = Conversation.objects.select_related("shop", "buyer").filter(pk=parsed.conversation_id).first()
    user = User.objects.filter(pk=parsed.user_id, is_active=True).first()
    if conversation is None or user is None:
        raise Refused(UNKNOWN)
    is_participant = (
        conversation.buyer_id == user.pk
        or ShopMember.objects.filter(shop_id=conversation.shop_id, user_id=user.pk).exists()
    )
    if not is_participant:
        raise Refused(NOT_A_PARTICIPANT)
    return ReplyTarget(conversation=conversation, user=user)


def _sent_by(user: User, *, mail_from: str, message) -> bool:
    """Whether the envelope sender or the From header is one of `user`'s addresses: a copy of
    the e-mail forwarded to someone else cannot be answered in their name."""
    known = {address.lower() for address in EmailAddress.objects.filter(user=user).values_list("email", flat=True)}
    if user.email:
        known.add(user.email.lower())
    senders = [mail_from or ""] + [address for _, address in getaddresses(message.get_all("From", []))]
    return any(sender.strip().strip("<>").lower() in known for sender in senders if sender)


def post_reply(*, recipient: str, mail_from: str, content: bytes) -> str:
    """Post the reply in `content` as a message and return the SMTP reply (250 when posted)."""
    try:
        target = reply_target(recipient)
    except Refused as refused:
        return refused.reply
    message = message_from_bytes(content, policy=policy.default)
    if is_automatic(message):
        # Accepted and dropped: an out-of-office answer is no message, and refusing it would
        # only make the auto-responder's server answer in turn.
        return "250 2.0.0 Automatic replies are not posted"
    if not _sent_by(target.user, mail_from=mail_from, message=message):
        return SOMEONE_ELSE
    text = reply_text(message)
    if not text:
        return "550 5.6.0 There is no answer in this e-mail once the quoted text is left out"
    try:
        posted = services.message_send(
            conversation=target.conversation,
            author=target.user,
            body=text,
            source=Message.Source.EMAIL,
            email_message_id=(message.get("Message-ID") or "").strip(),
        )
    except PermissionDenied:
        return NOT_A_PARTICIPANT
    except ValidationError as refused:
        if getattr(refused, "code", None) == "rate_limited":
            return f"451 4.7.1 {_smtp_text(refused.messages[0])}"
        return f"550 5.7.1 {_smtp_text(' '.join(refused.messages))}"
    logger.info("E-mail reply posted as message %s in conversation %s", posted.pk, target.conversation.pk)
    return "250 2.0.0 Posted in the conversation"


def _check_recipient(address: str) -> str | None:
    try:
        reply_target(address)
    except Refused as refused:
        return refused.reply
    return None


class ReplyHandler:
    """aiosmtpd handler. The database work runs in a small thread pool, off the event loop,
    and each call closes its connections: the gateway holds none between e-mails."""

    def __init__(self, workers: int = 4):
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mail-gateway")

    async def _run(self, function, **kwargs):
        def call():
            try:
                return function(**kwargs)
            finally:
                connections.close_all()

        return await asyncio.get_running_loop().run_in_executor(self.executor, call)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if envelope.rcpt_tos:
            return ONE_RECIPIENT
        refusal = await self._run(_check_recipient, address=address)
        if refusal:
            logger.info("Refused reply address %s: %s", address, refusal)
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if not envelope.rcpt_tos:
            return "503 5.5.1 No valid recipient"
        return await self._run(
            post_reply,
            recipient=envelope.rcpt_tos[0],
            mail_from=envelope.mail_from or "",
            content=envelope.original_content or envelope.content,
        )

    def close(self) -> None:
        self.executor.shutdown(wait=True)


class ReplyGateway:
    """The gateway listening on `host`:`port` in a thread of its own (start / stop)."""

    def __init__(self, *, host: str, port: int):
        self.handler = ReplyHandler()
        self.controller = Controller(
            self.handler,
            hostname=host,
            port=port,
            server_hostname=settings.PLURAL_REPLY_DOMAIN,
            ident=f"{settings.SITE_NAME} reply gateway",
            data_size_limit=settings.PLURAL_MAIL_GATEWAY_MAX_BYTES,
        )

    def start(self) -> "ReplyGateway":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
        self.handler.close()
