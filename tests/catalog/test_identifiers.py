import pytest
from django.core.exceptions import ValidationError

from catalog.identifiers import normalise_identifier


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0-14-044913-2", ("isbn", "9780140449136")),
        ("0 14 044913 2", ("isbn", "9780140449136")),
        ("014044913 2", ("isbn", "9780140449136")),
        ("080442957X", ("isbn", "9780804429573")),
        ("080442957x", ("isbn", "9780804429573")),
        ("978-0-14-044913-6", ("isbn", "9780140449136")),
        ("ISBN 978-0-14-044913-6", ("isbn", "9780140449136")),
        ("9791032305690", ("isbn", "9791032305690")),
        ("5012345678900", ("ean", "5012345678900")),
        ("4006381333931", ("ean", "4006381333931")),
        ("  ecm  1064 ", ("catalog", "ECM 1064")),
        ("blp-4003", ("catalog", "BLP-4003")),
    ],
)
def test_normalise_identifier_recognises_and_normalises(raw, expected):
    assert normalise_identifier(raw) == expected


@pytest.mark.parametrize("raw", ["0-14-044913-9", "9780140449137", "978-0-14-044913-0", "0804429579"])
def test_normalise_identifier_refuses_a_wrong_isbn_check_digit(raw):
    with pytest.raises(ValidationError) as refused:
        normalise_identifier(raw)

    assert "is not a valid ISBN" in refused.value.messages[0]
    assert raw in refused.value.messages[0]


def test_normalise_identifier_refuses_a_wrong_ean_check_digit():
    with pytest.raises(ValidationError) as refused:
        normalise_identifier("5012345678901")

    assert refused.value.messages == ["5012345678901 is not a valid ISBN or EAN: its check digit is wrong."]


def test_normalise_identifier_refuses_empty():
    with pytest.raises(ValidationError):
        normalise_identifier("   ")
