"""Bulk inventory import: a dealer's CSV or tab-delimited file (and an optional zip of images)
becomes listings of one shop, with a report of what became of every row.

Two steps, as everywhere in Plural: `inventory_import_start` validates the whole upload
(a malformed file is refused whole, nothing recorded) and records an InventoryImport;
`inventory_import_run` then turns each row into a listing through catalog.services, so the
listing rules live in one place. Rows are matched to the shop's listings by sku: a known sku
updates, a new or missing sku creates, anything refused is recorded as rejected with the
reason. Each row is its own transaction, so a bad row never undoes the good ones, and the
row's report line is written in that same transaction, so a second run of the same import
(a redelivered task) skips every line already done and cannot create anything twice.
Search reindexes the listings of each batch of rows together once the batch is done, and a
run that resumes first reindexes the rows done before it (their batch may never have been).
"""

import codecs
import csv
import io
import logging
import posixpath
import re
import secrets
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import Count
from django.utils import timezone

from catalog.models import Condition, Listing
from catalog.search import reindex_deferred, reindex_listings, reindex_listings_on_commit
from marketplace.bulk import insert_rows
from marketplace.money import MAX_PRICE, MIN_PRICE

from .models import InventoryImport, InventoryImportRow, Shop
from .selectors import is_shop_member

logger = logging.getLogger(__name__)

MAX_DATA_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
MAX_ARCHIVE_BYTES = 100 * 1024 * 1024
MAX_ARCHIVE_ENTRIES = 20_000
MAX_ARCHIVE_UNCOMPRESSED_BYTES = 1024 * 1024 * 1024
# Up to this many rows, and without images, an import runs in the request that uploads it.
INLINE_MAX_ROWS = 200
# Rows written together (one transaction on the set-based path) between two progress updates.
BATCH_SIZE = 2_000
DEFAULT_CONDITION_SLUG = "good"

# What each column may be called in a dealer's file, after _normalise_header ("ISBN-13" -> "isbn_13").
COLUMN_SYNONYMS: dict[str, tuple[str, ...]] = {
    name: tuple(headers.split())
    for name, headers in {
        "sku": "sku seller_sku stock_number stock_no stock_id stock_code item_number item_no item_id "
        "inventory_number inventory_no reference ref vendor_listing_id vendorlistingid",
        "title": "title name item_title book_title album album_title release_title product_name",
        "creator": "author authors artist artists creator author_artist artist_author author_or_artist band composer",
        "identifier": "isbn isbn13 isbn_13 isbn10 isbn_10 ean ean13 ean_13 upc barcode catalog_number "
        "catalogue_number catalog_no catalogue_no cat_no catno catalog catalogue identifier",
        "price": "price unit_price selling_price sale_price asking_price",
        "quantity": "quantity qty stock copies quantity_available available in_stock",
        "condition": "condition grade item_condition media_condition",
        "description": "description notes comments details",
        "tags": "tags tag keywords",
        "image": "image images image_path image_file image_name picture photo image_url",
        "publisher": "publisher label record_label imprint",
        "year": "year publication_year year_published release_year",
        "format": "format binding media media_format",
        "currency": "currency",
    }.items()
}
REQUIRED_FIELDS = ("title", "price")
COLUMN_BY_HEADER = {header: name for name, headers in COLUMN_SYNONYMS.items() for header in headers}
# Fields that listing_update may change when a row matches a listing by sku.
UPDATABLE_FIELDS = ("title", "price", "condition", "currency", "quantity", "creator", "publisher", "year", "format")
UPDATABLE_FIELDS += ("identifier", "description")
TEXT_FIELDS = ("title", "creator", "publisher", "format", "identifier", "description")
# Control characters other than tab, line feed, form feed and carriage return do not occur in text files.
BINARY_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")
TAG_SEPARATORS = re.compile(r"[,;]")


def _refuse_file(message: str) -> ValidationError:
    return ValidationError({"data_file": [message]})


def _refuse_archive(message: str) -> ValidationError:
    return ValidationError({"images_archive": [message]})


def _normalise_header(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_")


# --- Reading the file -------------------------------------------------------------------------------------------


def decode_text(raw: bytes) -> str:
    """The file's text: UTF-8 with or without BOM, UTF-16 with BOM (Excel's "Unicode text"),
    else Windows-1252 (older spreadsheets). Refuses anything that is not text."""
    not_text = _refuse_file(
        "This file is not a text file. Save your spreadsheet as CSV (comma-separated) or as tab-delimited "
        "text, and upload that."
    )
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError as error:
            raise not_text from error
    else:
        if b"\x00" in raw:
            raise not_text
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = raw.decode("cp1252")
            except UnicodeDecodeError as error:
                raise not_text from error
    if BINARY_CHARACTERS.search(text):
        raise not_text
    return text


def detect_delimiter(header_line: str) -> str:
    """Tab, comma or semicolon: whichever separates the header's column names."""
    counts = {delimiter: header_line.count(delimiter) for delimiter in ("\t", ",", ";")}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    if counts[best]:
        return best
    try:
        return csv.Sniffer().sniff(header_line, delimiters="\t,;").delimiter
    except csv.Error:
        return ","


@dataclass(frozen=True)
class ImportRow:
    """One data row: its line in the file, the values of the columns Plural knows, and any
    problem found while reading it (a row with problems is rejected, never imported)."""

    line_number: int
    values: dict[str, str]
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParsedInventory:
    rows: list[ImportRow]
    # The file's own name for each column Plural uses (the first, when several map to one field).
    headers: dict[str, str]
    ignored_columns: list[str] = field(default_factory=list)
    delimiter: str = ","

    @property
    def fields(self) -> set[str]:
        return set(self.headers)


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line
    return ""


def parse_inventory(text: str) -> ParsedInventory:
    """Read the header and rows of a dealer's file. Raises ValidationError (on "data_file")
    when the file as a whole cannot be imported: no header, no title or price column, no
    rows, too many rows, broken quoting."""
    header_line = _first_line(text)
    if not header_line:
        raise _refuse_file("This file is empty.")
    delimiter = detect_delimiter(header_line)
    # strict: an unbalanced quote refuses the file instead of swallowing the rows after it into one cell.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[ImportRow] = []
    previous_end = 0
    try:
        header = next(row for row in reader if any(cell.strip() for cell in row))
        columns: dict[str, list[int]] = {}
        headers: dict[str, str] = {}
        ignored: list[str] = []
        for index, name in enumerate(header):
            column = COLUMN_BY_HEADER.get(_normalise_header(name))
            if column is None:
                if name.strip():
                    ignored.append(name.strip())
                continue
            columns.setdefault(column, []).append(index)
            headers.setdefault(column, name.strip())
        if not columns:
            raise _refuse_file(
                "The first line of the file must name the columns, for example: sku, title, author, isbn, price, "
                "quantity, condition. None of the names on the first line is a column Plural knows."
            )
        missing = [name for name in REQUIRED_FIELDS if name not in columns]
        if missing:
            raise _refuse_file(
                f"The file has no {' or '.join(missing)} column. The first line names these columns: "
                f"{', '.join(cell.strip() for cell in header if cell.strip())}."
            )
        previous_end = reader.line_num
        for cells in reader:
            line_number, previous_end = previous_end + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise _refuse_file(
                    f"This file has more than {MAX_ROWS:,} rows. Split it into files of at most {MAX_ROWS:,} rows."
                )
            values = {}
            for column, indexes in columns.items():
                values[column] = next(
                    (cells[index].strip() for index in indexes if index < len(cells) and cells[index].strip()), ""
                )
            problems = ()
            if any(cell.strip() for cell in cells[len(header) :]):
                problems = (f"has {len(cells)} values but the first line names {len(header)} columns",)
            rows.append(ImportRow(line_number=line_number, values=values, problems=problems))
    except csv.Error as error:
        raise _refuse_file(
            f"Line {previous_end + 1} of the file cannot be read ({error}). Check the quotes on that line."
        ) from error
    if not rows:
        raise _refuse_file("This file has a header line but no rows to import.")
    return ParsedInventory(rows=rows, headers=headers, ignored_columns=ignored, delimiter=delimiter)


def read_data_file(upload) -> ParsedInventory:
    """Check the size of an uploaded file, then decode and parse it."""
    if upload.size is not None and upload.size > MAX_DATA_FILE_BYTES:
        raise _refuse_file(
            f"This file is larger than {MAX_DATA_FILE_BYTES // (1024 * 1024)} MB. Split it into smaller files."
        )
    upload.seek(0)
    raw = upload.read(MAX_DATA_FILE_BYTES + 1)
    if len(raw) > MAX_DATA_FILE_BYTES:
        raise _refuse_file(
            f"This file is larger than {MAX_DATA_FILE_BYTES // (1024 * 1024)} MB. Split it into smaller files."
        )
    return parse_inventory(decode_text(raw))


# --- The zip of images ------------------------------------------------------------------------------------------


def _archive_path(name: str) -> str | None:
    """The normalised path of a name inside the zip, or None when it points outside it."""
    name = name.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return None
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if any(part == ".." for part in parts):
        return None
    return "/".join(parts)


class ImageArchive:
    """The images of an import, read straight from the zip (never extracted to disk)."""

    def __init__(self, file, *, owns_file: bool = False) -> None:
        self._file, self._owns_file = file, owns_file
        try:
            self._zip = zipfile.ZipFile(file)
        except (zipfile.BadZipFile, OSError, ValueError) as error:
            raise _refuse_archive("The images file is not a zip archive.") from error
        entries = [info for info in self._zip.infolist() if not info.is_dir()]
        if len(entries) > MAX_ARCHIVE_ENTRIES:
            raise _refuse_archive(f"The zip holds more than {MAX_ARCHIVE_ENTRIES:,} files.")
        if sum(info.file_size for info in entries) > MAX_ARCHIVE_UNCOMPRESSED_BYTES:
            raise _refuse_archive(
                f"The zip unpacks to more than {MAX_ARCHIVE_UNCOMPRESSED_BYTES // (1024 * 1024 * 1024)} GB."
            )
        self._by_path: dict[str, zipfile.ZipInfo] = {}
        self._by_folded_path: dict[str, zipfile.ZipInfo] = {}
        by_basename: dict[str, list[zipfile.ZipInfo]] = {}
        for info in entries:
            path = _archive_path(info.filename)
            if path is None:
                raise _refuse_archive(
                    f"The zip contains a file whose path leads outside the zip ({info.filename}). "
                    "Make the zip again from your folder of images."
                )
            if path.startswith("__MACOSX/"):
                continue
            self._by_path[path] = info
            self._by_folded_path.setdefault(path.casefold(), info)
            by_basename.setdefault(posixpath.basename(path).casefold(), []).append(info)
        # A bare file name finds an image in a sub-folder when only one image has that name.
        self._by_basename = {name: found[0] for name, found in by_basename.items() if len(found) == 1}

    def close(self) -> None:
        self._zip.close()
        if self._owns_file:
            self._file.close()

    def image(self, name: str, *, label: str) -> SimpleUploadedFile:
        """The image at `name` as an upload for catalog.services.listing_add_image.
        Raises ValidationError with a message naming the cell."""
        path = _archive_path(name)
        if path is None or name.lower().startswith(("http://", "https://")):
            raise ValidationError({"image": [f"{label} '{name}' must be the path of an image inside the zip"]})
        info = (
            self._by_path.get(path)
            or self._by_folded_path.get(path.casefold())
            or (self._by_basename.get(path.casefold()) if "/" not in path else None)
        )
        if info is None:
            raise ValidationError({"image": [f"{label} '{name}' is not in the zip"]})
        limit = settings.MAX_IMAGE_UPLOAD_BYTES
        try:
            with self._zip.open(info) as entry:
                # Read one byte past the limit: a size header that lies cannot make us read more.
                data = entry.read(limit + 1)
        except (zipfile.BadZipFile, RuntimeError, OSError, ValueError, EOFError) as error:
            raise ValidationError({"image": [f"{label} '{name}' cannot be read from the zip"]}) from error
        return SimpleUploadedFile(posixpath.basename(path), data)


def check_image_archive(upload) -> None:
    """Refuse a zip that is too large, not a zip, or holds paths outside itself."""
    if upload.size is not None and upload.size > MAX_ARCHIVE_BYTES:
        raise _refuse_archive(
            f"The zip of images is larger than {MAX_ARCHIVE_BYTES // (1024 * 1024)} MB. Split the import into "
            "smaller files, each with the zip of its own images."
        )
    upload.seek(0)
    ImageArchive(upload).close()  # the upload itself stays open: it is saved next
    upload.seek(0)


# --- Starting an import -----------------------------------------------------------------------------------------


def _stored_name(original: str, suffix: str) -> str:
    """An unguessable name: the stored files are the shop's business, and media URLs are public."""
    extension = PurePosixPath(original.replace("\\", "/")).suffix.lower()
    return secrets.token_hex(16) + (extension if re.fullmatch(r"\.[a-z0-9]{1,5}", extension) else suffix)


def inventory_import_start(
    *, shop: Shop, actor, data_file, images_archive=None, as_drafts: bool = False
) -> InventoryImport:
    """Validate an uploaded inventory file (and zip of images) and record the import.

    `actor` must be one of the shop's people (PermissionDenied). Raises ValidationError on
    "data_file" or "images_archive" when the upload is refused whole; nothing is recorded
    then. Small files without images are imported before this returns; the others are
    queued for the `import_inventory` task once the import is committed.
    """
    if not is_shop_member(user=actor, shop=shop):
        raise PermissionDenied("Only the shop's people can import inventory.")
    parsed = read_data_file(data_file)
    if images_archive is not None:
        check_image_archive(images_archive)
    data_file.seek(0)
    with transaction.atomic():
        job = InventoryImport(
            shop=shop,
            uploaded_by=actor,
            original_name=(getattr(data_file, "name", "") or "inventory.csv")[:255],
            total_rows=len(parsed.rows),
        )
        job.data_file.save(_stored_name(job.original_name, ".csv"), data_file, save=False)
        if images_archive is not None:
            images_archive.seek(0)
            job.images_archive.save(
                _stored_name(getattr(images_archive, "name", ""), ".zip"), images_archive, save=False
            )
        job.save()
    run_inline = job.total_rows <= INLINE_MAX_ROWS and not job.images_archive
    if run_inline:
        inventory_import_process(import_id=job.pk, as_drafts=as_drafts)
        job.refresh_from_db()
    else:
        from .tasks import import_inventory

        # robust: a broker that is down must not turn the upload into an error page; the import stays queued.
        transaction.on_commit(lambda: import_inventory.delay(job.pk, as_drafts=as_drafts), robust=True)
    job.ignored_columns = parsed.ignored_columns
    return job


# --- Running an import ------------------------------------------------------------------------------------------


@dataclass
class _Context:
    job: InventoryImport
    shop: Shop
    actor: object
    headers: dict[str, str]
    conditions: dict[str, Condition]
    condition_names: str
    first_line_by_sku: dict[str, int]
    archive: ImageArchive | None
    as_drafts: bool
    # Whether the shop's followers were told of this import already (they are told once).
    followers_told: bool = False


def _normalise_condition(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", text.strip().lower())


def _conditions() -> tuple[dict[str, Condition], str]:
    conditions = list(Condition.objects.order_by("rank"))
    lookup = {}
    for condition in conditions:
        lookup[_normalise_condition(condition.slug)] = condition
        lookup[_normalise_condition(condition.name)] = condition
    return lookup, ", ".join(condition.name.lower() for condition in conditions)


def _parse_price(raw: str) -> Decimal | None:
    text = re.sub(r"[\s\u00a0£$€¥]", "", raw)
    if "," in text and "." in text:
        # The separator that comes first groups thousands: 1,250.00 or 1.250,00.
        thousands = "," if text.index(",") < text.index(".") else "."
        text = text.replace(thousands, "")
        text = text.replace(",", ".")
    elif "," in text:
        # A comma followed by one or two digits is a decimal comma (12,50); otherwise thousands (1,250).
        text = text.replace(",", ".") if re.search(r",\d{1,2}$", text) else text.replace(",", "")
    try:
        price = Decimal(text)
    except InvalidOperation:
        return None
    return price if price.is_finite() else None


def _parse_whole_number(raw: str) -> int | None:
    try:
        number = Decimal(raw.replace(",", "").strip())
    except InvalidOperation:
        return None
    if not number.is_finite() or number != number.to_integral_value():
        return None
    # Never build a huge integer from "1e999999999"; anything this large is refused as too large anyway.
    return int(number) if number.adjusted() < 10 else 10**10


def _split_tags(raw: str) -> list[str]:
    names, seen = [], set()
    for name in TAG_SEPARATORS.split(raw):
        name = " ".join(name.split())
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            names.append(name)
    return names


def _clean_row(row: ImportRow, context: _Context) -> tuple[dict, list[str], list[str]]:
    """The listing fields a row gives, the problems that reject it, and notes for the report."""
    values, label = row.values, context.headers.get
    fields: dict = {}
    problems = list(row.problems)
    notes: list[str] = []

    for name in TEXT_FIELDS:
        if name in values:
            fields[name] = values[name]
    if not values["title"]:
        problems.append(f"{label('title')} is missing")

    raw_price = values["price"]
    if not raw_price:
        problems.append(f"{label('price')} is missing")
    else:
        price = _parse_price(raw_price)
        if price is None:
            problems.append(f"{label('price')} '{raw_price}' is not a number")
        elif not MIN_PRICE <= price <= MAX_PRICE:
            problems.append(f"{label('price')} '{raw_price}' must be between {MIN_PRICE} and {MAX_PRICE}")
        elif price != price.quantize(Decimal("0.01")):
            problems.append(f"{label('price')} '{raw_price}' has more than two decimal places")
        else:
            fields["price"] = price.quantize(Decimal("0.01"))

    raw_quantity = values.get("quantity", "")
    if raw_quantity:
        quantity = _parse_whole_number(raw_quantity)
        if quantity is None or quantity < 0:
            problems.append(f"{label('quantity')} '{raw_quantity}' must be a whole number of 0 or more")
        else:
            fields["quantity"] = quantity

    raw_condition = values.get("condition", "")
    if raw_condition:
        condition = context.conditions.get(_normalise_condition(raw_condition))
        if condition is None:
            problems.append(f"{label('condition')} '{raw_condition}' is not one of: {context.condition_names}")
        else:
            fields["condition"] = condition

    raw_year = values.get("year", "")
    if raw_year:
        year = _parse_whole_number(raw_year)
        if year is None:
            problems.append(f"{label('year')} '{raw_year}' must be a year such as 1984")
        else:
            fields["year"] = year

    if values.get("currency"):
        fields["currency"] = values["currency"].upper()

    sku = values.get("sku", "")
    if sku:
        fields["sku"] = sku
        first_line = context.first_line_by_sku.get(sku, row.line_number)
        if first_line != row.line_number:
            problems.append(f"{label('sku')} '{sku}' is already used on line {first_line}")
    if values.get("image") and context.archive is None:
        problems.append(f"{label('image')} '{values['image']}' needs a zip of images uploaded with the file")
    return fields, problems, notes


def _service_messages(error: ValidationError, row: ImportRow, context: _Context) -> list[str]:
    """A service's field errors as report text naming the file's column and the value in it."""
    if not hasattr(error, "error_dict"):
        return list(error.messages)
    messages = []
    for name, field_messages in error.message_dict.items():
        value = row.values.get(name, "")
        column = context.headers.get(name, name)
        for message in field_messages:
            if name in ("image", "tags"):
                messages.append(message)  # these already name the cell
            elif name == "__all__":
                messages.append(message)
            elif value and value not in message:
                messages.append(f"{column} '{value}': {message}")
            else:
                messages.append(f"{column}: {message}")
    return messages


def _changed_fields(listing: Listing, fields: dict) -> dict:
    """The fields whose value differs from the listing's, so that re-uploading an unchanged
    file writes nothing."""
    changed = {}
    for name, value in fields.items():
        if name == "condition":
            if listing.condition_id != value.pk:
                changed[name] = value
        elif getattr(listing, name) != value:
            changed[name] = value
    return changed


def _apply_tags(listing: Listing, names: list[str], context: _Context, label: str) -> None:
    from catalog import tagging

    for name in names:
        try:
            tagging.tag_apply(listing=listing, user=context.actor, name=name)
        except ValidationError as error:
            raise ValidationError({"tags": [f"{label} '{name}': {message}" for message in error.messages]}) from error


def _apply_image(listing: Listing, name: str, context: _Context, label: str) -> None:
    from catalog.services import listing_add_image

    upload = context.archive.image(name, label=label)
    try:
        listing_add_image(listing=listing, actor=context.actor, upload=upload)
    except ValidationError as error:
        raise ValidationError({"image": [f"{label} '{name}': {message}" for message in error.messages]}) from error


def _import_row(row: ImportRow, existing: Listing | None, context: _Context) -> tuple[str, Listing | None, str]:
    """Create or update the listing of one row; raise ValidationError to reject it."""
    from catalog.services import listing_create, listing_update

    fields, problems, notes = _clean_row(row, context)
    if problems:
        raise ValidationError(problems)
    tags = _split_tags(row.values.get("tags", ""))
    image = row.values.get("image", "")
    if existing is None:
        if "condition" not in fields:
            default = context.conditions.get(_normalise_condition(DEFAULT_CONDITION_SLUG))
            if default is None:
                raise ValidationError([f"{context.headers.get('condition', 'condition')} is missing"])
            fields["condition"] = default
            notes.append(f"no condition given: listed as {default.name.lower()}")
        status = Listing.Status.DRAFT if context.as_drafts else Listing.Status.ACTIVE
        listing = listing_create(shop=context.shop, actor=context.actor, status=status, **fields)
        outcome = InventoryImportRow.Outcome.CREATED
    else:
        # A blank cell keeps what the listing has; the sku is how the row found it.
        updates = {name: value for name, value in fields.items() if name in UPDATABLE_FIELDS and value != ""}
        changed = _changed_fields(existing, updates)
        listing = listing_update(listing=existing, actor=context.actor, **changed) if changed else existing
        outcome = InventoryImportRow.Outcome.UPDATED
        if not changed:
            notes.append("already up to date")
    if tags:
        _apply_tags(listing, tags, context, context.headers["tags"])
    if image:
        if existing is not None and existing.image_count:
            notes.append(f"{context.headers['image']} not added: the listing already has images")
        else:
            _apply_image(listing, image, context, context.headers["image"])
    return outcome, listing, "; ".join(notes)


def _record_row(row: ImportRow, existing: Listing | None, context: _Context) -> bool:
    """Import one row and record its outcome in one transaction. Returns False when another
    run of this import recorded the line first (everything this run did for it is undone)."""
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    outcome, listing, note = _import_row(row, existing, context)
            except ValidationError as error:
                outcome, listing = InventoryImportRow.Outcome.REJECTED, None
                note = "; ".join(_service_messages(error, row, context))
            except IntegrityError:
                # The database refused the listing (e.g. a sku another run of this import just took).
                outcome, listing = InventoryImportRow.Outcome.REJECTED, None
                note = "conflicts with a listing saved at the same time; upload the file again to retry this row"
            except PermissionDenied:
                outcome, listing = InventoryImportRow.Outcome.REJECTED, None
                note = "the person who uploaded the file is no longer one of the shop's people"
            except (OperationalError, InterfaceError):
                raise  # the database went away: the task retries, this line is redone then
            except Exception:  # one row's unexpected failure must not stop the rows after it
                logger.exception("inventory import %s: line %s failed", context.job.pk, row.line_number)
                outcome, listing = InventoryImportRow.Outcome.REJECTED, None
                note = "could not be imported because of an error on our side"
            if listing is not None:
                # The row's tags and image are written after the listing itself: index it as a whole.
                reindex_listings_on_commit(listing_ids=[listing.pk])
            InventoryImportRow.objects.create(
                inventory_import=context.job,
                line_number=row.line_number,
                sku=row.values.get("sku", "")[:64],
                outcome=outcome,
                message=f"line {row.line_number}: {note}" if note else "",
                listing=listing,
            )
    except IntegrityError:
        return False
    return True


# --- The set-based path: a batch of rows in a fixed number of queries -------------------------------------------


@dataclass
class _Accepted:
    """A row that passed every check, with what it will write."""

    row: ImportRow
    cleaned: dict
    notes: list[str]
    tag_names: list[str]
    existing: Listing | None = None
    listing_id: int | None = None


def _reject(records: list[dict], row: ImportRow, messages: list[str]) -> None:
    records.append(_row_record(row, InventoryImportRow.Outcome.REJECTED, "; ".join(messages), None))


def _row_record(row: ImportRow, outcome: str, note: str, listing_id: int | None) -> dict:
    return {
        "line_number": row.line_number,
        "sku": row.values.get("sku", "")[:64],
        "outcome": outcome,
        "message": f"line {row.line_number}: {note}" if note else "",
        "listing_id": listing_id,
    }


def _check_listing(row: ImportRow, existing: Listing | None, context: _Context) -> tuple[dict, list[str], list[str]]:
    """What _import_row would give listing_create or listing_update for this row, checked by
    the same rules: (cleaned values, notes, problems); nothing is written."""
    from catalog.services import listing_fields_check

    fields, problems, notes = _clean_row(row, context)
    if problems:
        return {}, notes, problems
    if existing is None:
        if "condition" not in fields:
            default = context.conditions.get(_normalise_condition(DEFAULT_CONDITION_SLUG))
            if default is None:
                return {}, notes, [f"{context.headers.get('condition', 'condition')} is missing"]
            fields["condition"] = default
            notes.append(f"no condition given: listed as {default.name.lower()}")
        status = Listing.Status.DRAFT if context.as_drafts else Listing.Status.ACTIVE
        # The values listing_create fills in for what the row leaves out.
        fields = {
            "quantity": 1,
            "sku": "",
            "creator": "",
            "publisher": "",
            "year": None,
            "format": "",
            "identifier": "",
            "description": "",
            **fields,
            "currency": fields.get("currency") or context.shop.currency,
            "status": status,
        }
    else:
        updates = {name: value for name, value in fields.items() if name in UPDATABLE_FIELDS and value != ""}
        fields = _changed_fields(existing, updates)
        if not fields:
            notes.append("already up to date")
            return {}, notes, []
    cleaned, errors = listing_fields_check(shop=context.shop, fields=fields, listing=existing)
    if errors:
        return {}, notes, _service_messages(ValidationError(errors), row, context)
    return cleaned, notes, []


def _resolve_tags(accepted: list[_Accepted], records: list[dict], context: _Context) -> tuple[list[_Accepted], dict]:
    """The main tag of every name the accepted rows give, tags used for the first time created
    together; a row with a name that cannot be a tag, or names a hidden tag, is rejected with
    the message tag_apply would give. Returns the rows still accepted and {name: main tag}."""
    from catalog.models import Tag
    from catalog.tagging import is_hidden_tag, normalise_tag_name

    label = context.headers.get("tags", "tags")
    normalised: dict[str, str | ValidationError] = {}
    for item in accepted:
        for name in item.tag_names:
            if name not in normalised:
                try:
                    normalised[name] = normalise_tag_name(name)
                except ValidationError as error:
                    normalised[name] = error
    wanted = {name for name in normalised.values() if isinstance(name, str)}
    tags = _tags_named(wanted)
    kept = []
    for item in accepted:
        messages = []
        for name in item.tag_names:
            found = normalised[name]
            if isinstance(found, ValidationError):
                messages = [f"{label} '{name}': {message}" for message in found.messages]
            elif found in tags and is_hidden_tag(tags[found]):
                messages = [f"{label} '{name}': “{found}” has been hidden by a moderator and cannot be used."]
            if messages:
                break
        if messages:
            _reject(records, item.row, messages)
        else:
            kept.append(item)
    needed = {normalised[name] for item in kept for name in item.tag_names}
    missing = needed - set(tags)
    if missing:
        slugify = Tag().slugify
        slugs = {name: slugify(name) for name in sorted(missing)}
        taken = set(Tag.objects.filter(slug__in=set(slugs.values())).values_list("slug", flat=True))
        fresh, seen = [], set()
        for name, slug in slugs.items():
            if slug and slug not in taken and slug not in seen:
                seen.add(slug)
                fresh.append(Tag(name=name, slug=slug))
        # ignore_conflicts: a tag someone created meanwhile is found by the next query.
        Tag.objects.bulk_create(fresh, ignore_conflicts=True)
        tags |= _tags_named(missing)
        for name in sorted(missing - set(tags)):
            # Its slug is another tag's: taggit numbers it, one tag at a time (rare).
            tags[name], _ = Tag.objects.get_or_create(name=name)
    main = {name: tags[folded].merged_into or tags[folded] for name, folded in normalised.items() if folded in tags}
    return kept, main


def _tags_named(names: set[str]) -> dict:
    from catalog.models import Tag

    if not names:
        return {}
    return {tag.name: tag for tag in Tag.objects.select_related("merged_into").filter(name__in=names)}


def _listing_row(item: _Accepted, context: _Context, works: dict, now) -> dict:
    from catalog.services import settled_status
    from marketplace.markdown import render_markdown

    cleaned = item.cleaned
    normalised = cleaned.get("_identifier")
    status = settled_status(status=cleaned["status"], quantity=cleaned["quantity"])
    description = cleaned["description"]
    return {
        "shop_id": context.shop.pk,
        "work_id": works[normalised].pk if normalised else None,
        "condition_id": cleaned["condition"].pk,
        "sku": cleaned["sku"],
        "title": cleaned["title"],
        "creator": cleaned["creator"],
        "publisher": cleaned["publisher"],
        "year": cleaned["year"],
        "format": cleaned["format"],
        "identifier": cleaned["identifier"],
        "description": description,
        "description_html": render_markdown(description) if description else "",
        "price": cleaned["price"],
        "currency": cleaned["currency"],
        "quantity": cleaned["quantity"],
        "status": status,
        "created_at": now,
        "updated_at": now,
        "published_at": now if status in {Listing.Status.ACTIVE, Listing.Status.SOLD_OUT} else None,
    }


def _update_listings(updated: list[_Accepted], works: dict, context: _Context, now) -> None:
    """Write the changed fields of the batch's existing listings (one query), then what
    listing_update does after a change: tell of a listing back on sale, or of a lower price."""
    from catalog import tagging
    from catalog.services import settled_status
    from marketplace.markdown import render_markdown
    from social import services as social_services

    if not updated:
        return
    changed_fields = {"updated_at", "status", "published_at"}
    came_on_sale, drops = [], []
    listings = []
    for item in updated:
        listing, cleaned = item.existing, dict(item.cleaned)
        previous_status, previous_price = listing.status, listing.price
        was_published = listing.published_at is not None
        normalised = cleaned.pop("_identifier", None)
        for name, value in cleaned.items():
            setattr(listing, name, value)
            changed_fields.add("condition" if name == "condition" else name)
        if "description" in cleaned:
            listing.description_html = render_markdown(listing.description)
            changed_fields.add("description_html")
        if "identifier" in cleaned:
            listing.work = works[normalised] if normalised else None
            changed_fields.add("work")
        listing.status = settled_status(status=listing.status, quantity=listing.quantity)
        if listing.status in {Listing.Status.ACTIVE, Listing.Status.SOLD_OUT} and listing.published_at is None:
            listing.published_at = now
        listing.updated_at = now
        listings.append(listing)
        if listing.status == Listing.Status.ACTIVE and previous_status != Listing.Status.ACTIVE:
            came_on_sale.append((listing, not was_published))
        elif listing.price < previous_price:
            drops.append((listing, previous_price))
    Listing.objects.bulk_update(listings, sorted(changed_fields))
    for listing, is_new in came_on_sale:  # a sold-out listing restocked: rare, told as listing_update tells it
        tagging.tag_followers_notify(listing=listing, actor=context.actor)
        social_services.listing_on_sale(listing=listing, actor=context.actor, is_new=is_new)
    if drops:
        social_services.listing_prices_dropped(drops=drops, actor=context.actor)


def _apply_tags_in_bulk(accepted: list[_Accepted], tags: dict, context: _Context, now) -> None:
    """The seller's applications of the accepted rows' tags that do not exist yet, in one insert,
    their tags' use counts moved by as many (one query), and the tags' followers told of the
    listings on sale that carry them, as tag_apply tells them."""
    from django.db.models import Case, F, Value, When

    from catalog import tagging
    from catalog.models import Tag, TagFollow, TaggedListing

    wanted = {(tags[name].pk, item.listing_id) for item in accepted for name in item.tag_names}
    if not wanted:
        return
    updated_ids = {item.listing_id for item in accepted if item.existing is not None and item.tag_names}
    if updated_ids:
        wanted -= set(
            TaggedListing.objects.filter(content_object_id__in=updated_ids, tagged_by_id=context.actor.pk).values_list(
                "tag_id", "content_object_id"
            )
        )
    if not wanted:
        return
    applications = sorted(wanted, key=lambda pair: (pair[1], pair[0]))
    insert_rows(
        TaggedListing,
        [
            {
                "tag_id": tag_id,
                "content_object_id": listing_id,
                "tagged_by_id": context.actor.pk,
                "is_seller_tag": True,
                "created_at": now,
            }
            for tag_id, listing_id in applications
        ],
        now=now,
    )
    uses: dict[int, int] = {}
    for tag_id, _ in applications:
        uses[tag_id] = uses.get(tag_id, 0) + 1
    Tag.objects.filter(pk__in=uses).update(
        use_count=F("use_count") + Case(*(When(pk=tag_id, then=Value(count)) for tag_id, count in uses.items()))
    )
    if TagFollow.objects.filter(tag_id__in=uses).exists():
        tagged = {listing_id for _, listing_id in applications}
        for listing in Listing.objects.filter(pk__in=tagged, status=Listing.Status.ACTIVE).order_by("pk"):
            tagging.tag_followers_notify(listing=listing, actor=context.actor)


def _write_batch(rows: list[ImportRow], existing: dict[str, Listing], context: _Context) -> None:
    """Import a batch of rows set-based, in the caller's transaction: every row checked in
    Python by the rules of the per-row path (same outcomes, same messages), then each kind of
    write done once for the whole batch. What listing_create and tag_apply do for one listing
    is done here for all of them: search documents, tag use counts, "listed" activity, events
    for want lists and the shop's followers (told once per import: see
    listings_imported_on_sale), the report line of every row, the import's counters."""
    from catalog.services import works_for_identifiers
    from social import services as social_services

    now = timezone.now()
    records: list[dict] = []
    if not is_shop_member(user=context.actor, shop=context.shop):
        for row in rows:
            _reject(records, row, ["the person who uploaded the file is no longer one of the shop's people"])
        _record_rows(records, context, now)
        return
    accepted: list[_Accepted] = []
    for row in rows:
        listing = existing.get(row.values.get("sku", ""))
        cleaned, notes, problems = _check_listing(row, listing, context)
        if problems:
            _reject(records, row, problems)
            continue
        item = _Accepted(row=row, cleaned=cleaned, notes=notes, tag_names=_split_tags(row.values.get("tags", "")))
        if listing is not None:
            item.existing, item.listing_id = listing, listing.pk
        accepted.append(item)
    accepted, tags = _resolve_tags(accepted, records, context)

    identifiers: dict[tuple[str, str], tuple[str, str]] = {}
    for item in accepted:
        normalised = item.cleaned.get("_identifier")
        if normalised:
            title = item.cleaned.get("title", item.existing.title if item.existing else "")
            creator = item.cleaned.get("creator", item.existing.creator if item.existing else "")
            identifiers.setdefault(normalised, (title, creator))
    works = works_for_identifiers(identifiers=identifiers)

    created = [item for item in accepted if item.existing is None]
    listing_rows = [_listing_row(item, context, works, now) for item in created]
    for item, listing_id in zip(created, insert_rows(Listing, listing_rows, now=now, returning_ids=True), strict=True):
        item.listing_id = listing_id
    updated = [item for item in accepted if item.existing is not None and item.cleaned]
    unchanged = [item for item in accepted if item.existing is not None and not item.cleaned]
    _update_listings(updated, works, context, now)
    _apply_tags_in_bulk(accepted, tags, context, now)

    Outcome = InventoryImportRow.Outcome
    for outcome, items in ((Outcome.CREATED, created), (Outcome.UPDATED, updated + unchanged)):
        records += [_row_record(item.row, outcome, "; ".join(item.notes), item.listing_id) for item in items]
    on_sale = [
        (item.listing_id, row["price"])
        for item, row in zip(created, listing_rows, strict=True)
        if row["status"] == Listing.Status.ACTIVE
    ]
    if on_sale:
        social_services.listings_imported_on_sale(
            shop=context.shop, listings=on_sale, actor=context.actor, tell_followers=not context.followers_told
        )
        context.followers_told = True
    # Text and tags of the batch are written: each listing is indexed once, in the batch's own
    # transaction, so that its listings are found by search from the moment they exist (and a
    # batch costs one commit).
    reindex_listings(listing_ids=[item.listing_id for item in accepted])
    _record_rows(records, context, now)


def _record_rows(records: list[dict], context: _Context, now) -> None:
    """The batch's report lines (one insert) and the import's counters moved by as many (one
    update). A line another run recorded first makes the insert fail: the caller then goes
    row by row, which skips the lines already recorded."""
    from django.db.models import F

    insert_rows(InventoryImportRow, [{**record, "inventory_import_id": context.job.pk} for record in records], now=now)
    outcomes = dict.fromkeys(InventoryImportRow.Outcome.values, 0)
    for record in records:
        outcomes[record["outcome"]] += 1
    InventoryImport.objects.filter(pk=context.job.pk).update(
        processed_rows=F("processed_rows") + len(records),
        created_count=F("created_count") + outcomes[InventoryImportRow.Outcome.CREATED],
        updated_count=F("updated_count") + outcomes[InventoryImportRow.Outcome.UPDATED],
        rejected_count=F("rejected_count") + outcomes[InventoryImportRow.Outcome.REJECTED],
    )


def _import_batch(rows: list[ImportRow], context: _Context) -> None:
    """Import a batch: rows naming an image go through the per-row path (their images are
    processed one by one anyway); the others are written set-based in one transaction. If
    that transaction fails (another run recorded some of the lines first, a sku was taken
    meanwhile, anything unexpected), it is undone whole and its rows go the per-row way, where
    each row succeeds or is rejected on its own."""
    existing = _existing_listings(context.shop, rows)
    simple = [row for row in rows if not row.values.get("image")]
    by_row = [row for row in rows if row.values.get("image")]
    if simple:
        try:
            with transaction.atomic():
                _write_batch(simple, existing, context)
        except (OperationalError, InterfaceError):
            raise  # the database went away: the task retries, this batch is redone then
        except Exception:  # any other failure leaves the batch to the per-row path, row by row
            logger.info("inventory import %s: a batch goes row by row", context.job.pk, exc_info=True)
            by_row = rows
            existing = _existing_listings(context.shop, rows)
    if by_row:
        # Each row commits on its own; their listings are reindexed together after the batch.
        with reindex_deferred():
            for row in by_row:
                _record_row(row, existing.get(row.values.get("sku", "")), context)
        _refresh_counts(context.job)


def _existing_listings(shop: Shop, rows: list[ImportRow]) -> dict[str, Listing]:
    skus = {row.values["sku"] for row in rows if row.values.get("sku")}
    if not skus:
        return {}
    listings = (
        Listing.objects.filter(shop=shop, sku__in=skus)
        .select_related("shop", "condition")
        .annotate(image_count=Count("images"))
    )
    return {listing.sku: listing for listing in listings}


def _refresh_counts(job: InventoryImport) -> None:
    """Counters recomputed from the recorded rows: right even when two runs overlap."""
    counts = dict(job.rows.values_list("outcome").annotate(count=Count("pk")).order_by())
    created = counts.get(InventoryImportRow.Outcome.CREATED, 0)
    updated = counts.get(InventoryImportRow.Outcome.UPDATED, 0)
    rejected = counts.get(InventoryImportRow.Outcome.REJECTED, 0)
    InventoryImport.objects.filter(pk=job.pk).update(
        processed_rows=created + updated + rejected,
        created_count=created,
        updated_count=updated,
        rejected_count=rejected,
    )


def inventory_import_fail(*, import_id: int, reason: str) -> None:
    """Mark an import that cannot go on as failed (rows already recorded stay)."""
    job = InventoryImport.objects.filter(pk=import_id).first()
    if job is None:
        return
    _refresh_counts(job)
    InventoryImport.objects.filter(
        pk=import_id, status__in=[InventoryImport.Status.QUEUED, InventoryImport.Status.RUNNING]
    ).update(status=InventoryImport.Status.FAILED, failure_reason=reason, finished_at=timezone.now())


def _open_archive(job: InventoryImport) -> ImageArchive | None:
    if not job.images_archive:
        return None
    return ImageArchive(job.images_archive.open("rb"), owns_file=True)


def _pending_batches(rows: list[ImportRow], done: set[int]) -> Iterator[list[ImportRow]]:
    pending = [row for row in rows if row.line_number not in done]
    for start in range(0, len(pending), BATCH_SIZE):
        yield pending[start : start + BATCH_SIZE]


def inventory_import_run(*, import_id: int, as_drafts: bool = False) -> InventoryImport | None:
    """Import every row of a recorded import not yet done; safe to call again for the same import.

    Only a queued or running import runs (a finished or failed one is left alone), and each line
    is recorded once (InventoryImportRow is unique per import and line), so a task delivered
    twice, or resumed after its worker died, ends with the same listings and report. Raises
    OperationalError for a database that went away (the task retries); a file that can no longer
    be read fails the import with the reason.
    """
    claimed = InventoryImport.objects.filter(
        pk=import_id, status__in=[InventoryImport.Status.QUEUED, InventoryImport.Status.RUNNING]
    ).update(status=InventoryImport.Status.RUNNING)
    job = InventoryImport.objects.select_related("shop", "uploaded_by").filter(pk=import_id).first()
    if not claimed or job is None:
        return job
    actor = job.uploaded_by
    if actor is None or not is_shop_member(user=actor, shop=job.shop):
        inventory_import_fail(
            import_id=job.pk, reason="The person who uploaded this file is no longer one of the shop's people."
        )
        return InventoryImport.objects.get(pk=job.pk)
    try:
        with job.data_file.open("rb") as data_file:
            parsed = read_data_file(data_file)
        archive = _open_archive(job)
    except ValidationError as error:
        inventory_import_fail(import_id=job.pk, reason=" ".join(error.messages))
        return InventoryImport.objects.get(pk=job.pk)
    except OSError:
        logger.exception("inventory import %s: the uploaded files cannot be read", job.pk)
        inventory_import_fail(import_id=job.pk, reason="The uploaded file can no longer be read. Upload it again.")
        return InventoryImport.objects.get(pk=job.pk)

    conditions, condition_names = _conditions()
    first_line_by_sku: dict[str, int] = {}
    for row in parsed.rows:
        if row.values.get("sku"):
            first_line_by_sku.setdefault(row.values["sku"], row.line_number)
    context = _Context(
        job=job,
        shop=job.shop,
        actor=actor,
        headers=parsed.headers,
        conditions=conditions,
        condition_names=condition_names,
        first_line_by_sku=first_line_by_sku,
        archive=archive,
        as_drafts=as_drafts,
    )
    if job.total_rows != len(parsed.rows):
        InventoryImport.objects.filter(pk=job.pk).update(total_rows=len(parsed.rows))
    recorded = dict(job.rows.values_list("line_number", "outcome"))
    done = set(recorded)
    # A run that resumes does not tell the shop's followers of the import a second time.
    context.followers_told = InventoryImportRow.Outcome.CREATED in recorded.values()
    if done:
        # The counters move batch by batch from here: start them from what is recorded.
        _refresh_counts(job)
        # An earlier run stopped after committing rows whose batch it never reindexed.
        reindex_listings_on_commit(listing_ids=job.rows.exclude(listing=None).values_list("listing_id", flat=True))
    try:
        for batch in _pending_batches(parsed.rows, done):
            _import_batch(batch, context)
    finally:
        if archive is not None:
            archive.close()
    _refresh_counts(job)
    InventoryImport.objects.filter(pk=job.pk, status=InventoryImport.Status.RUNNING).update(
        status=InventoryImport.Status.DONE, finished_at=timezone.now()
    )
    return InventoryImport.objects.get(pk=job.pk)


INTERRUPTED_REASON = (
    "The import stopped because of an error on our side. The rows listed below were imported; "
    "upload the file again to import the rest."
)


def inventory_import_process(*, import_id: int, as_drafts: bool = False) -> None:
    """Run an import; an unexpected error fails it with a reason the seller can read instead
    of leaving it running for ever. Database outages propagate so that the task retries."""
    try:
        inventory_import_run(import_id=import_id, as_drafts=as_drafts)
    except (OperationalError, InterfaceError):
        raise
    except Exception:  # any other error ends this import, never the worker
        logger.exception("inventory import %s stopped", import_id)
        inventory_import_fail(import_id=import_id, reason=INTERRUPTED_REASON)


# --- Reads for the pages and the API ----------------------------------------------------------------------------


def shop_imports(*, shop: Shop):
    """The shop's imports, newest first, with who uploaded each."""
    return InventoryImport.objects.filter(shop=shop).select_related("uploaded_by").order_by("-created_at", "-pk")


def import_rows(*, inventory_import: InventoryImport, outcome: str = ""):
    """The report rows of an import in file order, optionally of one outcome, with the listing's title."""
    rows = inventory_import.rows.select_related("listing").only(
        "inventory_import_id", "line_number", "sku", "outcome", "message", "listing__id", "listing__title"
    )
    if outcome:
        rows = rows.filter(outcome=outcome)
    return rows.order_by("line_number")


def is_import_running(job: InventoryImport) -> bool:
    return job.status in {InventoryImport.Status.QUEUED, InventoryImport.Status.RUNNING}
