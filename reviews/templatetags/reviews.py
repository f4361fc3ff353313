"""Template tags that put reviews and ratings on other apps' pages (listing, storefront, order
pages) without those apps' views knowing about reviews. Each states what it costs in queries."""

from decimal import ROUND_HALF_UP, Decimal

from django import template

from .. import selectors

register = template.Library()

LISTING_PAGE_REVIEWS = 5
STOREFRONT_REVIEWS = 3


@register.inclusion_tag("reviews/_stars.html")
def stars(value, size: str = ""):
    """Five stars filled to `value` (a whole or decimal number of stars), with its text for screen readers."""
    if value is None:
        return {"value": None}
    filled = int(Decimal(str(value)).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    return {"value": value, "filled": range(filled), "empty": range(5 - filled), "size": size}


@register.simple_tag
def shop_stars(shop):
    """The shop's all-time rating and score (one query)."""
    return selectors.shop_stars(shop=shop)


@register.simple_tag
def shop_rating(shop):
    """The shop's rating of all time and of the last 12 months, and what moderation held or took
    down (two queries)."""
    return selectors.shop_rating(shop=shop)


@register.simple_tag(takes_context=True)
def listing_reviews_section(context, listing):
    """The listing page's reviews: the tally and the first few reviews of the listing and its
    other copies, in the order the visitor chose (?reviews=...), with the viewer's votes: one query."""
    request = context["request"]
    sort = selectors.sort_or_default(request.GET.get("reviews"))
    section = selectors.listing_reviews_section(
        listing=listing, sort=sort, user=request.user, limit=LISTING_PAGE_REVIEWS
    )
    return {
        "tally": section.tally,
        "reviews": section.reviews,
        "has_more": section.has_more,
        "sort": sort,
        "sorts": selectors.SORT_CHOICES,
    }


@register.simple_tag
def storefront_reviews(shop):
    """The storefront's most helpful reviews and its latest kind words (two queries)."""
    return {
        "reviews": list(selectors.shop_reviews(shop=shop, sort="helpful")[:STOREFRONT_REVIEWS]),
        "praise": selectors.praise(shop=shop),
    }


@register.simple_tag
def order_reviews(order):
    """The buyer's order page: each item's review, the rating and the shop's feedback (three queries)."""
    return selectors.order_review_state(order=order)


@register.simple_tag
def order_feedback(order):
    """The shop's order page: the buyer's rating, the shop's feedback and the buyer's record (three queries)."""
    return selectors.shop_order_feedback_state(order=order)


@register.filter
def percent_width(value) -> str:
    """A share in percent as the class of a bar that wide, in steps of 5, e.g. 42 -> "width-40".

    A class rather than a style attribute: the Content-Security-Policy allows no inline style."""
    return f"width-{min(100, max(0, round(int(value) / 5) * 5))}"


PROFILE_REVIEWS = 5


@register.simple_tag
def person_reviews(person):
    """A profile's latest published reviews and the feedback shops left on the person (two queries)."""
    return {
        "reviews": list(selectors.published_reviews_by(user=person)[:PROFILE_REVIEWS]),
        "record": selectors.buyer_record(buyer=person),
    }
