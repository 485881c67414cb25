"""The prescription's states and intake sources, and the sets the queue's rules need."""

from __future__ import annotations

from enum import StrEnum


class RxStatus(StrEnum):
    INTAKE = "intake"  # received (paper, phone, fax, portal): patient and source known, details not typed yet
    DATA_ENTRY = "data_entry"  # a technician is typing the details
    VERIFICATION = "verification"  # waiting for the pharmacist's verification with drug-use review
    FILL = "fill"  # verified: ready to fill (filling, final check and pickup are the next issue's)
    FILLED = "filled"  # filled (whole or in part), waiting for the pharmacist's final check
    READY_FOR_PICKUP = "ready_for_pickup"  # every fill checked by the pharmacist; pickup comes next
    DISPENSED = "dispensed"  # handed over at the counter (counselling offered, signed for)
    ON_HOLD = "on_hold"
    WAITING_PRESCRIBER = "waiting_prescriber"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    TRANSFERRED_OUT = "transferred_out"  # to another pharmacy: void here, never filled here again

    @property
    def label(self) -> str:
        return _LABELS[self]

    @classmethod
    def editable(cls) -> frozenset[RxStatus]:
        """The details may be typed or changed (after verification they are the pharmacist's record)."""
        return frozenset({cls.INTAKE, cls.DATA_ENTRY})

    @classmethod
    def held(cls) -> frozenset[RxStatus]:
        return frozenset({cls.ON_HOLD, cls.WAITING_PRESCRIBER})

    @classmethod
    def holdable(cls) -> frozenset[RxStatus]:
        """Where a hold (or waiting for the prescriber) may start; resuming goes back there."""
        return frozenset({cls.INTAKE, cls.DATA_ENTRY, cls.VERIFICATION})

    @classmethod
    def verified(cls) -> frozenset[RxStatus]:
        """Verified and alive: ready to fill, filled, checked and waiting for pickup, or handed over (the
        patient takes it: DUR and the medication list count it, and its refills are still to come)."""
        return frozenset({cls.FILL, cls.FILLED, cls.READY_FOR_PICKUP, cls.DISPENSED})

    @classmethod
    def closed(cls) -> frozenset[RxStatus]:
        return frozenset({cls.CANCELLED, cls.EXPIRED, cls.TRANSFERRED_OUT})

    @classmethod
    def refillable(cls) -> frozenset[RxStatus]:
        """Where a refill may be requested: the last dispensing is done (checked, picked up, or returned to
        stock)."""
        return frozenset({cls.FILL, cls.READY_FOR_PICKUP, cls.DISPENSED})

    @classmethod
    def transferable(cls) -> frozenset[RxStatus]:
        """Verified and with nothing of it on the shelf here (checked fills are handed out or returned first)."""
        return frozenset({cls.FILL, cls.READY_FOR_PICKUP, cls.DISPENSED})

    @classmethod
    def open(cls) -> frozenset[RxStatus]:
        """Not yet verified and still alive: these expire when their date passes."""
        return cls.holdable() | cls.held()

    @classmethod
    def queue_order(cls) -> tuple[RxStatus, ...]:
        return (
            cls.INTAKE,
            cls.DATA_ENTRY,
            cls.VERIFICATION,
            cls.FILL,
            cls.FILLED,
            cls.READY_FOR_PICKUP,
            cls.DISPENSED,
            cls.ON_HOLD,
            cls.WAITING_PRESCRIBER,
            cls.CANCELLED,
            cls.EXPIRED,
            cls.TRANSFERRED_OUT,
        )


_LABELS = {
    RxStatus.INTAKE: "Intake",
    RxStatus.DATA_ENTRY: "Data entry",
    RxStatus.VERIFICATION: "Pharmacist verification",
    RxStatus.FILL: "Ready to fill",
    RxStatus.FILLED: "Filled, awaiting check",
    RxStatus.READY_FOR_PICKUP: "Ready for pickup",
    RxStatus.DISPENSED: "Dispensed",
    RxStatus.ON_HOLD: "On hold",
    RxStatus.WAITING_PRESCRIBER: "Waiting for prescriber",
    RxStatus.CANCELLED: "Cancelled",
    RxStatus.EXPIRED: "Expired",
    RxStatus.TRANSFERRED_OUT: "Transferred out",
}


class RxSource(StrEnum):
    WALK_IN = "walk_in"  # paper brought to the counter
    PHONE = "phone"
    FAX = "fax"
    PORTAL = "portal"  # an upload on the refill portal
    ELECTRONIC = "electronic"  # an e-prescription (EPCS for a controlled substance)
    TRANSFER = "transfer"  # received from another pharmacy (prescription_transfers holds the details)
    # written by the pharmacist at the counter (backend/prescriptions/emergency.py), never received at intake
    EMERGENCY_SUPPLY = "emergency_supply"

    @property
    def label(self) -> str:
        return _SOURCE_LABELS[self]

    @classmethod
    def at_intake(cls) -> tuple[RxSource, ...]:
        """What the intake form offers: a transfer in is recorded on its own form, with the other pharmacy,
        and an emergency supply is the pharmacist's own record, never received."""
        return tuple(s for s in cls if s not in (cls.TRANSFER, cls.EMERGENCY_SUPPLY))


_SOURCE_LABELS = {
    RxSource.WALK_IN: "Walk-in (paper)",
    RxSource.PHONE: "Phone",
    RxSource.FAX: "Fax",
    RxSource.PORTAL: "Portal upload",
    RxSource.ELECTRONIC: "Electronic (e-prescription)",
    RxSource.TRANSFER: "Transfer from another pharmacy",
    RxSource.EMERGENCY_SUPPLY: "Emergency supply",
}


class RefillSource(StrEnum):
    """Who asked for a refill."""

    STAFF = "staff"  # the button on the prescription page
    PHONE = "phone"  # the patient called; staff recorded it
    PORTAL = "portal"  # the patient portal (next issues)
    AUTO = "auto"  # the auto-refill job

    @property
    def label(self) -> str:
        return {"staff": "Staff", "phone": "Phone", "portal": "Portal", "auto": "Auto-refill"}[self.value]


class RenewalStatus(StrEnum):
    """A request to the prescriber for a new prescription (sending it comes with notifications)."""

    REQUESTED = "requested"
    APPROVED = "approved"
    DENIED = "denied"


class TransferKind(StrEnum):
    BRANCH = "branch"  # to another branch of the chain: the record moves, its history stays
    OUTGOING = "outgoing"  # to another pharmacy: void here
    INCOMING = "incoming"  # from another pharmacy: a new prescription here

    @property
    def label(self) -> str:
        return {"branch": "Between branches", "outgoing": "To another pharmacy", "incoming": "From another pharmacy"}[
            self.value
        ]


class CounterRule(StrEnum):
    """How the chain's jurisdiction lets a prescription-only medicine reach a bill."""

    FILL_REQUIRED = "fill_required"  # the US rule: only as a verified, checked fill
    REFERENCE_OR_OVERRIDE = "reference_or_override"  # a typed reference, or a pharmacist's signed override

    @property
    def label(self) -> str:
        return {
            "fill_required": "Only as a checked fill (US)",
            "reference_or_override": "A prescription reference, or a pharmacist's signed override",
        }[self.value]


class ReadingStatus(StrEnum):
    """OCR of a prescription's original: queued with the upload, read (or failed) by the `ocr` job,
    confirmed by a person."""

    QUEUED = "queued"
    READ = "read"
    FAILED = "failed"
    CONFIRMED = "confirmed"

    @classmethod
    def waiting(cls) -> frozenset[ReadingStatus]:
        """The page keeps polling while the reading is in one of these."""
        return frozenset({cls.QUEUED})


class FillStatus(StrEnum):
    AWAITING_CHECK = "awaiting_check"  # filled and labelled; the pharmacist's final check comes next
    CHECKED = "checked"
    PICKED_UP = "picked_up"
    RETURNED = "returned"  # back to stock (unclaimed)

    @property
    def label(self) -> str:
        return {
            "awaiting_check": "Awaiting final check",
            "checked": "Checked",
            "picked_up": "Picked up",
            "returned": "Returned to stock",
        }[self.value]

    @classmethod
    def fillable_from(cls) -> frozenset[RxStatus]:
        """Prescription states a fill (or the rest of a partial fill) may be made from."""
        return RxStatus.verified()


class Counselling(StrEnum):
    """The answer to the pharmacist's offer to counsel at pickup (OBRA '90: the offer is required)."""

    ACCEPTED = "accepted"
    DECLINED = "declined"


class PickedUpBy(StrEnum):
    PATIENT = "patient"
    AGENT = "agent"  # someone collecting for the patient (a relative, a carer)
