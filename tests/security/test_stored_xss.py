"""Stored XSS: known payloads written through the services into every field a person can write,
then every page that shows them, as each person who may see it: no page carries a live script,
an event-handler attribute or a javascript: link from what people wrote. Fields whose rules
refuse markup (reviews, ratings) refuse the tag payloads and take the ones without a tag."""

from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import Client

from accounts import services as account_services
from catalog import services as catalog_services
from catalog import tagging, wantlists
from catalog.models import Want
from messaging import services as messaging_services
from orders import services as order_services
from orders.lifecycle import Actor
from reviews import services as review_services
from reviews.models import FlagReason
from sellers import services as shop_services
from social import services as social_services
from social.models import ListVisibility
from tests.security.patterns import all_patterns
from tests.security.test_access_matrix import MATRIX, path_for
from tests.security.world import ROLES, build_world

pytestmark = pytest.mark.django_db

MARKER = "window.__xss"
PAYLOADS = [
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    "<svg/onload=window.__xss=1>",
    '"><script>window.__xss=1</script>',
    "' onmouseover='window.__xss=1' x='",
    '" autofocus onfocus="window.__xss=1" x="',
    "javascript:window.__xss=1",
    "[a link](javascript:window.__xss=1)",
    "[a link](JaVaScRiPt:window.__xss=1)",
    "[a link](  javascript&#58;window.__xss=1)",
    '<a href="javascript:window.__xss=1">a link</a>',
    "</textarea></title><script>window.__xss=1</script>",
    '![a picture](x" onerror="window.__xss=1)',
    "<details open ontoggle=window.__xss=1>",
    '<iframe src="javascript:window.__xss=1"></iframe>',
    "<<script>script>window.__xss=1<</script>/script>",
]


LONG_FIELDS = {
    "bio",
    "shop's about",
    "shop's policies",
    "vacation message",
    "listing's description",
    "review",
    "review reply",
    "rating",
    "buyer feedback",
    "review report",
    "message from the buyer",
    "message from the shop",
    "conversation report",
    "shop's thank-you note",
    "buyer's thank-you note",
    "offer counter message",
    "private offer message",
    "case details",
    "case message",
    "case proposal",
}


def _fit(payload: str, limit: int) -> str:
    return payload[:limit]


def _writers(world):
    """(field, write(payload)) for every field a person writes, through the services."""
    bea, otto, olive, sam = (world.person(role) for role in ("buyer", "other_buyer", "shop_owner", "shop_staff"))
    shop, listing, conversation = world["shop"], world["listing"], world["conversation"]
    fresh_order = world["fresh_order"]
    state: dict = {}

    def review(payload):
        state["review"] = review_services.review_create(
            author=bea, order_item_id=fresh_order.items.get().pk, stars=4, title=_fit(payload, 100), text=payload
        )

    def review_reply(payload):
        subject = state.get("review") or world["review"]
        review_services.reply_create(subject=subject, actor=sam, text=payload)

    def rating(payload):
        review_services.rating_create(
            author=bea,
            order_id=fresh_order.pk,
            overall=4,
            item_as_described=4,
            communication=4,
            shipping_speed=4,
            comment=payload,
        )

    def member_title(payload):
        member = shop.members.get(user=sam)
        shop_services.shop_member_set_title(shop=shop, actor=olive, member_id=member.pk, title=_fit(payload, 60))

    return [
        ("display name", lambda p: account_services.profile_update(user=bea, display_name=_fit(p, 80))),
        ("bio", lambda p: account_services.profile_update(user=bea, bio=p)),
        ("shop's name", lambda p: shop_services.shop_update(shop=shop, actor=olive, name=_fit(p, 80))),
        ("shop's tagline", lambda p: shop_services.shop_update(shop=shop, actor=olive, tagline=_fit(p, 140))),
        ("shop's about", lambda p: shop_services.shop_update(shop=shop, actor=olive, about=p)),
        ("shop's policies", lambda p: shop_services.shop_update(shop=shop, actor=olive, returns_policy=p)),
        (
            "vacation message",
            lambda p: shop_services.shop_set_vacation(
                shop=world["other_shop"], actor=world.person("other_shop_owner"), is_on_vacation=True, message=p
            ),
        ),
        ("member's title", member_title),
        ("listing's title", lambda p: catalog_services.listing_update(listing=listing, actor=sam, title=_fit(p, 200))),
        ("listing's description", lambda p: catalog_services.listing_update(listing=listing, actor=sam, description=p)),
        ("tag", lambda p: tagging.tag_apply(listing=listing, user=otto, name=_fit(p, 50))),
        ("review", review),
        ("review reply", review_reply),
        ("rating", rating),
        (
            "buyer feedback",
            lambda p: review_services.buyer_feedback_create(order=fresh_order, actor=olive, value="neutral", comment=p),
        ),
        (
            "review report",
            lambda p: review_services.flag_create(
                subject=world["review"], reporter=otto, reason=FlagReason.OTHER, note=_fit(p, 500)
            ),
        ),
        (
            "message from the buyer",
            lambda p: messaging_services.message_send(conversation=conversation, author=bea, body=p),
        ),
        (
            "message from the shop",
            lambda p: messaging_services.message_send(conversation=conversation, author=sam, body=p),
        ),
        (
            "conversation report",
            lambda p: messaging_services.report_create(
                conversation=conversation, reporter=sam, reason="other", details=p
            ),
        ),
        (
            "shop's thank-you note",
            lambda p: order_services.thank_you_note_write(order=world["order"], actor=sam, by=Actor.SHOP, text=p),
        ),
        (
            "buyer's thank-you note",
            lambda p: order_services.thank_you_note_write(
                order=world["order"], actor=bea, by=Actor.BUYER, text=p, show_on_storefront=True
            ),
        ),
        (
            "offer counter message",
            lambda p: order_services.offer_counter(
                offer=world["offer"], actor=olive, price=Decimal("14.00"), message=p
            ),
        ),
        (
            "private offer message",
            lambda p: order_services.private_offer_make(
                listing=listing,
                actor=olive,
                buyer_username="bea",
                price=Decimal("18.00"),
                shipping_charge=Decimal("3.00"),
                ship_to="GB",
                message=p,
            ),
        ),
        ("case details", lambda p: order_services.case_open(order=fresh_order, actor=bea, reason="damaged", details=p)),
        ("case message", lambda p: order_services.case_message(case=world["case"], actor=bea, by=Actor.BUYER, text=p)),
        (
            "case proposal",
            lambda p: order_services.case_propose(case=world["case"], actor=olive, remedy="replacement", message=p),
        ),
        ("want", lambda p: wantlists.want_create(user=bea, text=_fit(p, 200), visibility=Want.Visibility.PUBLIC)),
        (
            "favourites list's name",
            lambda p: social_services.favourite_list_create(
                owner=bea, name=_fit(p, 80), visibility=ListVisibility.PUBLIC
            ),
        ),
        (
            "address",
            lambda p: order_services.address_create(
                user=bea, full_name=_fit(p, 100), line1=_fit(p, 100), city="Bristol", country="GB"
            ),
        ),
    ]


class _LiveContent(HTMLParser):
    """Collects what would run: scripts not from our static files, event handlers, script URLs."""

    DANGEROUS_TAGS = {"iframe", "object", "embed", "base", "frame", "frameset"}
    URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "srcdoc", "poster"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            source = dict(attrs).get("src") or ""
            if not source.startswith("/static/"):
                self.found.append(f"<script src={source!r}>")
            self._in_script = True
        if tag in self.DANGEROUS_TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}={value!r}>")
            if name in self.URL_ATTRIBUTES and value:
                scheme = "".join(value.split()).lower()
                if scheme.startswith(("javascript:", "vbscript:", "data:text/html")):
                    self.found.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and MARKER in data:
            self.found.append(f"script text {data!r}")


def live_content(html: str) -> list[str]:
    parser = _LiveContent()
    parser.feed(html)
    parser.close()
    return parser.found


# Files, not pages: read as text by spreadsheets, never by a browser as HTML.
DOWNLOADS = {"imports:report", "orders:statement_csv"}


def pages_to_read(world) -> list[tuple[str, str]]:
    """(path, role) for every page of the matrix that someone may read: as the first person who
    may (the visitor, for public pages), and as a second, signed-in one who sees more of it
    (the buyer on public pages, the staff on moderators' ones)."""
    patterns = {pattern.key: pattern for pattern in all_patterns()}
    reads = []
    for key, (method, expected) in MATRIX.items():
        if method != "get" or key.startswith("api-") or key not in patterns or patterns[key].name is None:
            continue
        if key in DOWNLOADS:
            continue
        readers = [role for role, outcome in zip(ROLES, expected.split(), strict=True) if outcome == "200"]
        chosen = readers[:1] + [role for role in ("buyer", "staff") if role in readers[1:]][:1]
        path = path_for(patterns[key], world)
        reads += [(path, role) for role in chosen]
    return reads


def test_the_parser_sees_each_kind_of_live_content():
    assert live_content("<p><script>window.__xss=1</script></p>") != []
    assert live_content('<img src=x onerror="window.__xss=1">') != []
    assert live_content('<a href=" JaVa\tScript:window.__xss=1">x</a>') != []
    assert live_content('<script src="/static/js/search-suggest.js"></script><p>&lt;script&gt;</p>') == []


# Two payloads a round: long fields take both, short ones (names, titles, tags) one each in turn.
ROUNDS = [PAYLOADS[index : index + 2] for index in range(0, len(PAYLOADS), 2)]


@pytest.mark.parametrize("pair", ROUNDS, ids=[str(index) for index in range(len(ROUNDS))])
def test_no_page_renders_what_people_wrote_as_live_content(settings, pair):
    settings.DEBUG = False
    world = build_world()
    written, refused = [], []
    for position, (field, write) in enumerate(_writers(world)):
        payload = "\n".join(pair) if field in LONG_FIELDS else pair[position % 2]
        try:
            with transaction.atomic():
                write(payload)
        except ValidationError:
            refused.append(field)
        else:
            written.append(field)
    clients = {}
    for role in ROLES:
        clients[role] = Client(raise_request_exception=False)
        if world.person(role) is not None:
            clients[role].force_login(world.person(role))

    problems = []
    for path, role in pages_to_read(world):
        response = clients[role].get(path)
        if response.status_code != 200 or "html" not in response.headers.get("Content-Type", ""):
            continue
        found = live_content(response.content.decode())
        if found:
            problems.append(f"{path} as {role}: {found}")

    assert problems == []
    # The sweep means something only if the payload was stored in most places.
    assert len(written) >= len(written + refused) // 2, f"refused by {refused}"
