import time

from django.core.management.base import BaseCommand

from catalog.search import INDEX_BATCH_SIZE, get_backend, rebuild_index


class Command(BaseCommand):
    help = (
        "Rebuild the search index from the listings, in bulk and in one transaction (searches keep "
        "the old index until it is done). Safe to run at any time."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=INDEX_BATCH_SIZE, help="listings per batch")

    def handle(self, *args, batch_size: int, **options):
        started = time.monotonic()
        indexed = rebuild_index(
            batch_size=max(1, batch_size),
            progress=(lambda done: self.stdout.write(f"  {done:,} listings indexed", ending="\r"))
            if self.stdout.isatty()
            else None,
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Search index ({get_backend().name}) rebuilt: {indexed:,} listings "
                f"in {time.monotonic() - started:.1f} s."
            )
        )
