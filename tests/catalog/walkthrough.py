"""The catalog as a new seller finds it, and the file they import: shared by the walk through the
browser (tests/e2e/test_catalog_walkthrough.py) and the same walk through the API
(tests/catalog/test_api_walkthrough.py), so that both check the same numbers.

Four shops are already open. Each lists a copy of The Hobbit (one ISBN, one work): two in
the UK with different postage, one in the Netherlands that ships to the UK, one in Germany
that does not. Olive's Books also lists an atlas with "lighthouse" in its title and a copy
of Pride and Prejudice; Bea, a shopper, has tagged a chart in Oscar's shop "sea charts".

Nia, the newcomer (in the UK), opens her own shop, lists HAND_LISTINGS by hand and imports
inventory_file(): 1,000 rows, of which every tenth is a "Lighthouse Keeper's Log" tagged
"maritime" (and, every twentieth, "sea charts"), three are copies of Olive's Pride and
Prejudice, one updates a hand-made listing by its sku and four are refused.
"""

import csv
import io
from decimal import Decimal

from catalog import services as listing_services
from catalog import tagging
from catalog.models import Condition
from tests.factories import ShopFactory, UserFactory

HOBBIT_ISBN = "9780261102217"
HOBBIT_ISBN_10 = "0-261-10221-4"  # how Nia types it: the same edition
PRIDE_ISBN = "9780141439518"
WRONG_ISBN = "9780141439687"  # its check digit is wrong

# The ten listings Nia makes by hand: title, author, ISBN, condition (name), price, sku.
HAND_LISTINGS = [
    ("The Hobbit", "J. R. R. Tolkien", HOBBIT_ISBN_10, "Very good", "10.00", "HAND-01"),
    ("Emma", "Jane Austen", "", "Good", "6.00", "HAND-02"),
    ("Lighthouse Stories", "Ann Beam", "", "Fair", "4.00", "HAND-03"),
    ("Moby-Dick", "Herman Melville", "", "Good", "9.00", "HAND-04"),
    ("Middlemarch", "George Eliot", "", "Fine", "8.50", "HAND-05"),
    ("Bleak House", "Charles Dickens", "", "Good", "7.00", "HAND-06"),
    ("Kidnapped", "R. L. Stevenson", "", "Poor", "2.00", "HAND-07"),
    ("Treasure Island", "R. L. Stevenson", "", "As new", "12.00", "HAND-08"),
    ("Dracula", "Bram Stoker", "", "Good", "5.50", "HAND-09"),
    ("Frankenstein", "Mary Shelley", "", "New", "14.00", "HAND-10"),
]
# Row 64 of the file carries HAND-02 with a new price: the import updates Emma.
UPDATED_SKU, UPDATED_PRICE = "HAND-02", Decimal("7.50")

CONDITIONS = ("new", "as new", "fine", "very good", "good", "fair", "poor")
IMPORT_ROWS = 1000
CREATED, UPDATED, REJECTED = 995, 1, 4
PRIDE_ROWS = (333, 666, 999)
# (line, sku, message) of each refused row, as the report shows it.
REJECTED_ROWS = [
    (14, "NIA-0013", "line 14: price '-3.00' must be between 0.01 and 999999.99"),
    (27, "NIA-0026", f"line 27: isbn: {WRONG_ISBN} is not a valid ISBN: its check digit is wrong."),
    (40, "NIA-0039", "line 40: condition 'mint' is not one of: new, as new, fine, very good, good, fair, poor"),
    (53, "NIA-0051", "line 53: sku 'NIA-0051' is already used on line 52"),
]

# What a search for "lighthouse" finds: Olive's atlas, Nia's "Lighthouse Stories" and the
# hundred logs; 51 of them tagged "sea charts" (Nia tags the atlas so), 8 of those in fine condition.
LIGHTHOUSE_MATCHES = 102
SEA_CHARTS_MATCHES = 51
# The fine ones, cheapest first.
FINE_SEA_CHARTS_BY_PRICE = [
    ("Lighthouse Keeper's Log, volume 940", "11.40"),
    ("Lighthouse Keeper's Log, volume 800", "21.00"),
    ("Lighthouse Keeper's Log, volume 660", "31.60"),
    ("The Lighthouse Atlas of Wessex", "35.00"),
    ("Lighthouse Keeper's Log, volume 520", "41.20"),
    ("Lighthouse Keeper's Log, volume 380", "51.80"),
    ("Lighthouse Keeper's Log, volume 240", "61.40"),
    ("Lighthouse Keeper's Log, volume 100", "71.00"),
]
# The tag page of "sea charts": the atlas, Oscar's chart and fifty logs, tagged by Bea and Nia.
SEA_CHARTS_LISTINGS, SEA_CHARTS_PEOPLE = 52, 2


def _row(number: int) -> list[str]:
    is_log = number % 10 == 0
    title = f"Lighthouse Keeper's Log, volume {number}" if is_log else f"Harbour Almanac {number}"
    tags = ("maritime; sea charts" if number % 20 == 0 else "maritime") if is_log else ""
    row = {
        "sku": f"NIA-{number:04d}",
        "title": title,
        "author": "Ines Marsh" if is_log else f"Harbour Board {number % 50}",
        "isbn": "",
        "price": f"{(number * 7) % 90 + 1}.{number % 100:02d}",
        "quantity": str(1 + number % 3),
        "condition": CONDITIONS[number % 7],
        "description": "A sound copy from the shop's shelves.",
        "tags": tags,
    }
    if number in PRIDE_ROWS:
        row.update(title="Pride and Prejudice", author="Jane Austen", isbn=PRIDE_ISBN)
    special = {
        13: {"price": "-3.00"},
        26: {"isbn": WRONG_ISBN},
        39: {"condition": "mint"},
        52: {"sku": "NIA-0051"},  # the sku of the row above
        64: {"sku": UPDATED_SKU, "title": "Emma", "author": "", "price": str(UPDATED_PRICE), "quantity": ""},
    }
    row.update(special.get(number, {}))
    if number == 64:
        row.update(condition="", description="", tags="")
    return list(row.values())


def inventory_file() -> str:
    """The dealer's file, as CSV: a header and IMPORT_ROWS rows (line n + 1 holds row n)."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["sku", "title", "author", "isbn", "price", "quantity", "condition", "description", "tags"])
    writer.writerows(_row(number) for number in range(1, IMPORT_ROWS + 1))
    return text.getvalue()


def _shop(name: str, slug: str, owner: str, **fields):
    return ShopFactory(name=name, slug=slug, owner=UserFactory(username=owner), **fields)


def make_catalog() -> dict:
    """The shops already open before Nia arrives, their listings (made through the listing
    service, so that works are linked and search indexes them), and Nia herself: a verified
    account in the UK without a shop. Returns the ids the walks need."""
    gbp_uk = {"country": "GB", "currency": "GBP", "ships_to": ["NL", "IE"]}
    olive = _shop("Olive's Books", "olives-books", "olive", domestic_first_item=Decimal("3.00"), **gbp_uk)
    highland = _shop("Highland Books", "highland-books", "hamish", domestic_first_item=Decimal("6.50"), **gbp_uk)
    oscar = _shop(
        "Oscar's Boeken",
        "oscars-boeken",
        "oscar",
        country="NL",
        currency="EUR",
        ships_to=["GB", "DE"],
        international_first_item=Decimal("9.00"),
    )
    tess = _shop("Tess's Bücher", "tess-buecher", "tess", country="DE", currency="EUR", ships_to=["FR"])

    def listing(shop, title: str, price: str, condition: str, **fields):
        return listing_services.listing_create(
            shop=shop,
            actor=shop.owner,
            title=title,
            price=Decimal(price),
            condition=Condition.objects.get(slug=condition),
            status="active",
            **fields,
        )

    hobbit = {"identifier": HOBBIT_ISBN, "creator": "J. R. R. Tolkien"}
    olive_hobbit = listing(olive, "The Hobbit", "8.00", "good", **hobbit)
    listing(highland, "The Hobbit", "5.00", "fair", **hobbit)
    listing(oscar, "The Hobbit", "4.00", "good", **hobbit)
    listing(tess, "The Hobbit", "3.00", "poor", **hobbit)
    atlas = listing(olive, "The Lighthouse Atlas of Wessex", "35.00", "fine", creator="R. Cartwright")
    pride = listing(olive, "Pride and Prejudice", "6.50", "good", identifier=PRIDE_ISBN, creator="Jane Austen")
    chart = listing(oscar, "Admiralty Chart of the Solent", "20.00", "good")
    tagging.tag_apply(listing=chart, user=UserFactory(username="bea", country="GB"), name="sea charts")

    nia = UserFactory(username="nia", display_name="Nia Newcomer", email="nia@example.com", country="GB")
    return {
        "nia": nia.pk,
        "hobbit_work": olive_hobbit.work_id,
        "pride_work": pride.work_id,
        "atlas": atlas.pk,
        "chart": chart.pk,
    }
