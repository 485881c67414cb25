"""Prescriptions: the work queue (/prescriptions), intake (/prescriptions/new) and one prescription
(/prescriptions/rx?id=): data entry, and the pharmacist's verification with the DUR panel and signature.

Every handler checks its permission on the server; services run in one tenant transaction each
(`transact`). Opening a prescription is written to the patient access log by the service.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
from typing import Any

import reflex as rx

from backend.core.display import display_date, display_time
from backend.core.errors import PharmacyError
from backend.core.live import EventKind
from backend.patients.allergies import register_with_allergies
from backend.patients.service import find_patients
from backend.prescriptions import originals, reading, service, transfers, verification
from backend.prescriptions import prescribers as prescriber_service
from backend.prescriptions.enums import ReadingStatus, RxSource, RxStatus
from pharmacy_saas import routes
from pharmacy_saas.state.base import guarded, sign_with_password, transact
from pharmacy_saas.state.dashboard import ShellState
from pharmacy_saas.state.live import live_events
from tenants.context import TenantContext
from tenants.roles import role_has


@dataclasses.dataclass
class QueueItem:
    id: str
    rx_number: str
    status: str
    status_label: str
    patient: str
    drug: str
    prescriber: str
    received: str
    reason: str


@dataclasses.dataclass
class AccuracyRow:
    field: str
    confirmed: str
    right: str
    rate: str


@dataclasses.dataclass
class StatusTab:
    status: str
    label: str
    count: str


@dataclasses.dataclass
class Choice:
    id: str
    label: str


@dataclasses.dataclass
class AlertRow:
    code: str
    type: str
    severity: str
    with_: str
    summary: str
    source: str
    needs_resolution: bool


@dataclasses.dataclass
class ReadRow:
    """One field OCR read, for the confirm screen: its box on the page as percentages of the page."""

    name: str
    label: str
    value: str
    confidence: str
    low: bool
    has_box: bool
    left: str
    top: str
    width: str
    height: str
    corrected: bool
    confirmed_value: str


FIELD_LABELS = {
    "patient_name": "Patient",
    "date_of_birth": "Date of birth",
    "prescriber": "Prescriber",
    "prescriber_as_written": "Prescriber as written",
    "date_written": "Date written",
    "drug": "Drug (generic)",
    "drug_as_written": "Drug as written",
    "strength": "Strength",
    "form": "Form",
    "sig": "Sig",
    "sig_expanded": "Sig expanded",
    "quantity": "Quantity",
    "quantity_unit": "Unit",
    "refills": "Refills",
    "rx_number": "Pad's Rx number",
}
READING_POLL_SECONDS = 1.0
READING_POLL_LIMIT = 300  # five minutes: then the page says it is still waiting and stops asking


def _pct(value: float) -> str:
    return f"{max(0.0, min(100.0, value)):.2f}%"


def _rows(view: reading.ReadingView) -> list[ReadRow]:
    rows = []
    width, height = view.width or 1, view.height or 1
    for f in view.fields:
        box = f.box if f.page == 0 else None  # the screen shows the first page
        rows.append(
            ReadRow(
                name=f.name,
                label=FIELD_LABELS.get(f.name, f.name),
                value=f.value,
                confidence=f"{round(f.confidence * 100)}%",
                low=f.low,
                has_box=box is not None,
                left=_pct(box[0] / width * 100) if box else "0%",
                top=_pct(box[1] / height * 100) if box else "0%",
                width=_pct((box[2] - box[0]) / width * 100) if box else "0%",
                height=_pct((box[3] - box[1]) / height * 100) if box else "0%",
                corrected=bool(f.corrected),
                confirmed_value=f.confirmed_value or "",
            )
        )
    return rows


@dataclasses.dataclass
class EventRow:
    when: str
    action: str
    status: str
    reason: str
    who: str


def _progress(status: ReadingStatus, job: str) -> str:
    if status is ReadingStatus.QUEUED:
        return "Waiting for the OCR worker…" if job == "pending" else "Reading the prescription…"
    return {
        ReadingStatus.READ: "Read: check each field, correct what is wrong, then confirm.",
        ReadingStatus.FAILED: "The original could not be read; enter the details by hand.",
        ReadingStatus.CONFIRMED: "Confirmed.",
    }[status]


def _label(status: str) -> str:
    return RxStatus(status).label if status else "Open"


class QueueState(ShellState):
    status_filter: str = ""  # "" = every open one and the ones ready to fill
    query: str = ""
    items: list[QueueItem] = []
    tabs: list[StatusTab] = []
    page: int = 0
    has_more: bool = False
    can_enter: bool = False
    can_supply_emergency: bool = False  # a pharmacist: the emergency supply form
    can_portal_queue: bool = False  # the portal requests page (issue 17)
    error: str = ""
    accuracy: list[AccuracyRow] = []  # per field, how often OCR was right in confirmed readings

    @rx.event
    @guarded("prescriptions.view", page_load=True)
    async def load(self, ctx: TenantContext) -> Any:
        await self._fill_shell(ctx)
        self.can_enter = role_has(ctx.role, "prescriptions.enter")
        self.can_supply_emergency = role_has(ctx.role, "prescriptions.emergency_supply")
        self.can_portal_queue = role_has(ctx.role, "portal.queue")
        wanted = self.router.url.query_parameters.get("status", "")
        self.status_filter = wanted if wanted in {s.value for s in RxStatus} else ""
        await self._reload(ctx, 0)
        try:
            report = await transact(ctx, reading.accuracy_report)
        except PharmacyError as exc:
            self.error = exc.message
            return QueueState.watch_live
        self.accuracy = [
            AccuracyRow(
                FIELD_LABELS.get(a.field, a.field),
                str(a.confirmed),
                str(a.right),
                f"{round(a.rate * 100)}%" if a.rate is not None else "",
            )
            for a in report
            if a.confirmed
        ]
        return QueueState.watch_live

    @rx.event
    @guarded("prescriptions.view")
    async def switch_branch(self, ctx: TenantContext, name: str) -> None:
        if name in {b["name"] for b in self.branches}:
            self.current_branch = name
            await self._reload(ctx, 0)

    # --- live (issue 18 §5): a new prescription or a fill ready elsewhere shows without a reload ---

    @rx.event(background=True)
    @guarded("prescriptions.view", background=True)
    async def watch_live(self, ctx: TenantContext) -> Any:
        kinds = {EventKind.PRESCRIPTION_RECEIVED, EventKind.FILL_READY}
        async for event in live_events(self, ctx, kinds, routes.PRESCRIPTIONS):
            yield QueueState.live_refresh(event.branch_id)

    @rx.event
    @guarded("prescriptions.view")
    async def live_refresh(self, ctx: TenantContext, branch_id: str) -> None:
        if branch_id == self._current_branch_id():  # another branch's event: this page shows one branch
            await self._reload(ctx, self.page)

    @rx.event
    @guarded("prescriptions.view")
    async def show_status(self, ctx: TenantContext, status: str) -> None:
        self.status_filter = status if status in {s.value for s in RxStatus} else ""
        await self._reload(ctx, 0)

    @rx.event
    @guarded("prescriptions.view")
    async def search(self, ctx: TenantContext, form: dict[str, Any]) -> None:
        self.query = str(form.get("q", ""))[:60]
        await self._reload(ctx, 0)

    @rx.event
    @guarded("prescriptions.view")
    async def next_page(self, ctx: TenantContext) -> None:
        await self._reload(ctx, self.page + 1)

    @rx.event
    @guarded("prescriptions.view")
    async def previous_page(self, ctx: TenantContext) -> None:
        await self._reload(ctx, max(0, self.page - 1))

    async def _reload(self, ctx: TenantContext, page: int) -> None:
        branch = self._current_branch_id()
        if not branch:
            self.items, self.tabs = [], []
            return
        try:
            await transact(ctx, service.expire_due, branch)
            found = await transact(ctx, service.queue, branch, status=self.status_filter, query=self.query, page=page)
        except PharmacyError as exc:
            self.error = exc.message
            return
        zone = found.time_zone
        self.error, self.page, self.has_more = "", found.page, found.has_more
        self.tabs = [StatusTab("", "Open", str(sum(n for s, n in found.counts.items() if s not in CLOSED)))]
        self.tabs += [StatusTab(s, RxStatus(s).label, str(n)) for s, n in found.counts.items()]
        self.items = [
            QueueItem(
                id=i.id,
                rx_number=i.rx_number,
                status=i.status.value,
                status_label=i.status.label,
                patient=i.patient_name,
                drug=i.drug,
                prescriber=i.prescriber_name,
                received=display_time(i.created_at, zone),
                reason=i.status_reason,
            )
            for i in found.items
        ]


class IntakeState(ShellState):
    """Receiving a prescription: find (or register) the patient, say where it came from."""

    patient_query: str = ""
    patient_matches: list[Choice] = []
    patient_id: str = ""
    patient_label: str = ""
    error: str = ""
    source: str = "walk_in"
    notes: str = ""
    can_transfer: bool = False
    transfer_error: str = ""

    @rx.event
    @guarded("prescriptions.enter", page_load=True)
    async def load(self, ctx: TenantContext) -> None:
        await self._fill_shell(ctx)
        self.can_transfer, self.transfer_error = role_has(ctx.role, "prescriptions.transfer"), ""
        self.patient_query, self.patient_matches, self.patient_id, self.patient_label, self.error = "", [], "", "", ""
        self.source, self.notes = "walk_in", ""

    @rx.event
    @guarded("prescriptions.enter")
    async def choose_source(self, ctx: TenantContext, value: str) -> None:
        self.source = str(value)[:20]

    @rx.event
    @guarded("prescriptions.enter")
    async def keep_notes(self, ctx: TenantContext, value: str) -> None:
        self.notes = str(value)[:2000]

    @rx.event
    @guarded("prescriptions.enter")
    async def receive_original(self, ctx: TenantContext, files: list[rx.UploadFile]) -> Any:
        """Receive the prescription with its photo, scan or fax: checked (type from the bytes, at most 10 MB,
        damaged files and decompression bombs refused, EXIF applied then dropped) before anything is
        stored; OCR then reads it in the background and the prescription's page shows the fields."""
        if not files:
            self.error = "Choose or take a photo of the prescription first."
            return None
        data = await files[0].read(originals.MAX_UPLOAD_BYTES + 1)
        try:
            rx_record = await transact(
                ctx,
                service.create_prescription,
                branch_id=self._current_branch_id(),
                patient_id=self.patient_id,
                source=self.source,
                notes=self.notes,
                image=data,
            )
        except PharmacyError as exc:
            self.error = exc.message
            return None
        return [
            rx.toast.success(f"Received as {rx_record.rx_number}; reading the photo."),
            rx.redirect(f"{routes.PRESCRIPTION}?id={rx_record.id}"),
        ]

    @rx.event
    @guarded("prescriptions.enter")
    async def find_patient(self, ctx: TenantContext, form: dict[str, Any]) -> None:
        self.patient_query = str(form.get("q", ""))
        try:
            found = await transact(ctx, find_patients, self.patient_query)
        except PharmacyError as exc:
            self.error = exc.message
            return
        self.error = ""
        self.patient_matches = [
            Choice(p.id, f"{p.full_name} ({display_date(p.date_of_birth)})") for p in found.items[:10]
        ]

    @rx.event
    @guarded("prescriptions.enter")
    async def choose_patient(self, ctx: TenantContext, patient_id: str) -> None:
        match = next((c for c in self.patient_matches if c.id == patient_id), None)
        if match is not None:  # only a patient the server just listed for this member
            self.patient_id, self.patient_label = match.id, match.label

    @rx.event
    @guarded("prescriptions.enter")
    async def register_patient(self, ctx: TenantContext, form: dict[str, Any]) -> None:
        """A new patient from the intake screen: name, date of birth and allergies, at the current branch."""
        try:
            patient = await transact(
                ctx,
                register_with_allergies,
                full_name=str(form.get("full_name", "")),
                date_of_birth=str(form.get("date_of_birth", "")),
                allergies=str(form.get("allergies", "")),
                none_known=bool(form.get("none_known")),
                home_branch_id=self._current_branch_id(),
            )
        except PharmacyError as exc:
            self.error = exc.message
            return
        self.error = ""
        self.patient_id, self.patient_label = patient.id, f"{patient.full_name} ({display_date(patient.date_of_birth)})"

    @rx.event
    @guarded("prescriptions.transfer")
    async def receive_transfer(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """A prescription transferred in from another pharmacy, taken by the pharmacist for the chosen patient."""
        typed = {name: str(form.get(name, "")) for name in INCOMING_FIELDS}
        try:
            rx_record = await transact(
                ctx,
                transfers.receive_transfer,
                branch_id=self._current_branch_id(),
                patient_id=self.patient_id,
                electronic="yes" if form.get("electronic") else "",
                **typed,
            )
        except PharmacyError as exc:
            self.transfer_error = exc.message
            return None
        return [
            rx.toast.success(f"Transferred in as {rx_record.rx_number}."),
            rx.redirect(f"{routes.PRESCRIPTION}?id={rx_record.id}"),
        ]

    @rx.event
    @guarded("prescriptions.enter")
    async def receive(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        try:
            rx_record = await transact(
                ctx,
                service.create_prescription,
                branch_id=self._current_branch_id(),
                patient_id=self.patient_id,
                source=str(form.get("source", "")),
                notes=str(form.get("notes", "")),
            )
        except PharmacyError as exc:
            self.error = exc.message
            return None
        return [
            rx.toast.success(f"Received as {rx_record.rx_number}."),
            rx.redirect(f"{routes.PRESCRIPTION}?id={rx_record.id}"),
        ]


class RxState(ShellState):
    """One prescription: its details, data entry while it is in intake or entry, and verification."""

    rx_id: str = ""
    record: dict[str, str] = {}
    status: str = ""
    events: list[EventRow] = []
    can_enter: bool = False
    can_verify: bool = False
    can_cancel: bool = False
    error: str = ""
    # data entry
    prescriber_query: str = ""
    prescribers: list[Choice] = []
    medicine_choices: list[Choice] = []
    # verification
    alerts: list[AlertRow] = []
    unknown: list[str] = []
    active: list[str] = []
    allergies: str = ""
    two_person_blocked: bool = False
    meaning: str = ""
    form_key: int = 0
    # the original beside the entered data (a data URL: images go to the page, never to a local folder)
    image_src: str = ""
    image_is_pdf: bool = False
    # what was known when it was verified: the signature and the DUR stored with it
    signed: list[str] = []
    # the OCR reading of the original and the confirm screen
    reading_status: str = ""  # "" (none), queued, read, failed, confirmed
    reading_progress: str = ""
    reading_note: str = ""
    reading_fields: list[ReadRow] = []
    page_src: str = ""
    zoom: int = 100

    @rx.var
    def editable(self) -> bool:
        return self.status in ("intake", "data_entry")

    @rx.var
    def in_verification(self) -> bool:
        return self.status == "verification"

    @rx.var
    def held(self) -> bool:
        return self.status in ("on_hold", "waiting_prescriber")

    @rx.var
    def closed(self) -> bool:
        return self.status in CLOSED

    @rx.var
    def transferable(self) -> bool:
        return self.status in TRANSFERABLE

    @rx.event
    @guarded("prescriptions.view", page_load=True)
    async def load(self, ctx: TenantContext) -> Any:
        await self._fill_shell(ctx)
        self.can_enter = role_has(ctx.role, "prescriptions.enter")
        self.can_verify = role_has(ctx.role, "prescriptions.verify")
        self.can_cancel = role_has(ctx.role, "prescriptions.cancel")
        self.error, self.alerts, self.medicine_choices, self.prescriber_query = "", [], [], ""
        self.rx_id = self.router.url.query_parameters.get("id", "")
        self.image_src, self.image_is_pdf = "", False
        await self._reload(ctx)
        if self.record.get("has_image"):
            await self._load_image(ctx)
        await self._load_signed(ctx)
        if self.can_enter and self.editable:
            await self._find_prescribers(ctx, "")
        self.reading_status, self.reading_progress, self.reading_note, self.reading_fields = "", "", "", []
        self.page_src, self.zoom = "", 100
        if self.record.get("has_image"):
            await self._load_reading(ctx)
        if self.reading_status in {s.value for s in ReadingStatus.waiting()}:
            return RxState.watch_reading(self.rx_id)
        return None

    async def _load_reading(self, ctx: TenantContext) -> None:
        try:
            view = await transact(ctx, reading.get_reading, self.rx_id)
            page = await transact(ctx, reading.page_image, self.rx_id) if view is not None else None
        except PharmacyError as exc:
            self.error = exc.message
            return
        if view is None:
            return
        self._show_reading(view)
        if page is not None:
            self.page_src = f"data:{page[0]};base64,{base64.b64encode(page[1]).decode()}"

    def _show_reading(self, view: reading.ReadingView) -> None:
        self.reading_status = view.status.value
        self.reading_progress = _progress(view.status, view.job_status)
        self.reading_fields = _rows(view)
        low = sum(1 for f in view.fields if f.low)
        self.reading_note = (
            f"Read by {view.engine} in {view.seconds:.1f} s; {low} field(s) to check."
            if view.seconds is not None and view.status is not ReadingStatus.FAILED
            else view.error
        )

    @rx.event(background=True)
    @guarded("prescriptions.view", background=True)
    async def watch_reading(self, ctx: TenantContext, rx_id: str) -> Any:
        """Poll the reading's progress (status only, nothing logged) and ask the page to refresh when it
        moves. It never writes the state itself: a state copy written back from a background task could
        undo what the person saved meanwhile, so the refresh is a normal event (`refresh_reading`)."""
        last = None
        for _ in range(READING_POLL_LIMIT):
            await asyncio.sleep(READING_POLL_SECONDS)
            found = await transact(ctx, reading.reading_progress, rx_id)
            if found is None:
                return
            if found != last:
                last = found
                yield RxState.refresh_reading(rx_id)
            if found[0] not in ReadingStatus.waiting():
                return

    @rx.event
    @guarded("prescriptions.view")
    async def refresh_reading(self, ctx: TenantContext, rx_id: str) -> None:
        """Show where the reading is; once it has landed, the fields (read once, written to the access log)."""
        if rx_id != self.rx_id:
            return  # the page moved on to another prescription
        try:
            found = await transact(ctx, reading.reading_progress, rx_id)
        except PharmacyError as exc:
            self.error = exc.message
            return
        if found is None:
            return
        status, job = found
        self.reading_progress = _progress(status, job)
        if status not in ReadingStatus.waiting() and self.reading_status != status.value:
            await self._load_reading(ctx)

    @rx.event
    @guarded("prescriptions.view")
    async def zoom_in(self, ctx: TenantContext) -> None:
        self.zoom = min(400, self.zoom + 50)

    @rx.event
    @guarded("prescriptions.view")
    async def zoom_out(self, ctx: TenantContext) -> None:
        self.zoom = max(50, self.zoom - 50)

    @rx.event
    @guarded("prescriptions.enter")
    async def confirm_reading(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """Each field as the person confirmed or corrected it; the draft moves on to verification when
        everything it needs is there."""
        values = {name: str(form.get(f"ocr-{name}", "")) for name in reading.FIELDS if f"ocr-{name}" in form}
        try:
            done = await transact(ctx, reading.confirm_reading, self.rx_id, values)
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self.error = ""
        self._show(done.prescription)
        await self._load_reading(ctx)
        if self.can_enter and self.editable:
            await self._find_prescribers(ctx, "")
        corrected = f" ({len(done.corrected)} corrected)" if done.corrected else ""
        if done.submitted:
            return rx.toast.success(f"Confirmed{corrected}; sent for verification.")
        self.error = done.missing
        return rx.toast.info(f"Confirmed{corrected}; finish data entry below.")

    async def _load_signed(self, ctx: TenantContext) -> None:
        self.signed = []
        if self.status not in ("fill", "filled", "ready_for_pickup"):
            return
        try:
            stored = await transact(ctx, verification.verifications, self.rx_id)
        except PharmacyError as exc:
            self.error = exc.message
            return
        lines = []
        for v in stored:
            when = display_time(v.verified_at, self.record.get("time_zone", "UTC"))
            lines.append(f"Signed by {v.verified_by} at {when}: {v.signature_meaning}")
            lines += [f"Alert then: {a['severity']} {a['type']} ({a['with']})" for a in v.dur_result["alerts"]]
            lines += [f"Overridden: {o['severity']} {o['alert_type']}, because {o['reason']}" for o in v.overrides]
        self.signed = lines

    async def _load_image(self, ctx: TenantContext) -> None:
        try:
            found = await transact(ctx, service.prescription_image, self.rx_id)
        except PharmacyError as exc:
            self.error = exc.message
            return
        if found is not None:
            kind, data = found
            self.image_src = f"data:{kind};base64,{base64.b64encode(data).decode()}"
            self.image_is_pdf = kind == "application/pdf"

    @rx.event
    @guarded("prescriptions.enter")
    async def upload_original(self, ctx: TenantContext, files: list[rx.UploadFile]) -> Any:
        """The scan or photo of the paper, or the fax (JPEG, PNG or PDF, at most 10 MB); OCR reads it next."""
        if not files:
            self.error = "Choose the file of the original first."
            return None
        data = await files[0].read(originals.MAX_UPLOAD_BYTES + 1)
        try:
            record = await transact(ctx, service.attach_image, self.rx_id, data)
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self.error = ""
        self._show(record)
        await self._load_image(ctx)
        await self._load_reading(ctx)
        return [rx.toast.success("Original attached; reading it."), RxState.watch_reading(self.rx_id)]

    async def _reload(self, ctx: TenantContext) -> None:
        try:
            if self.can_verify:
                found = await transact(ctx, verification.review, self.rx_id)
                record = found.prescription
                self._show_review(found)
            else:
                record = await transact(ctx, service.get_prescription, self.rx_id)
        except PharmacyError as exc:
            self.error, self.record, self.status = exc.message, {}, ""
            return
        self._show(record)

    def _show(self, r: service.Prescription) -> None:
        self.status = r.status.value
        self.record = {
            "rx_number": r.rx_number,
            "status": r.status.label,
            "status_reason": r.status_reason,
            "patient": f"{r.patient_name} ({display_date(r.patient_birth)})",
            "patient_id": r.patient_id,
            "branch": r.branch_name,
            "source": r.source.label,
            "prescriber": r.prescriber_name,
            "prescriber_id": r.prescriber_id or "",
            "prescriber_dea": r.prescriber_dea,
            "drug_written": r.drug_written,
            "medicine": r.medicine_label,
            "medicine_id": r.medicine_id or "",
            "strength": r.strength,
            "sig_written": r.sig_written,
            "sig_expanded": r.sig_expanded,
            "sig_unknown": ", ".join(r.sig_unknown),
            "quantity": "" if r.quantity is None else str(r.quantity),
            "quantity_unit": r.quantity_unit,
            "days_supply": "" if r.days_supply is None else str(r.days_supply),
            "refills": str(r.refills_authorized),
            "refills_remaining": str(r.refills_remaining),
            "schedule": r.schedule or "",
            "date_written": r.date_written.isoformat() if r.date_written else "",
            "expires_on": display_date(r.expires_on) if r.expires_on else "",
            "earliest_fill_date": r.earliest_fill_date.isoformat() if r.earliest_fill_date else "",
            "daw": "yes" if r.daw else "",
            "notes": r.notes,
            "has_image": "yes" if r.has_image else "",
            "time_zone": r.time_zone,
            "key": f"{r.id}-{len(r.events)}",
        }
        if r.medicine_id and not any(c.id == r.medicine_id for c in self.medicine_choices):
            self.medicine_choices = [Choice(r.medicine_id, r.medicine_label), *self.medicine_choices]
        self.events = [
            EventRow(
                display_time(e.occurred_at, r.time_zone),
                e.action.replace("_", " "),
                RxStatus(e.to_status).label,
                e.reason,
                e.who,
            )
            for e in reversed(r.events)
        ]

    def _show_review(self, found: verification.Review) -> None:
        self.alerts = [
            AlertRow(a.code, a.type, a.severity, a.with_, a.summary, a.source, a.needs_resolution) for a in found.alerts
        ]
        self.unknown = [f"{u['name']} ({u['kind']}): {u['reason']}" for u in found.unknown]
        self.active = [
            f"{a.drug} — {a.source}" + (f", {a.days_supply} days from {a.last_fill:%Y-%m-%d}" if a.days_supply else "")
            for a in found.active
        ]
        self.allergies = found.allergies_label
        self.two_person_blocked = found.two_person_blocked
        overrides = sum(1 for a in found.alerts if a.needs_resolution)
        self.meaning = verification.signature_meaning(found.prescription.rx_number, overrides)

    async def _find_prescribers(self, ctx: TenantContext, query: str) -> None:
        try:
            found = await transact(ctx, prescriber_service.find_prescribers, query)
        except PharmacyError as exc:
            self.error = exc.message
            return
        chosen = self.record.get("prescriber_id", "")
        choices = [
            Choice(p.id, p.label + (" — possible duplicate" if p.possible_duplicates else "")) for p in found.items
        ]
        if chosen and not any(c.id == chosen for c in choices):
            choices.insert(0, Choice(chosen, self.record.get("prescriber", "")))
        self.prescribers = choices

    @rx.event
    @guarded("prescriptions.enter")
    async def search_prescribers(self, ctx: TenantContext, form: dict[str, Any]) -> None:
        self.prescriber_query = str(form.get("prescriber_q", ""))
        await self._find_prescribers(ctx, self.prescriber_query)

    @rx.event
    @guarded("prescribers.manage")
    async def add_prescriber(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        fields = {k: str(form.get(k, "")) for k in ("full_name", "credentials", "npi", "dea_number", "phone")}
        try:
            created = await transact(ctx, prescriber_service.create_prescriber, **fields)
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self.error = ""
        self.record = {**self.record, "prescriber_id": created.id, "prescriber": created.label}
        await self._find_prescribers(ctx, created.full_name)
        self.form_key += 1
        if created.possible_duplicates:
            return rx.toast.warning(f"Possible duplicate of {', '.join(created.possible_duplicates)}.")
        return rx.toast.success(f"{created.full_name} added.")

    @rx.event
    @guarded("prescriptions.enter")
    async def find_medicine(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """The drug matcher: catalog medicines that may be dispensed for what was written."""
        drug, strength = str(form.get("drug_written", "")), str(form.get("strength", ""))
        try:
            found = await transact(ctx, service.match_medicines, drug, strength, daw=bool(form.get("daw")))
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self.record = {**self.record, "drug_written": drug, "strength": strength}
        self.medicine_choices = [Choice(c.id, f"{c.label} — {c.note}") for c in found]
        if not found:
            self.error = f"No catalog medicine matches {drug} {strength}".strip() + " (same ingredients and release)."
            return None
        self.error = ""
        self.record = {**self.record, "medicine_id": found[0].id}
        self.form_key += 1
        return None

    @rx.event
    @guarded("prescriptions.enter")
    async def save(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        fields = {name: form.get(name, "") for name in service.ENTRY_FIELDS}
        fields["daw"] = bool(form.get("daw"))
        changed = any(
            str(fields[name]).strip() != self.record.get(key, "")
            for name, key in (("quantity", "quantity"), ("sig_written", "sig_written"), ("medicine_id", "medicine_id"))
        )
        if changed and str(fields["days_supply"]).strip() == self.record.get("days_supply", ""):
            del fields["days_supply"]  # left as it was: computed again from the new sig or quantity
        try:
            record = await transact(ctx, service.save_entry, self.rx_id, **fields)
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self.error = ""
        self._show(record)
        self.form_key += 1
        return rx.toast.success("Saved.")

    @rx.event
    @guarded("prescriptions.enter")
    async def submit(self, ctx: TenantContext) -> Any:
        try:
            record = await transact(ctx, service.submit_for_verification, self.rx_id)
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self.error = ""
        self._show(record)
        return [rx.toast.success(f"{record.rx_number} sent for verification."), rx.redirect(routes.PRESCRIPTIONS)]

    @rx.event
    @guarded("prescriptions.verify")
    async def verify(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """Sign with the password, then verify with the override reasons, in that order: a wrong password
        signs nothing and verifies nothing; a missing reason is refused before anything is signed."""
        overrides = {
            a.code: str(form.get(f"override-{i}", "")) for i, a in enumerate(self.alerts) if a.needs_resolution
        }
        short = [
            a
            for a in self.alerts
            if a.needs_resolution and len(" ".join(overrides[a.code].split())) < verification.MIN_OVERRIDE_REASON
        ]
        if short:
            self.error = (
                f"Give a reason (at least {verification.MIN_OVERRIDE_REASON} characters) for overriding the "
                f"{short[0].severity} {short[0].type} alert ({short[0].with_}), or hold or cancel the prescription."
            )
            return None
        try:
            signature = await sign_with_password(
                ctx, form, meaning=self.meaning, entity_type="prescription", entity_id=self.rx_id
            )
            record = await transact(ctx, verification.verify, self.rx_id, signature_id=signature, overrides=overrides)
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self.error = ""
        await self._reload(ctx)
        await self._load_signed(ctx)
        return rx.toast.success(f"{record.rx_number} verified.")

    @rx.event
    @guarded("prescriptions.enter")
    async def hold(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        waiting = str(form.get("kind", "")) == "prescriber"
        try:
            record = await transact(
                ctx, service.hold, self.rx_id, str(form.get("reason", "")), waiting_prescriber=waiting
            )
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self.error = ""
        self._show(record)
        return rx.toast.success(record.status.label + ".")

    @rx.event
    @guarded("prescriptions.enter")
    async def resume(self, ctx: TenantContext) -> Any:
        try:
            await transact(ctx, service.resume, self.rx_id)
        except PharmacyError as exc:
            self.error = exc.message
            return None
        await self._reload(ctx)
        return None

    @rx.event
    @guarded("prescriptions.verify")
    async def return_to_entry(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        try:
            record = await transact(ctx, service.return_to_entry, self.rx_id, str(form.get("reason", "")))
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self.error, self.alerts = "", []
        self._show(record)
        return None

    @rx.event
    @guarded("prescriptions.cancel")
    async def cancel(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        try:
            record = await transact(ctx, service.cancel, self.rx_id, str(form.get("reason", "")))
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self.error = ""
        self._show(record)
        return rx.toast.success(f"{record.rx_number} cancelled.")


SOURCES = [(s.value, s.label) for s in RxSource.at_intake()]
# The incoming transfer form: the other pharmacy and its record of the prescription (prescriber and catalog
# medicine are chosen in data entry, as for any prescription).
INCOMING_FIELDS = (
    "pharmacy_name",
    "pharmacy_address",
    "pharmacy_phone",
    "pharmacy_npi",
    "pharmacy_dea",
    "other_pharmacist",
    "other_rx_number",
    "drug_written",
    "sig_written",
    "quantity",
    "days_supply",
    "date_written",
    "refills_authorized",
    "refills_remaining",
    "first_filled_on",
    "last_filled_on",
)
CLOSED = frozenset(s.value for s in RxStatus.closed())
TRANSFERABLE = frozenset(s.value for s in RxStatus.transferable())
