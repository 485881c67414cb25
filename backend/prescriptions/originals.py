"""The original of a prescription (photo, scan, fax) in, safely, and queued for OCR.

Every upload goes through `backend.ocr.images.open_upload` before anything is written: the type comes
from the bytes (JPEG, PNG, PDF), at most 10 MB, damaged files and decompression bombs are refused, and
the EXIF orientation is applied and then every metadata block (GPS) dropped. What is stored is the
page rebuilt from its pixels (a picture re-encoded in its own format; a PDF kept as sent, with its first
page as a PNG preview), plus a JPEG thumbnail for lists, in the database under RLS: prescription images
are health data, never files in a public folder. The `ocr` job is queued in the same transaction
(outbox), so a rolled-back intake reads nothing and a stored original is always read.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass

from PIL import Image
from sqlalchemy import text
from sqlmodel import Session

from backend.jobs.service import enqueue_job
from backend.ocr.images import MAX_BYTES as MAX_UPLOAD_BYTES
from backend.ocr.images import Upload, encode_png, open_upload, thumbnail
from tenants.context import TenantContext

OCR_JOB = "prescriptions.read_original"
OCR_QUEUE = "ocr"
__all__ = ["MAX_UPLOAD_BYTES", "OCR_JOB", "OCR_QUEUE", "Original", "check_original", "store_original"]


@dataclass(frozen=True)
class Original:
    content_type: str
    data: bytes
    thumbnail: bytes
    preview: bytes | None  # the first page as PNG when the original is a PDF
    width: int  # of the page the boxes refer to (the first)
    height: int
    pages: int


def _reencode(page: Image.Image, content_type: str) -> bytes:
    if content_type == "image/jpeg":
        out = io.BytesIO()
        page.save(out, format="JPEG", quality=92)
        return out.getvalue()
    return encode_png(page)


def check_original(data: bytes) -> Original:
    """The upload checked and rebuilt without metadata; raises ImageRefused (a ValidationFailed with a
    message for the person) for anything that is not a usable JPEG, PNG or PDF. Writes nothing."""
    upload: Upload = open_upload(data)
    first = upload.pages[0]
    if upload.content_type == "application/pdf":
        stored, preview = data, encode_png(first)
    else:
        stored, preview = _reencode(first, upload.content_type), None
    return Original(
        content_type=upload.content_type,
        data=stored,
        thumbnail=thumbnail(first),
        preview=preview,
        width=first.width,
        height=first.height,
        pages=len(upload.pages),
    )


def store_original(session: Session, ctx: TenantContext, prescription_id: uuid.UUID, original: Original) -> None:
    """Write a checked original and queue its OCR reading (the caller checked the prescription may take it)."""
    session.execute(
        text(
            "INSERT INTO prescription_images (tenant_id, prescription_id, content_type, data, uploaded_by, "
            "thumbnail, preview, width, height, pages) VALUES (:t, :id, :ct, :data, :u, :thumb, :preview, :w, :h, :n)"
        ),
        {
            "t": ctx.tenant_id,
            "id": prescription_id,
            "ct": original.content_type,
            "data": original.data,
            "u": ctx.user_id,
            "thumb": original.thumbnail,
            "preview": original.preview,
            "w": original.width,
            "h": original.height,
            "n": original.pages,
        },
    )
    # Staff who may take a prescription may start its reading; the job runs as the system on their chain.
    job_id = enqueue_job(
        session, TenantContext.system(ctx.tenant_id), OCR_JOB, queue=OCR_QUEUE, prescription_id=str(prescription_id)
    )
    session.execute(
        text("INSERT INTO prescription_readings (tenant_id, prescription_id, job_id) VALUES (:t, :p, :j)"),
        {"t": ctx.tenant_id, "p": prescription_id, "j": job_id},
    )
