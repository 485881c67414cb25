"""The emergency supply form (/prescriptions/emergency-supply): a pharmacist supplies a few days of a
prescription-only medicine without a prescription, on their own signed record.

Opened from the counter when a prescription-only medicine is refused for want of a fill (?medicine= and
?patient= of the sale), or from the prescriptions queue. Every handler checks
`prescriptions.emergency_supply` (pharmacists) on the server. The pharmacist signs with their password or a
6-digit code; the service records the prescription, its verification, its fill and the final check in one
transaction, so a refusal writes nothing (a signature given for a refused supply is never used).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from backend.accounts.signatures import sign
from backend.core.errors import PharmacyError
from backend.inventory.service import medicine_details, search_medicines
from backend.patients.service import SEARCH_HINT, find_patients, patient_summary
from backend.prescriptions import emergency
from backend.prescriptions.service import rx_settings
from pharmacy_saas.state.base import guarded, run_service, transact
from pharmacy_saas.state.dashboard import ShellState
from tenants.context import TenantContext

PERMISSION = "prescriptions.emergency_supply"


@dataclasses.dataclass
class Choice:
    id: str
    label: str


class EmergencySupplyState(ShellState):
    patient_id: str = ""
    patient_label: str = ""
    patient_matches: list[Choice] = []
    medicine_id: str = ""
    medicine_label: str = ""
    medicine_matches: list[Choice] = []
    max_days: int = 3  # the chain's limit (prescription rules)
    error: str = ""
    # What was recorded: the fill's code is scanned at the counter like any fill's label.
    done_rx: str = ""
    done_fill: str = ""
    done_summary: str = ""

    @rx.event
    @guarded(PERMISSION, page_load=True)
    async def load(self, ctx: TenantContext) -> None:
        await self._fill_shell(ctx)
        self._clear()
        self.max_days = (await transact(ctx, rx_settings)).emergency_max_days
        query = self.router.url.query_parameters
        if patient := query.get("patient", ""):
            try:
                found = await transact(ctx, patient_summary, patient)
                self.patient_id, self.patient_label = found.id, f"{found.full_name} ({found.date_of_birth})"
            except PharmacyError:
                pass  # not in this member's scope: they choose the patient themselves
        if medicine := query.get("medicine", ""):
            try:
                found_medicine = await transact(ctx, medicine_details, medicine)
                self.medicine_id = found_medicine.id
                self.medicine_label = f"{found_medicine.generic_name} {found_medicine.strength}".strip()
            except PharmacyError:
                pass

    @rx.event
    @guarded(PERMISSION)
    async def find_patient(self, ctx: TenantContext, form: dict[str, Any]) -> None:
        typed = str(form.get("patient", "")).strip()[:100]
        self.patient_matches = []
        if not typed:
            return
        try:
            found = await transact(ctx, find_patients, typed)
        except PharmacyError as exc:
            self.error = exc.message
            return
        self.error = "" if found.items else f"No patient matches “{typed}”: register them first. {SEARCH_HINT}"
        self.patient_matches = [Choice(p.id, f"{p.full_name} ({p.date_of_birth.isoformat()})") for p in found.items[:8]]

    @rx.event
    @guarded(PERMISSION)
    async def choose_patient(self, ctx: TenantContext, patient_id: str) -> None:
        chosen = next((p for p in self.patient_matches if p.id == patient_id), None)
        self.patient_matches = []
        if chosen is not None:  # only what the server listed
            self.patient_id, self.patient_label = chosen.id, chosen.label

    @rx.event
    @guarded(PERMISSION)
    async def find_medicine(self, ctx: TenantContext, form: dict[str, Any]) -> None:
        typed = str(form.get("medicine", "")).strip()[:80]
        self.medicine_matches = []
        if not typed:
            return
        try:
            found, _ = await transact(ctx, search_medicines, typed)
        except PharmacyError as exc:
            self.error = exc.message
            return
        prescribed = [m for m in found if m.schedule == "prescription"]
        self.error = "" if prescribed else f"No prescription-only medicine matches “{typed}”."
        self.medicine_matches = [Choice(m.id, f"{m.generic_name} {m.strength}".strip()) for m in prescribed[:8]]

    @rx.event
    @guarded(PERMISSION)
    async def choose_medicine(self, ctx: TenantContext, medicine_id: str) -> None:
        chosen = next((m for m in self.medicine_matches if m.id == medicine_id), None)
        self.medicine_matches = []
        if chosen is not None:
            self.medicine_id, self.medicine_label = chosen.id, chosen.label

    @rx.event
    @guarded(PERMISSION)
    async def record(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """Sign, then record: the prescription, its verification, its fill and the final check, all or nothing."""
        if not self.patient_id:
            self.error = "Choose the patient (or register them first)."
            return None
        if not self.medicine_id:
            self.error = "Choose the medicine."
            return None
        days = str(form.get("days_supply", "")).strip()
        if days.isdigit() and int(days) > self.max_days:  # before signing: a signature is never spent on it
            self.error = f"An emergency supply carries at most {self.max_days} days' supply (the chain's rule)."
            return None
        secret = str(form.get("signature", ""))
        if not secret:
            self.error = "Sign the emergency supply: enter your password or a code from your authenticator app."
            return None
        code = secret.replace(" ", "")
        by_code = code.isdigit() and len(code) == 6  # a password is at least 10 characters
        quantity = str(form.get("quantity", "")).strip()
        try:
            signature_id = await run_service(
                sign,
                ctx,
                password=None if by_code else secret,
                totp=code if by_code else None,
                meaning=emergency.signature_meaning(self.medicine_label, quantity, self.patient_label)[:500],
                entity_type="emergency_supply",
                entity_id=self.patient_id,
            )
            made = await transact(
                ctx,
                emergency.record_emergency_supply,
                branch_id=self._current_branch_id(),
                patient_id=self.patient_id,
                medicine_id=self.medicine_id,
                quantity=quantity,
                days_supply=days,
                sig=str(form.get("sig", "")),
                reason=str(form.get("reason", "")),
                signature_id=signature_id,
                barcode=str(form.get("barcode", "")),
            )
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self.error = ""
        self.done_rx, self.done_fill = made.rx_number, made.fill_code
        self.done_summary = (
            f"{made.quantity} × {made.medicine} for {made.patient_name}, {made.days_supply} day(s): filled and checked."
        )
        return rx.toast.success(f"Emergency supply {made.rx_number} recorded.")

    def _clear(self) -> None:
        self.patient_id = self.patient_label = self.medicine_id = self.medicine_label = self.error = ""
        self.patient_matches, self.medicine_matches = [], []
        self.done_rx = self.done_fill = self.done_summary = ""
