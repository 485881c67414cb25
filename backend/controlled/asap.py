"""The prescription-monitoring (PMP) export: one ASAP 4.2 file per branch per day of the fills of scheduled
medicines made there, with the pharmacy's DEA number and NPI (the branch's registration, kept here since
branches carry neither), the patient, the prescriber's DEA number, the NDC, quantity, days' supply and dates.

What a day's file holds:
- a new record (DSP01 00) for each controlled fill made that day, unless it went back to stock the same day
  (never dispensed, so never reported);
- a void (DSP01 02) for each fill returned to stock that day that was made on an earlier day: that day's
  file reported it, so the PMP is told to remove it. The void repeats the original's Rx number, fill date
  and refill number, which is how the PMP finds the record;
- the payment type (DSP16) from the fill's claim: a claim the payer approved (at any point: a returned
  fill's claim is reversed afterwards) is commercial insurance, 04, unless the payer's name or code says
  Medicaid, Medicare, TRICARE/VA or workers' compensation; no claim, or a rejected one, is private pay, 01;
- nothing controlled that day: the ASAP zero report (`asap_format.zero_report`), which tells the PMP the
  pharmacy reported and had nothing to report.

The file is checked against `asap_format.validate` before it is handed out: a file a state would reject is
refused here with the reasons, never downloaded.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlmodel import Session

from backend.billing.statuses import ClaimStatus
from backend.controlled.asap_format import ELEMENT, RULES, SEGMENT, VERSION, report_period, validate, zero_report
from backend.controlled.common import branch, day_bounds, parse_day
from backend.core.errors import ValidationFailed
from backend.patients.service import PatientIdentity, identities
from backend.prescriptions.prescribers import dea_valid, npi_valid
from tenants.context import TenantContext
from tenants.roles import require

# The prescription's source -> DSP12, Transmission Form of Rx Origin.
ORIGIN = {"walk_in": "01", "phone": "02", "fax": "06", "portal": "05"}
# The catalog's dispensing unit -> DSP11, Drug Dosage Units Code (01 each, 02 milliliters, 03 grams).
UNITS = {"ml": "02", "millilitre": "02", "milliliter": "02", "g": "03", "gram": "03"}
NEW, VOID = "00", "02"  # DSP01, Reporting Status (01 revises a record; a corrected fill is not made here)
PRIVATE_PAY, COMMERCIAL = "01", "04"  # DSP16, Classification Code for Payment Type
# A payer that names its programme in its name or code (first match wins: "Medicare" is not "Medicaid").
PAYER_PROGRAMMES = (
    ("medicaid", "02"),
    ("medicare", "03"),
    ("tricare", "05"),
    ("veterans", "05"),
    ("workers", "06"),
)


@dataclass(frozen=True)
class Registration:
    branch_id: str
    dea_number: str
    npi: str
    ncpdp: str
    state: str


def get_registration(session: Session, ctx: TenantContext, branch_id: str) -> Registration | None:
    """The branch's DEA registration and NPI as the PMP file and Form 106 name it (None until entered)."""
    require(ctx, "controlled.view")
    where = branch(session, ctx, branch_id)
    row = session.execute(
        text("SELECT * FROM controlled_registrations WHERE branch_id = :b"), {"b": uuid.UUID(where.id)}
    ).first()
    if row is None:
        return None
    return Registration(str(row.branch_id), row.dea_number, row.npi, row.ncpdp, row.state)


def save_registration(
    session: Session, ctx: TenantContext, branch_id: str, *, dea_number: str, npi: str, state: str, ncpdp: str = ""
) -> Registration:
    """Set the branch's DEA number (check digit verified), NPI (Luhn check), NCPDP number and state."""
    require(ctx, "controlled.record")
    where = branch(session, ctx, branch_id)
    dea = "".join(str(dea_number or "").split()).upper()
    if not dea_valid(dea):
        raise ValidationFailed("That is not a valid DEA number (two letters, seven digits, check digit).", field="dea")
    typed_npi = "".join(str(npi or "").split())
    if not npi_valid(typed_npi):
        raise ValidationFailed("That is not a valid NPI (ten digits with a check digit).", field="npi")
    code = "".join(str(ncpdp or "").split())
    if code and not re.fullmatch(r"[0-9]{7}", code):
        raise ValidationFailed("The NCPDP provider ID has seven digits (or leave it empty).", field="ncpdp")
    region = str(state or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", region):
        raise ValidationFailed("Enter the state's two-letter code, e.g. OH.", field="state")
    session.execute(
        text(
            "INSERT INTO controlled_registrations (tenant_id, branch_id, dea_number, npi, ncpdp, state, updated_by) "
            "VALUES (:t, :b, :d, :n, :c, :s, :u) ON CONFLICT (tenant_id, branch_id) DO UPDATE SET "
            "dea_number = EXCLUDED.dea_number, npi = EXCLUDED.npi, ncpdp = EXCLUDED.ncpdp, state = EXCLUDED.state, "
            "updated_by = EXCLUDED.updated_by, updated_at = now()"
        ),
        {
            "t": ctx.tenant_id,
            "b": uuid.UUID(where.id),
            "d": dea,
            "n": typed_npi,
            "c": code,
            "s": region,
            "u": ctx.user_id,
        },
    )
    return Registration(where.id, dea, typed_npi, code, region)


_FILLS = text("""
SELECT f.code, f.dispensing, f.part, f.quantity, f.owed_after, f.filled_at,
       (f.status = 'returned' AND f.returned_at >= :since AND f.returned_at < :until AND f.filled_at < :since)
           AS void,
       EXISTS (SELECT 1 FROM claim_events e WHERE e.tenant_id = cl.tenant_id AND e.claim_id = cl.id
               AND e.to_status = ANY(:granted)) AS insured,
       lower(coalesce(py.name, '') || ' ' || coalesce(py.payer_code, '')) AS payer,
       r.rx_number, r.date_written, r.refills_authorized, r.days_supply, r.source,
       r.patient_id,
       coalesce(pr.full_name, '') AS prescriber, coalesce(pr.npi, '') AS prescriber_npi,
       coalesce(pr.dea_number, '') AS prescriber_dea, coalesce(pr.license_number, '') AS prescriber_license,
       coalesce(pr.phone, '') AS prescriber_phone,
       coalesce(m.barcode, '') AS ndc, m.generic_name, m.strength, m.dispensing_unit,
       coalesce(c.full_name, '') AS pharmacist
FROM prescription_fills f
JOIN prescriptions r ON r.tenant_id = f.tenant_id AND r.id = f.prescription_id
JOIN medicines m ON m.tenant_id = f.tenant_id AND m.id = f.medicine_id
LEFT JOIN prescribers pr ON pr.tenant_id = r.tenant_id AND pr.id = r.prescriber_id
LEFT JOIN users c ON c.id = f.checked_by
LEFT JOIN claims cl ON cl.tenant_id = f.tenant_id AND cl.fill_id = f.id
LEFT JOIN patient_coverages cv ON cv.tenant_id = cl.tenant_id AND cv.id = cl.coverage_id
LEFT JOIN payers py ON py.tenant_id = cv.tenant_id AND py.id = cv.payer_id
WHERE f.branch_id = :b AND m.schedule = 'controlled' AND (
    (f.filled_at >= :since AND f.filled_at < :until
     AND NOT (f.status = 'returned' AND f.returned_at < :until))
    OR (f.status = 'returned' AND f.returned_at >= :since AND f.returned_at < :until AND f.filled_at < :since))
ORDER BY f.filled_at, f.code
""")


def payment_type(insured: bool, payer: str) -> str:
    """DSP16 of a fill: private pay without an approved claim, else the payer's programme (commercial
    insurance unless its name or code says otherwise)."""
    if not insured:
        return PRIVATE_PAY
    return next((code for word, code in PAYER_PROGRAMMES if word in payer), COMMERCIAL)


def _clean(value: object) -> str:
    """An element's text: no separator, terminator or line break can end up inside it."""
    return " ".join(re.sub(r"[*~\r\n^|]", " ", "" if value is None else str(value)).split())


def _segment(tag: str, *values: object) -> str:
    rules = RULES[tag]
    cleaned = []
    for rule, value in zip(rules, values, strict=False):
        text_value = _clean(value)
        cleaned.append(text_value[: rule.max_length] if rule.max_length else text_value)
    while cleaned and cleaned[-1] == "":
        cleaned.pop()
    return ELEMENT.join([tag, *cleaned]) + SEGMENT


def _digits(value: str, length: int) -> str:
    digits = re.sub(r"[^0-9]", "", value)
    return digits[-length:] if len(digits) >= length else ""


def _names(full_name: str) -> tuple[str, str]:
    """(last, first) from a name written "First Middle Last"."""
    words = _clean(full_name).split()
    if len(words) < 2:
        return (words[0] if words else ""), ""
    return words[-1], " ".join(words[:-1])


def _ccyymmdd(day: date | None) -> str:
    return "" if day is None else day.strftime("%Y%m%d")


def _problems(row: Any) -> list[str]:
    said = []
    if not re.fullmatch(r"[0-9]{11}", row.ndc or ""):
        said.append(f"{row.generic_name} {row.strength} has no 11-digit NDC in the catalog")
    if not row.prescriber_dea:
        said.append(f"the prescriber of Rx {row.rx_number} has no DEA number")
    if row.days_supply is None or row.date_written is None:
        said.append(f"Rx {row.rx_number} has no days' supply or date written")
    return said


def _dispensing(row: Any, who: PatientIdentity, zone: ZoneInfo) -> list[str]:
    last, first = _names(who.full_name)
    prescriber_last, prescriber_first = _names(row.prescriber)
    pharmacist_last, pharmacist_first = _names(row.pharmacist)
    partial = row.owed_after > 0 or row.part > 1
    patient = _segment(
        "PAT", "", "", "", "", "", "", last, first, "", "", "", "", "", "", "", "",
        _digits(who.phone, 10), _ccyymmdd(who.date_of_birth), "U", "01",
    )  # fmt: skip
    dispensing = _segment(
        "DSP",
        VOID if row.void else NEW,
        row.rx_number,
        _ccyymmdd(row.date_written),
        row.refills_authorized,
        _ccyymmdd(row.filled_at.astimezone(zone).date()),
        row.dispensing,
        "01",
        row.ndc,
        row.quantity,
        row.days_supply,
        UNITS.get(str(row.dispensing_unit).strip().lower(), "01"),
        ORIGIN.get(row.source, "01"),
        f"{row.part:02d}" if partial else "00",
        "",
        "",
        payment_type(row.insured, row.payer),
    )
    prescriber = _segment(
        "PRE",
        row.prescriber_npi,
        row.prescriber_dea,
        "",
        row.prescriber_license,
        prescriber_last,
        prescriber_first,
        "",
        _digits(row.prescriber_phone, 10),
    )
    segments = [patient, dispensing, prescriber]
    if pharmacist_last:
        segments.append(_segment("AIR", "", "", "", "", "", "", "", "", pharmacist_last, pharmacist_first))
    return segments


@dataclass(frozen=True)
class AsapFile:
    filename: str
    content: str
    dispensings: int  # new records
    voids: int = 0  # fills reported before and returned to stock that day

    @property
    def zero_report(self) -> bool:
        return self.dispensings == 0 and self.voids == 0


def asap_export(
    session: Session, ctx: TenantContext, branch_id: str, day: object, *, now: datetime | None = None
) -> AsapFile:
    """The ASAP 4.2 file of the branch's controlled dispensing on `day` (the branch's calendar): new records,
    voids of fills returned to stock that day, or the zero report when there is neither. Refused, with every
    reason, when the branch has no registration, a fill lacks what the file must carry, or the file would
    break the format's rules."""
    require(ctx, "controlled.view")
    where = branch(session, ctx, branch_id)
    on = parse_day(day, "date")
    registration = get_registration(session, ctx, branch_id)
    if registration is None:
        raise ValidationFailed("Enter the branch's DEA number and NPI (PMP registration) before exporting.")
    since, until = day_bounds(on, on, where.time_zone)
    granted = [s.value for s in ClaimStatus.granted()]
    rows = session.execute(_FILLS, {"b": uuid.UUID(where.id), "since": since, "until": until, "granted": granted}).all()
    problems = sorted({said for row in rows for said in _problems(row)})
    people = identities(session, ctx, [r.patient_id for r in rows], contact=True)
    if problems:
        raise ValidationFailed("The PMP file cannot be made: " + "; ".join(problems) + ".")
    zone = ZoneInfo(where.time_zone)
    made = (now or datetime.now(zone)).astimezone(zone)
    control = f"{where.code}{on:%Y%m%d}{made:%H%M%S}"
    chain = session.execute(text("SELECT name FROM tenants WHERE id = :t"), {"t": ctx.tenant_id}).scalar() or ""
    pharmacy = _segment(
        "PHA", registration.npi, registration.ncpdp, registration.dea_number, where.name, where.address, "", "",
        registration.state,
    )  # fmt: skip
    header = ELEMENT.join(["TH", VERSION, control, "01", "", f"{made:%Y%m%d}", f"{made:%H%M%S}", "P", "", SEGMENT])
    source = _clean(where.code)[:10]
    if rows:
        body = [pharmacy]
        for row in rows:
            body += _dispensing(row, people[row.patient_id], zone)
        body.append(_segment("TP", len(body) + 1))
        segments = [header + SEGMENT, _segment("IS", source, chain, f"{where.name} {on.isoformat()}"), *body]
        segments.append(_segment("TT", control, len(segments) + 1))
        content = "\n".join(segments) + "\n"
    else:
        content = zero_report(header, _segment("IS", source, chain, report_period(on, on)), pharmacy, on, control)
    errors = validate(content)
    if errors:
        raise ValidationFailed("The PMP file would not pass the ASAP 4.2 rules: " + " ".join(errors[:5]))
    voids = sum(1 for row in rows if row.void)
    suffix = "" if rows else "-zero"
    return AsapFile(f"asap-{where.code}-{on:%Y%m%d}{suffix}.txt", content, len(rows) - voids, voids)
