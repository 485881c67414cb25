"""The PMP export: the day's controlled fills as an ASAP 4.2 file that passes the format's rules; the
validator catches a broken file; refusals; REST (roles, another chain)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from backend.api import create_api
from backend.billing.claims import service as claims
from backend.controlled import asap
from backend.controlled.asap_format import ZERO_TAGS, split_segments, validate
from backend.core.errors import PermissionDenied, ValidationFailed
from backend.prescriptions import fills, unclaimed
from tests.backend.controlled.conftest import PHARMACY_DEA, PHARMACY_NPI, controlled_pharmacy, receive
from tests.backend.prescriptions.conftest import VALID_DEA
from tests.backend.prescriptions.test_api import auth


def filled_day(pharmacy):
    """A CII filled whole and a CIV filled in part (the shelf short), plus a non-controlled fill."""
    receive(pharmacy, "morphine", "MS-1", 100)
    receive(pharmacy, "diazepam", "DZ-1", 12)
    receive(pharmacy, "lisinopril", "LIS-1", 30)
    patient = pharmacy.patient(name="Maria Elena Ortiz", born="1958-03-09")
    morphine = pharmacy.on_profile(patient, "morphine", quantity="60", days_supply="15")
    diazepam = pharmacy.on_profile(patient, "diazepam", quantity="20", days_supply="10", refills_authorized="2")
    lisinopril = pharmacy.on_profile(patient, "lisinopril", quantity="30", days_supply="30")
    done = [
        pharmacy.run(pharmacy.technician, fills.fill_prescription, rx.id, partial=True)
        for rx in (morphine, diazepam, lisinopril)
    ]
    return morphine, diazepam, done


def test_the_days_file_passes_the_asap_rules_and_carries_each_controlled_fill(pharmacy):
    morphine, diazepam, done = filled_day(pharmacy)

    found = pharmacy.run(pharmacy.pharmacist, asap.asap_export, pharmacy.branch, date.today().isoformat())

    assert validate(found.content) == []
    assert found.dispensings == 2 and found.filename.endswith(f"{date.today():%Y%m%d}.txt")
    segments = split_segments(found.content)
    tags = [s[0] for s in segments]
    assert tags == ["TH", "IS", "PHA", "PAT", "DSP", "PRE", "PAT", "DSP", "PRE", "TP", "TT"]
    assert segments[0][1:3] == ["4.2", segments[-1][1]] and segments[0][-1] == "~"
    pha = segments[2]
    assert (pha[1], pha[3]) == (PHARMACY_NPI, PHARMACY_DEA)
    pat = segments[3]
    assert (pat[7], pat[8], pat[18]) == ("Ortiz", "Maria Elena", "19580309")
    by_rx = {s[2]: s for s in segments if s[0] == "DSP"}
    cii = by_rx[morphine.rx_number]
    assert (cii[5], cii[8], cii[9], cii[10], cii[13]) == (f"{date.today():%Y%m%d}", "00054023525", "60", "15", "00")
    civ = by_rx[diazepam.rx_number]
    assert (civ[4], civ[9], civ[13]) == ("2", "12", "01")  # refills authorized; 12 of 20: a first partial fill
    assert all(s[2] == VALID_DEA for s in segments if s[0] == "PRE")
    assert int(segments[-2][1]) == 8 and int(segments[-1][2]) == 11  # TP: PHA..TP, TT: TH..TT
    assert "Lisinopril" not in found.content and done[2].code not in found.content


@pytest.mark.parametrize(
    ("breakage", "caught"),
    [
        (lambda s: s.replace("\nPRE*", "\nPRX*", 1), "not an ASAP 4.2 segment"),
        (lambda s: "\n".join(line for line in s.split("\n") if not line.startswith("PRE*")), "may not follow"),
        (lambda s: s.replace("*00054023525*", "**", 1), "DSP08 (Product ID) is required"),
        (lambda s: s.replace("*00054023525*", "*0005402352*", 1), "DSP08 (Product ID) must have 11"),
        (lambda s: s.replace("*19580309*", "*19581309*", 1), "PAT18 (Date of Birth) must be a date"),
        (lambda s: s.replace("*Ortiz*", "**", 1), "PAT07 (Last Name) is required"),
        (lambda s: s[: s.rindex("*") + 1] + "99~\n", "TT02 says 99 segments"),
        (lambda s: s.replace("\nTP*8~", "\nTP*7~"), "TP01 says 7 segments"),
        (lambda s: s.replace(f"*{PHARMACY_DEA}*", "*BP12345*", 1), "PHA03 (DEA Number) is not a DEA number"),
        (lambda s: s.replace("TH*4.2*", "TH*4.1*", 1), "TH01 (Version/Release Number)"),
        (lambda s: s[: s.index("TT*")], "must end with a TT segment"),
    ],
)
def test_the_validator_catches_a_broken_file(pharmacy, breakage, caught):
    filled_day(pharmacy)
    good = pharmacy.run(pharmacy.pharmacist, asap.asap_export, pharmacy.branch, date.today().isoformat()).content
    broken = breakage(good)
    assert broken != good
    assert any(caught in error for error in validate(broken)), validate(broken)


def test_a_file_that_cannot_be_complete_is_refused_with_the_reason(pharmacy, make_tenant):
    # The oxycodone of the prescriptions' catalog has no NDC: the file would be rejected, so none is made.
    receive(pharmacy, "oxycodone", "OX-1", 10)
    rx = pharmacy.on_profile(pharmacy.patient(), "oxycodone", quantity="10", days_supply="5")
    pharmacy.run(pharmacy.technician, fills.fill_prescription, rx.id)
    with pytest.raises(ValidationFailed, match="Oxycodone 5 mg has no 11-digit NDC"):
        pharmacy.run(pharmacy.pharmacist, asap.asap_export, pharmacy.branch, date.today().isoformat())
    with pytest.raises(ValidationFailed, match="DEA number and NPI"):
        pharmacy.run(pharmacy.pharmacist, asap.asap_export, pharmacy.other_branch, date.today().isoformat())
    with pytest.raises(ValidationFailed, match="not a valid DEA number"):
        pharmacy.run(
            pharmacy.owner, asap.save_registration, pharmacy.other_branch, dea_number="BP1234564", npi=PHARMACY_NPI,
            state="OH",
        )  # fmt: skip
    with pytest.raises(PermissionDenied):
        pharmacy.run(pharmacy.cashier, asap.asap_export, pharmacy.branch, date.today().isoformat())


def export(pharmacy, day: date):
    return pharmacy.run(pharmacy.pharmacist, asap.asap_export, pharmacy.branch, day.isoformat())


def dsp(content: str) -> dict[str, list[str]]:
    """The file's dispensing records by Rx number."""
    return {s[2]: s for s in split_segments(content) if s[0] == "DSP"}


def checked_days_ago(db, fill_id: str, days: int) -> None:
    """The fill was made `days` days ago and passed the final check (waiting for pickup)."""
    db.execute(text("RESET ROLE"))
    db.execute(
        text(
            "UPDATE prescription_fills SET status = 'checked', scanned_barcode = '00000000', "
            "filled_at = now() - make_interval(days => :d), checked_at = now() - make_interval(days => :d) "
            "WHERE id = :f"
        ),
        {"d": days, "f": fill_id},
    )


def test_a_fill_returned_after_it_was_reported_is_voided_on_the_day_it_is_returned(pharmacy, db):
    receive(pharmacy, "morphine", "MS-1", 100)
    receive(pharmacy, "diazepam", "DZ-1", 100)
    patient = pharmacy.patient(name="Vera Void")
    morphine = pharmacy.on_profile(patient, "morphine", quantity="30", days_supply="15")
    diazepam = pharmacy.on_profile(patient, "diazepam", quantity="20", days_supply="10")
    reported = pharmacy.run(pharmacy.technician, fills.fill_prescription, morphine.id)
    same_day = pharmacy.run(pharmacy.technician, fills.fill_prescription, diazepam.id)
    checked_days_ago(db, reported.id, 1)
    checked_days_ago(db, same_day.id, 0)
    today, yesterday = date.today(), date.today() - timedelta(days=1)
    assert dsp(export(pharmacy, yesterday).content)[morphine.rx_number][1] == "00"

    for fill in (reported, same_day):
        pharmacy.run(pharmacy.pharmacist, unclaimed.return_to_stock, fill.id)

    found = export(pharmacy, today)
    assert validate(found.content) == []
    records = dsp(found.content)
    # Reported yesterday: voided today, naming the original's fill date and refill number.
    void = records[morphine.rx_number]
    assert (void[1], void[5], void[6], void[9]) == ("02", f"{yesterday:%Y%m%d}", "0", "30")
    # Made and returned today: never dispensed, never reported, so nothing to void either.
    assert diazepam.rx_number not in records
    assert (found.dispensings, found.voids) == (0, 1)
    # Yesterday's file still reports what was dispensed yesterday.
    assert dsp(export(pharmacy, yesterday).content)[morphine.rx_number][1] == "00"


def test_the_payment_type_comes_from_the_fills_claim(pharmacy):
    receive(pharmacy, "morphine", "MS-1", 100)
    receive(pharmacy, "diazepam", "DZ-1", 100)
    for name, code in (("Acme Health", "ACME"), ("State Medicaid", "MCD")):
        payer = pharmacy.run(pharmacy.owner, claims.create_payer, name=name, payer_code=code)
        insured = pharmacy.patient(name=f"Ina {code.title()}")
        pharmacy.run(pharmacy.owner, claims.add_coverage, patient_id=insured, payer_id=payer.id, member_id="M-1")
        rx = pharmacy.on_profile(insured, "diazepam", quantity="10", days_supply="5")
        pharmacy.run(pharmacy.technician, fills.fill_prescription, rx.id)
    cash = pharmacy.on_profile(pharmacy.patient(name="Cass Cash"), "morphine", quantity="10", days_supply="5")
    pharmacy.run(pharmacy.technician, fills.fill_prescription, cash.id)

    found = export(pharmacy, date.today())

    assert validate(found.content) == []
    paid_by = {}
    segments = split_segments(found.content)
    for index, segment in enumerate(segments):
        if segment[0] == "DSP":
            paid_by[segments[index - 1][7]] = segment[16]
    assert paid_by == {"Acme": "04", "Mcd": "02", "Cash": "01"}


def test_a_day_without_controlled_dispensing_is_a_zero_report(pharmacy):
    receive(pharmacy, "lisinopril", "LIS-1", 30)
    rx = pharmacy.on_profile(pharmacy.patient(), "lisinopril", quantity="30", days_supply="30")
    pharmacy.run(pharmacy.technician, fills.fill_prescription, rx.id)  # not controlled: not reported

    found = export(pharmacy, date.today())

    assert found.zero_report and found.filename.endswith(f"{date.today():%Y%m%d}-zero.txt")
    assert validate(found.content) == [], validate(found.content)
    segments = split_segments(found.content)
    assert [s[0] for s in segments] == ZERO_TAGS
    day = f"{date.today():%Y%m%d}"
    assert segments[1][3] == f"#{day}#-#{day}#"
    assert segments[3][7:9] == ["REPORT", "ZERO"] and segments[4][5] == day
    assert (segments[-2][1], segments[-1][2]) == ("7", "10")
    assert segments[2][3] == PHARMACY_DEA


@pytest.mark.parametrize(
    ("breakage", "caught"),
    [
        (lambda s: s.replace("*REPORT*ZERO~", "*REPORT*ZERO*Smith~"), "PAT09 must be empty in a zero report"),
        (lambda s: s.replace("\nDSP*****", "\nDSP*00****", 1), "DSP01 must be empty in a zero report"),
        (lambda s: s.replace("\nDSP*****", "\nDSP****", 1), "DSP05 of a zero report must be the report's date"),
        (lambda s: s.replace("\nAIR*~", ""), "A zero report holds TH, IS, PHA"),
        (lambda s: s.replace("#-#", "-", 1), "IS03 of a zero report must be the period"),
    ],
)
def test_the_validator_holds_a_zero_report_to_its_rules(pharmacy, breakage, caught):
    good = export(pharmacy, date.today()).content
    broken = breakage(good)
    assert broken != good
    assert any(caught in error for error in validate(broken)), validate(broken)


@pytest.fixture(scope="module")
def client():
    with TestClient(create_api()) as test_client:
        yield test_client


def test_rest_gives_the_file_and_the_register_to_admin_tokens_only(client, committed_tenant):
    chain, _ = committed_tenant("ctl-rest", branches=2)
    pharmacy = controlled_pharmacy(chain)
    filled_day(pharmacy)
    admin, read = auth(chain, "admin"), auth(chain, "read")
    day = date.today().isoformat()

    got = client.get(f"/api/v1/controlled/asap?branch_id={pharmacy.branch}&date={day}", headers=admin)
    assert got.status_code == 200, got.text
    assert got.text.startswith("TH*4.2*") and validate(got.text) == []
    assert "attachment" in got.headers["content-disposition"]
    register = client.get(f"/api/v1/controlled/register?branch_id={pharmacy.branch}", headers=admin)
    assert register.status_code == 200
    sections = {m["name"]: m for m in register.json()["medicines"]}
    assert sections["Morphine sulfate"]["closing"] == 40
    assert sections["Morphine sulfate"]["lines"][-1]["reference_text"].startswith("Fill ")
    csv_body = client.get(f"/api/v1/controlled/register.csv?branch_id={pharmacy.branch}", headers=admin)
    assert csv_body.status_code == 200 and "Opening balance" in csv_body.text
    pdf = client.get(f"/api/v1/controlled/register.pdf?branch_id={pharmacy.branch}", headers=admin)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    assert (
        client.get(f"/api/v1/controlled/asap?branch_id={pharmacy.branch}&date={day}", headers=read).status_code == 403
    )
    assert client.get(f"/api/v1/controlled/register?branch_id={pharmacy.branch}", headers=read).status_code == 403
    bad = client.get(f"/api/v1/controlled/register?branch_id={pharmacy.branch}&start=soon", headers=admin)
    assert bad.status_code == 422

    other, _ = committed_tenant("ctl-rest-other", branches=1)
    theirs = client.get(f"/api/v1/controlled/register?branch_id={pharmacy.branch}", headers=auth(other, "admin"))
    assert theirs.status_code == 404
    unknown = client.get(f"/api/v1/controlled/asap?branch_id={uuid.uuid4()}&date={day}", headers=admin)
    assert unknown.status_code == 404
