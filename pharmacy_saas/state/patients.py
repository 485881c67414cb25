"""Patients (/patients and /patients/record): find, register, open and edit records, and their access log.

Every search and every opening of a record is written to the patient access log by the service.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC
from typing import Any

import reflex as rx

from backend.billing.claims import service as claims
from backend.core.errors import PharmacyError
from backend.patients.allergies import Allergies, allergies_with_record, record_allergies
from backend.patients.service import (
    SEARCH_HINT,
    Patient,
    access_log,
    create_patient,
    find_patients,
    get_patient,
    update_patient,
)
from backend.prescriptions.service import patient_prescriptions
from pharmacy_saas import routes
from pharmacy_saas.state.base import guarded, run_service, transact
from pharmacy_saas.state.dashboard import ShellState
from tenants.context import TenantContext
from tenants.roles import role_has

RECORD_FIELDS = ("full_name", "date_of_birth", "phone", "email", "address", "allergies", "notes")


@dataclasses.dataclass
class PatientRow:
    id: str
    full_name: str
    date_of_birth: str


@dataclasses.dataclass
class AccessRow:
    when: str
    action: str
    who: str


@dataclasses.dataclass
class CoverageRow:
    payer: str
    member_id: str
    plan: str
    group_number: str
    state: str  # active or ended
    id: str = ""
    copay: str = ""  # the patient's copay per fill, as typed back into its field


@dataclasses.dataclass
class PrescriptionRow:
    id: str
    rx_number: str
    drug: str
    status: str
    written: str


@dataclasses.dataclass
class AllergyRow:
    written: str
    matched: str  # "penicillins (class)", "cephalexin", "not a drug: not checked", "not identified"


@dataclasses.dataclass
class PayerChoice:
    id: str
    label: str


def _typed(form: dict[str, Any], home_branch_id: str) -> dict[str, Any]:
    """The form as the service takes it (it checks and normalizes every field)."""
    fields: dict[str, Any] = {name: str(form.get(name, "")) for name in RECORD_FIELDS}
    fields["contact_consent"] = form.get("contact_consent", "")
    fields["home_branch_id"] = home_branch_id
    return fields


class PatientsState(ShellState):
    query: str = ""
    patients: list[PatientRow] = []
    page: int = 0
    has_more: bool = False
    can_edit: bool = False
    error: str = ""
    form_error: str = ""

    @rx.event
    @guarded("patients.view", page_load=True)
    async def load(self, ctx: TenantContext) -> None:
        await self._fill_shell(ctx)
        self.can_edit = role_has(ctx.role, "patients.edit")
        self.error = self.form_error = ""
        await self._search(ctx, self.query, 0)

    @rx.event
    @guarded("patients.view")
    async def search(self, ctx: TenantContext, form: dict[str, Any]) -> None:
        await self._search(ctx, str(form.get("q", "")), 0)

    @rx.event
    @guarded("patients.view")
    async def next_page(self, ctx: TenantContext) -> None:
        await self._search(ctx, self.query, self.page + 1)

    @rx.event
    @guarded("patients.view")
    async def previous_page(self, ctx: TenantContext) -> None:
        await self._search(ctx, self.query, max(0, self.page - 1))

    @rx.event
    @guarded("patients.edit")
    async def create(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """Register a patient at the shell's current branch, then open the new record."""
        try:
            patient = await transact(ctx, create_patient, **_typed(form, self._branch_id()))
        except PharmacyError as exc:
            self.form_error = exc.message
            return None
        self.form_error = ""
        return rx.redirect(f"{routes.PATIENT}?id={patient.id}")

    def _branch_id(self) -> str:
        return next((b["id"] for b in self.branches if b["name"] == self.current_branch), "")

    async def _search(self, ctx: TenantContext, query: str, page: int) -> None:
        try:
            found = await transact(ctx, find_patients, query, page=page)
        except PharmacyError as exc:
            self.error = exc.message
            return
        self.query, self.page, self.has_more, self.error = query, found.page, found.has_more, ""
        self.patients = [PatientRow(p.id, p.full_name, p.date_of_birth.isoformat()) for p in found.items]
        if query.strip() and not found.items:
            self.error = f"No patient matches “{query.strip()}”. {SEARCH_HINT}"


class PatientRecordState(ShellState):
    patient_id: str = ""
    record: dict[str, str] = {}
    contact_consent: bool = False
    home_branch: str = ""
    access: list[AccessRow] = []
    can_edit: bool = False
    can_audit: bool = False
    error: str = ""
    # insurance (claims.manage): the patient's coverages and the form to add one
    can_claim: bool = False
    coverages: list[CoverageRow] = []
    payer_choices: list[PayerChoice] = []
    coverage_error: str = ""
    coverage_form_key: int = 0  # bumped after an added coverage: the form remounts empty
    can_see_prescriptions: bool = False
    allergy_status: str = ""  # not_asked | none_known | recorded
    allergy_rows: list[AllergyRow] = []
    allergy_text: str = ""  # the entries one a line, for the form
    allergy_error: str = ""
    allergy_key: int = 0
    prescriptions: list[PrescriptionRow] = []

    @rx.var
    def has_allergies(self) -> bool:
        return bool(self.record.get("allergies"))

    @rx.event
    @guarded("patients.view", page_load=True)
    async def load(self, ctx: TenantContext) -> None:
        """Opening the page opens the record: the service logs the view."""
        await self._fill_shell(ctx)
        self.can_edit = role_has(ctx.role, "patients.edit")
        self.can_audit = role_has(ctx.role, "patients.audit")
        self.can_claim = role_has(ctx.role, "claims.manage")
        self.error, self.record, self.access, self.patient_id = "", {}, [], ""
        self.coverages, self.coverage_error = [], ""
        try:
            patient = await transact(ctx, get_patient, self.router.url.query_parameters.get("id", ""))
        except PharmacyError as exc:
            self.error = exc.message
            return
        self._show(patient)
        await self._reload_access(ctx)
        await self._reload_coverage(ctx)
        await self._reload_prescriptions(ctx)
        self._show_allergies(await transact(ctx, allergies_with_record, self.patient_id))

    @rx.event
    @guarded("patients.edit")
    async def save(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        home = next((b["id"] for b in self.branches if b["name"] == form.get("home_branch")), "")
        try:
            patient = await transact(
                ctx, update_patient, self.patient_id, **_typed(form, home or self.record.get("home_branch_id", ""))
            )
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self.error = ""
        self._show(patient)
        await self._reload_access(ctx)
        return rx.toast.success("Saved.")

    @rx.event
    @guarded("claims.manage")
    async def add_coverage(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """The coverage form: payer, member id, plan and group number."""
        if not form.get("payer_id"):
            self.coverage_error = "Choose the payer."
            return None
        try:
            coverage = await transact(
                ctx,
                claims.add_coverage,
                patient_id=self.patient_id,
                payer_id=str(form.get("payer_id", "")),
                member_id=str(form.get("member_id", "")),
                plan=str(form.get("plan", "")),
                group_number=str(form.get("group_number", "")),
                copay=str(form.get("copay", "") or "0"),
            )
        except PharmacyError as exc:
            self.coverage_error = exc.message
            return None
        self.coverage_error = ""
        self.coverage_form_key += 1
        await self._reload_coverage(ctx)
        return rx.toast.success(f"Coverage with {coverage.payer_name} added.")

    @rx.event
    @guarded("claims.manage")
    async def set_copay(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """A coverage's copay per fill changed (what the patient pays for a fill the payer approves)."""
        coverage_id = str(form.get("coverage_id", ""))
        if coverage_id not in {c.id for c in self.coverages}:  # only a coverage shown here
            return None
        try:
            await transact(ctx, claims.set_coverage_copay, coverage_id, str(form.get("copay", "")))
        except PharmacyError as exc:
            self.coverage_error = exc.message
            return None
        self.coverage_error = ""
        await self._reload_coverage(ctx)
        return rx.toast.success("Copay saved.")

    def _show(self, patient: Patient) -> None:
        self.patient_id = patient.id
        self.record = {
            "full_name": patient.full_name,
            "date_of_birth": patient.date_of_birth.isoformat(),
            "phone": patient.phone,
            "email": patient.email,
            "address": patient.address,
            "allergies": patient.allergies,
            "notes": patient.notes,
            "home_branch_id": patient.home_branch_id,
            "consent": f"yes, since {patient.consent_at:%Y-%m-%d}" if patient.consent_at else "no",
            "key": patient.updated_at.isoformat(),  # remounts the form's inputs after a save
        }
        self.contact_consent = patient.contact_consent
        self.home_branch = patient.home_branch_name

    async def _reload_access(self, ctx: TenantContext) -> None:
        if not self.can_audit:
            return
        entries = await transact(ctx, access_log, self.patient_id)
        self.access = [
            AccessRow(
                f"{e.occurred_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC",
                f"{e.action} ({e.reason})" if e.reason else e.action,
                e.who,
            )
            for e in entries
        ]

    def _show_allergies(self, found: Allergies) -> None:
        self.allergy_status = found.status
        words = {"class": " (class)", "ingredient": "", "non_drug": "", "unmatched": ""}
        self.allergy_rows = [
            AllergyRow(
                e.written,
                e.matched + words[e.kind]
                if e.matched
                else ("not a drug: not checked by the DUR" if e.kind == "non_drug" else "not identified: not checked"),
            )
            for e in found.entries
        ]
        self.allergy_text = "\n".join(e.written for e in found.entries)
        self.allergy_key += 1

    @rx.event
    @guarded("patients.edit")
    async def save_allergies(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """The structured list, one allergen a line, or "no known allergies"."""
        try:
            found = await transact(
                ctx,
                record_allergies,
                self.patient_id,
                str(form.get("allergy_list", "")),
                none_known=bool(form.get("none_known")),
            )
        except PharmacyError as exc:
            self.allergy_error = exc.message
            return None
        self.allergy_error = ""
        self._show_allergies(found)
        await self._reload_access(ctx)
        return rx.toast.success("Allergies recorded.")

    async def _reload_prescriptions(self, ctx: TenantContext) -> None:
        self.can_see_prescriptions = role_has(ctx.role, "prescriptions.view")
        self.prescriptions = []
        if not self.can_see_prescriptions:
            return
        found = await transact(ctx, patient_prescriptions, self.patient_id)
        self.prescriptions = [
            PrescriptionRow(
                p.id, p.rx_number, p.drug, p.status.label, p.date_written.isoformat() if p.date_written else ""
            )
            for p in found
        ]

    async def _reload_coverage(self, ctx: TenantContext) -> None:
        if not self.can_claim:
            return
        payers = await run_service(claims.list_payers, ctx)
        self.payer_choices = [PayerChoice(p.id, f"{p.name} ({p.payer_code})") for p in payers]
        found = await run_service(claims.coverages_of_patient, ctx, self.patient_id)
        self.coverages = [
            CoverageRow(
                c.payer_name,
                c.member_id,
                c.plan,
                c.group_number,
                "active" if c.active else "ended",
                c.id,
                f"{c.copay:.2f}",
            )
            for c in found
        ]
