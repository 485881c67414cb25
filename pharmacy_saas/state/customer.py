"""A verified customer on the portal (issue 17 §3, §4): the one-time code, "My prescriptions", the photo upload.

`customer_guarded` is the customer's `guarded`: every such event re-reads the customer's own HttpOnly cookie
(never the staff one) and finds a live customer session of the chain in the page's address, which gives a
context with the role CUSTOMER and the one patient; anything else is refused and the page asks for a code.
The code forms are `public` and check everything themselves: the same answer, after the same floor, whether
or not the details matched; limits per client IP and per Rx number (backend.portal.abuse).
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import reflex as rx

from backend.core.errors import PharmacyError
from backend.patients.customer import customer_choices, set_customer_choices
from backend.portal import abuse
from backend.portal.codes import SENT_MESSAGE, CodeResult, new_challenge, request_code, verify_code
from backend.portal.customers import (
    CUSTOMER_COOKIE,
    customer_context,
    customer_for_token,
    end_customer_session,
    issue_exchange,
    my_prescriptions,
    request_my_refill,
    send_my_prescription,
)
from backend.prescriptions.originals import MAX_UPLOAD_BYTES
from pharmacy_saas import routes
from pharmacy_saas.state import push
from pharmacy_saas.state.base import navigate, public, run_service, session_token, transact
from pharmacy_saas.state.portal import PortalState
from tenants.context import TenantContext

NOT_VERIFIED = "Please confirm who you are with a code first."


def customer_guarded(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Run the handler only for a live customer session of the page's chain; it receives that context."""

    @functools.wraps(fn)
    async def handler(self: CustomerState, *args: Any, **kwargs: Any) -> Any:
        try:
            ctx = await self._customer()
            if ctx is None:
                self.verified = False
                return rx.toast.error(NOT_VERIFIED, id="refusal")
            return await fn(self, ctx, *args, **kwargs)
        except PharmacyError as exc:
            return rx.toast.error(exc.message, id="refusal")

    params = list(inspect.signature(fn).parameters.values())
    handler.__signature__ = inspect.Signature([params[0], *params[2:]])  # type: ignore[attr-defined]
    handler.__annotations__ = {k: v for k, v in fn.__annotations__.items() if k != "ctx"}
    del handler.__wrapped__  # type: ignore[attr-defined]  # Reflex must see the signature without ctx
    handler.required_permission = "portal.customer"  # type: ignore[attr-defined]
    return handler


async def verified_customer(state: PortalState) -> TenantContext | None:
    """The live customer session behind this browser on the chain in the page's address: a CUSTOMER context
    for its one patient, or None (not verified, expired, another chain's session, a closed portal). The
    portal's chat and "Rate your visit" ask this too: one lookup, from the customer's own HttpOnly cookie."""
    visitor = await state._visitor()
    if visitor is None:
        return None
    token = session_token(state.router.headers.cookie, CUSTOMER_COOKIE)
    if not token:
        return None
    patient = await transact(visitor, customer_for_token, token)
    return customer_context(visitor.tenant_id, patient) if patient else None


def _born(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        return None


class CustomerState(PortalState):
    verified: bool = False
    asked: bool = False  # a code was asked for: show the code entry
    notice: str = ""
    error: str = ""
    first_name: str = ""
    prescriptions: list[dict[str, str]] = []
    refill_reminders: bool = False
    reminder_channel: str = "email"
    detailed_messages: bool = False
    received: bool = False
    upload_branch: str = ""
    push_devices: list[dict[str, str]] = []  # this customer's browsers that get "ready for pickup"
    push_error: str = ""
    _challenge: str = ""  # kept on the server between asking for a code and typing it

    def _client_ip(self) -> str:
        return self.router.session.client_ip

    async def _customer(self) -> TenantContext | None:
        return await verified_customer(self)

    @rx.var
    def my_prescriptions_href(self) -> str:
        return routes.portal_path(self.chain_slug, "prescriptions")

    # --- before verification ------------------------------------------------------------------------

    @rx.event
    @public
    async def load_prescriptions(self) -> None:
        """on_load of /portal/<slug>/prescriptions: my prescriptions for a live session, else the code forms."""
        self.error, self.received = "", False
        ctx = await self._customer()
        self.verified = ctx is not None
        if ctx is None:
            if "expired=1" in str(self.router.url):
                self.error = "That link has expired. Ask for a new code."
            return
        await self._refresh(ctx)

    @rx.event
    @public
    async def load_upload(self) -> None:
        """on_load of /portal/<slug>/upload, after `load_home` (the branches): verified customers only."""
        self.error, self.received = "", False
        ctx = await self._customer()
        self.verified = ctx is not None
        if self.branches and not self.upload_branch:
            self.upload_branch = self.branches[0]["id"]

    @rx.event
    @public
    async def ask_code(self, form: dict[str, Any]) -> Any:
        """Rx number + date of birth + last name → a code to the contact on file when they match. The answer
        is the same, after the same floor, whether or not they did."""
        started = time.monotonic()
        self.error, self.notice = "", ""
        visitor = await self._visitor()
        if visitor is None:
            return None
        rx_number = str(form.get("rx_number", "")).strip()[:40]
        surname = str(form.get("last_name", "")).strip()[:100]
        born = _born(form.get("date_of_birth"))
        if not rx_number or not surname or born is None:
            self.error = "Enter the Rx number from your label, your date of birth and your last name."
            return None
        ip = self._client_ip()
        wait = await run_service(abuse.check, "code", ip, rx_number, visitor.tenant_id)
        if wait:
            self.error = f"Too many tries. Please wait {abuse.wait_words(wait)} and try again."
            return None
        await run_service(abuse.record, "code", ip, rx_number, visitor.tenant_id)
        challenge = new_challenge()
        try:
            await transact(visitor, request_code, challenge, rx_number, born, surname)
        except PharmacyError:
            pass  # nothing of it reaches the page: the answer is the same
        self._challenge, self.asked, self.notice = challenge, True, SENT_MESSAGE
        await abuse.wait_out_floor(started)
        return None

    @rx.event
    @public
    async def enter_code(self, form: dict[str, Any]) -> Any:
        """The code from the message: right → the cookie exchange; wrong → try again; void → ask again."""
        started = time.monotonic()
        self.error = ""
        visitor = await self._visitor()
        if visitor is None or not self._challenge:
            self.asked = False
            return None
        ip = self._client_ip()
        wait = await run_service(abuse.check, "code-try", ip, self._challenge, visitor.tenant_id)
        if wait:
            self.error = f"Too many tries. Please wait {abuse.wait_words(wait)} and try again."
            return None
        await run_service(abuse.record, "code-try", ip, self._challenge, visitor.tenant_id)
        checked = await transact(visitor, verify_code, self._challenge, str(form.get("code", "")))
        await abuse.wait_out_floor(started)
        if checked.result == CodeResult.OK and checked.patient_id is not None:
            self._challenge, self.asked, self.notice = "", False, ""
            code = await run_service(issue_exchange, visitor.tenant_id, checked.patient_id)
            return navigate(f"/api/v1/portal/{self.chain_slug}/session?code={code}")
        if checked.result == CodeResult.VOID:
            self._challenge, self.asked, self.notice = "", False, ""
            self.error = "This code can no longer be used. Ask for a new code."
            return None
        self.error = "That code is not right. Check the message and try again."
        return None

    @rx.event
    @public
    async def start_over(self) -> None:
        self._challenge, self.asked, self.notice, self.error = "", False, "", ""

    # --- a verified customer --------------------------------------------------------------------------

    async def _refresh(self, ctx: TenantContext) -> None:
        listed = await transact(ctx, my_prescriptions)
        choices = await transact(ctx, customer_choices)
        self.first_name = choices.first_name
        self.refill_reminders = choices.refill_reminders
        self.reminder_channel = choices.reminder_channel
        self.detailed_messages = choices.detailed_messages
        self.push_devices = await push.devices(ctx)
        self.prescriptions = [
            {
                "id": m.prescription.id,
                "rx_number": m.prescription.rx_number,
                "medicine": m.prescription.medicine,
                "refills_left": str(m.prescription.refills_left),
                "last_fill": m.prescription.last_fill or "Not filled yet",
                "status": m.prescription.status,
                "ready_at": m.prescription.ready_at,
                "request": m.request_status,
                "refillable": "yes" if m.prescription.refillable and not m.request_status.startswith("Waiting") else "",
                "picked_up_fill": m.prescription.picked_up_fill,
            }
            for m in listed
        ]

    @rx.event
    @customer_guarded
    async def request_refill(self, ctx: TenantContext, prescription_id: str) -> Any:
        """One tap: a refill request for one of the customer's own prescriptions."""
        await transact(ctx, request_my_refill, str(prescription_id))
        await self._refresh(ctx)
        self.notice = "Refill requested. The pharmacy will let you know when it is ready."
        return rx.toast.success("Refill requested.", id="refill-requested")

    @rx.event
    @customer_guarded
    async def save_choices(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """Reminders and their channel, and consent to messages that name the medicine (recorded as given in
        the portal)."""
        choices = await transact(
            ctx,
            set_customer_choices,
            refill_reminders=str(form.get("refill_reminders", "")) in ("on", "true", "1"),
            channel=str(form.get("reminder_channel", "email")),
            detailed_messages=str(form.get("detailed_messages", "")) in ("on", "true", "1"),
        )
        self.refill_reminders, self.reminder_channel = choices.refill_reminders, choices.reminder_channel
        self.detailed_messages = choices.detailed_messages
        return rx.toast.success("Your choices are saved.", id="choices-saved")

    @rx.event
    @customer_guarded
    async def enable_push(self, ctx: TenantContext) -> Any:
        """ "Notify me when my prescription is ready": this browser subscribes, then `save_push` stores it."""
        self.push_error = ""
        return await push.ask_browser(CustomerState.save_push)

    @rx.event
    @customer_guarded
    async def save_push(self, ctx: TenantContext, answer: str) -> Any:
        self.push_error = await push.store(ctx, answer)
        if self.push_error:
            return None
        self.push_devices = await push.devices(ctx)
        return rx.toast.success("We will notify you on this device.", id="push-on")

    @rx.event
    @customer_guarded
    async def remove_push(self, ctx: TenantContext, subscription_id: str) -> Any:
        await push.forget(ctx, subscription_id)
        self.push_devices = await push.devices(ctx)
        return None

    @rx.event
    @customer_guarded
    async def sign_out(self, ctx: TenantContext) -> Any:
        """End the customer session on the server, then drop the cookie over HTTP."""
        visitor = await self._visitor()
        if visitor is not None:
            await transact(visitor, end_customer_session, session_token(self.router.headers.cookie, CUSTOMER_COOKIE))
        self.verified, self.prescriptions, self.first_name = False, [], ""
        self._challenge, self.asked, self.notice, self.error = "", False, "", ""
        return navigate(f"/api/v1/portal/{self.chain_slug}/signed-out")

    @rx.event
    @customer_guarded
    async def choose_branch(self, ctx: TenantContext, value: str) -> None:
        self.upload_branch = str(value)[:40]

    @rx.event
    @customer_guarded
    async def send_photo(self, ctx: TenantContext, files: list[rx.UploadFile]) -> Any:
        """A photo of a new prescription into the chosen branch's intake queue (the staff upload's checks)."""
        self.error, self.received = "", False
        if not files:
            self.error = "Take or choose a photo of the prescription first."
            return None
        data = await files[0].read(MAX_UPLOAD_BYTES + 1)
        if not self.upload_branch:
            self.error = "Choose the pharmacy that should receive it."
            return None
        try:
            await transact(ctx, send_my_prescription, self.upload_branch, data)
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self.received = True
        return None
