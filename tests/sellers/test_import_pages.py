"""The import pages: upload and past imports, progress and per-row report, report CSV; only for the shop's people."""

import csv
import io

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.models import Listing
from sellers.models import InventoryImport, InventoryImportRow
from tests.images import image_bytes
from tests.sellers.test_imports import data_file, zip_file

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]

MIXED_FILE = "sku,title,price,condition\nA1,Emma,5.00,good\nA2,Persuasion,-3,good\nA3,Mansfield Park,7.00,fine\n"


def list_url(shop) -> str:
    return reverse("imports:list", kwargs={"slug": shop.slug})


def detail_url(job) -> str:
    return reverse("imports:detail", kwargs={"slug": job.shop.slug, "pk": job.pk})


def report_url(job) -> str:
    return reverse("imports:report", kwargs={"slug": job.shop.slug, "pk": job.pk})


def upload(client, shop, text: str = MIXED_FILE, **extra):
    return client.post(list_url(shop), {"data_file": data_file(text), **extra})


@pytest.fixture
def finished_import(client, shop, shop_owner):
    client.force_login(shop_owner)
    upload(client, shop)
    client.logout()
    return InventoryImport.objects.get(shop=shop)


def test_the_owner_uploads_a_file_and_sees_the_report(client, shop, shop_owner):
    client.force_login(shop_owner)

    response = upload(client, shop)

    job = InventoryImport.objects.get(shop=shop)
    assert response.status_code == 302
    assert response["Location"] == detail_url(job)
    assert (job.status, job.created_count, job.updated_count, job.rejected_count) == ("done", 2, 0, 1)
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "inventory.csv was received: 3 rows." in html
    assert "line 3: price &#x27;-3&#x27; must be between 0.01 and 999999.99" in html
    assert "All 3 rows done" in html
    assert 'http-equiv="refresh"' not in html
    assert sorted(Listing.objects.filter(shop=shop).values_list("sku", "status")) == [
        ("A1", "active"),
        ("A3", "active"),
    ]


def test_staff_can_upload_as_drafts(client, shop, shop_staff):
    client.force_login(shop_staff)

    upload(client, shop, "title,price\nEmma,5\n", as_drafts="on")

    assert list(Listing.objects.filter(shop=shop).values_list("title", "status")) == [("Emma", "draft")]
    assert InventoryImport.objects.get(shop=shop).uploaded_by == shop_staff


def test_the_upload_page_explains_that_imported_listings_go_on_sale(client, shop, shop_owner):
    client.force_login(shop_owner)

    response = client.get(list_url(shop))

    html = response.content.decode()
    assert response.status_code == 200
    assert "New listings <strong>go on sale at once</strong>" in html
    assert 'name="as_drafts"' in html
    assert "Import new listings as drafts" in html
    assert 'enctype="multipart/form-data"' in html


def test_a_malformed_file_is_refused_on_the_form_and_nothing_is_recorded(client, shop, shop_owner):
    client.force_login(shop_owner)

    response = upload(client, shop, "sku,title\nA1,Emma\n")

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "data_file": ["The file has no price column. The first line names these columns: sku, title."]
    }
    assert "The file has no price column." in response.content.decode()
    assert (InventoryImport.objects.count(), Listing.objects.count()) == (0, 0)


def test_a_zip_with_unsafe_paths_is_refused_on_the_form(client, shop, shop_owner):
    client.force_login(shop_owner)

    response = upload(client, shop, "title,price,image\nEmma,5,a.png\n", images_archive=zip_file({"../a.png": b"x"}))

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["images_archive"]
    assert (InventoryImport.objects.count(), Listing.objects.count()) == (0, 0)


def test_an_upload_with_images_runs_as_a_task_and_attaches_them(
    client, shop, shop_owner, django_capture_on_commit_callbacks
):
    client.force_login(shop_owner)

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(
            client,
            shop,
            "sku,title,price,image\nA1,Emma,5,emma.png\n",
            images_archive=zip_file({"emma.png": image_bytes()}),
        )

    assert response.status_code == 302
    assert Listing.objects.get(shop=shop, sku="A1").images.count() == 1


def test_the_page_of_a_running_import_shows_progress_and_refreshes_itself(client, shop, shop_owner):
    job = InventoryImport.objects.create(
        shop=shop,
        uploaded_by=shop_owner,
        original_name="big.csv",
        status="running",
        total_rows=1000,
        processed_rows=250,
        created_count=240,
        rejected_count=10,
    )
    client.force_login(shop_owner)

    response = client.get(detail_url(job))

    html = response.content.decode()
    assert '<meta http-equiv="refresh" content="3">' in html
    assert "250 of 1,000 rows done." in html
    assert '<progress id="import-progress-bar" max="1000" value="250">' in html


def test_a_failed_import_shows_the_reason(client, shop, shop_owner):
    job = InventoryImport.objects.create(
        shop=shop, uploaded_by=shop_owner, original_name="x.csv", status="failed", failure_reason="The file is gone."
    )
    client.force_login(shop_owner)

    html = client.get(detail_url(job)).content.decode()

    assert "The import stopped: The file is gone." in html
    assert 'http-equiv="refresh"' not in html


def test_the_report_can_be_filtered_by_outcome(client, finished_import, shop_owner):
    client.force_login(shop_owner)

    response = client.get(detail_url(finished_import), {"outcome": "rejected"})

    assert [row.line_number for row in response.context["page"]] == [3]
    assert 'aria-current="page">Rejected (1)' in response.content.decode()
    everything = client.get(detail_url(finished_import))
    assert [row.line_number for row in everything.context["page"]] == [2, 3, 4]


def test_the_report_downloads_as_csv(client, finished_import, shop_owner):
    client.force_login(shop_owner)

    response = client.get(report_url(finished_import))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="import-{finished_import.pk}-report.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row[:4] for row in rows] == [
        ["line", "sku", "outcome", "message"],
        ["2", "A1", "created", ""],
        ["3", "A2", "rejected", "line 3: price '-3' must be between 0.01 and 999999.99"],
        ["4", "A3", "created", ""],
    ]


def test_the_report_csv_cannot_smuggle_a_formula_into_a_spreadsheet(client, shop, shop_owner):
    job = InventoryImport.objects.create(shop=shop, uploaded_by=shop_owner, original_name="x.csv", status="done")
    InventoryImportRow.objects.create(inventory_import=job, line_number=2, sku="=HYPERLINK(1)", outcome="rejected")
    client.force_login(shop_owner)

    rows = list(csv.reader(io.StringIO(client.get(report_url(job)).content.decode("utf-8-sig"))))

    assert rows[1][1] == "'=HYPERLINK(1)"


def test_the_list_shows_the_shops_past_imports_only(client, shop, shop_owner, other_shop, other_shop_owner):
    InventoryImport.objects.create(shop=shop, uploaded_by=shop_owner, original_name="mine.csv", status="done")
    InventoryImport.objects.create(shop=other_shop, uploaded_by=other_shop_owner, original_name="theirs.csv")
    client.force_login(shop_owner)

    html = client.get(list_url(shop)).content.decode()

    assert "mine.csv" in html
    assert "theirs.csv" not in html


# --- Who may see and use the pages -------------------------------------------------------------------------------


@pytest.fixture(params=["anonymous", "buyer", "other_shop_owner"])
def outsider(request, client):
    if request.param != "anonymous":
        client.force_login(request.getfixturevalue(request.param))
    return client


def test_outsiders_cannot_see_the_import_pages(outsider, finished_import):
    for url in (list_url(finished_import.shop), detail_url(finished_import), report_url(finished_import)):
        assert outsider.get(url).status_code == 404, url


def test_outsiders_cannot_upload(outsider, shop):
    response = upload(outsider, shop)

    assert response.status_code == 404
    assert (InventoryImport.objects.count(), Listing.objects.count()) == (0, 0)


def test_an_import_of_another_shop_is_not_found_through_my_shop(client, shop, shop_owner, other_shop, other_shop_owner):
    theirs = InventoryImport.objects.create(shop=other_shop, uploaded_by=other_shop_owner, original_name="theirs.csv")
    client.force_login(shop_owner)

    url = reverse("imports:detail", kwargs={"slug": shop.slug, "pk": theirs.pk})
    assert client.get(url).status_code == 404
    report = reverse("imports:report", kwargs={"slug": shop.slug, "pk": theirs.pk})
    assert client.get(report).status_code == 404


def test_an_upload_without_the_csrf_token_is_refused(shop, shop_owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(shop_owner)

    response = client.post(list_url(shop), {"data_file": data_file(MIXED_FILE)})

    assert response.status_code == 403
    assert InventoryImport.objects.count() == 0


# --- Queries -----------------------------------------------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_list_page_makes_the_same_number_of_queries_for_one_or_many_imports(
    client, shop, shop_owner, shop_staff, django_assert_num_queries
):
    client.force_login(shop_owner)
    InventoryImport.objects.create(shop=shop, uploaded_by=shop_owner, original_name="1.csv")
    one = _queries(client, list_url(shop))
    for number in range(2, 12):
        InventoryImport.objects.create(shop=shop, uploaded_by=shop_staff, original_name=f"{number}.csv")

    with django_assert_num_queries(one):
        client.get(list_url(shop))


def test_the_report_page_makes_the_same_number_of_queries_for_few_or_many_rows(
    client, shop, shop_owner, django_assert_num_queries
):
    client.force_login(shop_owner)
    small = "title,price,condition\n" + "Book,5,good\n" * 2
    large = "title,price,condition\n" + "Book,5,good\nBad,-1,good\n" * 20
    upload(client, shop, small)
    upload(client, shop, large)
    few, many = InventoryImport.objects.order_by("pk")
    count = _queries(client, detail_url(few))
    url = detail_url(many)

    with django_assert_num_queries(count):
        response = client.get(url)
    assert len(response.context["page"]) == 40


def test_an_uploaded_inventory_file_is_kept_out_of_the_public_media_folder(client, shop, shop_owner, settings):
    client.force_login(shop_owner)
    upload(client, shop)

    job = InventoryImport.objects.get(shop=shop)
    assert job.data_file.path.startswith(str(settings.PRIVATE_MEDIA_ROOT))
    assert not str(job.data_file.path).startswith(str(settings.MEDIA_ROOT))
    with pytest.raises(ValueError):  # no URL to serve it at, whoever guesses its name
        _ = job.data_file.url
