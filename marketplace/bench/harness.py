"""The benchmark: every key page and endpoint measured against floors taken in the same run.

Absolute timings on a shared 2-core machine wander by up to 2x between runs, so every figure
is also given as a ratio to the floors measured in the same interleaved pass (hello view, one
indexed query), and the page's SQL query count is taken at two page sizes (equal counts:
no N+1). The variants run in rounds (A, B, C, A, B, C …) so that machine noise hits them
alike.

In-process: Django's test client (the whole middleware stack and templates, no network),
p50 and p95 of the rounds. Over HTTP: the same pages served by gunicorn (sync workers), a
bounded number of seconds of requests each, from a few client threads on this machine.
Background work: bulk import, fan-out of a new listing to a shop's followers, the
notification drain of one worker, and the also-bought rebuild.

The report is written as markdown and JSON under var/bench/ (settings.VAR_DIR)."""

import contextlib
import http.client
import importlib
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from catalog.models import Category, Listing, SearchTerm, Tag, Work
from messaging.models import Conversation
from reviews.models import Review
from sellers.models import Shop

from . import generate

MAX_QUERIES = 15
MAX_INPROCESS_RATIO = 10
MIN_HTTP_SHARE = 0.1
MAX_P95_MS = 50
MIN_SEARCH_SPEEDUP = 100
TWO_PAGE_SIZES = (10, 50)


@dataclass
class Knob:
    """A page size to turn for the two query counts: a module constant or a keyword default."""

    target: str  # "module:NAME" or "module:function.argument"

    @contextlib.contextmanager
    def set(self, value: int) -> Iterator[None]:
        module_name, name = self.target.split(":")
        module = importlib.import_module(module_name)
        if "." in name:
            function_name, argument = name.split(".")
            defaults = getattr(module, function_name).__kwdefaults__
            before = defaults[argument]
            defaults[argument] = value
            try:
                yield
            finally:
                defaults[argument] = before
            return
        before = getattr(module, name)
        setattr(module, name, value)
        try:
            yield
        finally:
            setattr(module, name, before)


@dataclass
class Endpoint:
    name: str
    path: str
    group: str = "page"  # floor, naive, page, search, write
    user: str | None = None
    method: str = "get"
    data: dict | None = None
    knob: Knob | None = None
    # The same page at the other size, when the size is in the address (page_size=…).
    second_path: str | None = None
    naive: str | None = None  # the naive endpoint this one is compared with
    http: bool = True
    expect: tuple[int, ...] = (200,)


@dataclass
class Result:
    name: str
    group: str
    path: str
    status: int = 0
    queries: int | None = None
    queries_second_size: int | None = None
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    requests_per_second: float | None = None
    inprocess_ratio: float | None = None
    http_share: float | None = None
    speedup_over_naive: float | None = None
    checks: dict = field(default_factory=dict)


# --- What to measure ----------------------------------------------------------------------------------


@dataclass
class Cast:
    """The people and things the pages are about, found in the generated data."""

    reader: User
    owner: User
    shop: Shop
    reviewer: User | None
    review: Review | None
    listing: Listing
    thread: Conversation
    short_thread: Conversation | None
    category: Category
    popular_tag: Tag
    rare_tag: Tag
    work: Work | None
    terms: dict


def _search_terms() -> dict:
    """The words of each bucket, from the search lexicon (listings on sale per word)."""
    total = Listing.objects.filter(status=Listing.Status.ACTIVE).count()
    known = dict(
        SearchTerm.objects.filter(term__in=[generate.PLANTED_COMMON_WORD]).values_list("term", "listing_count")
    )

    def near(target: float) -> str:
        below = (
            SearchTerm.objects.filter(listing_count__lte=target, term__regex=r"^[a-z]{5,}$")
            .order_by("-listing_count", "term")
            .values_list("term", flat=True)
            .first()
        )
        return below or generate.PLANTED_COMMON_WORD

    most_common = generate.PLANTED_COMMON_WORD if known else near(total)
    medium = near(total * 0.01)
    return {
        "most_common": most_common,
        "common": near(total * 0.10),
        "medium": medium,
        "rare": near(max(3, total / 20_000)),
        "zero": generate.ZERO_HIT_TERM,
        "two_words": f"{most_common} {medium}",
    }


def find_cast() -> Cast:
    reader = User.objects.get(username=generate.READER_USERNAME)
    shop = Shop.objects.filter(slug=f"{generate.SHOP_PREFIX}1").select_related("owner").get()
    # A review its author may still edit (no reply yet): posting it again is the write measured.
    reviews = Review.objects.select_related("order_item__order", "author").order_by("pk")
    review = reviews.filter(replied_at__isnull=True).first() or reviews.first()
    listing = (
        Listing.objects.filter(pk=review.listing_id).first() if review and review.listing_id else None
    ) or Listing.objects.filter(shop=shop, status=Listing.Status.ACTIVE).order_by("-published_at").first()
    threads = Conversation.objects.filter(buyer=reader).annotate(n=Count("messages")).order_by("-n")
    thread = threads.first()
    short = Conversation.objects.annotate(n=Count("messages")).filter(n__lte=3).order_by("pk").first()
    category = Category.objects.filter(children__isnull=True).annotate(n=Count("listings")).order_by("-n", "pk").first()
    tags = Tag.objects.filter(is_hidden=False, merged_into__isnull=True, use_count__gt=0)
    work = Work.objects.annotate(n=Count("listings")).order_by("-n", "pk").first()
    return Cast(
        reader=reader,
        owner=shop.owner,
        shop=shop,
        reviewer=review.author if review else None,
        review=review,
        listing=listing,
        thread=thread,
        short_thread=short,
        category=category,
        popular_tag=tags.order_by("-use_count", "pk").first(),
        rare_tag=tags.order_by("use_count", "pk").first(),
        work=work,
        terms=_search_terms(),
    )


def endpoints(cast: Cast, *, only: set[str] | None = None) -> list[Endpoint]:
    terms = cast.terms
    shop = cast.shop.slug

    def search(bucket: str, extra: str = "") -> Endpoint:
        query = f"q={terms[bucket].replace(' ', '+')}{extra}"
        return Endpoint(
            f"search: {bucket.replace('_', ' ')}{' ' + extra.strip('&').split('=')[0] if extra else ''}",
            f"/search/?{query}&page_size=10",
            group="search",
            second_path=f"/search/?{query}&page_size=24",
            naive=None if extra else f"/bench/naive-search/?q={terms[bucket].split()[0]}",
        )

    listed = [
        Endpoint("floor: hello", "/bench/hello/", group="floor"),
        Endpoint("floor: one indexed query", f"/bench/one-query/?pk={cast.listing.pk}", group="floor"),
        Endpoint(
            "naive: list without select/prefetch",
            "/bench/naive-list/?page_size=10",
            group="naive",
            second_path="/bench/naive-list/?page_size=50",
        ),
        Endpoint("home", "/"),
        Endpoint(
            "category page",
            cast.category.get_absolute_url(),
            knob=Knob("catalog.views:CATEGORY_PAGE_SIZE"),
        ),
        search("most_common"),
        search("common"),
        search("medium"),
        search("rare"),
        search("zero"),
        search("two_words"),
        search("most_common", "&condition=good"),
        Endpoint(
            "search: deep page (newest)",
            f"/search/?q={terms['common']}&sort=newest&page_size=10",
            group="search",
            second_path=f"/search/?q={terms['common']}&sort=newest&page_size=24",
        ),
        Endpoint("autocomplete", f"/api/search/suggestions/?q={terms['medium'][:3]}", group="search"),
        Endpoint(
            "tag page: popular", cast.popular_tag.get_absolute_url(), knob=Knob("catalog.tag_views:TAG_PAGE_SIZE")
        ),
        Endpoint("tag page: rare", cast.rare_tag.get_absolute_url(), knob=Knob("catalog.tag_views:TAG_PAGE_SIZE")),
        Endpoint("tag cloud", "/tags/"),
        Endpoint("listing page", cast.listing.get_absolute_url(), user="reader"),
        Endpoint("storefront", f"/shops/{shop}/", knob=Knob("sellers.views:STOREFRONT_PAGE_SIZE")),
        Endpoint(
            "seller dashboard",
            f"/shops/{shop}/dashboard/",
            user="owner",
            knob=Knob("sellers.views:DASHBOARD_PAGE_SIZE"),
        ),
        Endpoint("cart", "/cart/", user="reader"),
        Endpoint("checkout", "/checkout/", user="reader", expect=(200, 302)),
        Endpoint("inbox", "/messages/", user="reader", knob=Knob("messaging.views:INBOX_PAGE_SIZE")),
        Endpoint(
            "thread of 50 messages",
            f"/messages/{cast.thread.pk}/",
            user="reader",
            knob=Knob("messaging.selectors:thread.size"),
        ),
        Endpoint("feed (2,000 followed)", "/feed/", user="reader", knob=Knob("social.selectors:following_feed.size")),
        Endpoint(
            "API: listing search",
            f"/api/search/?q={terms['medium']}&page_size=10",
            group="search",
            second_path=f"/api/search/?q={terms['medium']}&page_size=50",
        ),
        Endpoint(
            "send a message",
            f"/messages/{cast.thread.pk}/",
            group="write",
            user="reader",
            method="post",
            data={"body": "Is it still available?"},
            http=False,
            expect=(302,),
        ),
        Endpoint(
            "follow a shop",
            f"/shops/{shop}/follow/",
            group="write",
            user="reader_two",
            method="post",
            http=False,
            expect=(302,),
        ),
    ]
    if cast.work is not None:
        listed.append(Endpoint("work price comparison", cast.work.get_absolute_url()))
    if cast.review is not None:
        item = cast.review.order_item
        listed.append(
            Endpoint(
                "post a review",
                f"/orders/{item.order_id}/items/{item.pk}/review/",
                group="write",
                user="reviewer",
                method="post",
                data={"stars": "4", "title": "Lovely copy", "text": "Well packed and as described."},
                http=False,
                expect=(302,),
            )
        )
    if only:
        listed = [endpoint for endpoint in listed if endpoint.group == "floor" or endpoint.name in only]
    for endpoint in [endpoint for endpoint in listed if endpoint.naive]:
        listed.append(
            Endpoint(
                f"naive: icontains {endpoint.name.removeprefix('search: ')}",
                endpoint.naive,
                group="naive",
                http=False,
            )
        )
    return listed


# --- In-process -----------------------------------------------------------------------------------------


class Actors:
    def __init__(self, cast: Cast):
        self.cast = cast
        self.clients: dict[str | None, Client] = {None: Client()}
        people = {"reader": cast.reader, "owner": cast.owner, "reviewer": cast.reviewer}
        # Following is measured as follow, then (untimed) unfollow, by someone who follows nobody yet.
        people["reader_two"] = User.objects.filter(username__startswith=generate.USERNAME_PREFIX).order_by("-pk")[1]
        for name, person in people.items():
            if person is None:
                continue
            client = Client()
            client.force_login(person)
            self.clients[name] = client

    def call(self, endpoint: Endpoint, path: str | None = None):
        client = self.clients[endpoint.user]
        if endpoint.method == "post":
            response = client.post(path or endpoint.path, endpoint.data or {})
        else:
            response = client.get(path or endpoint.path)
        if endpoint.name == "follow a shop":
            from social.models import Follow

            Follow.objects.filter(follower_id=self.user_id("reader_two"), shop=self.cast.shop).delete()
        return response

    def user_id(self, name: str):
        return self.clients[name].session.get("_auth_user_id")


def _count_queries(actors: Actors, endpoint: Endpoint) -> tuple[int, int | None, int]:
    def counted(path=None) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            response = actors.call(endpoint, path)
        return len(queries), response.status_code

    if endpoint.knob is not None:
        with endpoint.knob.set(TWO_PAGE_SIZES[0]):
            first, status = counted()
        with endpoint.knob.set(TWO_PAGE_SIZES[1]):
            second, _ = counted()
        return first, second, status
    first, status = counted()
    second = counted(endpoint.second_path)[0] if endpoint.second_path else None
    return first, second, status


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure_inprocess(
    actors: Actors, listed: list[Endpoint], *, rounds: int, naive_rounds: int, log: Callable[[str], None]
) -> dict[str, Result]:
    results = {}
    for endpoint in listed:
        actors.call(endpoint)  # warm caches and connections, as a running site has them
        queries, second, status = _count_queries(actors, endpoint)
        results[endpoint.name] = Result(
            endpoint.name, endpoint.group, endpoint.path, status=status, queries=queries, queries_second_size=second
        )
    samples: dict[str, list[float]] = {endpoint.name: [] for endpoint in listed}
    for number in range(rounds):
        for endpoint in listed:
            if endpoint.group == "naive" and number >= naive_rounds:
                continue
            started = time.perf_counter()
            actors.call(endpoint)
            samples[endpoint.name].append((time.perf_counter() - started) * 1000)
        log(f"  in-process round {number + 1}/{rounds}")
    for name, taken in samples.items():
        results[name].p50_ms = statistics.median(taken)
        results[name].p95_ms = _percentile(taken, 0.95)
    return results


# --- Over HTTP --------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def gunicorn(*, workers: int = 2) -> Iterator[int]:
    """gunicorn serving this site (with PLURAL_BENCH on) on a free loopback port; stopped after."""
    port = _free_port()
    # The API's rate limits would answer most of the load with 429s: what is measured is the work.
    unlimited = "1000000/minute"
    environment = {
        **os.environ,
        "PLURAL_BENCH": "1",
        "DEBUG": "0",
        **dict.fromkeys(("PLURAL_API_RATE_ANONYMOUS", "PLURAL_API_RATE_PERSON", "PLURAL_API_RATE_SEARCH"), unlimited),
    }
    binary = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(  # noqa: S603 - our own server, fixed arguments
        [
            str(binary),
            "marketplace.wsgi",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=settings.BASE_DIR,
        env=environment,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                if _get(port, "/bench/hello/", {})[0] == 200:
                    break
            time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not answer within 30 s")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def _get(port: int, path: str, headers: dict) -> tuple[int, int]:
    connection_ = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection_.request("GET", path, headers=headers)
        response = connection_.getresponse()
        body = response.read()
        return response.status, len(body)
    finally:
        connection_.close()


def _load(port: int, path: str, headers: dict, *, seconds: float, threads: int) -> float:
    """Requests per second answered 2xx/3xx by `threads` clients for `seconds` (bounded)."""
    done = [0] * threads
    stop_at = time.monotonic() + seconds

    def client(slot: int) -> None:
        while time.monotonic() < stop_at:
            try:
                status, _ = _get(port, path, headers)
            except OSError:  # a timeout or a worker restarted: not an answer
                continue
            if status < 400:
                done[slot] += 1

    started = time.monotonic()
    workers = [threading.Thread(target=client, args=(slot,)) for slot in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(done) / (time.monotonic() - started)


def measure_http(
    actors: Actors, listed: list[Endpoint], *, seconds: float, rounds: int, log: Callable[[str], None]
) -> dict[str, float]:
    cookie_name = settings.SESSION_COOKIE_NAME
    headers_for = {}
    for name, client in actors.clients.items():
        cookie = client.cookies.get(cookie_name)
        headers_for[name] = {"Cookie": f"{cookie_name}={cookie.value}"} if cookie else {}
    served = [endpoint for endpoint in listed if endpoint.http and endpoint.group != "naive"]
    rates: dict[str, list[float]] = {endpoint.name: [] for endpoint in served}
    with gunicorn() as port:
        for endpoint in served:  # warm each worker
            _get(port, endpoint.path, headers_for[endpoint.user])
        for number in range(rounds):
            for endpoint in served:
                rates[endpoint.name].append(
                    _load(port, endpoint.path, headers_for[endpoint.user], seconds=seconds, threads=4)
                )
            log(f"  HTTP round {number + 1}/{rounds}")
    return {name: statistics.median(values) for name, values in rates.items()}


# --- Background work ------------------------------------------------------------------------------------


def measure_import(*, cast: Cast, rows: int) -> dict:
    """Rows per second of a bulk inventory import with tags, through the import service, into
    a new shop of the reader's (followed by nobody, so that the import is measured, not the
    fan-out of each new listing, which has a measurement of its own)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from sellers import imports
    from sellers.models import ShopMember

    shop, created = Shop.objects.get_or_create(
        slug=f"{generate.SHOP_PREFIX}import-{timezone.now():%Y%m%d%H%M%S}",
        defaults={"name": "Import test", "owner": cast.reader, "country": "NL", "currency": "EUR"},
    )
    if created:
        ShopMember.objects.create(shop=shop, user=cast.reader, role=ShopMember.Role.OWNER)

    # A file holds at most imports.MAX_ROWS rows: a larger import is several files, as a dealer uploads it.
    uploads = []
    for first in range(0, rows, imports.MAX_ROWS):
        lines = ["sku,title,creator,price,quantity,condition,tags"]
        lines += [
            f"import-{number:07d},Imported {generate.PLANTED_COMMON_WORD} item {number},Ada Moss,"
            f'{5 + number % 90}.50,1,good,"bench import, lot {number % 50}"'
            for number in range(first, min(rows, first + imports.MAX_ROWS))
        ]
        uploads.append(SimpleUploadedFile("inventory.csv", "\n".join(lines).encode(), content_type="text/csv"))
    created = rejected = 0
    started = time.perf_counter()
    for upload in uploads:
        job = imports.inventory_import_start(shop=shop, actor=cast.reader, data_file=upload)
        imports.inventory_import_run(import_id=job.pk)
        job.refresh_from_db()
        created, rejected = created + job.created_count, rejected + job.rejected_count
    seconds = time.perf_counter() - started
    return {
        "rows": rows,
        "files": len(uploads),
        "created": created,
        "rejected": rejected,
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds),
    }


def measure_fanout(*, cast: Cast) -> dict:
    """A new listing in the most followed shop, told to all its followers: worker seconds."""
    from catalog.models import Condition
    from notifications.models import Notification
    from social import services as social_services
    from social.models import Follow, ListingEvent

    followers = Follow.objects.filter(shop=cast.shop).count()
    with transaction.atomic():
        listing = Listing.objects.create(
            shop=cast.shop,
            condition=Condition.objects.order_by("rank").first(),
            title=f"{generate.PLANTED_COMMON_WORD.capitalize()} fan-out test {timezone.now():%H%M%S}",
            price=10,
            currency=cast.shop.currency,
            status=Listing.Status.ACTIVE,
            published_at=timezone.now(),
        )
        event = ListingEvent.objects.create(listing=listing, kind=ListingEvent.Kind.ON_SALE, is_new=True)
    listing.get_absolute_url()  # a running worker has loaded its URLconf (the first reverse() imports it)
    before = Notification.objects.count()
    started = time.perf_counter()
    social_services.listing_event_process(event_id=event.pk)
    seconds = time.perf_counter() - started
    told = Notification.objects.count() - before
    return {"followers": followers, "notified": told, "seconds": round(seconds, 2)}


def measure_also_bought_rebuild() -> dict:
    """The full rebuild of the recommendation tables from the orders (what "people who bought
    this also bought" is read from): seconds, and the pairs of items it wrote."""
    from social.recommendations import recommendations_rebuild

    started = time.perf_counter()
    rebuilt = recommendations_rebuild()
    seconds = time.perf_counter() - started
    return {"purchases": rebuilt.purchases, "pairs": rebuilt.pairs, "seconds": round(seconds, 2)}


def measure_drain(*, count: int) -> dict:
    """E-mail deliveries sent per second by one worker: the task it runs, called in this
    process with batches of DRAIN_BATCH deliveries, as the fan-out and the sweeper hand them over."""
    from notifications.models import Delivery
    from notifications.services import DRAIN_BATCH
    from notifications.tasks import send_email_deliveries

    pending = list(
        Delivery.objects.filter(status=Delivery.Status.PENDING).order_by("pk").values_list("pk", flat=True)[:count]
    )
    if not pending:
        return {"deliveries": 0}
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        started = time.perf_counter()
        sent = sum(
            send_email_deliveries(pending[start : start + DRAIN_BATCH]) for start in range(0, len(pending), DRAIN_BATCH)
        )
        seconds = time.perf_counter() - started
    return {"deliveries": sent, "seconds": round(seconds, 2), "per_second": round(sent / seconds)}


# --- The run --------------------------------------------------------------------------------------------


@dataclass
class Options:
    size: str = "S"
    rounds: int = 20
    naive_rounds: int = 5
    http_seconds: float = 1.0
    http_rounds: int = 2
    with_http: bool = True
    with_background: bool = True
    import_rows: int = 5_000
    only: set[str] | None = None


def _judge(results: dict[str, Result], http: dict[str, float], naive_search: dict[str, str]) -> None:
    floor_one = results["floor: one indexed query"].p50_ms
    hello_rps = http.get("floor: hello")
    for result in results.values():
        result.requests_per_second = http.get(result.name)
        if result.group in {"floor", "naive"}:
            continue
        result.inprocess_ratio = round(result.p50_ms / floor_one, 1) if floor_one else None
        if result.requests_per_second and hello_rps:
            result.http_share = round(result.requests_per_second / hello_rps, 3)
        checks = {
            "queries": result.queries is not None and result.queries <= MAX_QUERIES,
            "same queries at two sizes": result.queries_second_size in (None, result.queries),
            "p95": result.p95_ms < MAX_P95_MS,
        }
        if result.group != "write":
            checks["in-process ratio"] = (
                result.inprocess_ratio is not None and result.inprocess_ratio <= MAX_INPROCESS_RATIO
            )
        if result.http_share is not None:
            checks["HTTP share"] = result.http_share >= MIN_HTTP_SHARE
        naive = naive_search.get(result.name)
        if naive and naive in results:
            result.speedup_over_naive = round(results[naive].p50_ms / result.p50_ms, 1)
            bucket = result.name.removeprefix("search: ")
            needed = MIN_SEARCH_SPEEDUP if bucket in {"rare", "zero"} else 1
            checks[f"{needed}x faster than icontains"] = result.speedup_over_naive >= needed
        result.checks = checks


def run(options: Options, *, log: Callable[[str], None] = lambda text: None) -> dict:
    cast = find_cast()
    listed = endpoints(cast, only=options.only)
    naive_search = {
        endpoint.name: f"naive: icontains {endpoint.name.removeprefix('search: ')}"
        for endpoint in listed
        if endpoint.naive
    }
    started = time.perf_counter()
    overrides = {
        "ROOT_URLCONF": "marketplace.bench.root_urls",
        "DEBUG": False,
        "MESSAGING_SEND_RATE_PER_MINUTE": 1_000_000,
        "MESSAGING_SEND_RATE_PER_HOUR": 1_000_000,
        "REVIEWS_WRITES_PER_HOUR": 1_000_000,
        "ALLOWED_HOSTS": ["testserver", "127.0.0.1", "localhost"],
    }
    with override_settings(**overrides):
        actors = Actors(cast)
        _fill_cart(actors, cast)
        log("In-process (test client), interleaved rounds:")
        results = measure_inprocess(actors, listed, rounds=options.rounds, naive_rounds=options.naive_rounds, log=log)
        http = {}
        if options.with_http:
            log("Over HTTP (gunicorn, 2 sync workers, 4 client threads):")
            http = measure_http(actors, listed, seconds=options.http_seconds, rounds=options.http_rounds, log=log)
    _judge(results, http, naive_search)
    background = {}
    if options.with_background:
        log("Background work:")
        background["import"] = measure_import(cast=cast, rows=options.import_rows)
        log(f"  import: {background['import']}")
        background["fan-out"] = measure_fanout(cast=cast)
        log(f"  fan-out: {background['fan-out']}")
        background["notification drain"] = measure_drain(count=5_000)
        log(f"  drain: {background['notification drain']}")
        background["also-bought rebuild"] = measure_also_bought_rebuild()
        log(f"  also-bought rebuild: {background['also-bought rebuild']}")
    return {
        "size": options.size,
        "taken_at": timezone.now().isoformat(timespec="seconds"),
        "machine": machine(),
        "database": connection.vendor,
        "catalog": {
            "listings": Listing.objects.count(),
            "shops": Shop.objects.count(),
            "people": User.objects.count(),
        },
        "search_terms": cast.terms,
        "seconds": round(time.perf_counter() - started, 1),
        "results": [asdict(result) for result in results.values()],
        "background": background,
    }


def _fill_cart(actors: Actors, cast: Cast) -> None:
    """Three listings of three shops in the reader's cart, as a shopper's cart before checkout."""
    from orders.models import CartItem

    if CartItem.objects.filter(cart__owner=cast.reader).exists():
        return
    picks = (
        Listing.objects.filter(
            status=Listing.Status.ACTIVE, quantity__gt=0, shop__slug__startswith=generate.SHOP_PREFIX
        )
        .exclude(shop__owner=cast.reader)
        .order_by("shop_id", "pk")
        .distinct("shop_id")[:3]
        if connection.vendor == "postgresql"
        else Listing.objects.filter(status=Listing.Status.ACTIVE, quantity__gt=0).order_by("pk")[:3]
    )
    for listing in picks:
        actors.clients["reader"].post("/cart/add/", {"listing": listing.pk, "quantity": 1})


def machine() -> dict:
    memory = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    return {
        "cpus": os.cpu_count(),
        "memory": memory,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }


# --- The report -----------------------------------------------------------------------------------------


def _cell(value, suffix: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.1f}{suffix}" if value < 100 else f"{value:,.0f}{suffix}"
    return f"{value:,}{suffix}"


def markdown(report: dict) -> str:
    catalog = report["catalog"]
    lines = [
        f"# Plural benchmark, size {report['size']} ({report['database']})",
        "",
        f"Taken {report['taken_at']} on {report['machine']['cpus']} cores, {report['machine']['memory']}, "
        f"Python {report['machine']['python']}; {catalog['listings']:,} listings, {catalog['shops']:,} shops, "
        f"{catalog['people']:,} people. Search terms: "
        + ", ".join(f"{bucket} `{term}`" for bucket, term in report["search_terms"].items())
        + ".",
        "",
        "Ratios are to the floors of the same run: in-process p50 over the one-query view's, "
        "HTTP requests per second over the hello view's.",
        "",
        "| endpoint | queries (10 / 50) | p50 ms | p95 ms | req/s | x one-query | share of hello | "
        "x faster than icontains | misses |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for result in report["results"]:
        queries = _cell(result["queries"])
        if result["queries_second_size"] is not None:
            queries += f" / {result['queries_second_size']}"
        misses = ", ".join(name for name, passed in result["checks"].items() if not passed)
        if result["status"] and result["status"] >= 400:
            misses = f"status {result['status']}" + (f", {misses}" if misses else "")
        lines.append(
            f"| {result['name']} | {queries} | {_cell(result['p50_ms'])} | {_cell(result['p95_ms'])} | "
            f"{_cell(result['requests_per_second'])} | {_cell(result['inprocess_ratio'])} | "
            f"{_cell(result['http_share'])} | {_cell(result['speedup_over_naive'])} | {misses or 'none'} |"
        )
    if report["background"]:
        lines += ["", "## Background work", "", "| what | figures |", "| --- | --- |"]
        for name, figures in report["background"].items():
            lines.append(f"| {name} | " + ", ".join(f"{key} {value}" for key, value in figures.items()) + " |")
    lines.append("")
    return "\n".join(lines)


def write_report(report: dict) -> tuple[Path, Path]:
    folder = Path(settings.VAR_DIR) / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = report["taken_at"].replace(":", "").replace("-", "")[:15]
    base = folder / f"bench-{report['size']}-{stamp}"
    json_path, markdown_path = base.with_suffix(".json"), base.with_suffix(".md")
    json_path.write_text(json.dumps(report, indent=2, default=str))
    markdown_path.write_text(markdown(report))
    (folder / f"latest-{report['size']}.md").write_text(markdown(report))
    (folder / f"latest-{report['size']}.json").write_text(json.dumps(report, indent=2, default=str))
    return markdown_path, json_path
