"""A card processor plugged in as the orders.payments interface promises: one module with a
provider class and its webhook view, and nothing else changed. The processor signs each
callback with a shared secret (HMAC-SHA256 of the body), as real processors do."""

import hashlib
import hmac
import json

from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse

from orders import services
from orders.lifecycle import Actor
from orders.models import Order
from orders.payments import PaymentProvider
from sellers.models import PaymentMethod

SECRET = b"example-card-webhook-secret"


def sign(body: bytes) -> str:
    return hmac.new(SECRET, body, hashlib.sha256).hexdigest()


class ExampleCardProvider(PaymentProvider):
    slug = "examplecard"
    label = "Example Card Payments"
    methods = (PaymentMethod.CARD,)
    shop_marks_paid = False

    def instructions(self, *, order) -> str:
        return f"Your card is charged {order.total} {order.currency} when {order.shop_name} accepts the order."

    def refund_note(self, *, order, amount) -> str:
        return f"{amount} {order.currency} go back to your card."

    def webhook(self, request):
        if request.method != "POST":
            return HttpResponse(status=405)
        if not hmac.compare_digest(sign(request.body), request.headers.get("X-Signature", "")):
            return HttpResponse("bad signature", status=400)
        event = json.loads(request.body)
        order = Order.objects.filter(pk=event.get("order"), payment_provider=self.slug).first()
        if order is None:
            return HttpResponse("no such order", status=404)
        if order.paid_at is not None and order.payment_reference == event["charge"]:
            return JsonResponse({"status": "already recorded"})  # processors retry: answer the same way
        try:
            services.order_mark_paid(order=order, by=Actor.PROVIDER, reference=event["charge"])
        except ValidationError as refused:
            return JsonResponse({"status": "refused", "errors": refused.messages}, status=409)
        return JsonResponse({"status": "paid"})
