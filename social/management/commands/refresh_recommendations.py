from django.core.management.base import BaseCommand

from social import recommendations


class Command(BaseCommand):
    help = (
        "Count the views and purchases recorded since the last count, and recompute what is trending: what the "
        "recommendations worker and beat do. Safe at any time (without a worker, run it now and then)."
    )

    def handle(self, *args, **options):
        counted = recommendations.events_count()
        trending = recommendations.trending_refresh()
        self.stdout.write(
            f"Counted {counted:,} views and purchases; trending: {trending['items']} items, {trending['tags']} tags, "
            f"{trending['shops']} shops."
        )
