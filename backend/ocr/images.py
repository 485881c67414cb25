"""Prescription images in, safely: what a person uploads is checked before anything reads it.

- The type comes from the bytes (JPEG, PNG or PDF signatures), never from the name or the
  browser's content type: a renamed file is what its bytes say.
- At most 10 MB; a picture of at most MAX_PIXELS (a decompression bomb is a small file that
  unpacks into gigabytes of pixels: refused from its header, before it is decoded).
- Truncated or damaged files are refused, not half-read (Pillow's LOAD_TRUNCATED_IMAGES stays off).
- The EXIF orientation is applied to the pixels and then every metadata block is dropped: phones
  put GPS positions in EXIF, and a photo whose orientation tag is lost arrives sideways.
- A PDF (a fax) becomes one image per page, rendered by pdfium.

Refusals are `ImageRefused` with a message for the person who uploaded the file.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageFile, ImageOps

from backend.core.errors import ValidationFailed

MAX_BYTES = 10 * 1024 * 1024
# A 12-megapixel phone photo is 12e6; a letter page faxed at 400 dpi about 15e6. Far above that is
# not a prescription but an attack or a mistake, and would cost a worker gigabytes to decode.
MAX_PIXELS = 40_000_000
MAX_PDF_PAGES = 20
PDF_DPI = 200  # enough for 10-point print; the engines downscale larger pages anyway
THUMBNAIL_SIZE = (320, 320)

CONTENT_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "pdf": "application/pdf"}

ImageFile.LOAD_TRUNCATED_IMAGES = False  # a truncated upload is refused, never padded with grey


class ImageRefused(ValidationFailed):
    """An uploaded file that is not a usable prescription image; nothing is stored or read."""

    code = "image_refused"


@dataclass(frozen=True)
class Upload:
    content_type: str  # from the bytes: image/jpeg, image/png or application/pdf
    pages: tuple[Image.Image, ...]  # RGB, upright, without metadata


def sniff_content_type(data: bytes) -> str | None:
    """The type the bytes themselves say, or None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return CONTENT_TYPES["jpeg"]
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return CONTENT_TYPES["png"]
    if data[:1024].lstrip().startswith(b"%PDF-"):
        return CONTENT_TYPES["pdf"]
    return None


def open_upload(data: bytes) -> Upload:
    """Check an uploaded file and turn it into upright page images without metadata."""
    if not data:
        raise ImageRefused("The file is empty.")
    if len(data) > MAX_BYTES:
        raise ImageRefused(f"The file is {len(data) / 1024 / 1024:.1f} MB; the limit is 10 MB.")
    content_type = sniff_content_type(data)
    if content_type is None:
        raise ImageRefused("The file is not a JPEG, PNG or PDF (its contents were checked, not its name).")
    if content_type == CONTENT_TYPES["pdf"]:
        return Upload(content_type, tuple(_pdf_pages(data)))
    return Upload(content_type, (_picture(data),))


def _picture(data: bytes) -> Image.Image:
    try:
        with Image.open(io.BytesIO(data)) as image:
            _check_pixels(image.size)
            image.load()  # decodes now: a truncated file raises here, not later in a worker
            upright = ImageOps.exif_transpose(image)
            return _without_metadata(upright)
    except ImageRefused:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageRefused(
            f"The picture is far more than {MAX_PIXELS // 1_000_000} megapixels: not a prescription (refused)."
        ) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageRefused("The picture is damaged or incomplete (was the upload cut off?).") from exc


def _check_pixels(size: tuple[int, int]) -> None:
    width, height = size
    if width * height > MAX_PIXELS:
        raise ImageRefused(
            f"The picture is {width}x{height} pixels; the limit is {MAX_PIXELS // 1_000_000} megapixels (refused)."
        )
    if width < 16 or height < 16:
        raise ImageRefused("The picture is too small to read.")


def _without_metadata(image: Image.Image) -> Image.Image:
    """A fresh RGB image from the pixels alone: no EXIF (GPS), no XMP, no ICC, no text chunks."""
    rgb = image.convert("RGB")
    clean = Image.new("RGB", rgb.size)
    clean.paste(rgb)
    return clean


def _pdf_pages(data: bytes) -> list[Image.Image]:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise ImageRefused("The PDF is damaged or incomplete, or protected by a password.") from exc
    try:
        count = len(document)
        if count == 0:
            raise ImageRefused("The PDF has no pages.")
        if count > MAX_PDF_PAGES:
            raise ImageRefused(f"The PDF has {count} pages; a prescription fax has at most {MAX_PDF_PAGES}.")
        pages = []
        for index in range(count):
            page = document[index]
            width, height = page.get_size()  # points (1/72 inch)
            scale = PDF_DPI / 72
            _check_pixels((int(width * scale), int(height * scale)))
            bitmap = page.render(scale=scale)
            pages.append(_without_metadata(bitmap.to_pil()))
        return pages
    finally:
        document.close()


def encode_png(image: Image.Image) -> bytes:
    """The page as PNG bytes with no metadata (what gets stored and shown)."""
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def thumbnail(image: Image.Image, size: tuple[int, int] = THUMBNAIL_SIZE) -> bytes:
    """A small JPEG for lists (aspect kept, no metadata)."""
    small = image.copy()
    small.thumbnail(size, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    small.convert("RGB").save(out, format="JPEG", quality=80)
    return out.getvalue()
