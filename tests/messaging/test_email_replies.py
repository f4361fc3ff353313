"""Reply addresses and what counts as the answer in an e-mail reply."""

import time
from email import message_from_string, policy
from email.message import EmailMessage

import pytest

from messaging.email_replies import html_to_text, is_automatic, reply_text, strip_quoted_text
from messaging.reply_addresses import (
    ExpiredReplyAddress,
    InvalidReplyAddress,
    read_reply_address,
    reply_address,
)
from notifications.services import REPLY_MARKER

# --- Addresses -------------------------------------------------------------------------------


def test_an_address_names_its_conversation_and_person_and_fits_an_address():
    address = reply_address(conversation_id=1234, user_id=56)
    local, domain = address.split("@")

    assert domain == "plural.localhost"
    assert local.startswith("reply+") and len(local) <= 64 and local == local.lower()
    parsed = read_reply_address(address)
    assert (parsed.conversation_id, parsed.user_id) == (1234, 56)
    assert read_reply_address(address.upper().replace("PLURAL.LOCALHOST", "plural.localhost")) == parsed
    assert read_reply_address(f"<{address}>") == parsed


def test_large_ids_still_fit_in_64_characters():
    local = reply_address(conversation_id=2**40, user_id=2**40).split("@")[0]
    assert len(local) <= 64


def test_each_person_gets_a_different_address():
    assert reply_address(conversation_id=1, user_id=2, issued_at=100) != reply_address(
        conversation_id=1, user_id=3, issued_at=100
    )


@pytest.mark.parametrize(
    "tamper",
    [
        lambda a: a.replace("reply+1-", "reply+2-"),  # another conversation
        lambda a: a.replace("-2-", "-3-", 1),  # another person
        lambda a: a[: a.index("@") - 1] + ("a" if a[a.index("@") - 1] != "a" else "b") + a[a.index("@") :],
        lambda a: a.replace("plural.localhost", "example.org"),
        lambda a: "reply+nonsense@plural.localhost",
        lambda a: "someone@plural.localhost",
    ],
)
def test_forged_addresses_are_not_read(tamper):
    genuine = reply_address(conversation_id=1, user_id=2)
    with pytest.raises(InvalidReplyAddress):
        read_reply_address(tamper(genuine))


def test_addresses_expire(settings):
    issued = int(time.time()) - int(settings.PLURAL_REPLY_MAX_AGE.total_seconds()) - 10
    old = reply_address(conversation_id=1, user_id=2, issued_at=issued)
    with pytest.raises(ExpiredReplyAddress):
        read_reply_address(old)


def test_addresses_signed_with_a_retired_secret_key_still_work_while_it_is_a_fallback(settings):
    address = reply_address(conversation_id=7, user_id=8)
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    with pytest.raises(InvalidReplyAddress):
        read_reply_address(address)
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert read_reply_address(address).conversation_id == 7


def test_the_reply_domain_can_be_its_own(settings):
    settings.PLURAL_REPLY_DOMAIN = "reply.example.org"
    address = reply_address(conversation_id=1, user_id=2)
    assert address.endswith("@reply.example.org")
    assert read_reply_address(address).user_id == 2


# --- The answer in a reply --------------------------------------------------------------------------


GMAIL = """Yes, I'll take it.
Can you send it Monday?

On Tue, 3 Mar 2026 at 10:02, Plural <reply+1-2-abc-def@plural.localhost>
wrote:

> -- Write your answer above this line --
>
> Hello Bea,
> Olive Owner for Olive's Books wrote to you: Lichens
"""

OUTLOOK = """Thank you, that works.

________________________________
From: Plural <no-reply@plural.localhost>
Sent: Tuesday, March 3, 2026 10:02 AM
To: Bea Buyer
Subject: Olive Owner wrote to you

Hello Bea,
"""


@pytest.mark.parametrize(
    ("raw", "answer"),
    [
        (GMAIL, "Yes, I'll take it.\nCan you send it Monday?"),
        (OUTLOOK, "Thank you, that works."),
        ("Fine by me\n\n-----Original Message-----\nFrom: Plural\nold text", "Fine by me"),
        ("Deal.\n\n-- \nBea Buyer\nCollector of maps", "Deal."),
        ("Ok!\n\nSent from my iPhone\n\n> quoted", "Ok!"),
        ("Le mar. 3 mars 2026 à 10:02, Plural a écrit :\n> x", ""),
        ("Top\n> quoted line\nInline answer\n> more quote", "Top\nInline answer"),
        (f"Above\n\n{REPLY_MARKER}\n\nHello Bea,", "Above"),
        ("On Monday I wrote: the atlas is mine.\nStill true.", "On Monday I wrote: the atlas is mine.\nStill true."),
    ],
)
def test_quoted_history_and_signatures_are_left_out(raw, answer):
    assert strip_quoted_text(raw) == answer


def test_html_replies_are_turned_into_text_without_their_quotes():
    html = """<html><head><style>p {color: red}</style></head><body>
    <div dir="ltr">Yes &amp; <b>thank you</b>!<br>See you soon.</div>
    <ul><li>one</li><li>two</li></ul>
    <div class="gmail_quote"><div class="gmail_attr">On Tue, 3 Mar 2026, Plural wrote:<br></div>
    <blockquote>Hello Bea,<br><img src="x">old</blockquote></div></body></html>"""

    assert html_to_text(html) == "Yes & thank you!\nSee you soon.\n\n- one\n- two"


def test_outlook_html_stops_at_its_reply_separator():
    html = '<p>Agreed.</p><div id="appendonsend"></div><hr><div id="divRplyFwdMsg">From: Plural</div><p>old</p>'
    assert html_to_text(html) == "Agreed."


def mail(*, plain: str | None = None, html: str | None = None, **headers) -> EmailMessage:
    message = EmailMessage(policy=policy.default)
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    if plain is not None:
        message.set_content(plain)
    if html is not None:
        if plain is None:
            message.set_content(html, subtype="html")
        else:
            message.add_alternative(html, subtype="html")
    return message


def test_the_plain_part_is_preferred_and_html_only_mail_is_converted():
    both = mail(plain="Plain answer\n\n> quote", html="<p>HTML answer</p>")
    html_only = mail(html="<p>HTML answer</p><blockquote>quote</blockquote>")

    assert reply_text(both) == "Plain answer"
    assert reply_text(html_only) == "HTML answer"


def test_a_wrong_charset_does_not_lose_the_answer():
    raw = "Content-Type: text/plain; charset=no-such-charset\nContent-Transfer-Encoding: 8bit\n\nMerci beaucoup\n"
    assert reply_text(message_from_string(raw, policy=policy.default)) == "Merci beaucoup"


@pytest.mark.parametrize(
    ("headers", "automatic"),
    [
        ({}, False),
        ({"Auto_Submitted": "no"}, False),
        ({"Auto_Submitted": "auto-replied"}, True),
        ({"Precedence": "bulk"}, True),
        ({"X_Autoreply": "yes"}, True),
    ],
)
def test_automatic_replies_are_recognised(headers, automatic):
    assert is_automatic(mail(plain="I am away", **headers)) is automatic
