from django.core.management.base import BaseCommand, CommandError

from marketplace.bench import generate, harness

# Rounds and seconds per size: enough samples for a stable median, bounded in time.
PLANS = {
    "S": {"rounds": 20, "naive_rounds": 10, "http_seconds": 1.0, "http_rounds": 2, "import_rows": 500},
    "M": {"rounds": 15, "naive_rounds": 3, "http_seconds": 2.0, "http_rounds": 2, "import_rows": 100_000},
    "L": {"rounds": 10, "naive_rounds": 2, "http_seconds": 2.0, "http_rounds": 2, "import_rows": 2_000},
}


class Command(BaseCommand):
    help = (
        "Measure every key page against floors taken in the same run (query counts at two page sizes, p50/p95 "
        "in-process, requests per second over gunicorn, background work); writes var/bench/. Seeds the "
        "generated marketplace of --size first when it is not there."
    )

    def add_arguments(self, parser):
        parser.add_argument("--size", choices=sorted(PLANS), default="S")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--rounds", type=int, help="in-process rounds (default by size)")
        parser.add_argument("--no-http", action="store_true", help="skip the measurements over HTTP")
        parser.add_argument("--no-background", action="store_true", help="skip import, fan-out and drain")
        parser.add_argument("--only", action="append", metavar="NAME", help="measure only this endpoint (repeatable)")

    def handle(self, *args, size: str, seed: int, rounds, no_http: bool, no_background: bool, only, **options):
        from django.db import connection

        if size != "S" and connection.vendor != "postgresql":
            raise CommandError(f"Size {size} needs PostgreSQL: set DATABASE_URL=postgres://... (and REDIS_URL).")
        if not generate.bench_data_present():
            from django.core.management import call_command

            self.stdout.write(f"No generated marketplace yet: seeding size {size} first.")
            call_command("seed_demo", size=size, seed=seed, stdout=self.stdout)
        plan = dict(PLANS[size])
        if rounds:
            if rounds < 1:
                raise CommandError("--rounds must be at least 1.")
            plan["rounds"] = rounds
            plan["naive_rounds"] = min(plan["naive_rounds"], rounds)
        report = harness.run(
            harness.Options(
                size=size,
                with_http=not no_http,
                with_background=not no_background,
                only=set(only) if only else None,
                **plan,
            ),
            log=self.stdout.write,
        )
        markdown_path, json_path = harness.write_report(report)
        self.stdout.write(harness.markdown(report))
        self.stdout.write(self.style.SUCCESS(f"Report written to {markdown_path} and {json_path}."))
