"""Rate your visit: the form a verified customer fills after picking up a fill (issue 17 §6).

Who the customer is comes from the customer session (issue 17 §3) through `customer_context_or_none(state)`:
the chain's CUSTOMER context and the one patient the session proved, or None when the visitor has not
verified (the form then says "verify first" and writes nothing). "My prescriptions" links each picked-up
fill here. There is no other way in: the service (`backend.feedback.service.leave_feedback`) checks the fill is that
patient's and picked up, and is tested with a CUSTOMER context directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx

from backend.core.errors import PharmacyError
from backend.feedback.service import COMMENT_LIMIT, leave_feedback
from pharmacy_saas.state.base import public, transact
from pharmacy_saas.state.customer import verified_customer
from pharmacy_saas.state.portal import PortalState
from tenants.context import TenantContext
from tenants.roles import CUSTOMER


@dataclass(frozen=True)
class CustomerContext:
    """A verified customer: the chain's CUSTOMER context and the patient their one-time code proved."""

    ctx: TenantContext
    patient_id: str


async def customer_context_or_none(state: PortalState) -> CustomerContext | None:
    """The verified customer behind this browser on this chain's portal, or None (the customer session's
    own lookup, pharmacy_saas.state.customer.verified_customer: the chain is the page's own)."""
    ctx = await verified_customer(state)
    if ctx is None or ctx.patient_id is None:
        return None
    return CustomerContext(ctx, str(ctx.patient_id))


class PortalFeedbackState(PortalState):
    fill_id: str = ""  # from ?fill= (or the prescriptions page's row); checked by the service, never trusted
    rating: str = ""
    sent: bool = False
    message: str = ""
    error: str = ""
    comment_limit: int = COMMENT_LIMIT

    @rx.event
    @public
    async def load(self) -> None:
        """on_load of /portal/<slug>/feedback?fill=...: the chain's frame and an empty form."""
        await self._visitor()
        self.fill_id = str(self.router.url.query_parameters.get("fill", ""))[:64]
        self.rating, self.sent, self.message, self.error = "", False, "", ""

    @rx.event
    @public
    async def choose_rating(self, value: str) -> None:
        self.rating = str(value)[:1]

    @rx.event
    @public
    async def choose_fill(self, fill_id: str) -> None:
        """The prescriptions page's row: which pickup this form rates."""
        self.fill_id, self.rating, self.sent, self.message, self.error = str(fill_id)[:64], "", False, "", ""

    @rx.event
    @public
    async def submit(self, form: dict[str, Any]) -> None:
        """Rate the visit: only a verified customer of this chain, only their own picked-up fill, once."""
        self.error = ""
        if await self._visitor() is None:
            self.error = "This pharmacy is not taking online feedback at the moment."
            return
        customer = await customer_context_or_none(self)
        if customer is None or customer.ctx.role != CUSTOMER:
            self.error = "Verify with the code we send you (Check my prescriptions) before rating a visit."
            return
        try:
            await transact(
                customer.ctx, leave_feedback, customer.patient_id, self.fill_id,
                form.get("rating", self.rating), str(form.get("comment", "")),
            )  # fmt: skip
        except PharmacyError as exc:
            self.error = exc.message
            return
        self.sent, self.message = True, "Thank you! Your feedback goes to the pharmacy team."
