"""The PMP export: the day's controlled fills as an ASAP 4.2 file that passes the format's rules; the
validator catches a broken file; refusals; REST (roles, another chain)."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from fastapi.testclient import TestClient

from backend.api import create_api
from backend.controlled import asap
from backend.controlled.asap_format import split_segments, validate
from backend.core.errors import NotFound, PermissionDenied, ValidationFailed
from backend.prescriptions import fills
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
    with pytest.raises(NotFound, match="nothing to report"):
        pharmacy.run(pharmacy.pharmacist, asap.asap_export, pharmacy.branch, date.today().isoformat())
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
