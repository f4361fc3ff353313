"""Every URL pattern of the site, read from the resolver, and the values that fill its arguments
from the world of tests.security.world."""

from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver


@dataclass(frozen=True)
class Pattern:
    key: str  # the URL name, namespaced ("orders:detail"), or the route when it has none
    route: str
    name: str | None


def _walk(patterns, prefix="", namespace=None):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = entry.namespace
            full = f"{namespace}:{inner}" if namespace and inner else inner or namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), full)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            route = prefix + str(entry.pattern)
            yield Pattern(key=name or route, route=route, name=name)


def all_patterns() -> list[Pattern]:
    seen: dict[str, Pattern] = {}
    for pattern in _walk(get_resolver().url_patterns):
        seen.setdefault(pattern.key, pattern)
    return list(seen.values())


# Which object a `pk` stands for, by the first word of the URL name that matches.
PK_OBJECTS = [
    ("sellers:listing", "listing"),
    ("imports:", "import"),
    ("api-shop-import", "import"),
    ("api-shop-listing", "listing"),
    ("catalog:listing", "listing"),
    ("catalog:work", "work"),
    ("api-work", "work"),
    ("catalog:category", "category"),
    ("tags:", "listing"),
    ("api-listing", "listing"),
    ("notifications:", "notification"),
    ("api-notification", "notification"),
    ("orders:confirmation", "checkout"),
    ("orders:shop_offer", "offer"),
    ("api-shop-offer", "offer"),
    ("orders:offer_make", "listing"),
    ("orders:private_offer_make", "listing"),
    ("orders:case_open", "order"),  # an order's problem report: the order, not a case
    ("orders:case", "case"),
    ("api-case", "case"),
    ("orders:address", "address"),
    ("api-address", "address"),
    ("orders:", "order"),
    ("api-order", "order"),
    ("api-shop-order", "order"),
    ("messaging:order_conversation", "order"),
    ("messaging:shop_order_conversation", "order"),
    ("messaging:", "conversation"),
    ("accounts:export_download", "export"),
    ("api-privacy-export-download", "export"),
    ("api-conversation", "conversation"),
    ("reviews:listing_reviews", "listing"),
    ("reviews:buyer_feedback", "order"),
    ("reviews:decide_review", "review"),
    ("reviews:decide_rating", "rating"),
    ("reviews:decide_appeal", "appeal"),
    ("reviews:review", "review"),
    ("reviews:vote", "review"),
    ("reviews:flag_review", "review"),
    ("reviews:reply_review", "review"),
    ("reviews:rating", "rating"),
    ("reviews:flag_rating", "rating"),
    ("reviews:reply_rating", "rating"),
    ("api-review-decision-appeal", "decision"),
    ("api-review-appeal-decide", "appeal"),
    ("api-review-moderation-decide", "review"),
    ("api-rating-moderation-decide", "rating"),
    ("api-review", "review"),
    ("api-rating", "rating"),
    ("social:activity", "activity"),
    ("api-activity", "activity"),
    ("social:favourite_listing", "listing"),
    ("social:favourite_remove", "favourite"),
    ("social:favourite", "favourite_list"),
    ("api-favourite-list", "favourite_list"),
    ("api-favourite", "favourite"),
    ("wants:", "want"),
    ("mfa_", "authenticator"),
    ("api-want", "want"),
]


def _pk_object(key: str) -> str:
    for prefix, name in PK_OBJECTS:
        if key.startswith(prefix):
            return name
    raise LookupError(f"no object for the pk of {key}: add it to PK_OBJECTS")


def kwargs_for(pattern: Pattern, world) -> dict:
    """The URL arguments that make `pattern` reach the world's objects."""
    key = pattern.key
    values: dict = {}
    for argument in ("pk", "slug", "username", "order_pk", "item_pk", "listing_id", "message_id"):
        if f"<int:{argument}>" not in pattern.route and f":{argument}>" not in pattern.route:
            continue
        if argument == "pk":
            values["pk"] = world[_pk_object(key)].pk
        elif argument == "slug":
            if key == "catalog:category":
                values["slug"] = world["category"].slug
            elif key.startswith(("tags:", "api-tag")) or key in {"tags:remove", "api-listing-tag"}:
                values["slug"] = world["tag"].slug
            else:
                values["slug"] = world["shop"].slug
        elif argument == "username":
            values["username"] = world.person("buyer").username
        elif argument == "order_pk":
            values["order_pk"] = world["order"].pk
        elif argument == "item_pk":
            values["item_pk"] = world["item"].pk
        elif argument == "listing_id":
            values["listing_id"] = world["listing"].pk
        elif argument == "message_id":
            values["message_id"] = world["message"].pk
    extra = {
        "image_id": lambda: world["image"].pk,
        "block_id": lambda: world["block"].pk,
        "report_id": lambda: world["report"].pk,
        "attachment_id": lambda: world["attachment"].pk,
        "size": lambda: "image",
        "decision_pk": lambda: world["decision"].pk,
        "month": lambda: world["month"],
        "provider": lambda: "manual",
        "token_id": lambda: world["api_token"].pk,
        "member_id": lambda: world["shop_member"].pk,
    }
    for argument, value in extra.items():
        if f":{argument}>" in pattern.route:
            values[argument] = value()
    if "<str:token>" in pattern.route:
        values["token"] = (
            world["unsubscribe_token"] if key.startswith("notifications:") else world["private_offer"].token
        )
    if key == "api-follower-remove":
        values["username"] = world.person("other_buyer").username
    if key == "social:follower_remove":
        values["username"] = world.person("other_buyer").username
    return values
