import random

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.demo import DEMO_PASSWORD, seed_people
from catalog.tag_demo import seed_tags
from messaging.demo import seed_conversations


class Command(BaseCommand):
    help = "Fill the database with deterministic demo data. Running it again changes nothing."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="load demo accounts even with PLURAL_ENV=production (they share a known password)",
        )

    def handle(self, *args, seed: int, allow_production: bool, **options):
        if settings.IS_PRODUCTION and not allow_production:
            raise CommandError("Refusing to load demo accounts with a known password in production.")
        rng = random.Random(seed)  # noqa: S311 - deterministic demo data, not secrets
        with transaction.atomic():
            people = seed_people(rng=rng)
            conversations = seed_conversations(people=people)
            seed_tags(people=people, seed=seed)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {len(people)} people, {len(conversations)} conversations. "
                f"Log in as {people[0].email} "
                f"(or any demo person) with the password {DEMO_PASSWORD!r}."
            )
        )
