from collections import Counter

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Max

from catalog.models import Category, Listing, SearchDocument, Tag, TaggedListing
from marketplace.bench import generate
from messaging.models import Conversation, Message
from sellers.models import Shop
from social import recommendations
from social.models import Follow

pytestmark = pytest.mark.django_db

TINY = generate.custom_size(listings=600, shops=12, users=80)


def _snapshot():
    return list(Listing.objects.filter(sku__startswith="bench-").order_by("sku").values_list("sku", "title", "price"))


def test_generator_adds_its_data_once():
    first = generate.generate(size=TINY, seed=5)
    titles = _snapshot()

    assert generate.generate(size=TINY, seed=5) is None
    assert _snapshot() == titles
    assert first.counts["listings"] == 600 == Listing.objects.filter(sku__startswith="bench-").count()
    assert first.counts["shops"] == 12 == Shop.objects.filter(slug__startswith=generate.SHOP_PREFIX).count()


def test_generated_data_is_skewed_like_a_real_marketplace():
    report = generate.generate(size=TINY, seed=5)

    # Zipf words: the planted word is in most titles, the rare one in a handful, the zero-hit one nowhere.
    terms = report.search_terms
    assert terms["most_common"]["listings"] > 600 * 0.5
    assert terms["medium"]["listings"] < terms["common"]["listings"] < terms["most_common"]["listings"]
    assert terms["rare"]["listings"] <= 5
    assert not Listing.objects.filter(title__icontains=terms["zero"]["term"]).exists()
    # Tag popularity, shop size and follower counts follow power laws.
    uses = list(Tag.objects.filter(use_count__gt=0).order_by("-use_count").values_list("use_count", flat=True))
    assert uses[0] > 10 * uses[len(uses) // 2]
    by_shop = Listing.objects.values("shop").annotate(n=Count("pk")).aggregate(most=Max("n"))["most"]
    assert by_shop > 3 * 600 / 12
    followers = Follow.objects.filter(shop__isnull=False).values("shop").annotate(n=Count("pk"))
    assert max(row["n"] for row in followers) >= 80 // 2
    # One huge thread beside many short ones; a four-level category tree.
    lengths = sorted(Conversation.objects.annotate(n=Count("messages")).values_list("n", flat=True))
    assert lengths[-1] >= generate.HUGE_THREAD_MESSAGES and lengths[len(lengths) // 2] <= 5
    assert Category.objects.filter(parent__parent__parent__isnull=False).exists()
    # Tag use counts are maintained, and the search index holds what is on sale.
    tag = Tag.objects.order_by("-use_count").first()
    assert tag.use_count == TaggedListing.objects.filter(tag=tag).count()
    assert SearchDocument.objects.count() == Listing.objects.filter(status__in=["active", "sold_out"]).count()
    assert Message.objects.count() == report.counts["messages"]


def test_seed_demo_takes_a_size_and_reports_the_planted_terms(capsys):
    call_command("seed_demo", seed=5, listings=300, shops=6, users=40)

    out = capsys.readouterr().out
    assert "Search terms planted for each bucket" in out and f"most_common  {generate.PLANTED_COMMON_WORD}" in out
    assert Listing.objects.filter(sku__startswith="bench-").count() == 300
    assert Shop.objects.filter(slug__startswith=generate.SHOP_PREFIX).count() == 6


def test_orders_reviews_and_ratings_are_skewed_consistent_and_counted():
    from orders.lifecycle import FINAL_STATES, State
    from orders.models import Order, OrderDeadline, OrderItem
    from reviews.models import Review, ReviewTally, SellerRating, ShopRatingSummary
    from reviews.services import damped_score
    from social.models import ItemPair, PersonItem

    report = generate.generate(size=TINY, seed=5)

    lines = OrderItem.objects.count()
    assert lines == report.counts["order lines"] == TINY.order_lines
    assert 0 < Review.objects.count() + SellerRating.objects.count() <= TINY.reviews
    # A few very heavy buyers; most orders completed, some still open, a few cancelled.
    per_buyer = sorted(Order.objects.values("buyer").annotate(n=Count("items")).values_list("n", flat=True))
    assert per_buyer[-1] >= 5 * per_buyer[len(per_buyer) // 2]
    states = Counter(Order.objects.values_list("state", flat=True))
    assert states[State.COMPLETED] > 0.8 * sum(states.values()) and states[State.CANCELLED] > 0
    open_orders = Order.objects.exclude(state__in=FINAL_STATES)
    assert set(OrderDeadline.objects.values_list("order_id", flat=True).distinct()) == set(
        open_orders.values_list("pk", flat=True)
    )
    # Each review is of a line of the author's that shipped; the aggregates match a recount.
    assert not Review.objects.exclude(order_item__order__buyer=F("author")).exists()
    assert not Review.objects.filter(order__shipped_at__isnull=True).exists()
    tally = ReviewTally.objects.order_by("-review_count").first()
    counted = Review.objects.filter(listing_id=tally.listing_id, is_counted=True)
    assert (tally.review_count, tally.star_sum) == (counted.count(), sum(counted.values_list("stars", flat=True)))
    summary = ShopRatingSummary.objects.order_by("-rating_count").first()
    ratings = SellerRating.objects.filter(shop_id=summary.shop_id, is_counted=True)
    assert summary.rating_count == ratings.count() > 0
    assert summary.score == damped_score(total=sum(ratings.values_list("overall", flat=True)), count=ratings.count())
    # The recommendations were rebuilt from these purchases: a second rebuild changes nothing.
    assert report.counts["pairs of items"] == ItemPair.objects.count() > 0
    assert PersonItem.objects.filter(purchase_number__isnull=False).exists()
    assert recommendations.recommendations_rebuild().changed == 0


def test_a_marketplace_generated_before_the_orders_stage_gets_only_that_stage(monkeypatch):
    from orders.models import Order

    with monkeypatch.context() as patched:
        patched.setattr(generate.Generator, "orders", lambda self: None)
        generate.generate(size=TINY, seed=5)
    titles = _snapshot()
    assert not Order.objects.exists()

    added = generate.generate(size=TINY, seed=5)

    assert added.counts["order lines"] == TINY.order_lines and "listings" not in added.counts
    assert _snapshot() == titles
    assert generate.generate(size=TINY, seed=5) is None
    assert Order.objects.count() == added.counts["orders"]
