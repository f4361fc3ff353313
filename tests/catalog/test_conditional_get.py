"""Catalog reads carry an ETag and answer 304 to a matching If-None-Match; any change to what
they show gives a new ETag."""

import pytest
from rest_framework.test import APIClient

from catalog.models import Listing
from catalog.tagging import tag_apply
from tests.factories import ListingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def listing(shop):
    listing = ListingFactory(shop=shop, title="Moon Atlas")
    tag_apply(listing=listing, user=shop.owner, name="astronomy")
    return listing


def catalog_reads(listing):
    return [
        "/api/listings/",
        f"/api/listings/{listing.pk}/",
        "/api/categories/",
        "/api/tags/",
        "/api/tags/astronomy/",
        "/api/tags/astronomy/listings/",
        f"/api/listings/{listing.pk}/tags/",
    ] + ([f"/api/works/{listing.work_id}/"] if listing.work_id else [])


def test_each_catalog_read_has_an_etag_and_answers_304_when_it_matches(listing):
    client = APIClient()
    for path in catalog_reads(listing):
        first = client.get(path)
        assert first.status_code == 200, path
        etag = first["ETag"]
        assert etag.startswith('"') and etag.endswith('"')

        again = client.get(path, HTTP_IF_NONE_MATCH=etag)

        assert again.status_code == 304, path
        assert again.content == b""
        assert again["ETag"] == etag
        assert client.get(path, HTTP_IF_NONE_MATCH='"something-else"').status_code == 200


def test_a_change_to_the_listing_changes_the_etag(listing):
    client = APIClient()
    path = f"/api/listings/{listing.pk}/"
    etag = client.get(path)["ETag"]

    Listing.objects.filter(pk=listing.pk).update(title="Moon Atlas, second edition")

    changed = client.get(path, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert changed.json()["title"] == "Moon Atlas, second edition"


def test_errors_and_writes_carry_no_etag(buyer, listing):
    client = APIClient()
    assert "ETag" not in client.get("/api/listings/999999/")
    client.force_login(buyer)
    assert "ETag" not in client.post(f"/api/listings/{listing.pk}/tags/", {"tags": ["maps"]}, format="json")


def test_the_schema_documents_the_etag_and_304():
    operation = APIClient().get("/api/schema/?format=json").json()["paths"]["/api/listings/{id}/"]["get"]

    assert "If-None-Match" in [parameter["name"] for parameter in operation["parameters"]]
    assert "304" in operation["responses"]
    assert "ETag" in operation["responses"]["200"]["headers"]
