"""A strict pipeline for user-uploaded images.

Every upload is size-capped, decoded fully by Pillow from an allow-list of
formats, pixel-capped before decoding, stripped of metadata by re-encoding
and resized to fixed sizes. The original file is never stored or served.
"""

import io
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}


@dataclass(frozen=True)
class ImageSize:
    name: str
    width: int
    height: int


def _refuse(message: str) -> ValidationError:
    return ValidationError(message, code="invalid_image")


def process_image_upload(upload, *, sizes: list[ImageSize], crop: bool = True) -> dict[str, ContentFile]:
    """Return one re-encoded WebP file per requested size, or raise
    ValidationError with a message fit to show the person who uploaded it."""
    limit_mb = settings.MAX_IMAGE_UPLOAD_BYTES // (1024 * 1024)
    if upload.size > settings.MAX_IMAGE_UPLOAD_BYTES:
        raise _refuse(f"This image is larger than {limit_mb} MB. Please upload a smaller file.")
    upload.seek(0)
    data = upload.read()
    try:
        with Image.open(io.BytesIO(data)) as probe:
            image_format = probe.format
            width, height = probe.size
    except Image.DecompressionBombError as error:
        raise _refuse("This image has too many pixels. Please upload one under 40 megapixels.") from error
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise _refuse("This file is not an image we can read. Please upload a JPEG, PNG, WebP or GIF.") from error
    if image_format not in ALLOWED_FORMATS:
        raise _refuse("Only JPEG, PNG, WebP and GIF images are accepted.")
    if width * height > settings.MAX_IMAGE_PIXELS:
        raise _refuse("This image has too many pixels. Please upload one under 40 megapixels.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            # Only the first frame of an animation is used, so no frame past it is decoded.
            image.seek(0)
            image.load()
            image = ImageOps.exif_transpose(image)
            image = image.convert("RGBA" if image.mode in {"RGBA", "LA", "P"} else "RGB")
    except (OSError, ValueError, Image.DecompressionBombError, SyntaxError) as error:
        raise _refuse("This image is damaged or incomplete. Please upload another copy.") from error

    results = {}
    for size in sizes:
        if crop:
            resized = ImageOps.fit(image, (size.width, size.height), Image.Resampling.LANCZOS)
        else:
            resized = image.copy()
            resized.thumbnail((size.width, size.height), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        resized.save(buffer, format="WEBP", quality=85, method=4)
        results[size.name] = ContentFile(buffer.getvalue(), name=f"{size.name}.webp")
    return results
