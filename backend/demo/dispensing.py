"""The demo chain's dispensary: fills, pickups, refills, transfers and a controlled-substance history at each
branch, through the prescription, billing and controlled-substance services as the branch's staff would
use them (so every rule, stock movement, claim, event and audit entry is the services' own).

What each branch gets, on top of the queue `seed._prescriptions` leaves:
- regular patients' prescriptions filled FEFO from the branch's lots, checked and handed over at the counter
  (counselling, a drawn signature, the ID of whoever collects a controlled fill), claims adjudicated at fill
  for covered patients, so the copay is what the counter charges;
- a refill (a prescription transferred in, last filled there four weeks ago: one refill fewer), a renewal
  request when none are left, one filled and waiting for its check, one ready for pickup, one nobody
  collected returned to stock (its claim reversed), one transferred out to another pharmacy and two in;
- the controlled-substance history: the branch's DEA registration (the ASAP export needs it), a CII order
  on a DEA Form 222 and one by CSOS received into stock, oxycodone and alprazolam dispensed, a theft-or-loss
  report and a signed biennial inventory.

Every signature checks the demo password (argon2, about 0.6 s each): that, not the database, is what this
step costs, so each branch gets a small pharmacy's day of it, not months.
"""

from __future__ import annotations

import io
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from PIL import Image, ImageDraw

from backend.accounts.signatures import sign
from backend.billing.bills.counter import save_draft, sell_for_cash
from backend.controlled import asap, biennial, losses, orders
from backend.core.settings import get_settings
from backend.feedback.service import leave_feedback
from backend.inventory.service import receive_stock
from backend.portal.refill_requests import record_request
from backend.portal.statuses import RefillRequestSource
from backend.prescriptions import fills, refills, service, transfers, unclaimed, verification
from tenants.context import TenantContext
from tenants.roles import CUSTOMER, PORTAL
from tenants.session import run_in_tenant

# (generic, strength, sig, quantity, refills authorized): the regulars' long-term medicines
MAINTENANCE = (
    ("Lisinopril", "10 mg", "1 tab po daily", 30, 5),
    ("Atorvastatin", "20 mg", "1 tab po qhs", 30, 5),
    ("Metformin", "500 mg", "1 tab po bid with meals", 60, 3),
    ("Amlodipine", "5 mg", "1 tab po daily", 30, 2),
)
CII = ("Oxycodone", "5 mg", "1 tab po q6h prn pain", 20)
CIV = ("Alprazolam", "0.5 mg", "1 tab po bid prn anxiety", 30)
OTHER_PHARMACY = {
    "pharmacy_name": "Corner Drug Co.",
    "pharmacy_address": "48 Market Street",
    "pharmacy_phone": "+12125550148",
    "pharmacy_npi": "1245319599",
    "pharmacy_dea": "BC1234563",
    "other_pharmacist": "R. Alvarez, RPh",
}
# The branches' DEA registrations and NPIs (valid check digits; made up).
REGISTRATIONS = {
    "MAIN": ("FM1234563", "1679576722", "NY"),
    "LAKE": ("FL2468026", "1234567893", "IL"),
    "HARB": ("FH3691222", "1245319599", "CA"),
}
DRUGS = tuple((m[0], m[1]) for m in MAINTENANCE) + (CII[:2], CIV[:2], ("Warfarin", "5 mg"))
DEA_222_SERIAL = {"MAIN": "251040117", "LAKE": "251040388", "HARB": "251040652"}


def drawn_signature() -> bytes:
    """A small PNG of a scrawl, as the pickup pad draws it."""
    image = Image.new("RGBA", (240, 80), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(12, 60), (60, 18), (98, 64), (150, 22), (226, 50)], fill=(20, 20, 90, 255), width=3)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


@dataclass
class Branch:
    """One branch's people and what the dispensary needs to know about it."""

    id: str
    code: str
    today: date
    technician: TenantContext
    pharmacist: TenantContext
    cashier: TenantContext
    relief: TenantContext  # the chain's relief pharmacist: takes the transfer calls
    patients: list[Any]  # adults of this branch without allergies, the insured first (NewPatient)


# A second regular's word on her visit, per branch: the Main Street one is the manager's alert.
_VISIT_COMMENTS = {
    "MAIN": "Waited forty minutes and the staff were rude. Terrible service.",
    "LAKE": "It was fine, a bit of a wait at lunchtime.",
    "HARB": "Okay visit, the pharmacist explained the new dose.",
}


class Dispensary:
    """Runs one branch's dispensing day through the services; counts what it made."""

    def __init__(
        self,
        branch: Branch,
        prescribers: list[str],
        medicines: dict[tuple[str, str], str],
        barcodes: dict[tuple[str, str], str],
    ) -> None:
        self.b, self.prescribers, self.medicines, self.barcodes = branch, prescribers, medicines, barcodes
        self.password = get_settings().DEMO_OWNER_PASSWORD
        self.png = drawn_signature()
        self.counts: dict[str, int] = {}
        self._n = 0

    def run(self, ctx: TenantContext, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return run_in_tenant(ctx, fn, *args, **kwargs)

    def count(self, what: str, n: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + n

    # --- one prescription's way through the pharmacy ---------------------------------------------------

    def entered(
        self, patient: Any, drug: tuple[str, str, str, int], *, refills_authorized: int = 0, **extra: Any
    ) -> Any:
        """Received, typed in by the technician and sent for verification."""
        name, strength, sig, quantity = drug
        self._n += 1
        rx = self.run(
            self.b.technician,
            service.create_prescription,
            branch_id=self.b.id,
            patient_id=patient.id,
            source=("walk_in", "fax", "phone", "portal")[self._n % 4],
            prescriber_id=self.prescribers[self._n % len(self.prescribers)],
            drug_written=f"{name} {strength}",
            medicine_id=self.medicines[(name, strength)],
            sig_written=sig,
            quantity=str(quantity),
            refills_authorized=str(refills_authorized),
            date_written=extra.pop("date_written", (self.b.today - timedelta(days=self._n % 20)).isoformat()),
            **extra,
        )
        self.count("prescriptions")
        return self.run(self.b.technician, service.submit_for_verification, rx.id)

    def verified(self, rx: Any) -> Any:
        """The pharmacist's drug-use review, alerts resolved with a note, signed with the password."""
        pharmacist = self.b.pharmacist
        review = self.run(pharmacist, verification.review, rx.id)
        overrides = {a.code: "reviewed with the patient and prescriber" for a in review.alerts if a.needs_resolution}
        signature = sign(
            pharmacist,
            password=self.password,
            meaning=verification.signature_meaning(rx.rx_number, len(overrides)),
            entity_type="prescription",
            entity_id=rx.id,
        )
        return self.run(pharmacist, verification.verify, rx.id, signature_id=signature, overrides=overrides)

    def filled(self, rx_id: str) -> Any:
        fill = self.run(self.b.technician, fills.fill_prescription, rx_id)
        self.count("fills")
        return fill

    def checked(self, fill: Any, name: str, strength: str) -> Any:
        """The pharmacist's final check: the stock bottle's barcode scanned against the fill."""
        return self.run(self.b.pharmacist, fills.final_check, fill.id, self.barcodes[(name, strength)])

    def ready(self, rx: Any, drug: tuple[str, str, str, int]) -> Any:
        """Filled and checked: waiting at the counter."""
        return self.checked(self.filled(rx.id), drug[0], drug[1])

    def picked_up(self, patient: Any, fill_ids: list[str], *, controlled: bool = False, agent: bool = False) -> None:
        """The cashier scans the fills onto one bill; the pharmacist offers counselling and signs; whoever
        collects signs on the pad (and shows an ID for a controlled fill); cash is taken."""
        draft = self.run(
            self.b.cashier, save_draft, branch_id=self.b.id, bill_id=None, lines=[{"fill_id": f} for f in fill_ids]
        )
        bill = draft.bill
        counsel = sign(
            self.b.pharmacist,
            password=self.password,
            meaning="offered to counsel the patient on the prescriptions of this bill",
            entity_type="bill",
            entity_id=bill.id,
        )
        surname = patient.full_name.split()[-1]
        given: dict[str, Any] = {
            "picked_up_by": "agent" if agent else "patient",
            "picked_up_by_name": f"Chris {surname}" if agent else patient.full_name,
            "counselling": "declined" if agent else "accepted",
            "counsel_signature_id": counsel,
            "signature_png": self.png,
        }
        if controlled:
            given |= {"id_type": "Driver license", "id_number": f"D{uuid.UUID(patient.id).int % 10**8:08d}"}
        cash = math.ceil(bill.total_due / 5) * 5 if bill.total_due else 0
        self.run(self.b.cashier, sell_for_cash, bill.id, str(cash), pickup=given)
        self.count("pickups")

    # --- the refill portal (issue 17) ----------------------------------------------------------------------

    def portal_activity(self) -> None:
        """What the branch's customers did on the portal: a regular asks for a refill with a note (waiting in
        the staff queue), another asks for one that has no refills left (staff should call her), and the
        regulars rate the visits at which they collected, one of them very unhappy (the manager's alert)."""
        first, second, third = self.b.patients[:3]
        tenant = self.b.technician.tenant_id
        visitor = TenantContext(tenant_id=tenant, role=PORTAL)
        asked = [
            (self.collected[first.id][0][0], "Running low, I'll collect on Friday after work."),
            (self.collected[second.id][0][0], ""),
        ]
        for rx, note in asked:
            named = self.run(visitor, service.prescription_by_number, rx.rx_number)
            self.run(visitor, record_request, named, None, note, RefillRequestSource.PORTAL_FORM)
            self.count("portal refill requests")
        ratings = [
            (first, 5, "Quick and friendly as always, thank you!"),
            (third, 1 if self.b.code == "MAIN" else 3, _VISIT_COMMENTS[self.b.code]),
        ]
        for patient, stars, comment in ratings:
            _, fill = self.collected[patient.id][0]
            customer = TenantContext(tenant_id=tenant, role=CUSTOMER, patient_id=uuid.UUID(patient.id))
            self.run(customer, leave_feedback, patient.id, fill.id, stars, comment)
            self.count("feedback")

    # --- the branch's day ------------------------------------------------------------------------------

    def dispense(self, waiting: dict[str, Any]) -> None:
        """`waiting`: the verified prescriptions `seed._prescriptions` left ready to fill, by medicine."""
        self.controlled_setup()
        self.regulars()
        self.controlled_dispensing()
        self.queue_states(waiting)
        self.transfers()
        self.controlled_records()
        self.portal_activity()

    def regulars(self) -> None:
        """Three regulars with their maintenance medicines: they collect them; one has used up her last
        refill and the prescriber is asked to renew, and never came for a new metformin (returned to stock);
        one regular moves to another pharmacy with her refills."""
        first, second, third = self.b.patients[:3]
        lisinopril, atorvastatin, metformin, amlodipine = MAINTENANCE
        mine = [
            (first, lisinopril, 5),
            (first, atorvastatin, 5),
            (second, amlodipine, 0),  # no refills: asking for one asks the prescriber to renew
            (third, lisinopril, 2),
        ]
        done: dict[str, list[tuple[Any, Any]]] = {}
        for patient, (name, strength, sig, quantity, _), left in mine:
            drug = (name, strength, sig, quantity)
            rx = self.verified(self.entered(patient, drug, refills_authorized=left))
            done.setdefault(patient.id, []).append((rx, self.ready(rx, drug)))
        for patient in (first, second, third):
            self.picked_up(patient, [fill.id for _, fill in done[patient.id]])
        self.collected = done
        rx, _ = done[second.id][0]
        self.run(self.b.technician, refills.request_refill, rx.id)
        self.count("renewal requests")
        # A metformin nobody came for: checked, then returned to stock (units back on their lots, the claim
        # reversed); the prescription is ready to fill again.
        name, strength, sig, quantity, _ = metformin
        rx = self.verified(self.entered(second, (name, strength, sig, quantity), refills_authorized=3))
        waiting = self.ready(rx, (name, strength, sig, quantity))
        self.run(self.b.pharmacist, unclaimed.return_to_stock, waiting.id)
        self.count("returned to stock")
        rx, _ = done[third.id][0]
        self.run(self.b.pharmacist, transfers.transfer_out, rx.id, **OTHER_PHARMACY)
        self.count("transfers out")

    def controlled_dispensing(self) -> None:
        """Oxycodone (CII, five days) and alprazolam (CIV, this morning's wholesaler delivery: CIII-V come on
        the invoice, no Form 222) filled FEFO, checked and collected with an ID."""
        oxy_patient, alprazolam_patient = self.b.patients[3:5]
        self.run(
            self.b.technician,
            receive_stock,
            branch_id=self.b.id,
            medicine_id=self.medicines[CIV[:2]],
            lot_number=f"ALP{self.b.today:%y%m}{self.b.code[0]}W01",
            expiry_date=(self.b.today + timedelta(days=720)).isoformat(),
            quantity=100,
            cost_price="0.08",
            supplier_name="McKesson",
            reference=f"DEL-{self.b.code}-{self.b.today:%Y%m%d}-CIV",
        )
        rx = self.verified(self.entered(oxy_patient, CII, days_supply="5"))
        self.picked_up(oxy_patient, [self.ready(rx, CII).id], controlled=True)
        rx = self.verified(self.entered(alprazolam_patient, CIV, refills_authorized=1, days_supply="15"))
        self.picked_up(alprazolam_patient, [self.ready(rx, CIV).id], controlled=True, agent=True)

    def queue_states(self, waiting: dict[str, Any]) -> None:
        """Of the two prescriptions verified in the queue, the warfarin is filled and checked, ready for
        pickup; the lisinopril is filled and waits for the pharmacist's check. (No expired one: the services
        refuse to enter a prescription already past its expiry, and everything here happens today.)"""
        if "Warfarin" in waiting:
            self.ready(waiting["Warfarin"], ("Warfarin", "5 mg", "", 0))
        if "Lisinopril" in waiting:
            self.filled(waiting["Lisinopril"].id)

    def transfers(self) -> None:
        """Two patients new to the branch bring their prescriptions from another pharmacy: one was last filled
        there four weeks ago and is refilled here at once (a refill fewer) and collected; the other waits
        for verification."""
        name, strength, sig, quantity, _ = MAINTENANCE[3]
        for n, patient in enumerate(self.b.patients[6:8]):
            written = self.b.today - timedelta(days=90 + 20 * n)
            rx = self.run(
                self.b.relief,  # took the call; the branch's pharmacist verifies (another pharmacist)
                transfers.receive_transfer,
                branch_id=self.b.id,
                patient_id=patient.id,
                prescriber_id=self.prescribers[1],
                drug_written=f"{name} {strength}",
                medicine_id=self.medicines[(name, strength)],
                sig_written=sig,
                quantity=str(quantity),
                date_written=written.isoformat(),
                refills_authorized="5",
                refills_remaining="3",
                first_filled_on=(written + timedelta(days=1)).isoformat(),
                last_filled_on=(self.b.today - timedelta(days=28 + n)).isoformat(),
                other_rx_number=f"CD-4481{20 + n}",
                **OTHER_PHARMACY,
            )
            self.count("transfers in")
            self.count("prescriptions")
            if n == 0:
                rx = self.verified(rx)
                outcome = self.run(self.b.technician, refills.request_refill, rx.id)
                self.count("fills")
                self.count("refills")
                self.picked_up(patient, [self.checked(outcome.fill, name, strength).id])

    # --- controlled substances ---------------------------------------------------------------------

    def controlled_setup(self) -> None:
        """The branch's DEA registration, and its CII orders (a Form 222 five weeks ago, a CSOS order last
        week) received into stock with the order's number on the ledger."""
        dea, npi, state = REGISTRATIONS[self.b.code]
        pharmacist = self.b.pharmacist
        self.run(pharmacist, asap.save_registration, self.b.id, dea_number=dea, npi=npi, state=state)
        oxycodone = self.medicines[CII[:2]]
        placed = (
            ("dea_222", DEA_222_SERIAL[self.b.code], 35, 100),
            ("csos", f"CSOS-{self.b.code}-{self.b.today:%y%m%d}-01", 6, 200),
        )
        for form, number, days_ago, quantity in placed:
            order = self.run(
                pharmacist,
                orders.create_order,
                branch_id=self.b.id,
                form=form,
                order_number=number,
                supplier="McKesson",
                lines=[(oxycodone, quantity)],
                ordered_on=(self.b.today - timedelta(days=days_ago)).isoformat(),
            )
            self.run(
                pharmacist,
                orders.receive_against_order,
                order.id,
                medicine_id=oxycodone,
                lot_number=f"OXY{number[-4:]}{self.b.code[0]}",
                expiry_date=(self.b.today + timedelta(days=600)).isoformat(),
                quantity=quantity,
                cost_price="0.42",
            )
            self.count("CII orders")

    def controlled_records(self) -> None:
        """A customer's theft of a bottle of alprazolam reported on DEA Form 106, then the biennial inventory
        counted (everything as the ledger says) and signed by the pharmacist."""
        pharmacist = self.b.pharmacist
        self.run(
            pharmacist,
            losses.report_loss,
            branch_id=self.b.id,
            discovered_on=(self.b.today - timedelta(days=3)).isoformat(),
            loss_type="customer_theft",
            details="Ten tablets from an open stock bottle were taken from the counter while the pharmacist was "
            "counselling; seen on camera.",
            lines=[(self.medicines[CIV[:2]], 10)],
            police_notified=True,
            police_report=f"PD-{self.b.today:%y}-{uuid.UUID(self.b.id).int % 100000:05d}",
        )
        self.count("loss reports")
        inventory = self.run(pharmacist, biennial.start_inventory, self.b.id, "opening")
        counts = {line.medicine_id: biennial.Count(counted=line.expected) for line in inventory.lines}
        inventory = self.run(pharmacist, biennial.record_counts, inventory.id, counts)
        signature = sign(
            pharmacist,
            password=self.password,
            meaning=biennial.signature_meaning(inventory),
            entity_type="controlled_inventory",
            entity_id=inventory.id,
        )
        self.run(pharmacist, biennial.sign_inventory, inventory.id, signature_id=signature)
        self.count("biennial inventories")
