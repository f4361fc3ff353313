"""A newcomer's whole walk through the catalog, through the REST API only: open a shop, list ten
items one by one and a thousand by file, tag other shops' items, find them by search, tag and
facet, compare the copies of one work; and another person cannot change any of it.

Session authentication with the CSRF token enforced, as a browser-side client would use it.
The world and its numbers are in tests/catalog/walkthrough.py, shared with the browser walk.
"""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from catalog.models import Condition, Listing, TaggedListing
from sellers.models import InventoryImport, Shop
from tests.catalog import walkthrough
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]

SLUG = "nias-nautical-books"


class Session:
    """A person signed in through the login page, sending the session's CSRF token with every write."""

    def __init__(self, username: str | None):
        self.client = Client(enforce_csrf_checks=True)
        self.token = ""
        if username is not None:
            self.client.get("/accounts/login/")
            response = self.client.post(
                "/accounts/login/",
                {
                    "login": username,
                    "password": TEST_PASSWORD,
                    "csrfmiddlewaretoken": self.client.cookies["csrftoken"].value,
                },
            )
            assert response.status_code == 302, response.content
            self.token = self.client.cookies["csrftoken"].value  # a new token after signing in

    def get(self, url: str, params: dict | None = None):
        return self.client.get(url, params or {})

    def write(self, method: str, url: str, data=None, *, csrf: bool = True):
        headers = {"X-CSRFToken": self.token} if csrf else {}
        send = getattr(self.client, method)
        if method == "post" and isinstance(data, dict) and any(hasattr(value, "read") for value in data.values()):
            return send(url, data, headers=headers)  # multipart
        return send(url, data, content_type="application/json", headers=headers)


def _offers(group: dict) -> list[tuple]:
    return [
        (offer["listing"]["shop"]["name"], offer["price"], offer["shipping"], offer["total"])
        for offer in group["offers"]
    ]


def _facet_counts(body: dict, name: str) -> dict[str, int]:
    [facet] = [facet for facet in body["facets"] if facet["name"] == name]
    return {value["value"]: value["count"] for value in facet["values"]}


def _shop_state() -> tuple:
    shop = Shop.objects.get(slug=SLUG)
    listings = list(
        Listing.objects.filter(shop=shop).order_by("pk").values_list("pk", "title", "price", "status", "quantity")
    )
    return (shop.name, shop.tagline, shop.currency), listings, InventoryImport.objects.filter(shop=shop).count()


def test_a_newcomer_opens_a_shop_lists_imports_tags_searches_and_compares_through_the_api():
    world = walkthrough.make_catalog()
    nia = Session("nia")
    assert nia.get("/api/me/").json()["username"] == "nia"

    # --- Opening the shop: refused without the CSRF token, then opened. ---
    shop_data = {"name": "Nia's Nautical Books", "slug": SLUG, "country": "GB", "city": "Whitby", "currency": "GBP"}
    refused = nia.write("post", "/api/shops/", shop_data, csrf=False)
    assert refused.status_code == 403
    assert not Shop.objects.filter(slug=SLUG).exists()

    opened = nia.write("post", "/api/shops/", {**shop_data, "tagline": "Books of the sea"})
    assert opened.status_code == 201, opened.json()
    shop = opened.json()
    assert (shop["slug"], shop["currency"], shop["country"], shop["listings_on_sale"]) == (SLUG, "GBP", "GB", 0)
    assert [(person["username"], person["role"]) for person in shop["people"]] == [("nia", "owner")]

    # --- Ten listings by hand; the Hobbit, typed as an ISBN-10, joins the work other shops list. ---
    slug_of = dict(Condition.objects.values_list("name", "slug"))
    made = {}
    for title, creator, identifier, condition, price, sku in walkthrough.HAND_LISTINGS:
        response = nia.write(
            "post",
            f"/api/shops/{SLUG}/listings/",
            {
                "title": title,
                "creator": creator,
                "identifier": identifier,
                "condition": slug_of[condition],
                "price": price,
                "sku": sku,
                "status": "active",
            },
        )
        assert response.status_code == 201, response.json()
        made[sku] = response.json()
    hobbit = made["HAND-01"]
    assert (hobbit["work"], hobbit["identifier"], hobbit["condition"], hobbit["status"]) == (
        world["hobbit_work"],
        walkthrough.HOBBIT_ISBN_10,
        "very-good",
        "active",
    )
    assert [listing["work"] for sku, listing in made.items() if sku != "HAND-01"] == [None] * 9
    mine = nia.get(f"/api/shops/{SLUG}/listings/", {"status": "active"}).json()
    assert mine["count"] == 10

    # --- A thousand by file: created, updated by sku, rejected with the reason. ---
    upload = SimpleUploadedFile("stock.csv", walkthrough.inventory_file().encode(), content_type="text/csv")
    started = nia.write("post", f"/api/shops/{SLUG}/imports/", {"data_file": upload})
    assert started.status_code == 201, started.json()
    job_url = started.json()["url"]
    job = nia.get(job_url).json()
    assert {name: job[name] for name in ("status", "total_rows", "processed_rows", "uploaded_by")} == {
        "status": "done",
        "total_rows": walkthrough.IMPORT_ROWS,
        "processed_rows": walkthrough.IMPORT_ROWS,
        "uploaded_by": "nia",
    }
    assert (job["created_count"], job["updated_count"], job["rejected_count"]) == (
        walkthrough.CREATED,
        walkthrough.UPDATED,
        walkthrough.REJECTED,
    )
    rejected = nia.get(job_url, {"outcome": "rejected"}).json()["rows"]
    assert [(row["line_number"], row["sku"], row["message"]) for row in rejected["results"]] == (
        walkthrough.REJECTED_ROWS
    )
    [updated] = nia.get(job_url, {"outcome": "updated"}).json()["rows"]["results"]
    assert (updated["line_number"], updated["sku"], updated["listing"]) == (65, "HAND-02", made["HAND-02"]["id"])
    emma = nia.get(f"/api/shops/{SLUG}/listings/{made['HAND-02']['id']}/").json()
    assert (emma["title"], emma["price"], emma["condition"], emma["quantity"]) == ("Emma", "7.50", "good", 1)
    assert nia.get(f"/api/shops/{SLUG}/").json()["listings_on_sale"] == 10 + walkthrough.CREATED

    # The imported copies of Pride and Prejudice are compared with Olive's, by total to the UK.
    pride = nia.get(f"/api/works/{world['pride_work']}/", {"country": "GB"}).json()
    assert [(group["currency"], _offers(group)) for group in pride["groups"]] == [
        (
            "GBP",
            [
                ("Olive's Books", "6.50", "3.00", "9.50"),
                ("Nia's Nautical Books", "64.99", "0.00", "64.99"),
                ("Nia's Nautical Books", "73.66", "0.00", "73.66"),
                ("Nia's Nautical Books", "82.33", "0.00", "82.33"),
            ],
        )
    ]

    # --- Tagging other shops' items. ---
    tagged = nia.write("post", f"/api/listings/{world['atlas']}/tags/", {"name": "  Sea   Charts "})
    assert tagged.status_code == 201, tagged.json()
    assert (tagged.json()["tag"]["name"], tagged.json()["tag"]["slug"], tagged.json()["is_seller_tag"]) == (
        "sea charts",
        "sea-charts",
        False,
    )
    again = nia.write("post", f"/api/listings/{world['atlas']}/tags/", {"name": "sea charts"})
    assert again.status_code == 200
    assert nia.write("post", f"/api/listings/{world['chart']}/tags/", {"name": "Solent"}).status_code == 201
    atlas_tags = nia.get(f"/api/listings/{world['atlas']}/tags/").json()
    assert [(tag["name"], tag["people"], tag["from_shop"], tag["applied_by_me"]) for tag in atlas_tags] == [
        ("sea charts", 1, False, True)
    ]

    # --- Finding them: words, then a tag, then a condition, cheapest first. ---
    found = nia.get("/api/search/", {"q": "lighthouse"}).json()
    assert (found["count"], found["count_is_exact"], found["sort"]) == (
        walkthrough.LIGHTHOUSE_MATCHES,
        True,
        "relevance",
    )
    assert _facet_counts(found, "tag") == {"maritime": 100, "sea-charts": walkthrough.SEA_CHARTS_MATCHES}
    assert _facet_counts(found, "ships_to") == {"GB": walkthrough.LIGHTHOUSE_MATCHES}  # every shop ships to Nia

    narrowed = nia.get("/api/search/", {"q": "lighthouse", "tag": "sea-charts"}).json()
    assert narrowed["count"] == walkthrough.SEA_CHARTS_MATCHES
    assert _facet_counts(narrowed, "condition") == {
        "new": 7,
        "as-new": 7,
        "fine": len(walkthrough.FINE_SEA_CHARTS_BY_PRICE),
        "very-good": 7,
        "good": 7,
        "fair": 7,
        "poor": 8,
    }

    narrower = {"q": "lighthouse", "tag": "sea-charts", "condition": "fine", "sort": "price"}
    fine = nia.get("/api/search/", narrower).json()
    assert fine["count"] == len(walkthrough.FINE_SEA_CHARTS_BY_PRICE)
    assert [(listing["title"], listing["price"]) for listing in fine["results"]] == walkthrough.FINE_SEA_CHARTS_BY_PRICE
    assert {listing["condition"]["slug"] for listing in fine["results"]} == {"fine"}
    assert fine["next_cursor"] is None

    # --- The tag's page: who applied it, what else goes with it, what carries it. ---
    tag = nia.get("/api/tags/sea-charts/").json()
    assert (tag["name"], tag["people"], tag["is_hidden"]) == ("sea charts", walkthrough.SEA_CHARTS_PEOPLE, False)
    assert [(related["name"], related["listings"]) for related in tag["related"]] == [("maritime", 50), ("solent", 1)]
    carrying = nia.get("/api/tags/sea-charts/listings/").json()
    assert carrying["count"] == walkthrough.SEA_CHARTS_LISTINGS
    assert carrying["results"][0]["title"] == "Lighthouse Keeper's Log, volume 1000"  # the newest

    # --- Comparing the copies of the Hobbit, by total with shipping to Nia's own country. ---
    work = nia.get(f"/api/works/{world['hobbit_work']}/").json()
    assert (work["work"]["title"], work["work"]["identifier"], work["country"], work["currency"]) == (
        "The Hobbit",
        walkthrough.HOBBIT_ISBN,
        "GB",
        "GBP",
    )
    assert [(group["currency"], _offers(group)) for group in work["groups"]] == [
        (
            "GBP",
            [
                ("Nia's Nautical Books", "10.00", "0.00", "10.00"),
                ("Olive's Books", "8.00", "3.00", "11.00"),
                ("Highland Books", "5.00", "6.50", "11.50"),
            ],
        ),
        ("EUR", [("Oscar's Boeken", "4.00", "9.00", "13.00")]),
    ]
    assert [(offer["listing"]["shop"]["name"], offer["ships"]) for offer in work["not_shipping"]] == [
        ("Tess's Bücher", False)
    ]

    # --- Another person, and nobody at all, cannot change the shop or its listings. ---
    before = _shop_state()
    tags_before = TaggedListing.objects.count()
    emma_id = made["HAND-02"]["id"]
    attempts = [
        ("patch", f"/api/shops/{SLUG}/", {"name": "Oscar's now"}),
        ("post", f"/api/shops/{SLUG}/listings/", {"title": "Planted", "price": "1.00", "condition": "good"}),
        ("patch", f"/api/shops/{SLUG}/listings/{emma_id}/", {"price": "1.00"}),
        ("delete", f"/api/shops/{SLUG}/listings/{emma_id}/", None),
        ("post", f"/api/shops/{SLUG}/listings/bulk/", {"action": "pause", "listing_ids": [emma_id]}),
        ("patch", f"/api/shops/oscars-boeken/listings/{emma_id}/", {"price": "1.00"}),
        ("delete", f"/api/listings/{world['atlas']}/tags/sea-charts/", None),
    ]
    oscar, anonymous = Session("oscar"), Session(None)
    for method, url, data in attempts:
        assert oscar.write(method, url, data).status_code == 404, (method, url)
    # Removing a tag needs someone signed in (403 whatever the listing); the shop's endpoints answer 404.
    expected_for_anonymous = [404, 404, 404, 404, 404, 404, 403]
    assert [anonymous.write(method, url, data).status_code for method, url, data in attempts] == expected_for_anonymous
    upload = SimpleUploadedFile("planted.csv", b"title,price\nPlanted,1.00\n", content_type="text/csv")
    assert oscar.write("post", f"/api/shops/{SLUG}/imports/", {"data_file": upload}).status_code == 404
    assert oscar.get(f"/api/shops/{SLUG}/listings/").status_code == 404
    assert oscar.get(f"/api/shops/{SLUG}/imports/").status_code == 404
    assert oscar.get(job_url).status_code == 404
    assert _shop_state() == before
    assert TaggedListing.objects.count() == tags_before
    assert Listing.objects.get(pk=emma_id).price == Decimal("7.50")
