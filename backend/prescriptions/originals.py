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
from backend.protection.keys import chain_keys, reseal_rows
from tenants.context import TenantContext
from tenants.roles import require

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


IMAGES = "prescription_images"
SEALED_IMAGE_COLUMNS = ("data_enc", "thumbnail_enc", "preview_enc")


def original_bytes(session: Session, ctx: TenantContext, prescription_id: uuid.UUID) -> tuple[str, bytes] | None:
    """The stored original's content type and bytes, decrypted (no permission check: the caller made it)."""
    image = session.execute(
        text("SELECT content_type, data_enc FROM prescription_images WHERE prescription_id = :id"),
        {"id": prescription_id},
    ).first()
    if image is None:
        return None
    return image.content_type, chain_keys(session, ctx.tenant_id).open_bytes(
        IMAGES, "data_enc", prescription_id, image.data_enc
    )


def original_preview(session: Session, ctx: TenantContext, prescription_id: uuid.UUID) -> bytes | None:
    """A PDF original's first page as PNG, decrypted (None for a picture; the caller checked the permission)."""
    sealed = session.execute(
        text("SELECT preview_enc FROM prescription_images WHERE prescription_id = :id"), {"id": prescription_id}
    ).scalar()
    if sealed is None:
        return None
    return chain_keys(session, ctx.tenant_id).open_bytes(IMAGES, "preview_enc", prescription_id, sealed)


def reseal_originals(session: Session, ctx: TenantContext, after: object, limit: int) -> tuple[object, int]:
    """One batch of a key rotation's re-encryption of the originals."""
    require(ctx, "keys.rotate")
    keys = chain_keys(session, ctx.tenant_id)
    return reseal_rows(session, keys, IMAGES, SEALED_IMAGE_COLUMNS, after, limit, id_column="prescription_id")


def store_original(session: Session, ctx: TenantContext, prescription_id: uuid.UUID, original: Original) -> None:
    """Write a checked original and queue its OCR reading (the caller checked the prescription may take it)."""
    keys = chain_keys(session, ctx.tenant_id)
    session.execute(
        text(
            "INSERT INTO prescription_images (tenant_id, prescription_id, content_type, data_enc, uploaded_by, "
            "thumbnail_enc, preview_enc, width, height, pages) "
            "VALUES (:t, :id, :ct, :data, :u, :thumb, :preview, :w, :h, :n)"
        ),
        {
            "t": ctx.tenant_id,
            "id": prescription_id,
            "ct": original.content_type,
            # The image shows the patient's name and what they take: sealed like the record (issue 16).
            "data": keys.seal_bytes(IMAGES, "data_enc", prescription_id, original.data),
            "u": ctx.user_id,
            "thumb": keys.seal_bytes(IMAGES, "thumbnail_enc", prescription_id, original.thumbnail),
            "preview": None
            if original.preview is None
            else keys.seal_bytes(IMAGES, "preview_enc", prescription_id, original.preview),
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
