"""Identifiers of works: ISBN-10/13, EAN-13 and catalog numbers, normalised.

Two copies of the same edition must end up on the same Work whatever the
seller typed ("0-14-044913-8", "9780140449136", "978 0 14 044913 6"), so
every identifier is reduced to one canonical form before it is stored.
"""

import re

from django.core.exceptions import ValidationError

from .models import Work

_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015]+")  # spaces, hyphens and dashes
_ISBN10 = re.compile(r"^\d{9}[\dX]$")
_THIRTEEN_DIGITS = re.compile(r"^\d{13}$")


def isbn10_check_digit(first_nine: str) -> str:
    total = sum((10 - position) * int(digit) for position, digit in enumerate(first_nine))
    check = (11 - total % 11) % 11
    return "X" if check == 10 else str(check)


def ean13_check_digit(first_twelve: str) -> str:
    total = sum(int(digit) * (3 if position % 2 else 1) for position, digit in enumerate(first_twelve))
    return str((10 - total % 10) % 10)


def isbn10_to_isbn13(isbn10: str) -> str:
    stem = "978" + isbn10[:9]
    return stem + ean13_check_digit(stem)


def normalise_identifier(raw: str) -> tuple[str, str]:
    """Return (Work.IdentifierKind value, normalised identifier) for what a seller typed.

    - ISBN-10 (hyphens and spaces ignored, X allowed as check digit) becomes its ISBN-13;
    - 13 digits starting 978 or 979 are an ISBN-13; other 13 digits are an EAN-13;
    - anything else is a catalog number: upper-cased, inner whitespace collapsed.

    Raises ValidationError when something shaped like an ISBN or EAN has a wrong
    check digit, and for an empty identifier.
    """
    text = (raw or "").strip()
    if not text:
        raise ValidationError("Enter an ISBN, EAN or catalog number.", code="required")
    compact = _SEPARATORS.sub("", text).upper()
    if compact.startswith("ISBN"):
        compact = compact[4:].lstrip(":")
    if _ISBN10.match(compact):
        if isbn10_check_digit(compact[:9]) != compact[9]:
            raise ValidationError(
                "%(value)s is not a valid ISBN: its check digit is wrong.", code="invalid_isbn", params={"value": text}
            )
        return Work.IdentifierKind.ISBN.value, isbn10_to_isbn13(compact)
    if _THIRTEEN_DIGITS.match(compact):
        is_isbn = compact.startswith(("978", "979"))
        if ean13_check_digit(compact[:12]) != compact[12]:
            kind = "ISBN" if is_isbn else "ISBN or EAN"
            raise ValidationError(
                "%(value)s is not a valid %(kind)s: its check digit is wrong.",
                code="invalid_isbn",
                params={"value": text, "kind": kind},
            )
        return (Work.IdentifierKind.ISBN if is_isbn else Work.IdentifierKind.EAN).value, compact
    catalog_number = " ".join(text.split()).upper()
    if len(catalog_number) > 64:
        raise ValidationError("A catalog number can be at most 64 characters.", code="max_length")
    return Work.IdentifierKind.CATALOG_NUMBER.value, catalog_number
