"""A chain with a pharmacy's catalog, a prescriber and a patient; a technician and a pharmacist to act."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from backend.accounts.signatures import sign
from backend.inventory.service import create_medicine
from backend.patients.service import create_patient
from backend.prescriptions import prescribers, service, verification
from tenants.context import TenantContext
from tenants.session import run_in_tenant
from tests.conftest import TEST_PASSWORD

VALID_NPI = "1234567893"  # CMS's worked example of the NPI check digit
VALID_DEA = "AB1234563"


@dataclass
class Pharmacy:
    chain: Any
    owner: TenantContext
    technician: TenantContext  # another person than the pharmacist (the two-person rule)
    pharmacist: TenantContext  # the chain's owner user acting as pharmacist: signs with TEST_PASSWORD
    cashier: TenantContext
    branch: str
    other_branch: str
    prescriber: str
    medicines: dict[str, str]

    def run(self, ctx: TenantContext, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return run_in_tenant(ctx, fn, *args, **kwargs)

    def patient(self, name: str = "Pat Example", allergies: str = "", born: str = "1960-05-01") -> str:
        return run_in_tenant(
            self.owner,
            create_patient,
            full_name=name,
            date_of_birth=born,
            home_branch_id=self.branch,
            allergies=allergies,
        ).id

    def entered(self, patient: str, medicine: str, **entry: Any) -> service.Prescription:
        """Received and typed in by the technician, sent for verification."""
        fields = {
            "prescriber_id": self.prescriber,
            "drug_written": medicine.title(),
            "medicine_id": self.medicines[medicine],
            "sig_written": "1 tab po daily",
            "quantity": "30",
            "date_written": date.today().isoformat(),
            **entry,
        }
        rx = self.run(
            self.technician,
            service.create_prescription,
            branch_id=self.branch,
            patient_id=patient,
            source="walk_in",
            **fields,
        )
        return self.run(self.technician, service.submit_for_verification, rx.id)

    def sign(self, rx_id: str, ctx: TenantContext | None = None) -> str:
        return sign(
            ctx or self.pharmacist,
            password=TEST_PASSWORD,
            meaning="verified the prescription after drug-use review",
            entity_type="prescription",
            entity_id=rx_id,
        )

    def verify(self, rx_id: str, overrides: dict[str, str] | None = None) -> service.Prescription:
        return self.run(
            self.pharmacist, verification.verify, rx_id, signature_id=self.sign(rx_id), overrides=overrides or {}
        )

    def on_profile(self, patient: str, medicine: str, **entry: Any) -> service.Prescription:
        """An active medication: a prescription verified today."""
        rx = self.entered(patient, medicine, **entry)
        found = self.run(self.pharmacist, verification.review, rx.id)
        overrides = {a.code: "known and discussed with the prescriber" for a in found.alerts if a.needs_resolution}
        return self.verify(rx.id, overrides)


MEDICINES = {
    "warfarin": {"generic_name": "Warfarin", "strength": "5 mg", "schedule": "prescription"},
    "ibuprofen": {"generic_name": "Ibuprofen", "strength": "800 mg", "schedule": "prescription"},
    "naproxen": {"generic_name": "Naproxen", "strength": "500 mg", "schedule": "prescription"},
    "amoxicillin": {
        "generic_name": "Amoxicillin",
        "strength": "500 mg",
        "schedule": "prescription",
        "dosage_form": "capsule",
    },
    "methotrexate": {"generic_name": "Methotrexate", "strength": "2.5 mg", "schedule": "prescription"},
    "oxycodone": {"generic_name": "Oxycodone", "strength": "5 mg", "schedule": "controlled", "controlled_class": "CII"},
    "oxycodone_er": {
        "generic_name": "Oxycodone",
        "brand_name": "OxyContin",
        "strength": "10 mg",
        "dosage_form": "extended-release tablet",
        "schedule": "controlled",
        "controlled_class": "CII",
    },
    "alprazolam": {
        "generic_name": "Alprazolam",
        "strength": "0.5 mg",
        "schedule": "controlled",
        "controlled_class": "CIV",
    },
    "lisinopril": {"generic_name": "Lisinopril", "strength": "10 mg", "schedule": "prescription"},
}


def stock(chain) -> Pharmacy:
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    medicines = {
        name: run_in_tenant(owner, create_medicine, default_sell_price="1.00", **fields)
        for name, fields in MEDICINES.items()
    }
    prescriber = run_in_tenant(
        owner,
        prescribers.create_prescriber,
        full_name="Dana Rivera",
        credentials="MD",
        npi=VALID_NPI,
        dea_number=VALID_DEA,
    )
    return Pharmacy(
        chain=chain,
        owner=owner,
        technician=TenantContext(tenant_id=chain.tenant_id, user_id=uuid.uuid4(), role="technician"),
        pharmacist=TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="pharmacist"),
        cashier=TenantContext(tenant_id=chain.tenant_id, user_id=uuid.uuid4(), role="cashier"),
        branch=str(chain.branch_ids[0]),
        other_branch=str(chain.branch_ids[1]),
        prescriber=prescriber.id,
        medicines=medicines,
    )


@pytest.fixture
def pharmacy(db, make_tenant) -> Pharmacy:
    return stock(make_tenant("rx", branches=2))
