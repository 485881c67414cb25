"""Uploads are checked from their bytes: type, size, damage, pixel bombs; EXIF applied then dropped."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from backend.ocr import images
from backend.ocr.images import ImageRefused, open_upload, sniff_content_type, thumbnail


def _jpeg(size=(120, 80), exif_orientation: int | None = None, gps: bool = False) -> bytes:
    image = Image.new("RGB", size, "white")
    image.paste((200, 0, 0), (0, 0, 20, 20))  # a red corner, to see where it ends up
    exif = Image.Exif()
    if exif_orientation:
        exif[0x0112] = exif_orientation
    if gps:
        exif[0x8825] = {1: "N", 2: (52.0, 30.0, 0.0)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes(), quality=95)
    return out.getvalue()


def _png(size=(64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "white").save(out, format="PNG")
    return out.getvalue()


def test_type_comes_from_the_bytes_not_the_name():
    assert sniff_content_type(_jpeg()) == "image/jpeg"
    assert sniff_content_type(_png()) == "image/png"
    assert sniff_content_type(b"%PDF-1.7\n...") == "application/pdf"
    assert sniff_content_type(b"GIF89a......") is None
    with pytest.raises(ImageRefused, match="not a JPEG, PNG or PDF"):
        open_upload(b"<html><script>alert(1)</script></html>")


def test_too_large_empty_and_truncated_files_are_refused():
    with pytest.raises(ImageRefused, match="limit is 10 MB"):
        open_upload(b"\xff\xd8\xff" + b"\0" * (10 * 1024 * 1024))
    with pytest.raises(ImageRefused, match="empty"):
        open_upload(b"")
    whole = _jpeg((400, 300))
    with pytest.raises(ImageRefused, match="damaged or incomplete"):
        open_upload(whole[: len(whole) // 2])


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG whose header promises width x height pixels (what a decompression bomb looks like)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("side", [8000, 30000])  # over our 40-megapixel cap; over Pillow's own bomb limit
def test_a_decompression_bomb_is_refused_from_its_header(side):
    data = _png_header_only(side, side)
    assert len(data) < 200
    with pytest.raises(ImageRefused, match="megapixels"):
        open_upload(data)


def test_exif_orientation_is_applied_then_all_metadata_dropped():
    # Orientation 6: the camera was turned; the stored 120x80 picture is shown 80x120.
    upload = open_upload(_jpeg((120, 80), exif_orientation=6, gps=True))
    (page,) = upload.pages
    assert page.size == (80, 120)
    assert page.getpixel((75, 5))[0] > 150  # the red corner moved with the rotation
    assert not page.info and not page.getexif()
    stored = Image.open(io.BytesIO(images.encode_png(page)))
    assert not stored.getexif() and "exif" not in stored.info


def test_pdf_pages_become_images(tmp_path):
    from fpdf import FPDF

    pdf = FPDF(format="letter")
    for text in ("page one", "page two"):
        pdf.add_page()
        pdf.set_font("helvetica", size=24)
        pdf.cell(text=text)
    upload = open_upload(bytes(pdf.output()))
    assert upload.content_type == "application/pdf"
    assert len(upload.pages) == 2
    assert upload.pages[0].size == (1700, 2200)  # letter at 200 dpi
    with pytest.raises(ImageRefused, match="PDF is damaged"):
        open_upload(b"%PDF-1.7\nnot really a pdf")


def test_thumbnail_keeps_the_aspect_and_is_small():
    (page,) = open_upload(_png((1200, 1600))).pages
    small = Image.open(io.BytesIO(thumbnail(page)))
    assert small.format == "JPEG" and small.size == (240, 320)
