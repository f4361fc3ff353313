"""Paying the shop directly: bank transfer, cash on pickup or cheque. The money never passes
through Plural; the shop's people mark the order paid when it has reached them."""

from sellers.models import PaymentMethod

from . import PaymentProvider

HOW_TO_PAY = {
    PaymentMethod.BANK_TRANSFER: "Pay {shop} by bank transfer: the shop sends you its bank details when it "
    "accepts the order. Put {reference} as the transfer's reference.",
    PaymentMethod.CASH_ON_PICKUP: "Pay {shop} in cash when you pick the order up; the shop tells you where "
    "and when when it accepts the order.",
    PaymentMethod.CHEQUE: "Send {shop} a cheque: the shop tells you whom to make it out to when it accepts "
    "the order. Write {reference} on the back.",
}
REFUND_BY = {
    PaymentMethod.BANK_TRANSFER: "by bank transfer",
    PaymentMethod.CASH_ON_PICKUP: "in cash or by bank transfer, as you agree",
    PaymentMethod.CHEQUE: "by cheque or bank transfer, as you agree",
}


class ManualProvider(PaymentProvider):
    slug = "manual"
    label = "Paid directly to the shop"
    methods = (PaymentMethod.BANK_TRANSFER, PaymentMethod.CASH_ON_PICKUP, PaymentMethod.CHEQUE)
    shop_marks_paid = True

    def instructions(self, *, order) -> str:
        template = HOW_TO_PAY.get(order.payment_method, "Pay {shop} as agreed with the shop.")
        return template.format(shop=order.shop_name, reference=f"order {order.reference}")

    def refund_note(self, *, order, amount) -> str:
        how = REFUND_BY.get(order.payment_method, "as you agree")
        return f"{order.shop_name} refunds {amount} {order.currency} directly, {how}."
