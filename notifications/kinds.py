"""The kinds of notification, each with its wording and its default channels.

Apps add a kind here and call notifications.services.notify with it; the preferences
page, the e-mail templates and the API pick the new kind up from this registry."""

from dataclasses import dataclass


class EmailMode:
    IMMEDIATE = "immediate"
    DIGEST = "digest"
    OFF = "off"

    CHOICES = [(IMMEDIATE, "At once"), (DIGEST, "In the daily digest"), (OFF, "Never")]
    VALUES = {IMMEDIATE, DIGEST, OFF}


@dataclass(frozen=True)
class Kind:
    slug: str
    label: str
    # str.format template filled from notify()'s context (always given `actor`).
    title: str
    email: str = EmailMode.IMMEDIATE
    in_app: bool = True
    # Sent on both channels whatever the person chose: what the law says they must be told.
    always_sent: bool = False


KINDS: dict[str, Kind] = {
    kind.slug: kind
    for kind in [
        Kind("message.new", "A new message in one of my conversations", "{actor} wrote to you: {subject}"),
        Kind("order.new", "A new order for my shop", "New order {order} from {actor}"),
        Kind("order.changed", "A change to one of my orders", "Order {order}: {change}"),
        Kind("order.reminder", "A deadline coming up on one of my orders", "Reminder for order {order}: {reminder}"),
        Kind("offer.received", "An offer made to me", "{actor} made you an offer on {subject}"),
        Kind("offer.changed", "A change to an offer I made or received", "Offer on {subject}: {change}"),
        Kind("thanks.received", "A thank-you note", "{actor} sent you a thank-you note"),
        Kind("case.changed", "A step in a problem case about one of my orders", "Problem with order {order}: {change}"),
        Kind("review.received", "A review or rating of my shop or listings", "{actor} reviewed {subject}"),
        Kind("review.replied", "A reply to my review", "{actor} replied to your review of {subject}"),
        Kind(
            "moderation.decided", "A moderator's decision about something I wrote or reported", "{subject}: {decision}"
        ),
        Kind("feedback.received", "A shop's feedback on me as a buyer", "{actor} left feedback on your order {order}"),
        Kind("feedback.revealed", "Feedback on one of my orders shown to both sides", "Order {order}: {change}"),
        Kind(
            "wantlist.matched",
            "A listing matching my want list",
            "Found for your want list: {subject}",
            EmailMode.DIGEST,
        ),
        Kind(
            "favourite.price_dropped", "A lower price on a favourite", "{subject} now costs {price}", EmailMode.DIGEST
        ),
        Kind("shop.listed", "A new listing from a shop I follow", "{actor} listed {subject}", EmailMode.DIGEST),
        Kind("tag.listed", "A new listing carrying a tag I follow", "New under “{tag}”: {subject}", EmailMode.DIGEST),
        Kind("export.ready", "My data export is ready", "Your data export is ready to download"),
        Kind(
            "privacy.breach",
            "A security incident that concerns my data",
            "Security notice: {subject}",
            always_sent=True,
        ),
    ]
}

# The kinds as the API's schema lists them.
KIND_SLUGS = sorted(KINDS)


def kind_for(slug: str) -> Kind:
    try:
        return KINDS[slug]
    except KeyError:
        raise ValueError(f"Unknown notification kind {slug!r}: add it to notifications.kinds.KINDS") from None
