"""The registry of personal data: every link from a stored row to a person, and what Plural does
with it when the person takes their data away (export) or deletes their account (erasure).

Each app's models that point at a person are listed here, one entry per foreign key. The
coverage test (tests/accounts/test_privacy_registry.py) walks every installed model and fails
for a foreign key to the user model that has no entry, so a new app that stores something
about people must say here what happens to it before its tests pass.

Erasure keeps the account's row as an emptied tombstone ("Former member"): orders, reviews
kept as history and the other side's conversations still point at it, and it holds nothing
personal any more. Rows whose link is `DELETE` go; `ANONYMISE` rows stay with their personal
fields emptied by the entry's function; `KEEP` rows stay as they are, pointing at the tombstone,
because nothing in them is about the person beyond that link (or because they are someone
else's record, such as a moderator's decision)."""

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from django.apps import apps
from django.db.models import QuerySet, Value
from django.db.models.functions import Coalesce, Replace

FORMER_MEMBER = "Former member"


class Erasure(StrEnum):
    DELETE = "delete"
    ANONYMISE = "anonymise"
    KEEP = "keep"


@dataclass(frozen=True)
class PersonalLink:
    model: str  # "app_label.ModelName"
    field: str  # the foreign key to the person
    erasure: Erasure
    # Which section of the export carries these rows (see accounts.exports.SECTIONS), or why none does.
    exported_in: str = ""
    not_exported_because: str = ""
    anonymise: Callable[[QuerySet, object], None] | None = None
    retention: str = "Until you delete it or your account."

    @property
    def model_class(self):
        return apps.get_model(self.model)

    def rows_of(self, user) -> QuerySet:
        return self.model_class._default_manager.filter(**{self.field: user})


def _blank(**values):
    def anonymise(rows: QuerySet, user) -> None:
        rows.update(**values)

    return anonymise


def _replace_names(rows: QuerySet, field: str, user) -> None:
    for name in sorted({user.public_name, user.username} - {""}, key=len, reverse=True):
        rows.update(**{field: Replace(field, Value(name), Value(FORMER_MEMBER))})


def _orders(rows: QuerySet, user) -> None:
    # Kept for the shop's books (what was sold, when, for how much, to which country for tax);
    # who it went to and where is erased.
    rows.update(
        ship_name=FORMER_MEMBER,
        ship_line1="",
        ship_line2="",
        ship_city="",
        ship_postal_code="",
        ship_region="",
        ship_phone="",
        buyer_note="",
        tracking_number="",
    )
    # The orders' histories were worded with the buyer's name ("Bea wrote a thank-you note").
    _replace_names(apps.get_model("orders.OrderEvent").objects.filter(order__in=rows), "message", user)


def _messages(rows: QuerySet, user) -> None:
    # The other side's messages stay in their conversations; the person's own are emptied,
    # leaving the same "message deleted" trace a deleted message leaves.
    from django.utils import timezone

    from marketplace.storage import private_storage

    attachments = apps.get_model("messaging.Attachment").objects.filter(message__in=rows)
    for attachment in attachments:
        for file in (attachment.image, attachment.thumbnail):
            if file and private_storage.exists(file.name):
                private_storage.delete(file.name)
    attachments.delete()
    rows.update(deleted_at=Coalesce("deleted_at", Value(timezone.now())), body="", body_html="", email_message_id="")


def _notifications_as_actor(rows: QuerySet, user) -> None:
    # Other people's notifications were worded with the person's name when they were made.
    _replace_names(rows, "title", user)
    rows.update(actor=None)


def _signed(rows: QuerySet, user) -> None:
    rows.update(signed_as=FORMER_MEMBER)


def _offers_made(rows: QuerySet, user) -> None:
    rows.update(signed_as=FORMER_MEMBER, made_by=None)


def _events(rows: QuerySet, user) -> None:
    _replace_names(rows, "message", user)
    rows.update(note="", actor=None)


def _review_replies(rows: QuerySet, user) -> None:
    # A reply is the shop's voice: it stays, no longer tied to the person who wrote it.
    rows.update(replied_by=None)


D, A, K = Erasure.DELETE, Erasure.ANONYMISE, Erasure.KEEP
ACTIVITY_RETENTION = "Until you delete it, stop sharing or delete your account."

REGISTRY: list[PersonalLink] = [
    # Django and allauth
    PersonalLink(
        "admin.LogEntry",
        "user",
        K,
        not_exported_because="The operators' audit trail of their own changes in the admin.",
        retention="For as long as the site runs: operators answer for their changes.",
    ),
    PersonalLink("account.EmailAddress", "user", D, exported_in="email_addresses"),
    PersonalLink("socialaccount.SocialAccount", "user", D, exported_in="linked_accounts"),
    PersonalLink(
        "allauth_idp_oidc.Client",
        "owner",
        D,
        not_exported_because="Apps registered to sign in with this site work only here.",
    ),
    PersonalLink(
        "allauth_idp_oidc.Token",
        "user",
        D,
        not_exported_because="Access granted to apps on this site works only here.",
        retention="Until the access expires or is withdrawn.",
    ),
    # accounts
    PersonalLink(
        "accounts.ApiToken",
        "user",
        D,
        not_exported_because="Secrets that work only on this site; your API tokens page lists them.",
        retention="Until you revoke it or delete your account.",
    ),
    # Second factors and the sessions list: security records, never exported (a secret or a key).
    PersonalLink("mfa.Authenticator", "user", D, not_exported_because="A secret that signs you in: never copied out."),
    PersonalLink("usersessions.UserSession", "user", D, not_exported_because="Shown on the sessions page."),
    # sellers
    PersonalLink("sellers.Shop", "owner", K, exported_in="shop", retention="For as long as the shop exists."),
    PersonalLink("sellers.ShopMember", "user", D, exported_in="shop_memberships"),
    PersonalLink(
        "sellers.InventoryImport",
        "uploaded_by",
        A,
        exported_in="shop",
        anonymise=_blank(uploaded_by=None),
        retention="For as long as the shop exists.",
    ),
    # catalog
    PersonalLink(
        "catalog.Tag",
        "merged_by",
        A,
        not_exported_because="A moderator's act on a shared tag.",
        anonymise=_blank(merged_by=None),
    ),
    PersonalLink(
        "catalog.Tag",
        "hidden_by",
        A,
        not_exported_because="A moderator's act on a shared tag.",
        anonymise=_blank(hidden_by=None),
    ),
    PersonalLink("catalog.TaggedListing", "tagged_by", D, exported_in="tags"),
    PersonalLink("catalog.TagFollow", "user", D, exported_in="tag_follows"),
    PersonalLink(
        "catalog.TagFollowNotice",
        "user",
        D,
        not_exported_because="Only remembers which listings were already announced to you.",
    ),
    PersonalLink("catalog.Want", "user", D, exported_in="wants"),
    # notifications
    PersonalLink(
        "notifications.Notification",
        "recipient",
        D,
        exported_in="notifications",
        retention="Read ones for the period below; unread ones until you read or delete them.",
    ),
    PersonalLink(
        "notifications.Notification",
        "actor",
        A,
        not_exported_because="Other people's notifications about what you did.",
        anonymise=_notifications_as_actor,
    ),
    PersonalLink("notifications.Preference", "user", D, exported_in="notification_preferences"),
    # orders
    PersonalLink("orders.Address", "user", D, exported_in="addresses"),
    PersonalLink("orders.Cart", "owner", D, exported_in="cart", retention="Until you check out or empty it."),
    PersonalLink(
        "orders.Checkout",
        "buyer",
        K,
        exported_in="orders",
        retention="As long as the orders it made (record keeping).",
    ),
    PersonalLink(
        "orders.Order",
        "buyer",
        A,
        exported_in="orders",
        anonymise=_orders,
        retention="Ten years (record keeping); on deletion only what the books need is kept.",
    ),
    PersonalLink("orders.OrderEvent", "actor", A, exported_in="orders", anonymise=_events),
    PersonalLink("orders.Offer", "buyer", D, exported_in="offers"),
    PersonalLink("orders.Offer", "made_by", A, exported_in="offers", anonymise=_offers_made),
    PersonalLink("orders.OfferEvent", "actor", A, exported_in="offers", anonymise=_events),
    PersonalLink(
        "orders.ThankYouNote",
        "author",
        D,
        exported_in="thank_you_notes",
    ),
    PersonalLink(
        "orders.Case",
        "decided_by",
        K,
        not_exported_because="A moderator's decision, kept as the record of the case.",
    ),
    PersonalLink(
        "orders.Case",
        "appeal_decided_by",
        K,
        not_exported_because="A moderator's decision, kept as the record of the case.",
    ),
    PersonalLink("orders.CaseProposal", "made_by", A, exported_in="orders", anonymise=_signed),
    PersonalLink(
        "orders.CaseAccessLog",
        "moderator",
        K,
        not_exported_because="The record of a moderator's reads, shown to the people of the case.",
    ),
    # messaging
    PersonalLink(
        "messaging.Conversation",
        "buyer",
        K,
        exported_in="conversations",
        retention="Closed conversations for the period below.",
    ),
    PersonalLink("messaging.Message", "author", A, exported_in="conversations", anonymise=_messages),
    PersonalLink("messaging.ParticipantState", "user", D, not_exported_because="Only which messages you have read."),
    PersonalLink("messaging.Block", "blocked", D, not_exported_because="Other people's decision to block you."),
    PersonalLink("messaging.Block", "by_user", D, exported_in="blocks"),
    PersonalLink("messaging.Block", "created_by", A, exported_in="blocks", anonymise=_blank(created_by=None)),
    PersonalLink("messaging.Report", "reporter", K, exported_in="reports"),
    PersonalLink("messaging.Report", "resolved_by", K, not_exported_because="A moderator's decision on a report."),
    PersonalLink(
        "messaging.ModeratorAccess",
        "moderator",
        K,
        not_exported_because="The record of a moderator's reads, shown to the conversation's people.",
    ),
    # reviews
    PersonalLink(
        "reviews.Review",
        "author",
        K,
        exported_in="reviews_written",
        retention="Until you delete it; on account deletion kept as a former member's unless you choose otherwise.",
    ),
    PersonalLink("reviews.Review", "replied_by", A, exported_in="reviews_written", anonymise=_review_replies),
    PersonalLink(
        "reviews.SellerRating",
        "author",
        K,
        exported_in="ratings_written",
        retention="Until you delete it; on account deletion kept as a former member's unless you choose otherwise.",
    ),
    PersonalLink("reviews.SellerRating", "replied_by", A, exported_in="ratings_written", anonymise=_review_replies),
    PersonalLink("reviews.BuyerFeedback", "buyer", K, exported_in="feedback_received"),
    PersonalLink("reviews.BuyerFeedback", "author", A, exported_in="feedback_received", anonymise=_blank(author=None)),
    PersonalLink("reviews.HelpfulVote", "voter", D, exported_in="helpful_votes"),
    PersonalLink("reviews.Flag", "reporter", K, exported_in="reports"),
    PersonalLink(
        "reviews.ModerationDecision",
        "moderator",
        K,
        not_exported_because="A moderator's decision, kept as the record of the review.",
    ),
    PersonalLink("reviews.Appeal", "appellant", K, exported_in="reports"),
    # social
    PersonalLink("social.SharingSettings", "user", D, exported_in="sharing"),
    PersonalLink("social.AudienceChoice", "user", D, exported_in="sharing"),
    PersonalLink("social.SharingConsent", "user", D, exported_in="consents"),
    PersonalLink("social.Follow", "follower", D, exported_in="follows"),
    PersonalLink("social.Follow", "person", D, not_exported_because="Other people's follows of you (counted only)."),
    PersonalLink("social.FavouriteList", "owner", D, exported_in="favourites"),
    PersonalLink("social.Activity", "actor", D, exported_in="activity", retention=ACTIVITY_RETENTION),
    PersonalLink(
        "social.ListingEvent",
        "actor",
        A,
        not_exported_because="A shop's listing news waiting to be told to its followers.",
        anonymise=_blank(actor=None),
    ),
    PersonalLink(
        "social.RecommendationEvent",
        "user",
        D,
        exported_in="recommendation_data",
        retention="View events for the period below.",
    ),
    PersonalLink(
        "social.PersonItem",
        "user",
        D,
        exported_in="recommendation_data",
        retention="Views for the period below; purchases as long as the account.",
    ),
    # accounts
    PersonalLink("accounts.ConsentRecord", "user", D, exported_in="consents"),
    PersonalLink(
        "accounts.DataExport",
        "user",
        D,
        exported_in="exports",
        retention="Downloadable for the period below, then the file is removed.",
    ),
    PersonalLink("accounts.DataAccess", "subject", D, exported_in="access_log"),
    PersonalLink(
        "accounts.DataAccess",
        "accessed_by",
        K,
        not_exported_because="The record of an operator's reads, shown to the person read.",
    ),
    PersonalLink(
        "accounts.BreachNotice", "sent_by", K, not_exported_because="An operator's notice, kept as the record."
    ),
]

# Models that hold something about a person without a foreign key of their own to the user:
# they are reached through a registered link and go (or stay) with it.
REACHED_THROUGH = {
    "sessions.Session": "Ended on deletion: the account can no longer sign in.",
    "account.EmailConfirmation": "Deleted with the e-mail address.",
    "socialaccount.SocialToken": "Deleted with the linked account.",
    "messaging.Attachment": "Deleted with the person's messages.",
    "orders.OrderItem": "Part of an order.",
    "orders.CartItem": "Part of the cart.",
    "orders.ReturnRequest": "Part of an order.",
    "social.Favourite": "Part of a favourites list.",
    "catalog.WantMatch": "Part of a want.",
    "catalog.WantWord": "Part of a want.",
    "catalog.WantTag": "Part of a want.",
    "reviews.Revision": "Part of a review.",
}
