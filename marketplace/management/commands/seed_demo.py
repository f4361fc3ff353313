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
            "--size",
            choices=["S", "M", "L"],
            help="also add a large generated marketplace (marketplace.bench.generate): S takes seconds, M "
            "(1,000,000 listings) minutes on PostgreSQL, L is ten times M",
        )
        parser.add_argument("--shops", type=int, default=0, metavar="N", help="shops of the generated marketplace")
        parser.add_argument("--users", type=int, default=0, metavar="N", help="people of the generated marketplace")
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

    def handle(
        self,
        *args,
        seed: int,
        listings: int,
        size: str | None,
        shops: int,
        users: int,
        allow_production: bool,
        **options,
    ):
        if settings.IS_PRODUCTION and not allow_production:
            raise CommandError("Refusing to load demo accounts with a known password in production.")
        if min(listings, shops, users) < 0:
            raise CommandError("--listings, --shops and --users must be zero or more.")
        generated = size or shops or users
        rng = random.Random(seed)  # noqa: S311 - deterministic demo data, not secrets
        with transaction.atomic():
            people = seed_people(rng=rng)
            orders = seed_orders(rng=rng, people=people)
            conversations = seed_conversations(people=people)
            reviews = seed_reviews()
        if listings and not generated:
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
        if generated:
            self._generate(size=size, listings=listings, shops=shops, users=users, seed=seed)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {len(people)} people, {orders} new orders, {len(conversations)} conversations, "
                f"{reviews} new reviews and ratings. Log in as {people[0].email} "
                f"(or any demo person) with the password {DEMO_PASSWORD!r}."
            )
        )

    def _generate(self, *, size: str | None, listings: int, shops: int, users: int, seed: int) -> None:
        from marketplace.bench import generate

        chosen = generate.SIZES[size or "S"]
        if listings or shops or users:
            chosen = generate.custom_size(base=size or "S", listings=listings, shops=shops, users=users)
        self.stdout.write(
            f"Generating a marketplace of {chosen.listings:,} listings, {chosen.shops:,} shops and "
            f"{chosen.users:,} people:"
        )
        report = generate.generate(size=chosen, seed=seed, stream=self.stdout)
        if report is None:
            self.stdout.write("The generated marketplace is already there: nothing added.")
            return
        self.stdout.write("Search terms planted for each bucket (listings holding them):")
        for bucket, found in report.search_terms.items():
            held = "" if found["listings"] is None else f" ({found['listings']:,})"
            self.stdout.write(f"  {bucket:<12} {found['term']}{held}")
