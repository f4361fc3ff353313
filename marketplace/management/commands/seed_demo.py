import random

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.demo import DEMO_PASSWORD, seed_people
from catalog.tag_demo import seed_tags
from messaging.demo import seed_conversations
from orders.demo import seed_orders
from reviews.demo import seed_reviews
from social.demo import count_recommendations, seed_social


class Command(BaseCommand):
    help = "Fill the database with deterministic demo data. Running it again changes nothing."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
        parser.add_argument(
            "--listings",
            type=int,
            default=0,
            metavar="N",
            help="also fill the catalog with N demo listings in demo shops (bulk inserts), then rebuild the "
            "search index",
        )
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="load demo accounts even with PLURAL_ENV=production (they share a known password)",
        )

    def _progress(self, text: str):
        """Progress on one line of a terminal; nothing in a log."""
        if not self.stdout.isatty():
            return None
        return lambda done: self.stdout.write(f"  {done:,} {text}", ending="\r")

    def handle(self, *args, seed: int, listings: int, allow_production: bool, **options):
        if settings.IS_PRODUCTION and not allow_production:
            raise CommandError("Refusing to load demo accounts with a known password in production.")
        if listings < 0:
            raise CommandError("--listings must be zero or more.")
        rng = random.Random(seed)  # noqa: S311 - deterministic demo data, not secrets
        with transaction.atomic():
            people = seed_people(rng=rng)
            orders = seed_orders(rng=rng, people=people)
            conversations = seed_conversations(people=people)
            reviews = seed_reviews()
        if listings:
            from catalog.demo import seed_listings

            created = seed_listings(
                seed=seed,
                count=listings,
                people=people,
                progress=self._progress(f"of {listings:,} listings ready"),
            )
            self.stdout.write(f"Demo catalog ready: {listings:,} listings ({created:,} new), search index rebuilt.")
        with transaction.atomic():
            seed_tags(people=people, seed=seed)
        with transaction.atomic():
            seed_social(people=people, seed=seed)
        count_recommendations()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {len(people)} people, {orders} new orders, {len(conversations)} conversations, "
                f"{reviews} new reviews and ratings. Log in as {people[0].email} "
                f"(or any demo person) with the password {DEMO_PASSWORD!r}."
            )
        )
