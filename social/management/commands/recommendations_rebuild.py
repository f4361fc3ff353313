import time

from django.core.management.base import BaseCommand

from social import recommendations


class Command(BaseCommand):
    help = (
        "Recount every purchase, pair and total of the recommendations from the orders and the views already "
        "counted, as the recommendations worker would have counted them one by one. Safe at any time and to run "
        "twice (the second run changes nothing); the worker waits while it runs."
    )

    def handle(self, *args, **options):
        started = time.perf_counter()
        rebuilt = recommendations.recommendations_rebuild()
        self.stdout.write(
            f"Recounted {rebuilt.purchases:,} purchases and {rebuilt.pairs:,} pairs of items in "
            f"{time.perf_counter() - started:.1f} s; {rebuilt.changed:,} rows changed."
        )
