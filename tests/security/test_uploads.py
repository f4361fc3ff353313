"""Every upload field refuses malformed, truncated, decompression-bomb and mislabelled files with
a clear message, storing nothing; the files it takes (polyglots and animations included) are
re-encoded, and what is stored and served is our own WebP, never the bytes uploaded.

The fields: avatars, shop logos and banners, listing images, pictures in messages, and the
images of an inventory import's zip."""

import io
import struct
import zipfile
import zlib
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts import services as account_services
from catalog import services as catalog_services
from catalog.models import ListingImage
from messaging import services as messaging_services
from messaging.models import Attachment
from sellers import services as shop_services
from sellers.imports import inventory_import_run, inventory_import_start
from sellers.models import InventoryImportRow
from tests.factories import ListingFactory
from tests.images import image_bytes

pytestmark = pytest.mark.django_db

SCRIPT = b"<script>window.__xss=1</script>"


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def decompression_bomb() -> bytes:
    """A 200-byte PNG whose header claims 30,000 x 30,000 pixels (900 megapixels)."""
    header = struct.pack(">IIBBBBB", 30_000, 30_000, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 30_001 * 4, 9)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", rows) + _png_chunk(b"IEND", b"")


def many_frames_gif(frames: int = 3_000) -> bytes:
    buffer = io.BytesIO()
    first, *rest = [Image.new("P", (16, 16), index % 256) for index in range(frames)]
    first.save(buffer, format="GIF", save_all=True, append_images=rest, duration=10)
    return buffer.getvalue()


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
HTML = b"<!DOCTYPE html><html><body>" + SCRIPT + b"</body></html>"
SVG = b"<svg xmlns='http://www.w3.org/2000/svg' onload='window.__xss=1'><script>window.__xss=1</script></svg>"

REFUSED = {
    "garbage": ("photo.jpg", b"\x00\x01 not an image at all" * 20, "not an image we can read"),
    "truncated jpeg": ("photo.jpg", image_bytes(image_format="JPEG", size=(600, 400))[:900], "damaged or incomplete"),
    "truncated png": ("photo.png", image_bytes(size=(600, 400))[:300], "damaged or incomplete"),
    "decompression bomb": ("huge.png", decompression_bomb(), "too many pixels"),
    "pdf named jpg": ("scan.jpg", PDF, "not an image we can read"),
    "html named jpg": ("photo.jpg", HTML, "not an image we can read"),
    "svg named png": ("logo.png", SVG, "not an image we can read"),
    "tiff named png": ("photo.png", image_bytes(image_format="TIFF"), "Only JPEG, PNG, WebP and GIF"),
    "empty": ("photo.png", b"", "not an image we can read"),
}
ACCEPTED = {
    "png with html appended": ("photo.png", image_bytes() + HTML),
    "jpeg with a zip appended": ("photo.jpg", image_bytes(image_format="JPEG") + zip_bytes({"evil.html": HTML})),
    "gif of 3,000 frames": ("anim.gif", many_frames_gif()),
}


def stored_files(settings) -> list[Path]:
    roots = [Path(settings.MEDIA_ROOT), Path(settings.PRIVATE_MEDIA_ROOT)]
    return sorted(path for root in roots if root.exists() for path in root.rglob("*") if path.is_file())


@pytest.fixture
def listing(shop):
    return ListingFactory(shop=shop, title="An Atlas of Rivers", price=Decimal("20.00"), quantity=3, sku="ATL-1")


@pytest.fixture
def conversation(buyer, shop, listing):
    return messaging_services.conversation_start(buyer=buyer, shop=shop, listing=listing, body="Hello").conversation


def _import_with_image(shop, owner, name: str, content: bytes):
    data = f"sku,title,price,quantity,image\nIMG-1,A Map,10.00,1,{name}\n".encode()
    return inventory_import_start(
        shop=shop,
        actor=owner,
        data_file=SimpleUploadedFile("stock.csv", data, content_type="text/csv"),
        images_archive=SimpleUploadedFile("images.zip", zip_bytes({name: content}), content_type="application/zip"),
    )


def upload_to(field: str, *, name: str, content: bytes, buyer, shop, shop_owner, listing, conversation) -> list[str]:
    """Send the file to `field`; the messages of the refusal (empty when taken)."""
    upload = SimpleUploadedFile(name, content, content_type="image/png")
    try:
        if field == "avatar":
            account_services.profile_update(user=buyer, avatar=upload)
        elif field in {"logo", "banner"}:
            shop_services.shop_update(shop=shop, actor=shop_owner, **{field: upload})
        elif field == "listing image":
            catalog_services.listing_add_image(listing=listing, actor=shop_owner, upload=upload)
        elif field == "message picture":
            messaging_services.message_send(conversation=conversation, author=buyer, body="See", attachments=[upload])
        elif field == "import image":
            job = _import_with_image(shop, shop_owner, name, content)
            # What the import task does once the import is committed.
            inventory_import_run(import_id=job.pk)
            row = InventoryImportRow.objects.get(inventory_import=job)
            return [row.message] if row.outcome == InventoryImportRow.Outcome.REJECTED else []
    except ValidationError as error:
        return error.messages
    return []


FIELDS = ["avatar", "logo", "banner", "listing image", "message picture", "import image"]


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("kind", list(REFUSED))
def test_each_field_refuses_bad_files_clearly_and_stores_nothing(
    settings, field, kind, buyer, shop, shop_owner, listing, conversation
):
    name, content, message = REFUSED[kind]
    before = stored_files(settings)

    refusal = upload_to(
        field,
        name=name,
        content=content,
        buyer=buyer,
        shop=shop,
        shop_owner=shop_owner,
        listing=listing,
        conversation=conversation,
    )

    assert any(message in text for text in refusal), refusal
    after = [path for path in stored_files(settings) if path not in before]
    # An import keeps its own inventory files (private); no image is stored.
    assert [path for path in after if path.suffix == ".webp" or path.suffix in {".png", ".jpg"}] == []
    assert ListingImage.objects.count() == 0
    assert Attachment.objects.count() == 0
    buyer.refresh_from_db()
    shop.refresh_from_db()
    assert not buyer.avatar_small and not shop.logo_small and not shop.banner


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("kind", list(ACCEPTED))
def test_files_taken_are_re_encoded_and_keep_nothing_of_the_upload(
    settings, field, kind, buyer, shop, shop_owner, listing, conversation
):
    name, content = ACCEPTED[kind]
    before = stored_files(settings)

    refusal = upload_to(
        field,
        name=name,
        content=content,
        buyer=buyer,
        shop=shop,
        shop_owner=shop_owner,
        listing=listing,
        conversation=conversation,
    )

    assert refusal == []
    images = [path for path in stored_files(settings) if path not in before and path.suffix == ".webp"]
    assert len(images) >= 1
    for path in images:
        stored = path.read_bytes()
        assert stored[:4] == b"RIFF" and stored[8:12] == b"WEBP"
        assert b"<script" not in stored and b"PK\x03\x04" not in stored and b"<html" not in stored.lower()
        with Image.open(path) as image:
            assert (image.format, getattr(image, "n_frames", 1)) == ("WEBP", 1)
    assert not any(path.suffix in {".png", ".jpg", ".gif"} for path in stored_files(settings) if path not in before)
