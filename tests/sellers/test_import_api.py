"""The import API: POST /api/shops/<slug>/imports/ and GET /api/shops/<slug>/imports/<id>/."""

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from catalog.models import Listing
from sellers.models import InventoryImport
from tests.sellers.test_imports import data_file, zip_file

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]

MIXED_FILE = "sku,title,price,condition\nA1,Emma,5.00,good\nA2,Persuasion,-3,good\nA3,Mansfield Park,7.00,fine\n"


def imports_url(shop) -> str:
    return reverse("api-shop-imports", kwargs={"slug": shop.slug})


def import_url(job) -> str:
    return reverse("api-shop-import", kwargs={"slug": job.shop.slug, "pk": job.pk})


def test_a_member_uploads_through_the_api_and_reads_counts_and_rows(client, shop, shop_owner):
    client.force_login(shop_owner)

    response = client.post(imports_url(shop), {"data_file": data_file(MIXED_FILE, name="stock.csv")})

    assert response.status_code == 201
    job = InventoryImport.objects.get(shop=shop)
    body = response.json()
    assert response["Location"] == body["url"] == f"http://testserver{import_url(job)}"
    assert {key: body[key] for key in ("id", "original_name", "status", "total_rows", "processed_rows")} == {
        "id": job.pk,
        "original_name": "stock.csv",
        "status": "done",
        "total_rows": 3,
        "processed_rows": 3,
    }
    assert (body["created_count"], body["updated_count"], body["rejected_count"]) == (2, 0, 1)
    assert body["ignored_columns"] == []
    assert body["uploaded_by"] == "olive"

    detail = client.get(import_url(job), {"outcome": "rejected"}).json()

    assert detail["rejected_count"] == 1
    assert detail["rows"]["count"] == 1
    assert detail["rows"]["results"] == [
        {
            "line_number": 3,
            "sku": "A2",
            "outcome": "rejected",
            "message": "line 3: price '-3' must be between 0.01 and 999999.99",
            "listing": None,
            "listing_url": "",
        }
    ]


def test_report_rows_are_paginated(client, shop, shop_owner):
    client.force_login(shop_owner)
    client.post(imports_url(shop), {"data_file": data_file("title,price,condition\n" + "Book,5,good\n" * 25)})
    job = InventoryImport.objects.get(shop=shop)

    first = client.get(import_url(job)).json()
    second = client.get(import_url(job), {"page": 2}).json()

    assert (first["rows"]["count"], len(first["rows"]["results"]), first["rows"]["previous"]) == (25, 20, None)
    assert first["rows"]["next"] == f"http://testserver{import_url(job)}?page=2"
    assert [row["line_number"] for row in second["rows"]["results"]] == [22, 23, 24, 25, 26]
    assert second["rows"]["next"] is None


def test_the_list_endpoint_shows_the_shops_imports(client, shop, shop_owner, other_shop, other_shop_owner):
    InventoryImport.objects.create(shop=shop, uploaded_by=shop_owner, original_name="mine.csv")
    InventoryImport.objects.create(shop=other_shop, uploaded_by=other_shop_owner, original_name="theirs.csv")
    client.force_login(shop_owner)

    body = client.get(imports_url(shop)).json()

    assert [item["original_name"] for item in body["results"]] == ["mine.csv"]


def test_an_upload_as_drafts_with_images(client, shop, shop_owner, django_capture_on_commit_callbacks):
    from tests.images import image_bytes

    client.force_login(shop_owner)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            imports_url(shop),
            {
                "data_file": data_file("sku,title,price,image,shelf\nA1,Emma,5,emma.png,3B\n"),
                "images_archive": zip_file({"emma.png": image_bytes()}),
                "as_drafts": "true",
            },
        )

    assert response.status_code == 201
    assert response.json()["status"] == "queued"
    assert response.json()["ignored_columns"] == ["shelf"]
    listing = Listing.objects.get(shop=shop, sku="A1")
    assert (listing.status, listing.images.count()) == ("draft", 1)
    assert client.get(response["Location"]).json()["status"] == "done"


def test_a_malformed_file_is_refused_with_400_and_nothing_is_recorded(client, shop, shop_owner):
    client.force_login(shop_owner)

    response = client.post(imports_url(shop), {"data_file": data_file("sku,title\nA1,Emma\n")})

    assert response.status_code == 400
    assert response.json() == {
        "data_file": ["The file has no price column. The first line names these columns: sku, title."]
    }
    assert (InventoryImport.objects.count(), Listing.objects.count()) == (0, 0)


def test_a_missing_file_is_refused_with_400(client, shop, shop_owner):
    client.force_login(shop_owner)

    response = client.post(imports_url(shop), {})

    assert response.status_code == 400
    assert list(response.json()) == ["data_file"]


@pytest.fixture(params=["anonymous", "buyer", "other_shop_owner"])
def outsider(request, client):
    if request.param != "anonymous":
        client.force_login(request.getfixturevalue(request.param))
    return client


def test_outsiders_get_404_and_change_nothing(outsider, shop, shop_owner):
    job = InventoryImport.objects.create(shop=shop, uploaded_by=shop_owner, original_name="mine.csv")

    assert outsider.get(imports_url(shop)).status_code == 404
    assert outsider.get(import_url(job)).status_code == 404
    assert outsider.post(imports_url(shop), {"data_file": data_file(MIXED_FILE)}).status_code == 404
    assert InventoryImport.objects.count() == 1
    assert Listing.objects.count() == 0


def test_an_api_upload_needs_the_csrf_token_of_the_session(shop, shop_owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(shop_owner)

    response = client.post(imports_url(shop), {"data_file": data_file(MIXED_FILE)})

    assert response.status_code == 403
    assert InventoryImport.objects.count() == 0


def test_the_detail_endpoint_makes_the_same_number_of_queries_for_few_or_many_rows(
    client, shop, shop_owner, django_assert_num_queries
):
    client.force_login(shop_owner)
    client.post(imports_url(shop), {"data_file": data_file("title,price,condition\n" + "Book,5,good\n" * 2)})
    client.post(imports_url(shop), {"data_file": data_file("title,price,condition\n" + "Book,5,good\n" * 30)})
    few, many = InventoryImport.objects.select_related("shop").order_by("pk")
    few_url, many_url = import_url(few), import_url(many)
    with django_assert_num_queries(6) as captured:
        client.get(few_url)

    with django_assert_num_queries(len(captured)):
        client.get(many_url)


def test_the_import_api_is_in_a_schema_without_warnings(tmp_path):
    schema_file = tmp_path / "schema.yml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(schema_file))

    schema = schema_file.read_text()
    assert "/api/shops/{slug}/imports/:" in schema
    assert "/api/shops/{slug}/imports/{id}/:" in schema
