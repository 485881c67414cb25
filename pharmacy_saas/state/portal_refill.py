"""The portal's refill form (issue 17 §2): the same confirmation for every well-formed request.

The chain comes from the page's address (PortalState); the visitor acts as the chain's `portal` role. The
form goes over the app's event channel, whose websocket accepts only the app's own origin (rxconfig.py
cors_allowed_origins), so another site cannot submit it in a visitor's name. Each well-formed try counts
against the client IP and the Rx number (progressive waits, backend.portal.abuse) and its answer waits out
the response floor from the event's start, so neither the words nor the time say whether anything matched.
A hidden "website" field (a honeypot: people never see it, naive bots fill every field) is answered the
same way but nothing is recorded.
"""

from __future__ import annotations

import time
from typing import Any

import reflex as rx

from backend.portal import abuse
from backend.portal.refill_form import KIND, RefillForm, ask_for_refill, confirmation, form_errors
from backend.portal.service import portal_home
from backend.portal.statuses import RefillRequestSource
from pharmacy_saas.state.base import public, run_service, transact
from pharmacy_saas.state.portal import PortalState

HONEYPOT = "website"


class PortalRefillState(PortalState):
    pick_up: list[dict[str, str]] = []  # the chain's open branches: id, name
    errors: dict[str, str] = {}  # field name -> what is wrong with it
    confirmed: str = ""
    limited: str = ""
    busy: bool = False

    @rx.event
    @public
    async def load_refill(self) -> None:
        """on_load of /portal/<slug>/refill: the pick-up branches (none on an unknown or closed portal)."""
        self.errors, self.confirmed, self.limited, self.busy = {}, "", "", False
        ctx = await self._visitor()
        if ctx is None:
            self.pick_up = []
            return
        home = await transact(ctx, portal_home)
        self.pick_up = [{"id": b.id, "name": b.name} for b in home.branches]

    @rx.event
    @public
    async def submit_refill(self, form: dict[str, Any]) -> Any:
        """The form's submit: checks everything itself (public), from the address's chain."""
        started = time.monotonic()
        if self.busy:
            return
        self.errors, self.confirmed, self.limited = {}, "", ""
        ctx = await self._visitor()
        if ctx is None:
            return
        refill = RefillForm(
            rx_number=str(form.get("rx_number", ""))[:64],
            date_of_birth=str(form.get("date_of_birth", ""))[:32],
            last_name=str(form.get("last_name", ""))[:200],
            branch_id=str(form.get("branch_id", ""))[:64],
            note=str(form.get("note", ""))[:2000],
        )
        errors = form_errors(refill)
        if errors:
            self.errors = errors
            return
        ip = self.router.session.client_ip
        number = refill.rx_number
        wait = await run_service(abuse.check, KIND, ip, number, ctx.tenant_id)
        if wait:
            self.limited = f"Too many tries. Try again in {abuse.wait_words(wait)}."
            return
        self.busy = True
        yield
        try:
            await run_service(abuse.record, KIND, ip, number, ctx.tenant_id)
            if not str(form.get(HONEYPOT, "")).strip():
                await transact(ctx, ask_for_refill, refill, RefillRequestSource.PORTAL_FORM)
            await abuse.wait_out_floor(started)
            self.confirmed = confirmation(self.chain_name)
        finally:
            self.busy = False

    @rx.event
    @public
    def another(self) -> None:
        """'Request another refill': the empty form again."""
        self.errors, self.confirmed, self.limited = {}, "", ""
