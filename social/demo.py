"""Demo data of the social layer for `seed_demo`: follows, sharing choices, favourite lists,
wants, and views counted into recommendations, all through the services (so activity and its
audiences are recorded as on the site). Deterministic, and running it again adds nothing:
follows and favourites are idempotent, lists and wants are looked up first, only people who
have not chosen yet choose, and views are counted once per person and item."""

import random

from catalog import wantlists
from catalog.models import Listing, Want
from sellers.models import Shop

from . import recommendations, services
from .models import Audience, FavouriteList, ListVisibility, SharingConsent

# Who shares what: the first few demo people share with everyone, the next with followers,
# the rest keep the defaults offered (purchases private, reviews public).
SHARING_PLANS = [
    dict.fromkeys(services.DEFAULT_AUDIENCES, Audience.EVERYONE),
    {**services.DEFAULT_AUDIENCES, "bought": Audience.FOLLOWED_BACK, "favourited": Audience.FOLLOWERS},
    dict(services.DEFAULT_AUDIENCES),
]
LISTS = [
    ("Wish list", ListVisibility.FOLLOWERS),
    ("Gift ideas", ListVisibility.PUBLIC),
    ("Just for me", ListVisibility.PRIVATE),
]
# What the demo wants say: words, tags, or both (tags from catalog.tag_demo, so shops see demand).
WANTS = [
    {"text": "lighthouse"},
    {"tags": ["vinyl"]},
    {"text": "coltrane", "tags": ["jazz"]},
    {"tags": ["botany"]},
    {"text": "heron linocut"},
    {"text": "maps", "tags": ["first edition"]},
]
FOLLOWS_PER_PERSON = (2, 5)
VIEWS_PER_PERSON = (3, 8)


def seed_social(*, people: list, seed: int) -> int:
    """Follows between the demo people and of shops, their sharing choices, lists of favourites,
    wants and views of listings (count_recommendations counts the views). Returns how many
    people were seeded."""
    if len(people) < 4:
        return 0
    rng = random.Random(f"{seed}-social")  # noqa: S311 - deterministic demo data, not secrets
    shops = list(Shop.objects.order_by("pk")[:20])
    listings = list(Listing.objects.filter(status=Listing.Status.ACTIVE).order_by("pk")[:200])
    for index, person in enumerate(people):
        if not SharingConsent.objects.filter(user=person).exists():
            plan = SHARING_PLANS[min(index // 4, len(SHARING_PLANS) - 1)]
            services.sharing_choose(user=person, audiences=plan, use_for_recommendations=True)
        others = [other for other in people if other.pk != person.pk]
        for other in rng.sample(others, rng.randint(*FOLLOWS_PER_PERSON)):
            services.follow_create(follower=person, person=other)
        for shop in rng.sample(shops, min(len(shops), 2)):
            if not shop.members.filter(user=person).exists():
                services.follow_create(follower=person, shop=shop)
        if listings:
            name, visibility = LISTS[index % len(LISTS)]
            chosen = FavouriteList.objects.filter(owner=person, name=name).first() or services.favourite_list_create(
                owner=person, name=name, visibility=visibility
            )
            for listing in rng.sample(listings, min(len(listings), 3)):
                if not listing.shop.members.filter(user=person).exists():
                    services.favourite_add(owner=person, listing=listing, favourite_list=chosen)
            for listing in rng.sample(listings, min(len(listings), rng.randint(*VIEWS_PER_PERSON))):
                recommendations.view_record(user=person, listing=listing)
        if index % 2 == 0 and not Want.objects.filter(user=person).exists():
            wanted = WANTS[(index // 2) % len(WANTS)]
            wantlists.want_create(user=person, visibility="public" if index % 4 == 0 else "private", **wanted)
    return len(people)


def count_recommendations() -> None:
    """Count the recorded views and purchases and recompute trending, as the task does."""
    recommendations.events_count()
    recommendations.trending_refresh()
