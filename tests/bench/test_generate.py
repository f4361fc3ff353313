import pytest
from django.core.management import call_command
from django.db.models import Count, Max

from catalog.models import Category, Listing, SearchDocument, Tag, TaggedListing
from marketplace.bench import generate
from messaging.models import Conversation, Message
from sellers.models import Shop
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
