"""Demo tags: shoppers' tags on the demo listings and a few followed tags, through the same
services as the site (so names are normalised and counts kept). Running it again adds nothing."""

import random

from . import tagging
from .models import Listing, Tag

DEMO_TAGS = [
    "first edition",
    "signed",
    "illustrated",
    "gift idea",
    "cosy reading",
    "cover art",
    "rare",
    "classic",
    "field guide",
    "vinyl",
    "jazz",
    "folk",
    "maps",
    "botany",
    "crime",
    "sci-fi",
    "poetry",
    "cookery",
    "children's books",
    "photography",
]
# A bounded number of listings, so seeding a large catalog stays quick.
TAGGED_LISTINGS = 200
TAGGERS_PER_LISTING = (0, 3)
TAGS_PER_TAGGER = (1, 2)
FOLLOWERS = 6


def seed_tags(*, people: list, seed: int) -> int:
    """Shoppers tag up to TAGGED_LISTINGS listings for sale; a few people follow a tag first
    (so they hear of listings tagged after). Returns how many listings were looked at."""
    if not people:
        return 0
    rng = random.Random(f"{seed}-tags")  # noqa: S311 - deterministic demo data, not secrets
    for person in people[:FOLLOWERS]:
        tag, _ = Tag.objects.get_or_create(name=tagging.normalise_tag_name(rng.choice(DEMO_TAGS)))
        tagging.tag_follow(user=person, tag=tag)
    listings = list(
        Listing.objects.filter(status=Listing.Status.ACTIVE).select_related("shop").order_by("pk")[:TAGGED_LISTINGS]
    )
    for listing in listings:
        for person in rng.sample(people, rng.randint(*TAGGERS_PER_LISTING)):
            for name in rng.sample(DEMO_TAGS, rng.randint(*TAGS_PER_TAGGER)):
                tagging.tag_apply(listing=listing, user=person, name=name)
    return len(listings)
