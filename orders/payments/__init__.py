"""Payment providers: how an order gets paid.

A provider is a class named in settings.ORDERS_PAYMENT_PROVIDERS. It says which of a shop's
payment methods (sellers.models.PaymentMethod) it handles, what the buyer is told to do, and
whether the shop's people confirm payment by hand. A card processor is one module with such a
class whose `webhook` view receives the processor's callbacks at
/orders/payments/<slug>/webhook/ and calls orders.services.order_mark_paid with
by=Actor.PROVIDER; nothing else in the orders app changes.
"""

from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class PaymentOption:
    provider: str
    method: str
    label: str


class PaymentProvider:
    slug: str = ""
    label: str = ""
    # PaymentMethod values this provider takes payment by.
    methods: tuple[str, ...] = ()
    # The shop's people mark the order paid themselves (money reaches them outside Plural).
    shop_marks_paid: bool = False

    def instructions(self, *, order) -> str:
        """What the buyer is told to do to pay, on the confirmation and order pages."""
        raise NotImplementedError

    def refund_note(self, *, order, amount) -> str:
        """How a refund of `amount` reaches the buyer, written into the order's timeline."""
        raise NotImplementedError

    # A Django view for the processor's callbacks, or None when the provider has none.
    webhook = None


@lru_cache(maxsize=8)
def _load(paths: tuple[str, ...]) -> dict[str, PaymentProvider]:
    providers = {}
    for path in paths:
        provider = import_string(path)()
        providers[provider.slug] = provider
    return providers


def providers() -> dict[str, PaymentProvider]:
    return _load(tuple(settings.ORDERS_PAYMENT_PROVIDERS))


def provider(slug: str) -> PaymentProvider | None:
    return providers().get(slug)


def options_for_shop(shop) -> list[PaymentOption]:
    """The ways a buyer can pay `shop`: its payment methods that a configured provider handles."""
    from sellers.models import PaymentMethod

    labels = dict(PaymentMethod.choices)
    options = []
    for method in shop.payment_methods or []:
        for candidate in providers().values():
            if method in candidate.methods:
                options.append(PaymentOption(provider=candidate.slug, method=method, label=labels.get(method, method)))
                break
    return options
