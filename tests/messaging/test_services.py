"""The conversation services: who may write, what is stored, who is told."""

import logging
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from messaging import selectors, services
from messaging.models import Attachment, Block, Conversation, Message, ParticipantState, Report
from notifications.models import Notification
from sellers.models import ShopMember
from tests.factories import ListingFactory, ShopFactory, UserFactory
from tests.images import image_bytes, upload

pytestmark = pytest.mark.django_db


def established(**fields):
    """Someone who joined long ago: the first-contact limit does not apply to them."""
    person = UserFactory(**fields)
    person.date_joined = timezone.now() - timedelta(days=400)
    person.save(update_fields=["date_joined"])
    return person


def snapshot():
    return (
        Conversation.objects.count(),
        Message.objects.count(),
        Attachment.objects.count(),
        Notification.objects.count(),
    )


# --- Starting and writing ---------------------------------------------------------------------


def test_a_buyer_starts_a_conversation_about_a_listing_and_every_shop_person_is_told(
    buyer, shop, shop_owner, shop_staff, listing
):
    started = services.conversation_start(buyer=buyer, shop=shop, listing=listing, body="Is it **still** available?")

    conversation = started.conversation
    assert started.is_new is True
    assert (conversation.buyer, conversation.shop, conversation.listing) == (buyer, shop, listing)
    assert conversation.subject == "A Field Guide to Lichens"
    assert conversation.context_title == "A Field Guide to Lichens"
    assert conversation.last_message == started.message
    message = started.message
    assert (message.author, message.for_shop, message.source) == (buyer, False, "web")
    assert message.body_html == "<p>Is it <strong>still</strong> available?</p>"
    told = Notification.objects.filter(kind="message.new").order_by("recipient__username")
    assert [(n.recipient.username, n.title, n.body) for n in told] == [
        ("olive", "Bea Buyer wrote to you: A Field Guide to Lichens", "Is it **still** available?"),
        ("sam", "Bea Buyer wrote to you: A Field Guide to Lichens", "Is it **still** available?"),
    ]
    assert {n.url for n in told} == {message.get_absolute_url()}
    assert all(n.reply_to.startswith("reply+") and n.reply_to.endswith("@plural.localhost") for n in told)
    assert told[0].reply_to != told[1].reply_to  # one address per recipient


def test_answers_are_signed_for_the_shop_and_tell_everyone_but_the_author(conversation, buyer, shop_owner, shop_staff):
    Notification.objects.all().delete()

    answer = services.message_send(conversation=conversation, author=shop_staff, body="Yes, it is.")

    assert answer.for_shop is True
    told = {n.recipient.username: n.title for n in Notification.objects.all()}
    assert told == {
        "bea": "Sam Staff for Olive's Books wrote to you: A Field Guide to Lichens",
        "olive": "Sam Staff for Olive's Books wrote to you: A Field Guide to Lichens",
    }
    conversation.refresh_from_db()
    assert conversation.last_message == answer


def test_the_notifications_are_written_in_the_transaction_of_the_message(conversation, shop_owner):
    before = snapshot()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.message_send(conversation=conversation, author=shop_owner, body="Yes")
        raise RuntimeError("the request failed after the message was written")

    assert snapshot() == before


def test_asking_again_about_the_same_listing_continues_that_conversation(conversation, buyer, shop, listing):
    again = services.conversation_start(buyer=buyer, shop=shop, listing=listing, body="And the second volume?")

    assert again.is_new is False
    assert again.conversation == conversation
    assert list(conversation.messages.values_list("body", flat=True)) == [
        "Is the lichen guide still available?",
        "And the second volume?",
    ]


def test_a_conversation_without_a_listing_gets_a_subject(buyer, shop):
    started = services.conversation_start(buyer=buyer, shop=shop, body="Do you buy collections?")
    typed = services.conversation_start(buyer=buyer, shop=shop, subject="  Selling   my atlases ", body="Hello")

    assert started.conversation.subject == "A question for Olive's Books"
    assert started.conversation.listing is None and started.conversation.context_title == ""
    assert typed.conversation.subject == "Selling my atlases"
    assert typed.conversation != started.conversation


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("", "Write a message."),
        ("   \n  ", "Write a message."),
        ("x" * 5001, "A message can be at most 5,000 characters; this one has 5,001."),
    ],
)
def test_empty_or_oversized_messages_are_refused_and_nothing_is_stored(conversation, buyer, shop, body, error):
    before = snapshot()

    with pytest.raises(ValidationError) as refused:
        services.message_send(conversation=conversation, author=buyer, body=body)
    assert refused.value.message_dict == {"body": [error]}
    with pytest.raises(ValidationError) as refused_start:
        services.conversation_start(buyer=buyer, shop=shop, body=body)
    assert refused_start.value.message_dict == {"body": [error]}

    assert snapshot() == before


def test_a_message_of_exactly_the_longest_length_is_kept_whole(conversation, buyer):
    message = services.message_send(conversation=conversation, author=buyer, body="y" * 5000)
    assert len(Message.objects.get(pk=message.pk).body) == 5000


def test_links_are_made_safe_and_scripts_removed(conversation, buyer):
    message = services.message_send(
        conversation=conversation,
        author=buyer,
        body="[photos](https://example.org/p) [x](javascript:alert(1)) <script>alert(2)</script>",
    )

    assert 'href="https://example.org/p"' in message.body_html
    assert 'rel="nofollow noopener noreferrer ugc"' in message.body_html
    assert "javascript:" not in message.body_html
    assert "<script" not in message.body_html


def test_only_the_buyer_and_the_shops_people_may_write(conversation, other_buyer, other_shop_owner, staff_user):
    before = snapshot()
    for outsider in (other_buyer, other_shop_owner, staff_user):
        with pytest.raises(PermissionDenied):
            services.message_send(conversation=conversation, author=outsider, body="Hello")
    assert snapshot() == before


def test_the_shops_own_people_cannot_open_a_conversation_with_it(shop, shop_staff, listing):
    with pytest.raises(ValidationError, match="You are one of the people of Olive's Books"):
        services.conversation_start(buyer=shop_staff, shop=shop, listing=listing, body="Hi")
    assert not Conversation.objects.exists()


def test_a_listing_of_another_shop_or_not_on_sale_is_no_context(buyer, shop, other_shop):
    elsewhere = ListingFactory(shop=other_shop)
    draft = ListingFactory(shop=shop, status="draft")
    for listing in (elsewhere, draft):
        with pytest.raises(ValidationError) as refused:
            services.conversation_start(buyer=buyer, shop=shop, listing=listing, body="Hi")
        assert refused.value.message_dict == {
            "listing": ["This listing is not on sale, so there is nothing to ask about it."]
        }
    assert not Conversation.objects.exists()


# --- Pictures ---------------------------------------------------------------------------------


def test_pictures_are_re_encoded_and_kept_out_of_public_media(conversation, buyer, settings):
    message = services.message_send(
        conversation=conversation,
        author=buyer,
        body="Here is mine",
        attachments=[upload(image_bytes(size=(2400, 1200)), "spine.png")],
    )

    [picture] = message.attachments.all()
    assert picture.image.path.startswith(str(settings.PRIVATE_MEDIA_ROOT))
    assert not str(picture.image.path).startswith(str(settings.MEDIA_ROOT))
    assert (picture.image.width, picture.image.height) == (1600, 800)
    assert (picture.thumbnail.width, picture.thumbnail.height) == (320, 160)
    assert picture.image.name.endswith(".webp")
    told = Notification.objects.filter(recipient__username="olive").latest("pk")
    assert told.body == "Here is mine\n\n(1 picture attached)"


@pytest.mark.parametrize(
    ("content", "name", "error"),
    [
        (b"%PDF-1.4 not a picture", "invoice.pdf", "invoice.pdf: This file is not an image we can read."),
        (image_bytes(image_format="TIFF"), "scan.png", "scan.png: Only JPEG, PNG, WebP and GIF images are accepted."),
    ],
)
def test_attachments_that_are_not_acceptable_pictures_are_refused(conversation, buyer, content, name, error):
    before = snapshot()

    with pytest.raises(ValidationError) as refused:
        services.message_send(
            conversation=conversation, author=buyer, body="See attached", attachments=[upload(content, name)]
        )

    [message] = refused.value.message_dict["attachments"]
    assert message.startswith(error)
    assert snapshot() == before


def test_pictures_with_too_many_pixels_are_refused_before_decoding(conversation, buyer, settings):
    settings.MAX_IMAGE_PIXELS = 10_000
    with pytest.raises(ValidationError) as refused:
        services.message_send(
            conversation=conversation, author=buyer, body="Huge", attachments=[upload(image_bytes(size=(300, 200)))]
        )
    assert refused.value.message_dict["attachments"] == [
        "picture.png: This image has too many pixels. Please upload one under 40 megapixels."
    ]
    assert conversation.messages.count() == 1


def test_no_message_email_carries_the_other_sides_address(
    conversation, buyer, shop_owner, shop_staff, smtp_server, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.message_send(conversation=conversation, author=buyer, body="Write to me at any time")
    with django_capture_on_commit_callbacks(execute=True):
        services.message_send(conversation=conversation, author=shop_staff, body="We will")

    sent = {mail["To"]: mail for mail in smtp_server.mailbox.messages}
    assert sorted(sent) == ["bea@example.com", "olive@example.com", "sam@example.com"]
    assert len(smtp_server.mailbox.messages) == 4  # Olive hears of both; Sam of Bea's; Bea of Sam's
    for mail in smtp_server.mailbox.messages:
        others = {"bea@example.com", "olive@example.com", "sam@example.com"} - {mail["To"]}
        assert not any(address in mail.as_string() for address in others), mail["To"]
        assert mail["From"] == "Plural <no-reply@plural.localhost>"
        assert mail["Reply-To"].startswith("reply+")


def test_too_large_or_too_many_pictures_are_refused(conversation, buyer, settings):
    settings.MAX_IMAGE_UPLOAD_BYTES = 1000
    before = snapshot()
    with pytest.raises(ValidationError) as too_large:
        services.message_send(
            conversation=conversation, author=buyer, body="Big", attachments=[upload(image_bytes(size=(900, 900)))]
        )
    assert too_large.value.message_dict["attachments"] == [
        "picture.png: This image is larger than 0 MB. Please upload a smaller file."
    ]
    settings.MAX_IMAGE_UPLOAD_BYTES = 5 * 1024 * 1024
    with pytest.raises(ValidationError) as too_many:
        services.message_send(
            conversation=conversation,
            author=buyer,
            body="Many",
            attachments=[upload(image_bytes(), f"p{n}.png") for n in range(5)],
        )
    assert too_many.value.message_dict["attachments"] == ["Attach at most 4 pictures to one message."]
    assert snapshot() == before


# --- Deleting ---------------------------------------------------------------------------------


def test_the_author_deletes_a_message_in_the_window_and_a_trace_stays(
    conversation, buyer, django_capture_on_commit_callbacks
):
    message = services.message_send(
        conversation=conversation, author=buyer, body="Oops, wrong shop", attachments=[upload(image_bytes())]
    )
    [picture] = message.attachments.all()
    storage, names = picture.image.storage, [picture.image.name, picture.thumbnail.name]

    def told():
        return set(Notification.objects.filter(target_id=str(message.pk)).values_list("body", flat=True))

    assert told() == {"Oops, wrong shop\n\n(1 picture attached)"}

    with django_capture_on_commit_callbacks(execute=True):
        services.message_delete(message=message, actor=buyer)

    stored = Message.objects.get(pk=message.pk)
    assert (stored.body, stored.body_html, stored.is_deleted) == ("", "", True)
    assert not stored.attachments.exists()
    assert not any(storage.exists(name) for name in names)
    assert told() == {""}
    assert services.message_delete(message=stored, actor=buyer).deleted_at == stored.deleted_at


def test_deleting_is_only_for_the_author_and_only_for_a_while(conversation, buyer, shop_owner, settings):
    message = conversation.messages.get()
    with pytest.raises(PermissionDenied):
        services.message_delete(message=message, actor=shop_owner)

    Message.objects.filter(pk=message.pk).update(created_at=timezone.now() - timedelta(minutes=16))
    message.refresh_from_db()
    with pytest.raises(ValidationError, match="only in the 15 minutes after it was sent"):
        services.message_delete(message=message, actor=buyer)

    settings.MESSAGING_DELETE_WINDOW = timedelta(minutes=30)
    services.message_delete(message=message, actor=buyer)
    assert Message.objects.get(pk=message.pk).is_deleted


# --- Read state and archive ---------------------------------------------------------------------


def unread_for(user):
    return {c.subject: c.viewer_unread for c in selectors.all_conversations(user=user)}


def test_read_state_is_per_person_and_counts_what_others_wrote(conversation, buyer, shop_owner, shop_staff):
    assert unread_for(shop_owner) == {"A Field Guide to Lichens": 1}
    assert unread_for(buyer) == {"A Field Guide to Lichens": 0}

    services.message_send(conversation=conversation, author=shop_staff, body="Yes")
    services.message_send(conversation=conversation, author=shop_staff, body="Shall I reserve it?")

    assert unread_for(buyer) == {"A Field Guide to Lichens": 2}
    assert unread_for(shop_owner) == {"A Field Guide to Lichens": 3}
    assert unread_for(shop_staff) == {"A Field Guide to Lichens": 0}
    assert selectors.unread_conversation_count(user=buyer) == 1

    services.conversation_mark_read(conversation=conversation, user=buyer)

    assert unread_for(buyer) == {"A Field Guide to Lichens": 0}
    assert unread_for(shop_owner) == {"A Field Guide to Lichens": 3}
    assert selectors.unread_conversation_count(user=buyer) == 0
    assert not Notification.objects.filter(recipient=buyer, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=shop_owner, read_at__isnull=True).count() == 3


def test_opening_a_conversation_answered_elsewhere_marks_its_notifications_read(conversation, buyer, shop_staff):
    """An answer sent by e-mail or through the API moves the reader's mark to the end without
    opening the page: opening it later still marks the notifications about the messages read."""
    services.message_send(conversation=conversation, author=shop_staff, body="Yes, it is here")
    services.message_send(conversation=conversation, author=buyer, body="I'll take it", source=Message.Source.EMAIL)
    assert ParticipantState.objects.get(conversation=conversation, user=buyer).last_read_message_id == (
        conversation.last_message_id
    )
    assert Notification.objects.filter(recipient=buyer, read_at__isnull=True).count() == 1

    state = services.conversation_mark_read(conversation=conversation, user=buyer)

    assert state.last_read_message_id == conversation.last_message_id
    assert not Notification.objects.filter(recipient=buyer, read_at__isnull=True).exists()


def test_archive_is_per_person_and_a_new_message_brings_it_back(conversation, buyer, shop_owner):
    services.conversation_archive(conversation=conversation, user=buyer)

    assert list(selectors.inbox(user=buyer)) == []
    assert list(selectors.inbox(user=buyer, box=selectors.ARCHIVED)) == [conversation]
    assert list(selectors.inbox(user=shop_owner, shop=conversation.shop)) == [conversation]

    services.message_send(conversation=conversation, author=shop_owner, body="Still interested?")

    assert list(selectors.inbox(user=buyer)) == [conversation]
    services.conversation_archive(conversation=conversation, user=buyer)
    services.conversation_archive(conversation=conversation, user=buyer, archived=False)
    assert list(selectors.inbox(user=buyer)) == [conversation]


def test_search_looks_in_subjects_the_other_party_and_standing_messages(buyer, shop, other_shop, shop_owner):
    about_maps = services.conversation_start(buyer=buyer, shop=shop, subject="Old maps", body="Any of Bristol?")
    records = services.conversation_start(buyer=buyer, shop=other_shop, body="Do you have Fela Kuti?")
    secret = services.message_send(conversation=about_maps.conversation, author=buyer, body="My budget is small")
    services.message_delete(message=secret, actor=buyer)

    assert list(selectors.inbox(user=buyer, query="bristol")) == [about_maps.conversation]
    assert list(selectors.inbox(user=buyer, query="OSCAR")) == [records.conversation]
    assert list(selectors.inbox(user=buyer, query="fela")) == [records.conversation]
    assert list(selectors.inbox(user=buyer, query="budget")) == []
    assert list(selectors.inbox(user=shop_owner, shop=shop, query="bea")) == [about_maps.conversation]
    assert list(selectors.inbox(user=shop_owner, shop=shop, query="fela")) == []


# --- Blocks ------------------------------------------------------------------------------------


def test_a_shop_blocks_a_buyer_who_then_cannot_write_to_it_at_all(conversation, buyer, shop, shop_staff, listing):
    services.block_create(actor=shop_staff, blocked=buyer, shop=shop)
    before = snapshot()

    with pytest.raises(ValidationError) as refused:
        services.message_send(conversation=conversation, author=buyer, body="Hello?")
    assert refused.value.messages == ["Olive's Books does not accept messages from you."]
    with pytest.raises(ValidationError, match="does not accept messages from you"):
        services.conversation_start(buyer=buyer, shop=shop, body="A new question")
    with pytest.raises(ValidationError, match="does not accept messages from you"):
        services.conversation_start(buyer=buyer, shop=shop, listing=listing, body="Again")
    assert snapshot() == before

    # The shop can still answer, and the block can be lifted by any of its people.
    services.message_send(conversation=conversation, author=shop_staff, body="We have closed this.")
    [block] = Block.objects.all()
    services.block_remove(actor=conversation.shop.owner, block_id=block.pk)
    services.message_send(conversation=conversation, author=buyer, body="Thank you")


def test_a_buyer_blocks_one_of_the_shops_people(conversation, buyer, shop_owner, shop_staff):
    services.block_create(actor=buyer, blocked=shop_staff)

    with pytest.raises(ValidationError, match=r"Bea Buyer does not accept messages from you any more\."):
        services.message_send(conversation=conversation, author=shop_staff, body="Hello again")
    services.message_send(conversation=conversation, author=shop_owner, body="Sorry about Sam")
    assert services.block_create(actor=buyer, blocked=shop_staff) == Block.objects.get()


def test_blocks_that_make_no_sense_are_refused(buyer, shop, shop_owner, shop_staff, other_buyer):
    with pytest.raises(ValidationError, match=r"You cannot block yourself\."):
        services.block_create(actor=buyer, blocked=buyer)
    with pytest.raises(ValidationError, match=r"Sam Staff is one of the people of Olive's Books\."):
        services.block_create(actor=shop_owner, blocked=shop_staff, shop=shop)
    with pytest.raises(PermissionDenied):
        services.block_create(actor=other_buyer, blocked=buyer, shop=shop)
    with pytest.raises(Block.DoesNotExist):
        services.block_remove(actor=other_buyer, block_id=services.block_create(actor=buyer, blocked=shop_owner).pk)
    assert Block.objects.count() == 1


# --- Limits ------------------------------------------------------------------------------------


def test_a_new_account_may_open_only_a_few_conversations_a_day(settings, shop, other_shop):
    settings.MESSAGING_NEW_ACCOUNT_CONVERSATIONS_PER_DAY = 2
    newcomer = UserFactory()
    shops = [shop, other_shop]
    for target in shops:
        services.conversation_start(buyer=newcomer, shop=target, body="Hello")
    before = snapshot()

    with pytest.raises(ValidationError) as refused:
        services.conversation_start(buyer=newcomer, shop=shop, body="A third")
    assert refused.value.code == "first_contact_limit"
    assert "New accounts can start 2 conversations a day" in refused.value.messages[0]
    assert snapshot() == before

    # Writing in the conversations one has goes on; a day later, so does starting new ones.
    services.message_send(conversation=Conversation.objects.first(), author=newcomer, body="Still there?")
    Conversation.objects.filter(buyer=newcomer).update(created_at=timezone.now() - timedelta(days=1, minutes=1))
    services.conversation_start(buyer=newcomer, shop=shop, body="A third, the next day")
    old_hand = established()
    for number in range(3):
        services.conversation_start(buyer=old_hand, shop=shop, body=f"Question {number}")


def test_sending_too_fast_is_refused_with_nothing_stored(settings, conversation, buyer):
    settings.MESSAGING_SEND_RATE_PER_MINUTE = 3  # the conversation's first message counts too
    services.message_send(conversation=conversation, author=buyer, body="two")
    services.message_send(conversation=conversation, author=buyer, body="three")
    before = snapshot()

    with pytest.raises(ValidationError) as refused:
        services.message_send(conversation=conversation, author=buyer, body="four")

    assert refused.value.code == "rate_limited"
    assert refused.value.messages[0].startswith("You have sent 3 messages in a minute, the most we allow.")
    assert snapshot() == before


def test_the_hourly_limit_holds_across_minutes(settings, conversation, buyer):
    settings.MESSAGING_SEND_RATE_PER_HOUR = 2
    services.message_send(conversation=conversation, author=buyer, body="two")
    with pytest.raises(ValidationError, match="You have sent 2 messages in an hour"):
        services.message_send(conversation=conversation, author=buyer, body="three")


@pytest.fixture
def cache_down(settings):
    """The cache is Redis, and Redis does not answer (nothing listens on its port)."""
    from marketplace.settings import redis_cache
    from tests.mailserver import free_port

    settings.CACHES = {"default": redis_cache(f"redis://127.0.0.1:{free_port()}/0")}


def test_rate_limits_fail_open_while_the_cache_is_down(settings, cache_down, conversation, buyer, caplog):
    settings.MESSAGING_SEND_RATE_PER_MINUTE = 1
    with caplog.at_level(logging.WARNING, logger="messaging.ratelimits"):
        for number in range(3):
            services.message_send(conversation=conversation, author=buyer, body=f"message {number}")

    assert conversation.messages.count() == 4
    assert "message rate limits are not enforced" in caplog.text


# --- Reports and moderation -------------------------------------------------------------------------


def test_participants_report_and_moderators_resolve(conversation, buyer, shop_owner, staff_user, other_buyer):
    message = conversation.messages.get()
    report = services.report_create(
        conversation=conversation, reporter=shop_owner, reason="spam", details="Sent to every shop", message=message
    )
    with pytest.raises(ValidationError, match="You have reported this already"):
        services.report_create(conversation=conversation, reporter=shop_owner, reason="abuse", message=message)
    with pytest.raises(PermissionDenied):
        services.report_create(conversation=conversation, reporter=other_buyer, reason="spam")
    with pytest.raises(ValidationError) as bad_reason:
        services.report_create(conversation=conversation, reporter=buyer, reason="boring")
    assert bad_reason.value.message_dict == {"reason": ["Choose a reason."]}
    assert list(Report.objects.values_list("pk", flat=True)) == [report.pk]

    with pytest.raises(PermissionDenied):
        services.report_resolve(report=report, moderator=shop_owner, resolution="No")
    services.report_resolve(report=report, moderator=staff_user, resolution="We warned the buyer.")

    report.refresh_from_db()
    assert (report.status, report.resolved_by, report.resolution) == ("resolved", staff_user, "We warned the buyer.")
    decision = Notification.objects.get(recipient=shop_owner, kind="moderation.decided")
    assert decision.title == "Your report about “A Field Guide to Lichens”: We warned the buyer."
    with pytest.raises(ValidationError, match="resolved already"):
        services.report_resolve(report=report, moderator=staff_user, resolution="Again")


def test_removed_shop_people_no_longer_write_or_count(conversation, shop, shop_staff):
    ShopMember.objects.filter(shop=shop, user=shop_staff).delete()
    with pytest.raises(PermissionDenied):
        services.message_send(conversation=conversation, author=shop_staff, body="Still here")
    assert ParticipantState.objects.filter(user=shop_staff).count() == 0


def test_the_unread_badge_counts_up_to_its_cap_and_says_so(shop, shop_owner, client, monkeypatch):
    """Conversations of the shop and the owner's own as a buyer both count, each once; past the
    cap the header says "N+" and the API says there may be more."""
    from messaging import context_processors

    elsewhere = ShopFactory(name="Elsewhere")
    for number in range(2):
        services.conversation_start(buyer=established(), shop=shop, body=f"Question {number}")
    services.conversation_start(buyer=shop_owner, shop=elsewhere, body="Do you post abroad?")
    services.message_send(
        conversation=Conversation.objects.get(buyer=shop_owner), author=elsewhere.owner, body="We do."
    )
    assert selectors.unread_conversation_count(user=shop_owner) == 3
    client.force_login(shop_owner)
    assert api_unread(client) == {"unread_conversations": 3, "more": False}

    monkeypatch.setattr(selectors, "UNREAD_BADGE_CAP", 2)
    monkeypatch.setattr(context_processors, "UNREAD_BADGE_CAP", 2)
    assert selectors.unread_conversation_count(user=shop_owner) == 2
    assert api_unread(client) == {"unread_conversations": 2, "more": True}
    assert '<span class="badge count">1+<span' in client.get("/messages/").content.decode()


def api_unread(client) -> dict:
    return client.get("/api/conversations/unread-count/").json()
