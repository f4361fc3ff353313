"""Money on Plural: Decimal amounts in a small set of currencies."""

from decimal import Decimal

CURRENCY_CHOICES = [
    ("EUR", "Euro"),
    ("GBP", "Pound sterling"),
    ("USD", "US dollar"),
    ("CAD", "Canadian dollar"),
    ("AUD", "Australian dollar"),
    ("CHF", "Swiss franc"),
    ("SEK", "Swedish krona"),
    ("DKK", "Danish krone"),
    ("NOK", "Norwegian krone"),
    ("PLN", "Polish złoty"),
    ("JPY", "Japanese yen"),
]
CURRENCY_CODES = {code for code, _ in CURRENCY_CHOICES}
# Nothing sold on Plural costs more than this; larger amounts are typing mistakes.
MAX_PRICE = Decimal("999999.99")
MIN_PRICE = Decimal("0.01")
