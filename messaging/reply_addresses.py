"""Per-recipient reply addresses: reply+<token>@PLURAL_REPLY_DOMAIN.

The token names a conversation and the one person it was given to, when it was issued, and
an HMAC of the three made with Django's signing key (django.utils.crypto.salted_hmac, the
primitive under django.core.signing, so SECRET_KEY_FALLBACKS rotate it the same way).
signing.dumps is not used as is: its tokens are longer than the 64 characters an address's
local part may have, and case-sensitive, while some mail systems lower-case addresses. This
token is lower-case base 36 and base 32 throughout and compared case-insensitively."""

import base64
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

SALT = "messaging.reply-address"
PREFIX = "reply+"
# 120 bits of HMAC: 24 base 32 characters.
SIGNATURE_BYTES = 15
TOKEN = re.compile(r"^([0-9a-z]+)-([0-9a-z]+)-([0-9a-z]+)-([a-z2-7]{24})$")


class InvalidReplyAddress(Exception):
    """Not an address Plural gave out: forged, mistyped or for another domain."""


class ExpiredReplyAddress(InvalidReplyAddress):
    """A genuine address, but older than PLURAL_REPLY_MAX_AGE."""


@dataclass(frozen=True)
class ReplyAddress:
    conversation_id: int
    user_id: int
    issued_at: int


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, remainder = divmod(number, 36)
        text = digits[remainder] + text
        if not number:
            return text


def _signature(value: str, secret) -> str:
    digest = salted_hmac(SALT, value, secret=secret, algorithm="sha256").digest()[:SIGNATURE_BYTES]
    return base64.b32encode(digest).decode().lower()


def reply_address(*, conversation_id: int, user_id: int, issued_at: int | None = None) -> str:
    """The address at which `user_id` answers in `conversation_id` by e-mail."""
    issued = int(time.time()) if issued_at is None else issued_at
    value = f"{_base36(conversation_id)}-{_base36(user_id)}-{_base36(issued)}"
    return f"{PREFIX}{value}-{_signature(value, settings.SECRET_KEY)}@{settings.PLURAL_REPLY_DOMAIN}"


def read_reply_address(address: str, *, now: float | None = None) -> ReplyAddress:
    """Who may answer where with `address`; raises InvalidReplyAddress (or ExpiredReplyAddress)."""
    local, _, domain = address.strip().strip("<>").rpartition("@")
    if domain.lower() != settings.PLURAL_REPLY_DOMAIN.lower() or not local.lower().startswith(PREFIX):
        raise InvalidReplyAddress(address)
    match = TOKEN.match(local[len(PREFIX) :].lower())
    if match is None:
        raise InvalidReplyAddress(address)
    conversation, user, issued, signature = match.groups()
    value = f"{conversation}-{user}-{issued}"
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    if not any(constant_time_compare(signature, _signature(value, secret)) for secret in secrets):
        raise InvalidReplyAddress(address)
    parsed = ReplyAddress(conversation_id=int(conversation, 36), user_id=int(user, 36), issued_at=int(issued, 36))
    current = time.time() if now is None else now
    if current - parsed.issued_at > settings.PLURAL_REPLY_MAX_AGE.total_seconds():
        raise ExpiredReplyAddress(address)
    return parsed
