"""The portal's states."""

from __future__ import annotations

from enum import StrEnum


class RefillRequestStatus(StrEnum):
    PENDING = "pending"  # in the branch's queue, to be accepted (a fill) or denied
    CALL_CUSTOMER = "call_customer"  # cannot be refilled online (no refills left, expired...): staff call
    ACCEPTED = "accepted"
    DENIED = "denied"
    CLOSED = "closed"  # a "call the customer" request closed by staff with a note after the call (no e-mail)

    @classmethod
    def open(cls) -> frozenset[RefillRequestStatus]:
        return frozenset({cls.PENDING, cls.CALL_CUSTOMER})

    @property
    def label(self) -> str:
        return {
            "pending": "Waiting for the pharmacy",
            "call_customer": "The pharmacy will call",
            "accepted": "Accepted",
            "denied": "Denied",
            "closed": "Closed after a call",
        }[self.value]


class RefillRequestSource(StrEnum):
    PORTAL_FORM = "portal_form"  # the portal's refill form (anyone with the label)
    PORTAL_API = "portal_api"  # POST /api/v1/portal/{slug}/refill-requests
    CUSTOMER = "customer"  # one tap in a verified customer's "My prescriptions"

    @property
    def label(self) -> str:
        return {"portal_form": "Portal form", "portal_api": "Portal API", "customer": "Signed-in customer"}[self.value]
