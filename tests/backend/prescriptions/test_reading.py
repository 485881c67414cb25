"""Prescription images read by OCR: uploads checked before anything is stored, the `ocr` job (idempotent),
the person's confirmation recorded per field, the chain's accuracy report, and RLS on the images."""

from __future__ import annotations

import io
import json
import struct
import uuid
import zlib
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import text

from backend.core.errors import NotFound, PermissionDenied, ValidationFailed
from backend.inventory.service import create_medicine
from backend.jobs.registry import handler_for
from backend.prescriptions import prescribers, reading, service
from backend.prescriptions.enums import ReadingStatus, RxStatus
from backend.prescriptions.originals import OCR_JOB
from backend.protection.keys import chain_keys
from tenants.context import TenantContext
from tenants.session import tenant_session
from tests.backend.prescriptions.conftest import stock

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "prescriptions"  # copies of ../shared/prescriptions
TABLES = ("prescriptions", "prescription_images", "prescription_readings", "outbox")


def count(db, table: str, tenant_id) -> int:
    db.execute(text("RESET ROLE"))
    return int(db.execute(text(f"SELECT count(*) FROM {table} WHERE tenant_id = :t"), {"t": tenant_id}).scalar_one())


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def _photo_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: the stored page must come out upright (taller than wide)
    exif[0x8825] = {1: "N", 2: (52.0, 30.0, 0.0)}
    out = io.BytesIO()
    Image.new("RGB", (120, 80), "white").save(out, format="JPEG", exif=exif.tobytes(), quality=95)
    return out.getvalue()


def _intake(pharmacy, image: bytes, ctx: TenantContext | None = None) -> service.Prescription:
    return pharmacy.run(
        ctx or pharmacy.technician,
        service.create_prescription,
        branch_id=pharmacy.branch,
        patient_id=pharmacy.patient("Hector Lindqvist", born="1950-04-06"),
        source="walk_in",
        image=image,
    )


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (b"MZ\x90\x00 a program renamed .png", "not a JPEG, PNG or PDF"),
        (_photo_with_gps()[:400], "damaged or incomplete"),  # truncated
        (_png_header_only(30000, 30000), "megapixels"),  # a decompression bomb
        (b"\x89PNG\r\n\x1a\n" + b"\0" * (10 * 1024 * 1024 + 1), "the limit is 10 MB"),
        (b"", "empty"),
    ],
    ids=["not-an-image", "truncated", "bomb", "too-large", "empty"],
)
def test_a_refused_upload_stores_nothing(pharmacy, db, upload, message):
    patient = pharmacy.patient()
    before = {table: count(db, table, pharmacy.chain.tenant_id) for table in TABLES}
    with pytest.raises(ValidationFailed, match=message):
        pharmacy.run(
            pharmacy.technician,
            service.create_prescription,
            branch_id=pharmacy.branch,
            patient_id=patient,
            source="walk_in",
            image=upload,
        )
    assert {table: count(db, table, pharmacy.chain.tenant_id) for table in TABLES} == before


def test_an_upload_is_stored_upright_without_metadata_with_a_thumbnail_and_queued_on_the_ocr_queue(pharmacy, db):
    rx = _intake(pharmacy, _photo_with_gps())
    kind, data = pharmacy.run(pharmacy.pharmacist, service.prescription_image, rx.id)
    stored = Image.open(io.BytesIO(data))
    assert kind == "image/jpeg" and stored.size == (80, 120)  # EXIF orientation applied
    assert not stored.getexif() and "exif" not in stored.info  # and then dropped (no GPS)
    db.execute(text("RESET ROLE"))
    row = db.execute(
        text(
            "SELECT data_enc, thumbnail_enc, width, height, pages FROM prescription_images WHERE prescription_id = :p"
        ),
        {"p": rx.id},
    ).one()
    assert (row.width, row.height, row.pages) == (80, 120, 1)
    # The original and its thumbnail are sealed (issue 16): not a JPEG to whoever reads the table.
    assert bytes(row.thumbnail_enc)[:1] == b"\x01" and b"\xff\xd8\xff" not in bytes(row.data_enc)[:40]
    with tenant_session(pharmacy.pharmacist) as session:
        keys = chain_keys(session, pharmacy.chain.tenant_id)
        thumb = keys.open_bytes("prescription_images", "thumbnail_enc", rx.id, row.thumbnail_enc)
    assert thumb[:3] == b"\xff\xd8\xff"
    job = db.execute(
        text("SELECT job_name, queue, payload FROM outbox WHERE tenant_id = :t AND job_name = :j"),
        {"t": pharmacy.chain.tenant_id, "j": OCR_JOB},
    ).one()
    assert job.queue == "ocr" and job.payload == {"prescription_id": rx.id}
    view = pharmacy.run(pharmacy.technician, reading.get_reading, rx.id)
    assert view.status is ReadingStatus.QUEUED and view.job_status == "pending" and view.fields == []


def test_cashiers_cannot_upload_or_confirm(pharmacy):
    with pytest.raises(PermissionDenied):
        _intake(pharmacy, _photo_with_gps(), ctx=pharmacy.cashier)
    rx = _intake(pharmacy, _photo_with_gps())
    with pytest.raises(PermissionDenied):
        pharmacy.run(pharmacy.cashier, reading.confirm_reading, rx.id, {})
    with pytest.raises(PermissionDenied):
        pharmacy.run(pharmacy.cashier, reading.get_reading, rx.id)


@pytest.mark.skipif(not (SAMPLES / "expected.json").is_file(), reason=f"no samples at {SAMPLES}")
def test_read_once_confirmed_with_a_correction_recorded_and_sent_to_verification(pharmacy, db):
    expected = json.loads((SAMPLES / "expected.json").read_text())["rx_001.png"]
    pharmacy.run(pharmacy.owner, create_medicine, generic_name="Sertraline", strength="50 mg", schedule="prescription")
    pharmacy.run(pharmacy.owner, prescribers.create_prescriber, full_name="Rowan T. Achebe", credentials="DO")
    rx = _intake(pharmacy, (SAMPLES / "rx_001.png").read_bytes())
    system = TenantContext.system(pharmacy.chain.tenant_id)
    job = handler_for(OCR_JOB)
    assert pharmacy.run(system, job, prescription_id=rx.id) == "read"
    assert pharmacy.run(system, job, prescription_id=rx.id) == "nothing to do"  # handed over twice: one effect
    assert count(db, "prescription_reading_fields", pharmacy.chain.tenant_id) == len(reading.FIELDS)

    view = pharmacy.run(pharmacy.technician, reading.get_reading, rx.id)
    assert view.status is ReadingStatus.READ and view.engine and view.seconds is not None
    read = {f.name: f for f in view.fields}
    assert read["drug"].value == "sertraline" and read["quantity"].value == "30"
    assert read["drug"].box is not None and read["drug"].page == 0 and not read["drug"].low
    assert read["rx_number"].value == "" and read["rx_number"].low and read["rx_number"].box is None

    with pytest.raises(ValidationFailed, match="Unknown field"):
        pharmacy.run(pharmacy.technician, reading.confirm_reading, rx.id, {"password": "x"})
    with pytest.raises(ValidationFailed) as refused:  # bad values are data entry's refusals: nothing written
        pharmacy.run(pharmacy.technician, reading.confirm_reading, rx.id, {"quantity": "-4"})
    assert refused.value.field == "quantity"
    assert pharmacy.run(pharmacy.technician, reading.get_reading, rx.id).status is ReadingStatus.READ

    done = pharmacy.run(pharmacy.technician, reading.confirm_reading, rx.id, {"quantity": "28"})
    assert done.corrected == ["quantity"] and done.submitted
    assert done.prescription.status is RxStatus.VERIFICATION and done.prescription.quantity == 28
    assert (
        done.prescription.medicine_label.startswith("Sertraline") and done.prescription.sig_written == expected["sig"]
    )
    assert done.prescription.prescriber_name.startswith("Rowan T. Achebe")
    confirmed = {f.name: f for f in pharmacy.run(pharmacy.technician, reading.get_reading, rx.id).fields}
    assert confirmed["quantity"].corrected and confirmed["quantity"].confirmed_value == "28"
    assert confirmed["quantity"].value == "30"  # what OCR read is kept beside the correction
    assert confirmed["drug"].corrected is False and confirmed["drug"].confirmed_value == "sertraline"
    with pytest.raises(service.RefusedTransition, match="already confirmed"):
        pharmacy.run(pharmacy.technician, reading.confirm_reading, rx.id, {})

    report = {a.field: a for a in pharmacy.run(pharmacy.owner, reading.accuracy_report)}
    assert (report["quantity"].confirmed, report["quantity"].right) == (1, 0)
    assert (report["drug"].confirmed, report["drug"].right, report["drug"].rate) == (1, 1, 1.0)


def test_confirming_without_a_known_prescriber_stays_in_data_entry_naming_what_is_missing(pharmacy, db):
    rx = _intake(pharmacy, _photo_with_gps())
    system = TenantContext.system(pharmacy.chain.tenant_id)
    assert pharmacy.run(system, handler_for(OCR_JOB), prescription_id=rx.id) == "read"  # a blank page: nothing read
    view = pharmacy.run(pharmacy.technician, reading.get_reading, rx.id)
    assert all(f.value == "" and f.low for f in view.fields)
    done = pharmacy.run(
        pharmacy.technician,
        reading.confirm_reading,
        rx.id,
        {"drug_as_written": "Lisinopril", "strength": "10 mg", "sig": "1 tab po daily", "quantity": "30"},
    )
    assert not done.submitted and done.prescription.status is RxStatus.DATA_ENTRY
    assert "the prescriber" in done.missing and "the date written" in done.missing
    assert set(done.corrected) == {"drug_as_written", "strength", "sig", "quantity"}


def test_another_chain_cannot_read_the_image_or_its_reading(pharmacy, db, make_tenant):
    rx = _intake(pharmacy, _photo_with_gps())
    other = stock(make_tenant("rx-other", branches=2))
    with pytest.raises(NotFound):
        other.run(other.pharmacist, service.prescription_image, rx.id)
    with pytest.raises(NotFound):
        other.run(other.pharmacist, reading.get_reading, rx.id)
    with pytest.raises((NotFound, ValidationFailed)):
        other.run(other.technician, reading.confirm_reading, rx.id, {})
    # Under the other chain's tenant, the rows are simply not there (RLS), whatever the query.
    seen = other.run(
        other.pharmacist,
        lambda session, ctx: [
            session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608
            for table in ("prescription_images", "prescription_readings", "prescription_reading_fields")
        ],
    )
    assert seen == [0, 0, 0]
    assert str(uuid.UUID(rx.id)) == rx.id


def test_opening_the_image_or_its_reading_is_in_the_patient_access_log_and_polling_is_not(pharmacy, db):
    rx = _intake(pharmacy, _photo_with_gps())
    logged = count(db, "patient_access_log", pharmacy.chain.tenant_id)
    assert pharmacy.run(pharmacy.technician, reading.reading_progress, rx.id) == (ReadingStatus.QUEUED, "pending")
    assert count(db, "patient_access_log", pharmacy.chain.tenant_id) == logged  # a status holds no patient data
    pharmacy.run(pharmacy.technician, reading.get_reading, rx.id)
    assert count(db, "patient_access_log", pharmacy.chain.tenant_id) == logged + 1
    kind, page = pharmacy.run(pharmacy.technician, reading.page_image, rx.id)
    assert kind == "image/jpeg" and page[:3] == b"\xff\xd8\xff"
    assert count(db, "patient_access_log", pharmacy.chain.tenant_id) == logged + 2


def test_a_faxed_pdf_is_kept_as_sent_with_its_first_page_as_the_preview(pharmacy, db):
    out = io.BytesIO()
    pages = [Image.new("RGB", (300, 400), "white"), Image.new("RGB", (300, 400), "white")]
    pages[0].save(out, format="PDF", save_all=True, append_images=pages[1:], resolution=72)
    rx = _intake(pharmacy, out.getvalue())
    kind, data = pharmacy.run(pharmacy.pharmacist, service.prescription_image, rx.id)
    assert kind == "application/pdf" and data == out.getvalue()
    preview_kind, preview = pharmacy.run(pharmacy.pharmacist, reading.page_image, rx.id)
    assert preview_kind == "image/png" and Image.open(io.BytesIO(preview)).size[1] > 0
    view = pharmacy.run(pharmacy.technician, reading.get_reading, rx.id)
    assert view.pages == 2
