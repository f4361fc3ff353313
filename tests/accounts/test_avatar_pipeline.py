"""The strict image pipeline that avatars (and later shop logos) go through."""

import io

import pytest
from django.core.exceptions import ValidationError
from PIL import Image

from marketplace.images import ImageSize, process_image_upload
from tests.images import image_bytes, jpeg_with_gps_exif, upload

SIZES = [ImageSize("small", 64, 64), ImageSize("large", 256, 256)]


def _open(content_file) -> Image.Image:
    return Image.open(io.BytesIO(content_file.read()))


def test_resizes_to_each_fixed_size_as_webp():
    results = process_image_upload(upload(image_bytes(size=(900, 600))), sizes=SIZES)

    small, large = _open(results["small"]), _open(results["large"])
    assert (small.format, small.size) == ("WEBP", (64, 64))
    assert (large.format, large.size) == ("WEBP", (256, 256))


def test_strips_exif_metadata():
    original = jpeg_with_gps_exif()
    assert b"SecretCam" in original

    results = process_image_upload(upload(original, "photo.jpg", "image/jpeg"), sizes=SIZES)

    for name in ("small", "large"):
        processed = _open(results[name])
        assert dict(processed.getexif()) == {}
        assert b"SecretCam" not in results[name].file.getvalue()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"this is not an image at all", "not an image we can read"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "not an image we can read"),
        (image_bytes()[:200], "damaged or incomplete"),
        (image_bytes(image_format="TIFF"), "Only JPEG, PNG, WebP and GIF"),
        (image_bytes(image_format="BMP"), "Only JPEG, PNG, WebP and GIF"),
    ],
    ids=["text", "svg", "truncated-png", "tiff-named-png", "bmp"],
)
def test_refuses_files_that_are_not_acceptable_images(content, message):
    with pytest.raises(ValidationError) as refused:
        process_image_upload(upload(content), sizes=SIZES)

    assert message in refused.value.messages[0]


def test_refuses_oversized_uploads_before_decoding(settings):
    settings.MAX_IMAGE_UPLOAD_BYTES = 1024

    with pytest.raises(ValidationError) as refused:
        process_image_upload(upload(image_bytes(size=(800, 800)) + b"\0" * 2048), sizes=SIZES)

    assert "larger than" in refused.value.messages[0]


def test_refuses_decompression_bombs_by_pixel_count(settings):
    settings.MAX_IMAGE_PIXELS = 100 * 100

    with pytest.raises(ValidationError) as refused:
        process_image_upload(upload(image_bytes(size=(101, 100))), sizes=SIZES)

    assert "too many pixels" in refused.value.messages[0]


def test_polyglot_png_with_appended_html_is_reencoded_without_payload():
    payload = b"<html><script>alert(document.cookie)</script></html>"

    results = process_image_upload(upload(image_bytes() + payload), sizes=SIZES)

    for name in ("small", "large"):
        assert payload not in results[name].file.getvalue()


def test_animated_gif_keeps_only_its_first_frame():
    frames = [Image.new("RGB", (80, 80), (index * 40, 0, 0)) for index in range(5)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])

    results = process_image_upload(upload(buffer.getvalue(), "anim.gif", "image/gif"), sizes=SIZES)

    assert getattr(_open(results["large"]), "n_frames", 1) == 1
