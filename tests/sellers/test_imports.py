"""Bulk inventory import: reading dealers' files, creating and updating listings by sku,
rejecting bad rows with the reason, refusing bad files whole, images from a zip, the task."""

import io
import zipfile
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from catalog.models import Listing, Work
from marketplace import celery_app
from sellers import imports
from sellers.imports import inventory_import_run, inventory_import_start
from sellers.models import InventoryImport, InventoryImportRow, ShopMember
from sellers.tasks import import_inventory
from tests.factories import ListingFactory, UserFactory
from tests.images import image_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def eager_tasks():
    """Queued imports run in the test's process, also when REDIS_URL points at a real broker."""
    saved = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = saved


HEADER = "sku,title,author,isbn,price,quantity,condition,description,tags,image"


def data_file(text: str, *, name: str = "inventory.csv", encoding: str = "utf-8") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def zip_file(entries: dict[str, bytes], *, name: str = "images.zip") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, content in entries.items():
            archive.writestr(path, content)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/zip")


def start(shop, actor, text: str, **kwargs) -> InventoryImport:
    return inventory_import_start(shop=shop, actor=actor, data_file=data_file(text), **kwargs)


@pytest.fixture
def run_import(django_capture_on_commit_callbacks):
    """Start an import and run what was queued at commit (Celery is eager in tests)."""

    def run(shop, actor, text: str, **kwargs) -> InventoryImport:
        with django_capture_on_commit_callbacks(execute=True):
            return start(shop, actor, text, **kwargs)

    return run


def outcomes(job: InventoryImport) -> list[tuple[int, str, str, str]]:
    return list(job.rows.order_by("line_number").values_list("line_number", "sku", "outcome", "message"))


def counts(job: InventoryImport) -> tuple:
    job.refresh_from_db()
    return (job.status, job.total_rows, job.processed_rows, job.created_count, job.updated_count, job.rejected_count)


# --- Creating listings -------------------------------------------------------------------------------------------


def test_a_csv_file_creates_active_listings_with_every_column(shop, shop_owner):
    text = (
        f"{HEADER}\n"
        'B-001,The Old Man and the Sea,Ernest Hemingway,0-684-80122-1,12.50,2,Very Good,"First *Scribner* '
        'paperback, 1995",\n'
        "R-001,Kind of Blue,Miles Davis,CL 1355,30,1,as-new,,,\n"
    )

    job = start(shop, shop_owner, text)

    assert counts(job) == ("done", 2, 2, 2, 0, 0)
    assert outcomes(job) == [(2, "B-001", "created", ""), (3, "R-001", "created", "")]
    book = Listing.objects.get(shop=shop, sku="B-001")
    assert (book.title, book.creator, book.identifier, book.price, book.quantity, book.condition.slug) == (
        "The Old Man and the Sea",
        "Ernest Hemingway",
        "0-684-80122-1",
        Decimal("12.50"),
        2,
        "very-good",
    )
    assert (book.status, book.currency, book.published_at is not None) == ("active", "GBP", True)
    assert book.description_html == "<p>First <em>Scribner</em> paperback, 1995</p>"
    assert (book.work.identifier_kind, book.work.identifier) == ("isbn", "9780684801223")
    record = Listing.objects.get(shop=shop, sku="R-001")
    assert (record.work.identifier_kind, record.work.identifier, record.condition.slug) == (
        "catalog",
        "CL 1355",
        "as-new",
    )
    assert job.rows.get(line_number=2).listing == book


def test_import_as_drafts_creates_draft_listings(shop, shop_owner):
    job = start(shop, shop_owner, "title,price\nA Book,5\n", as_drafts=True)

    assert counts(job) == ("done", 1, 1, 1, 0, 0)
    assert Listing.objects.get(shop=shop).status == "draft"


def test_a_tab_delimited_file_with_bom_and_synonym_headers(shop, shop_owner):
    text = (
        "\ufeffStock No\tBook Title\tArtist\tISBN-13\tPrice (£)\tQty\tGrade\tNotes\n"
        "S1\tBlue Train\tJohn Coltrane\tBLP 1577\t£24.00\t3\tVERY_GOOD\tOriginal sleeve, small tear\n"
    )

    job = start(shop, shop_owner, text)

    assert counts(job) == ("done", 1, 1, 1, 0, 0)
    listing = Listing.objects.get(shop=shop)
    assert (listing.sku, listing.title, listing.creator, listing.identifier) == (
        "S1",
        "Blue Train",
        "John Coltrane",
        "BLP 1577",
    )
    assert (listing.price, listing.quantity, listing.condition.slug) == (Decimal("24.00"), 3, "very-good")
    assert listing.description == "Original sleeve, small tear"


@pytest.mark.parametrize(
    ("content", "delimiter"),
    [
        ("title;price;author\nÉtudes;9,50;Chopin\n".encode("cp1252"), ";"),
        ("\ufefftitle,price,author\nÉtudes,9.50,Chopin\n".encode(), ","),
        ("title\tprice\tauthor\r\nÉtudes\t9.50\tChopin\r\n".encode("utf-16"), "\t"),
    ],
    ids=["cp1252-semicolons", "utf8-bom", "utf16-excel-unicode-text"],
)
def test_encodings_and_delimiters_are_recognised(shop, shop_owner, content, delimiter):
    parsed = imports.parse_inventory(imports.decode_text(content))
    assert parsed.delimiter == delimiter

    job = inventory_import_start(
        shop=shop, actor=shop_owner, data_file=SimpleUploadedFile("stock.txt", content, content_type="text/plain")
    )

    assert counts(job) == ("done", 1, 1, 1, 0, 0)
    listing = Listing.objects.get(shop=shop)
    assert (listing.title, listing.creator, listing.price) == ("Études", "Chopin", Decimal("9.50"))


def test_shop_staff_can_import(shop, shop_staff):
    job = start(shop, shop_staff, "title,price\nA Book,5\n")

    assert counts(job) == ("done", 1, 1, 1, 0, 0)


def test_someone_outside_the_shop_cannot_import(shop, other_shop_owner):
    with pytest.raises(PermissionDenied):
        start(shop, other_shop_owner, "title,price\nA Book,5\n")

    assert InventoryImport.objects.count() == 0
    assert Listing.objects.count() == 0


def test_a_missing_condition_is_listed_as_good_and_says_so(shop, shop_owner):
    job = start(shop, shop_owner, "title,price\nA Book,5\n")

    assert outcomes(job) == [(2, "", "created", "line 2: no condition given: listed as good")]
    assert Listing.objects.get(shop=shop).condition.slug == "good"


def test_quantity_zero_lists_the_item_as_sold_out(shop, shop_owner):
    start(shop, shop_owner, "title,price,quantity\nA Book,5,0\n")

    assert Listing.objects.get(shop=shop).status == "sold_out"


# --- Rejected rows -----------------------------------------------------------------------------------------------


def test_bad_rows_are_rejected_with_the_reason_and_good_rows_still_import(shop, shop_owner):
    ListingFactory(shop=shop, sku="OLD-1", title="Old title", price=Decimal("3.00"))
    text = (
        "sku,title,author,isbn,price,quantity,condition\n"
        "A1,Good Book,Ann Author,,10.00,1,good\n"  # 2 created
        "A2,Negative,,,-3,1,good\n"  # 3
        "A3,Unknown condition,,,5,1,shabby\n"  # 4
        "A4,,,,5,1,good\n"  # 5 no title
        "A1,Same sku again,,,5,1,good\n"  # 6 sku used on line 2
        "A5,Bad ISBN,,978-0-14-044913-0,5,1,good\n"  # 7
        "A6,Bad quantity,,,5,two,good\n"  # 8
        "OLD-1,New title,,,4.00,1,fine\n"  # 9 updated
        "A7,Price with cents,,,5.005,1,good\n"  # 10
        "A8,No price,,,,1,good\n"  # 11
        "A9,Cheap,,,abc,-1,good\n"  # 12 two problems
    )

    job = start(shop, shop_owner, text)

    assert counts(job) == ("done", 11, 11, 1, 1, 9)
    assert outcomes(job) == [
        (2, "A1", "created", ""),
        (3, "A2", "rejected", "line 3: price '-3' must be between 0.01 and 999999.99"),
        (
            4,
            "A3",
            "rejected",
            "line 4: condition 'shabby' is not one of: new, as new, fine, very good, good, fair, poor",
        ),
        (5, "A4", "rejected", "line 5: title is missing"),
        (6, "A1", "rejected", "line 6: sku 'A1' is already used on line 2"),
        (7, "A5", "rejected", "line 7: isbn: 978-0-14-044913-0 is not a valid ISBN: its check digit is wrong."),
        (8, "A6", "rejected", "line 8: quantity 'two' must be a whole number of 0 or more"),
        (9, "OLD-1", "updated", ""),
        (10, "A7", "rejected", "line 10: price '5.005' has more than two decimal places"),
        (11, "A8", "rejected", "line 11: price is missing"),
        (
            12,
            "A9",
            "rejected",
            "line 12: price 'abc' is not a number; quantity '-1' must be a whole number of 0 or more",
        ),
    ]
    assert sorted(Listing.objects.filter(shop=shop).values_list("sku", "title")) == [
        ("A1", "Good Book"),
        ("OLD-1", "New title"),
    ]
    assert Work.objects.count() == 0


def test_a_row_with_more_values_than_columns_is_rejected(shop, shop_owner):
    job = start(shop, shop_owner, "title,price\nA Book,5,surprise\nB Book,6,\n")

    assert outcomes(job) == [
        (2, "", "rejected", "line 2: has 3 values but the first line names 2 columns"),
        (3, "", "created", "line 3: no condition given: listed as good"),
    ]


def test_line_numbers_count_blank_lines_and_quoted_line_breaks(shop, shop_owner):
    text = 'title,price,description\n\nFirst,5,"two\nlines"\nSecond,-1,\n'

    job = start(shop, shop_owner, text)

    assert [(line, outcome) for line, _, outcome, _ in outcomes(job)] == [(3, "created"), (5, "rejected")]
    assert job.rows.get(line_number=5).message == "line 5: price '-1' must be between 0.01 and 999999.99"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12.50", Decimal("12.50")),
        ("12,50", Decimal("12.50")),
        ("£1,250.00", Decimal("1250.00")),
        ("1.250,00 €", Decimal("1250.00")),
        ("1,250", Decimal("1250")),
        ("$ 7", Decimal("7")),
        ("abc", None),
        ("NaN", None),
    ],
)
def test_prices_are_read_as_dealers_write_them(raw, expected):
    assert imports._parse_price(raw) == expected


def test_a_sku_taken_by_a_listing_in_another_shop_is_a_new_listing_here(shop, shop_owner, other_shop):
    theirs = ListingFactory(shop=other_shop, sku="X1", title="Theirs")

    job = start(shop, shop_owner, "sku,title,price\nX1,Mine,5\n")

    assert counts(job)[3:] == (1, 0, 0)
    theirs.refresh_from_db()
    assert theirs.title == "Theirs"
    assert Listing.objects.get(shop=shop).sku == "X1"


# --- Re-uploading ------------------------------------------------------------------------------------------------


def test_uploading_the_same_file_again_updates_instead_of_duplicating(shop, shop_owner):
    text = f"{HEADER}\nB1,First,Ann,,10.00,1,good,,,\nB2,Second,Bob,,20.00,2,fine,,,\n"
    first = start(shop, shop_owner, text)
    before = list(Listing.objects.filter(shop=shop).order_by("sku").values("pk", "sku", "title", "price", "quantity"))

    second = start(shop, shop_owner, text)

    assert counts(first)[3:] == (2, 0, 0)
    assert counts(second) == ("done", 2, 2, 0, 2, 0)
    assert outcomes(second) == [
        (2, "B1", "updated", "line 2: already up to date"),
        (3, "B2", "updated", "line 3: already up to date"),
    ]
    after = list(Listing.objects.filter(shop=shop).order_by("sku").values("pk", "sku", "title", "price", "quantity"))
    assert after == before


def test_an_updated_file_changes_only_the_columns_it_has_and_keeps_blank_cells(shop, shop_owner):
    listing = ListingFactory(
        shop=shop, sku="B1", title="Old", creator="Ann", price=Decimal("10.00"), quantity=1, status="paused"
    )

    job = start(shop, shop_owner, "sku,title,author,price,quantity\nB1,New title,,11.00,4\n")

    assert outcomes(job) == [(2, "B1", "updated", "")]
    listing.refresh_from_db()
    assert (listing.title, listing.creator, listing.price, listing.quantity, listing.status) == (
        "New title",
        "Ann",
        Decimal("11.00"),
        4,
        "paused",
    )


# --- Files refused whole -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "This file is empty."),
        (b"\n\n  \n", "This file is empty."),
        (
            image_bytes(),
            "This file is not a text file. Save your spreadsheet as CSV (comma-separated) or as tab-delimited text, "
            "and upload that.",
        ),
        (
            b"PK\x03\x04\x14\x00\x06\x00",
            "This file is not a text file. Save your spreadsheet as CSV (comma-separated) or as tab-delimited text, "
            "and upload that.",
        ),
        (
            b"Moby Dick,12.50\nEmma,3\n",
            "The first line of the file must name the columns, for example: sku, title, author, isbn, price, "
            "quantity, condition. None of the names on the first line is a column Plural knows.",
        ),
        (
            b"sku,title,quantity\nA1,Emma,1\n",
            "The file has no price column. The first line names these columns: sku, title, quantity.",
        ),
        (
            b"sku,author\nA1,Austen\n",
            "The file has no title or price column. The first line names these columns: sku, author.",
        ),
        (b"title,price\n\n", "This file has a header line but no rows to import."),
        (
            b'title,price\nEmma,3\n"Persuasion,4\nMansfield Park,5\n',
            "Line 3 of the file cannot be read (unexpected end of data). Check the quotes on that line.",
        ),
        (
            b'title,price\n"Emma" (first edition),3\n',
            "Line 2 of the file cannot be read (',' expected after '\"'). Check the quotes on that line.",
        ),
    ],
    ids=[
        "empty",
        "blank-lines",
        "image",
        "spreadsheet",
        "no-header",
        "no-price",
        "no-title-or-price",
        "no-rows",
        "unclosed-quote",
        "stray-quote",
    ],
)
def test_a_malformed_file_is_refused_whole_and_nothing_is_recorded(shop, shop_owner, content, message):
    with pytest.raises(ValidationError) as refused:
        inventory_import_start(
            shop=shop, actor=shop_owner, data_file=SimpleUploadedFile("stock.csv", content, content_type="text/csv")
        )

    assert refused.value.message_dict == {"data_file": [message]}
    assert InventoryImport.objects.count() == 0
    assert Listing.objects.count() == 0


def test_a_file_of_more_than_20000_rows_is_refused(shop, shop_owner):
    text = "title,price\n" + "Book,5\n" * 20_001

    with pytest.raises(ValidationError) as refused:
        start(shop, shop_owner, text)

    assert refused.value.message_dict == {
        "data_file": ["This file has more than 20,000 rows. Split it into files of at most 20,000 rows."]
    }
    assert (InventoryImport.objects.count(), Listing.objects.count()) == (0, 0)


def test_a_file_larger_than_10_mb_is_refused(shop, shop_owner):
    text = "title,price,description\n" + "Book,5," + "x" * (10 * 1024 * 1024) + "\n"

    with pytest.raises(ValidationError) as refused:
        start(shop, shop_owner, text)

    assert refused.value.message_dict == {"data_file": ["This file is larger than 10 MB. Split it into smaller files."]}
    assert (InventoryImport.objects.count(), Listing.objects.count()) == (0, 0)


# --- Images from a zip -------------------------------------------------------------------------------------------


def test_images_from_the_zip_are_attached_through_the_image_pipeline(shop, shop_owner, run_import):
    archive = zip_file({"covers/b1.png": image_bytes(size=(600, 900)), "r1.JPG": image_bytes(image_format="JPEG")})
    text = "sku,title,price,image\nB1,Book,5,covers/b1.png\nR1,Record,6,R1.jpg\nN1,No picture,7,\n"

    job = run_import(shop, shop_owner, text, images_archive=archive)

    assert counts(job) == ("done", 3, 3, 3, 0, 0)
    book = Listing.objects.get(sku="B1")
    assert book.images.count() == 1
    image = book.images.get()
    assert (image.thumbnail.name.endswith(".webp"), image.large.name.endswith(".webp")) == (True, True)
    assert (image.thumbnail.width, image.thumbnail.height) == (240, 240)
    assert Listing.objects.get(sku="R1").images.count() == 1
    assert Listing.objects.get(sku="N1").images.count() == 0


def test_an_image_missing_from_the_zip_or_not_an_image_rejects_its_row(shop, shop_owner, run_import):
    archive = zip_file({"ok.png": image_bytes(), "broken.png": b"not an image"})
    text = (
        "sku,title,price,condition,image\n"
        "A,Fine,5,good,ok.png\n"
        "B,Missing,5,good,nowhere.png\n"
        "C,Broken,5,good,broken.png\n"
        "D,Escape,5,good,../etc/passwd\n"
        "E,Web,5,good,https://example.com/e.jpg\n"
    )

    job = run_import(shop, shop_owner, text, images_archive=archive)

    assert outcomes(job) == [
        (2, "A", "created", ""),
        (3, "B", "rejected", "line 3: image 'nowhere.png' is not in the zip"),
        (
            4,
            "C",
            "rejected",
            "line 4: image 'broken.png': This file is not an image we can read. "
            "Please upload a JPEG, PNG, WebP or GIF.",
        ),
        (5, "D", "rejected", "line 5: image '../etc/passwd' must be the path of an image inside the zip"),
        (6, "E", "rejected", "line 6: image 'https://example.com/e.jpg' must be the path of an image inside the zip"),
    ]
    # A rejected row leaves nothing behind: no listing without its picture.
    assert list(Listing.objects.filter(shop=shop).values_list("sku", flat=True)) == ["A"]


def test_an_image_column_without_a_zip_rejects_the_rows_that_name_an_image(shop, shop_owner):
    job = start(shop, shop_owner, "sku,title,price,image\nA,One,5,a.png\nB,Two,5,\n")

    assert outcomes(job)[0] == (
        2,
        "A",
        "rejected",
        "line 2: image 'a.png' needs a zip of images uploaded with the file",
    )
    assert outcomes(job)[1][2] == "created"


def test_reuploading_with_images_does_not_add_the_image_twice(shop, shop_owner, run_import):
    text = "sku,title,price,image\nA,One,5,a.png\n"
    run_import(shop, shop_owner, text, images_archive=zip_file({"a.png": image_bytes()}))

    job = run_import(shop, shop_owner, text, images_archive=zip_file({"a.png": image_bytes()}))

    assert outcomes(job) == [
        (2, "A", "updated", "line 2: already up to date; image not added: the listing already has images")
    ]
    assert Listing.objects.get(sku="A").images.count() == 1


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (
            {"../evil.png": b"x"},
            "The zip contains a file whose path leads outside the zip (../evil.png). "
            "Make the zip again from your folder of images.",
        ),
        (
            {"covers/../../evil.png": b"x"},
            "The zip contains a file whose path leads outside the zip (covers/../../evil.png). "
            "Make the zip again from your folder of images.",
        ),
        (
            {"/etc/evil.png": b"x"},
            "The zip contains a file whose path leads outside the zip (/etc/evil.png). "
            "Make the zip again from your folder of images.",
        ),
    ],
)
def test_a_zip_with_paths_leading_outside_it_is_refused_whole(shop, shop_owner, entries, message):
    with pytest.raises(ValidationError) as refused:
        start(shop, shop_owner, "title,price,image\nA,5,a.png\n", images_archive=zip_file(entries))

    assert refused.value.message_dict == {"images_archive": [message]}
    assert (InventoryImport.objects.count(), Listing.objects.count()) == (0, 0)


def test_an_images_file_that_is_not_a_zip_is_refused(shop, shop_owner):
    not_zip = SimpleUploadedFile("images.zip", b"just text", content_type="application/zip")

    with pytest.raises(ValidationError) as refused:
        start(shop, shop_owner, "title,price\nA,5\n", images_archive=not_zip)

    assert refused.value.message_dict == {"images_archive": ["The images file is not a zip archive."]}
    assert InventoryImport.objects.count() == 0


def test_a_zip_larger_than_the_limit_is_refused(shop, shop_owner, monkeypatch):
    monkeypatch.setattr(imports, "MAX_ARCHIVE_BYTES", 1024 * 1024)
    archive = zip_file({"big.bin": b"\0" * 10})
    archive.size = 1024 * 1024 + 1

    with pytest.raises(ValidationError) as refused:
        start(shop, shop_owner, "title,price\nA,5\n", images_archive=archive)

    assert refused.value.message_dict == {
        "images_archive": [
            "The zip of images is larger than 1 MB. Split the import into smaller files, each with the zip of its "
            "own images."
        ]
    }
    assert InventoryImport.objects.count() == 0


# --- The task ----------------------------------------------------------------------------------------------------


def test_the_import_task_is_routed_to_the_imports_queue():
    assert import_inventory.name == "sellers.tasks.import_inventory"
    assert celery_app.amqp.router.route({}, import_inventory.name)["queue"].name == "imports"


def _rows_text(count: int, *, start_at: int = 1) -> str:
    lines = [HEADER]
    for number in range(start_at, start_at + count):
        condition = ("new", "as new", "Fine", "very-good", "GOOD", "fair", "poor")[number % 7]
        tags = ""
        lines.append(
            f"SKU-{number:05d},Book number {number},Author {number % 50},,{number % 90 + 1}.{number % 100:02d},"
            f"{number % 4},{condition},A *fine* copy of book {number},{tags},"
        )
    return "\n".join(lines) + "\n"


def test_a_large_file_is_queued_after_commit_and_run_by_the_task(shop, shop_owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = start(shop, shop_owner, _rows_text(imports.INLINE_MAX_ROWS + 1))
    assert counts(job) == ("queued", 201, 0, 0, 0, 0)
    assert Listing.objects.count() == 0
    assert len(callbacks) == 1

    callbacks[0]()  # the commit: Celery runs eagerly in tests

    assert counts(job) == ("done", 201, 201, 201, 0, 0)


def test_running_the_task_twice_gives_the_same_result(shop, shop_owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = start(shop, shop_owner, _rows_text(imports.INLINE_MAX_ROWS + 20) + "BAD,Bad,,,-3,1,good,,,\n")
    first = (counts(job), outcomes(job), list(Listing.objects.order_by("pk").values_list("pk", "sku", "price")))

    import_inventory.apply(args=[job.pk])
    # Even a finished import pushed back to running by a stray second delivery is a no-op.
    InventoryImport.objects.filter(pk=job.pk).update(status=InventoryImport.Status.RUNNING)
    import_inventory.apply(args=[job.pk])

    assert first[0] == ("done", 221, 221, 220, 0, 1)
    assert (counts(job), outcomes(job), list(Listing.objects.order_by("pk").values_list("pk", "sku", "price"))) == first


def test_a_run_interrupted_midway_resumes_where_it_stopped(shop, shop_owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = start(shop, shop_owner, _rows_text(imports.INLINE_MAX_ROWS + 10))
    expected = (counts(job), outcomes(job))
    # The worker died after line 150: the last rows and their listings were never committed.
    unfinished = job.rows.filter(line_number__gt=150)
    Listing.objects.filter(pk__in=unfinished.values("listing")).delete()
    unfinished.delete()
    InventoryImport.objects.filter(pk=job.pk).update(status=InventoryImport.Status.RUNNING, processed_rows=149)

    import_inventory.apply(args=[job.pk])

    assert (counts(job), outcomes(job)) == expected
    assert Listing.objects.filter(shop=shop).count() == 210


def test_a_line_recorded_by_another_run_is_not_imported_twice(shop, shop_owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = start(shop, shop_owner, _rows_text(imports.INLINE_MAX_ROWS + 1))
    # Another delivery of the task recorded line 2 (and created its listing) while this one started.
    other_run_listing = ListingFactory(shop=shop, sku="SKU-00001", title="Book number 1")
    InventoryImportRow.objects.create(
        inventory_import=job, line_number=2, sku="SKU-00001", outcome="created", listing=other_run_listing
    )

    callbacks[0]()

    assert counts(job) == ("done", 201, 201, 201, 0, 0)
    assert Listing.objects.filter(shop=shop, sku="SKU-00001").count() == 1


def test_a_thousand_row_file_imports_every_row(shop, shop_owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = start(shop, shop_owner, _rows_text(1000))

    assert counts(job) == ("done", 1000, 1000, 1000, 0, 0)
    assert Listing.objects.filter(shop=shop).count() == 1000
    listing = Listing.objects.get(sku="SKU-00742")
    assert (listing.title, listing.creator, listing.price, listing.quantity, listing.condition.slug) == (
        "Book number 742",
        "Author 42",
        Decimal("23.42"),
        2,
        "new",
    )
    assert Listing.objects.filter(shop=shop, status="sold_out").count() == 250

    with django_capture_on_commit_callbacks(execute=True):
        again = start(shop, shop_owner, _rows_text(1000))

    assert counts(again) == ("done", 1000, 1000, 0, 1000, 0)
    assert Listing.objects.filter(shop=shop).count() == 1000


def test_an_import_fails_with_the_reason_when_its_uploader_left_the_shop(
    shop, shop_staff, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = start(shop, shop_staff, _rows_text(imports.INLINE_MAX_ROWS + 1))
    ShopMember.objects.filter(shop=shop, user=shop_staff).delete()

    callbacks[0]()

    job.refresh_from_db()
    assert (job.status, job.failure_reason) == (
        "failed",
        "The person who uploaded this file is no longer one of the shop's people.",
    )
    assert Listing.objects.count() == 0


def test_an_unexpected_error_fails_the_import_instead_of_leaving_it_running(
    shop, shop_owner, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(imports, "_existing_listings", broken)
    with django_capture_on_commit_callbacks(execute=True):
        job = start(shop, shop_owner, _rows_text(imports.INLINE_MAX_ROWS + 1))

    job.refresh_from_db()
    assert job.status == "failed"
    assert job.failure_reason.startswith("The import stopped because of an error on our side.")


def test_a_finished_import_is_left_alone(shop, shop_owner):
    job = start(shop, shop_owner, "title,price\nA,5\n")

    assert inventory_import_run(import_id=job.pk).status == "done"
    assert InventoryImportRow.objects.filter(inventory_import=job).count() == 1
    assert Listing.objects.count() == 1


def test_stored_files_get_unguessable_names(shop, shop_owner, run_import):
    job = run_import(
        shop, shop_owner, "title,price\nA,5\n", images_archive=zip_file({"a.png": b"x"}, name="My Pictures.ZIP")
    )

    data_name, archive_name = job.data_file.name.split("/")[-1], job.images_archive.name.split("/")[-1]
    assert job.data_file.name.startswith(f"imports/{shop.pk}/")
    assert (len(data_name), data_name[-4:], len(archive_name), archive_name[-4:]) == (36, ".csv", 36, ".zip")
    assert job.original_name == "inventory.csv"


def test_absurd_numbers_are_rejected_without_being_computed(shop, shop_owner):
    job = start(shop, shop_owner, "title,price,quantity,condition\nA,5,1e999999999,good\nB,1e999999999,1,good\n")

    assert outcomes(job) == [
        (2, "", "rejected", "line 2: quantity '1e999999999': The quantity can be at most 100,000."),
        (3, "", "rejected", "line 3: price '1e999999999' must be between 0.01 and 999999.99"),
    ]


def test_an_unexpected_error_on_one_row_rejects_only_that_row(shop, shop_owner, monkeypatch):
    from catalog import services

    create, listing_row = services.listing_create, imports._listing_row

    def fragile_listing_row(item, *args):
        if item.row.values["title"] == "Cursed":
            raise RuntimeError("boom")
        return listing_row(item, *args)

    def fragile_create(**fields):
        if fields["title"] == "Cursed":
            raise RuntimeError("boom")
        return create(**fields)

    # The row breaks its batch's set-based write, which is undone whole; the batch then goes row by row.
    monkeypatch.setattr(imports, "_listing_row", fragile_listing_row)
    monkeypatch.setattr(services, "listing_create", fragile_create)

    job = start(shop, shop_owner, "title,price,condition\nFine,5,good\nCursed,5,good\nAlso fine,5,good\n")

    assert [(line, outcome, message) for line, _, outcome, message in outcomes(job)] == [
        (2, "created", ""),
        (3, "rejected", "line 3: could not be imported because of an error on our side"),
        (4, "created", ""),
    ]
    assert counts(job) == ("done", 3, 3, 2, 0, 1)
    assert sorted(Listing.objects.filter(shop=shop).values_list("title", flat=True)) == ["Also fine", "Fine"]


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_running_at_the_same_time_import_each_line_once(require_postgresql, shop, shop_owner):
    import threading

    from django.db import connection

    # No skus: nothing but the per-line record keeps the two runs from creating every listing twice.
    text = "title,price,condition\n" + "".join(f"Book {number},5,good\n" for number in range(300))
    job = InventoryImport(shop=shop, uploaded_by=shop_owner, original_name="stock.csv", total_rows=300)
    job.data_file.save("stock.csv", ContentFile(text.encode()))
    barrier = threading.Barrier(2)
    errors = []

    def deliver():
        try:
            barrier.wait()
            inventory_import_run(import_id=job.pk)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    notes = set(InventoryImportRow.objects.filter(inventory_import=job).values_list("message", flat=True))
    assert counts(job) == ("done", 300, 300, 300, 0, 0), notes
    assert Listing.objects.filter(shop=shop).count() == 300
    assert InventoryImportRow.objects.filter(inventory_import=job, listing__isnull=True).count() == 0


def test_a_database_outage_is_retried_and_out_of_retries_fails_the_import(
    shop, shop_owner, django_capture_on_commit_callbacks
):
    from django.db import InterfaceError, OperationalError

    with django_capture_on_commit_callbacks(execute=False):
        job = start(shop, shop_owner, _rows_text(imports.INLINE_MAX_ROWS + 1))

    # What Celery calls once the last retry has failed too.
    import_inventory.on_failure(OperationalError("gone"), "task-id", (job.pk,), {}, None)

    assert (import_inventory.autoretry_for, import_inventory.max_retries) == ((OperationalError, InterfaceError), 5)
    job.refresh_from_db()
    assert (job.status, job.failure_reason) == ("failed", imports.INTERRUPTED_REASON)


# --- Tags (through catalog.tagging.tag_apply) ----------------------------------------------------------------------


def test_tags_separated_by_commas_or_semicolons_become_the_sellers_tags(shop, shop_owner):
    from catalog.models import TaggedListing

    text = (
        'sku,title,price,condition,tags\nA1,Emma,5,good,"Austen, first edition;  Regency ; austen"\nA2,Other,5,good,\n'
    )

    job = start(shop, shop_owner, text)

    assert counts(job)[3:] == (2, 0, 0)
    listing = Listing.objects.get(sku="A1")
    applications = TaggedListing.objects.filter(content_object=listing).select_related("tag")
    assert sorted(application.tag.name for application in applications) == ["austen", "first edition", "regency"]
    assert {(application.tagged_by_id, application.is_seller_tag) for application in applications} == {
        (shop_owner.pk, True)
    }
    assert TaggedListing.objects.filter(content_object__sku="A2").count() == 0


def test_reuploading_tags_does_not_apply_them_twice(shop, shop_owner):
    from catalog.models import TaggedListing

    text = "sku,title,price,condition,tags\nA1,Emma,5,good,austen;regency\n"
    start(shop, shop_owner, text)

    job = start(shop, shop_owner, text)

    assert outcomes(job) == [(2, "A1", "updated", "line 2: already up to date")]
    assert TaggedListing.objects.filter(content_object__sku="A1").count() == 2


def test_a_refused_tag_rejects_its_row_and_leaves_nothing_behind(shop, shop_owner):

    text = f"sku,title,price,condition,tags\nA1,Emma,5,good,fine;{'x' * 51}\nA2,Other,5,good,ok\n"

    job = start(shop, shop_owner, text)

    rows = outcomes(job)
    assert rows[0][:3] == (2, "A1", "rejected")
    assert rows[0][3].startswith(f"line 2: tags '{'x' * 51}': ")
    assert rows[1][:3] == (3, "A2", "created")
    assert list(Listing.objects.filter(shop=shop).values_list("sku", flat=True)) == ["A2"]


# --- Search (the index follows batch by batch) --------------------------------------------------------------------


def _found_in_search(shop) -> int:
    from catalog.search import listings_matching

    return listings_matching(listings=Listing.objects.filter(shop=shop), text="book").count()


@pytest.mark.django_db(transaction=True)
def test_an_import_reindexes_each_batch_of_rows_once_and_search_finds_every_row(shop, shop_owner):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rows = 2 * imports.BATCH_SIZE + 20  # three batches, run by the task (eager in tests) at commit

    with CaptureQueriesContext(connection) as captured:
        job = start(shop, shop_owner, _rows_text(rows))

    # One lexicon update per reindex (a bulk insert of documents may take several statements on SQLite).
    lexicon_writes = [query for query in captured if query["sql"].startswith("INSERT INTO catalog_searchterm")]
    assert counts(job) == ("done", rows, rows, rows, 0, 0)
    assert len(lexicon_writes) == 3
    assert _found_in_search(shop) == rows


@pytest.mark.django_db(transaction=True)
def test_a_resumed_import_reindexes_the_rows_an_interrupted_run_committed(shop, shop_owner):
    from catalog.search import reindex_listings

    batch = imports.BATCH_SIZE
    job = start(shop, shop_owner, _rows_text(batch + 10))
    # The worker died in the second batch, which went row by row: lines up to batch + 6 committed, never reindexed.
    interrupted = job.rows.filter(line_number__gt=batch + 1)
    Listing.objects.filter(pk__in=interrupted.filter(line_number__gt=batch + 6).values("listing")).delete()
    job.rows.filter(line_number__gt=batch + 6).delete()
    unindexed = list(interrupted.values_list("listing_id", flat=True))
    Listing.objects.filter(pk__in=unindexed).update(status="paused")
    reindex_listings(listing_ids=unindexed)  # out of the index, as if never indexed
    Listing.objects.filter(pk__in=unindexed).update(status="active")
    InventoryImport.objects.filter(pk=job.pk).update(status=InventoryImport.Status.RUNNING)
    assert _found_in_search(shop) == batch

    import_inventory.apply(args=[job.pk])

    assert counts(job) == ("done", batch + 10, batch + 10, batch + 10, 0, 0)
    assert _found_in_search(shop) == batch + 10


# --- The set-based path (a batch of rows in a fixed number of queries) ----------------------------------------------


MIXED_HEADER = "sku,title,author,isbn,price,quantity,condition,year,currency,description,tags"


def _mixed_rows() -> str:
    """Good and bad rows of every kind, and rows for the two listings _existing_listings makes."""
    return "\n".join(
        [
            MIXED_HEADER,
            'N1,Good Book,Ann Author,0-684-80122-1,10.00,2,good,1995,,A *fine* copy,"Austen; first edition"',
            "N2,Negative,,,-3,1,good,,,,",
            "N3,Unknown condition,,,5,1,shabby,,,,",
            "N4,,,,5,1,good,,,,",
            "N1,Same sku again,,,5,1,good,,,,",
            "N5,Bad ISBN,,978-0-14-044913-0,5,1,good,,,,",
            f"N6,{'x' * 300},,,5,1,good,,,,",
            "N7,Too many,,,5,200000,good,,,,",
            "N8,Old year,,,5,1,good,999,,,",
            "N9,Odd money,,,5,1,good,,XYZ,,",
            'N10,Hidden tag,,,5,1,good,,,,"austen; Banned"',
            f"N11,Long tag,,,5,1,good,,,,{'y' * 51}",
            "N12,No condition,,,5,0,,,,,",
            "N13,Same work,Bob,9780684801223,7,1,good,,,,Regency",
            'OLD-1,New title,,,4.00,3,fine,,,,"regency;Austen"',
            "OLD-2,Same,,,3.00,1,good,,,,",
            "N14,Draft-free,Cy,,8,1,as new,,eur,,",
        ]
    )


def _existing_listings(shop) -> None:
    ListingFactory(shop=shop, sku="OLD-1", title="Old title", price=Decimal("5.00"))
    ListingFactory(shop=shop, sku="OLD-2", title="Same", price=Decimal("3.00"))


def _listings_of(shop) -> list[tuple]:
    from catalog.models import TaggedListing

    tags: dict[int, list[str]] = {}
    for listing_id, name in TaggedListing.objects.filter(content_object__shop=shop).values_list(
        "content_object_id", "tag__name"
    ):
        tags.setdefault(listing_id, []).append(name)
    return [
        (
            listing.sku,
            listing.title,
            listing.creator,
            listing.identifier,
            listing.price,
            listing.quantity,
            listing.condition.slug,
            listing.status,
            listing.year,
            listing.currency,
            listing.description_html,
            listing.work.identifier if listing.work else None,
            listing.published_at is not None,
            sorted(tags.get(listing.pk, [])),
        )
        for listing in Listing.objects.filter(shop=shop).select_related("condition", "work").order_by("sku")
    ]


def test_a_batch_of_good_and_bad_rows_gives_what_the_row_by_row_path_gives(
    shop, shop_owner, other_shop_owner, monkeypatch
):
    from catalog.models import Tag
    from catalog.tagging import tags_recount
    from social.models import Activity
    from tests.factories import ShopFactory

    Tag.objects.create(name="banned", slug="banned", is_hidden=True, hidden_reason="Abuse")
    twin = ShopFactory(name="Twin Books", slug="twin-books", owner=other_shop_owner)
    for each in (shop, twin):
        _existing_listings(each)

    bulk = start(shop, shop_owner, _mixed_rows())

    def broken(*args, **kwargs):
        raise RuntimeError("the set-based path is not taken")

    monkeypatch.setattr(imports, "_write_batch", broken)
    by_row = start(twin, other_shop_owner, _mixed_rows())

    assert counts(bulk) == counts(by_row) == ("done", 17, 17, 4, 2, 11)
    assert outcomes(bulk) == outcomes(by_row)
    assert [message for _, _, outcome, message in outcomes(bulk) if outcome == "rejected"] == [
        "line 3: price '-3' must be between 0.01 and 999999.99",
        "line 4: condition 'shabby' is not one of: new, as new, fine, very good, good, fair, poor",
        "line 5: title is missing",
        "line 6: sku 'N1' is already used on line 2",
        "line 7: isbn: 978-0-14-044913-0 is not a valid ISBN: its check digit is wrong.",
        f"line 8: title '{'x' * 300}': This can be at most 255 characters.",
        "line 9: quantity '200000': The quantity can be at most 100,000.",
        f"line 10: year '999': Enter a year between 1000 and {timezone.now().year + 1}.",
        "line 11: currency: XYZ is not a currency Plural accepts.",
        "line 12: tags 'Banned': “banned” has been hidden by a moderator and cannot be used.",
        f"line 13: tags '{'y' * 51}': A tag can be at most 50 characters long (this one has 51).",
    ]
    assert _listings_of(shop) == _listings_of(twin)
    assert Listing.objects.get(shop=shop, sku="N1").work == Listing.objects.get(shop=shop, sku="N13").work
    listed = Activity.objects.filter(kind="listed")
    assert listed.filter(shop=shop).count() == listed.filter(shop=twin).count() == 3
    use_counts = dict(Tag.objects.values_list("name", "use_count"))
    tags_recount(actor=UserFactory(is_staff=True))
    assert (
        dict(Tag.objects.values_list("name", "use_count"))
        == use_counts
        == {
            "austen": 4,
            "banned": 0,
            "first edition": 2,
            "regency": 4,
        }
    )


def _tagged_rows(count: int, *, tags: str, prefix: str = "T") -> str:
    lines = ["sku,title,author,price,quantity,condition,tags"]
    lines += [
        f'{prefix}{number:05d},Herbarium volume {number},Gwen Price,{number % 90 + 1}.50,1,good,"{tags}"'
        for number in range(count)
    ]
    return "\n".join(lines) + "\n"


def test_a_batch_costs_the_same_queries_whatever_its_number_of_rows(
    shop, shop_owner, django_assert_num_queries, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    jobs = []

    def run(count: int, tags: str) -> None:
        # Below INLINE_MAX_ROWS: the whole import runs in inventory_import_start, on the set-based path.
        # (SQLite takes at most 999 values per statement, so its bulk inserts split above 45 rows.)
        with django_capture_on_commit_callbacks(execute=True):
            jobs.append((count, start(shop, shop_owner, _tagged_rows(count, tags=tags, prefix=f"T{count}-"))))

    with CaptureQueriesContext(connection) as new_tags:
        run(10, "Wales; first flora")
    with django_assert_num_queries(len(new_tags)):
        run(45, "Devon; second flora")
    # Known tags cost fewer queries than new ones, again whatever the number of rows.
    with CaptureQueriesContext(connection) as known_tags:
        run(20, "Wales; devon")
    with django_assert_num_queries(len(known_tags)):
        run(40, "first flora; Second Flora")

    assert len(known_tags) < len(new_tags)
    assert [counts(job) for _, job in jobs] == [("done", count, count, count, 0, 0) for count, _ in jobs]


def test_imported_tags_and_text_are_found_at_once_and_counted(shop, shop_owner, django_capture_on_commit_callbacks):
    from catalog import tagging
    from catalog.models import Tag, TaggedListing
    from catalog.search import listings_matching

    with django_capture_on_commit_callbacks(execute=True):
        job = start(shop, shop_owner, _tagged_rows(30, tags="Botany; Welsh Flora"))

    assert counts(job) == ("done", 30, 30, 30, 0, 0)
    listings = Listing.objects.filter(shop=shop)
    assert listings_matching(listings=listings, text="herbarium gwen").count() == 30
    assert listings_matching(listings=listings, text="welsh flora").count() == 30
    assert listings_matching(listings=listings, text="volume 7").count() == 1
    assert dict(Tag.objects.filter(name__in=["botany", "welsh flora"]).values_list("slug", "use_count")) == {
        "botany": 30,
        "welsh-flora": 30,
    }
    assert TaggedListing.objects.filter(tagged_by=shop_owner, is_seller_tag=True).count() == 60
    tags_recounted = dict(Tag.objects.values_list("name", "use_count"))
    tagging.tags_recount(actor=UserFactory(is_staff=True))
    assert dict(Tag.objects.values_list("name", "use_count")) == tags_recounted


def test_an_import_run_again_or_uploaded_again_changes_nothing(shop, shop_owner, django_capture_on_commit_callbacks):
    from catalog.models import Tag, TaggedListing
    from social.models import Activity

    text = _tagged_rows(imports.INLINE_MAX_ROWS + 30, tags="botany; maps")
    with django_capture_on_commit_callbacks(execute=True):
        job = start(shop, shop_owner, text)

    def state():
        return (
            counts(job),
            outcomes(job),
            list(Listing.objects.order_by("pk").values_list("pk", "sku", "title", "price", "status")),
            list(TaggedListing.objects.order_by("pk").values_list("tag__name", "content_object_id")),
            dict(Tag.objects.values_list("name", "use_count")),
            Activity.objects.filter(kind="listed").count(),
        )

    first = state()
    import_inventory.apply(args=[job.pk])
    InventoryImport.objects.filter(pk=job.pk).update(status=InventoryImport.Status.RUNNING)
    import_inventory.apply(args=[job.pk])
    assert state() == first
    assert first[0] == ("done", 230, 230, 230, 0, 0)
    assert first[4] == {"botany": 230, "maps": 230}

    with django_capture_on_commit_callbacks(execute=True):
        again = start(shop, shop_owner, text)

    assert counts(again) == ("done", 230, 230, 0, 230, 0)
    assert {message for _, _, _, message in outcomes(again)} == {
        f"line {line}: already up to date" for line in range(2, 232)
    }
    assert state()[2:] == first[2:]


def test_the_shops_followers_hear_of_an_import_once_and_wants_of_each_listing(
    shop, shop_owner, buyer, other_buyer, django_capture_on_commit_callbacks
):
    from catalog import wantlists
    from notifications.models import Notification
    from social import services as social_services
    from social.models import Activity, ListingEvent

    social_services.follow_create(follower=buyer, shop=shop)
    wantlists.want_create(user=other_buyer, text="hortus siccus")
    text = _tagged_rows(imports.INLINE_MAX_ROWS + 4, tags="botany") + "SPECIAL,Hortus Siccus,Gwen Price,5,1,good,\n"

    with django_capture_on_commit_callbacks(execute=True):
        job = start(shop, shop_owner, text)

    assert counts(job)[3] == 205
    assert Activity.objects.filter(kind="listed", shop=shop, actor=shop_owner).count() == 205
    events = ListingEvent.objects.order_by("pk")
    assert events.count() == 205  # a want is active: each listing is matched against it
    assert [event.is_new for event in events].count(True) == 1
    assert {event.done_at is not None for event in events} == {True}
    assert list(Notification.objects.filter(recipient=buyer).values_list("kind", "title")) == [
        ("shop.listed", "Olive's Books listed Herbarium volume 0")
    ]
    assert list(Notification.objects.filter(recipient=other_buyer).values_list("kind", "title")) == [
        ("wantlist.matched", "Found for your want list: Hortus Siccus")
    ]
