"""The bills list (/bills): find a bill by number, local days, patient, amount and status, a page at a time.

Links fill the filters from the address: the Reports page opens a day of a branch
(`?branch=<id>&start=<day>&end=<day>`), a patient record the patient's purchases (`?patient=<id>`).
The service checks every filter; only one page of rows is ever in the state, and the cursors of the
pages shown so far stay on the server (`_cursors`), so Previous is as cheap as Next.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from backend.billing.bills.search import PAGE_SIZE, SORTS, STATUS_WORDS, BillListItem, BillsPage, search_bills
from backend.billing.statuses import BillStatus
from backend.core.errors import PharmacyError
from pharmacy_saas.state.base import guarded, transact
from pharmacy_saas.state.dashboard import ShellState
from pharmacy_saas.state.display import display_money, display_time
from tenants.context import TenantContext
from tenants.roles import role_has

ALL_BRANCHES = "All my branches"
STATUS_COLOURS = {
    BillStatus.DRAFT: "gray",
    BillStatus.FINALIZED: "amber",
    BillStatus.PARTIALLY_PAID: "amber",
    BillStatus.PAID: "green",
    BillStatus.VOIDED: "red",
    BillStatus.PARTIALLY_REFUNDED: "violet",
    BillStatus.REFUNDED: "violet",
}
SORT_LABELS = {
    "newest": "Newest first",
    "oldest": "Oldest first",
    "highest": "Largest amount",
    "lowest": "Smallest amount",
}


@dataclasses.dataclass
class BillRow:
    id: str
    number: str
    when: str  # in the branch's time zone
    branch: str
    customer: str
    status: str
    status_label: str
    status_colour: str
    total: str
    outstanding: str


@dataclasses.dataclass
class Choice:
    value: str
    label: str


def _row(item: BillListItem) -> BillRow:
    owed = display_money(item.outstanding, item.currency) if item.outstanding > 0 else ""
    return BillRow(
        id=item.id,
        number=item.number or "Draft",
        when=display_time(item.issued_at, item.time_zone),
        branch=item.branch_code,
        customer=item.patient_name or item.customer_name or "Walk-in",
        status=str(item.status),
        status_label=item.status_label,
        status_colour=STATUS_COLOURS.get(item.status, "gray"),
        total=display_money(item.total_due, item.currency),
        outstanding=owed,
    )


class BillsState(ShellState):
    # The filters as the form shows them.
    branch_choice: str = ""
    number: str = ""
    start: str = ""
    end: str = ""
    status: str = ""
    min_amount: str = ""
    max_amount: str = ""
    patient_query: str = ""
    sort: str = "newest"
    patient_id: str = ""  # from a patient record's link
    patient_name: str = ""
    can_search_patients: bool = False
    form_key: int = 0  # bumped when the filters change from outside the form, so its fields show them
    # One page of results.
    rows: list[BillRow] = []
    page_no: int = 1
    has_next: bool = False
    total_text: str = ""
    searched: bool = False
    error: str = ""
    # Server-only: the cursor that opened each page shown so far ("" = the first), the next page's,
    # and the first page's count (the service counts with the first page only).
    _cursors: list[str] = []
    _next: str = ""

    @rx.var
    def branch_choices(self) -> list[str]:
        return [ALL_BRANCHES, *[b["name"] for b in self.branches]]

    @rx.var
    def status_choices(self) -> list[Choice]:
        return [Choice("", "Any status"), *[Choice(code, word) for code, word in STATUS_WORDS.items()]]

    @rx.var
    def sort_choices(self) -> list[Choice]:
        return [Choice(name, SORT_LABELS[name]) for name in SORTS]

    @rx.event
    @guarded("billing.view", page_load=True)
    async def load(self, ctx: TenantContext) -> None:
        """on_load: filters from the address (a report's day, a patient's purchases), else the header's branch."""
        await self._fill_shell(ctx)
        self.can_search_patients = role_has(ctx.role, "patients.view")
        params = self.router.url.query_parameters
        self.number, self.status, self.min_amount, self.max_amount, self.patient_query = "", "", "", "", ""
        self.start, self.end = str(params.get("start", ""))[:10], str(params.get("end", ""))[:10]
        self.sort, self.patient_name = "newest", ""
        self.patient_id = str(params.get("patient", ""))
        branch_id = str(params.get("branch", ""))
        named = next((b["name"] for b in self.branches if b["id"] == branch_id), "")
        if named:
            self.branch_choice = self.current_branch = named  # the header shows the branch listed
        elif branch_id:
            self.branch_choice = branch_id  # not one of the member's: the service answers "No such branch."
        else:
            # A patient's purchases are wherever they bought; otherwise the branch the header is on.
            self.branch_choice = ALL_BRANCHES if self.patient_id else self.current_branch
        self.form_key += 1
        await self._first_page(ctx)

    @rx.event
    @guarded("billing.view")
    async def search(self, ctx: TenantContext, form: dict[str, Any]) -> None:
        """The filter form: every field is checked by the service; a bad one shows its message."""
        self.branch_choice = str(form.get("branch", self.branch_choice))
        self.number = str(form.get("number", ""))[:60]
        self.start, self.end = str(form.get("start", ""))[:10], str(form.get("end", ""))[:10]
        self.status = str(form.get("status", ""))
        self.min_amount, self.max_amount = str(form.get("min_amount", ""))[:20], str(form.get("max_amount", ""))[:20]
        self.patient_query = str(form.get("patient_query", ""))[:100] if self.can_search_patients else ""
        self.sort = str(form.get("sort", "newest"))
        await self._first_page(ctx)

    @rx.event
    @guarded("billing.view")
    async def show_all_patients(self, ctx: TenantContext) -> None:
        """Leave a patient's purchases for every bill of the branches chosen."""
        self.patient_id = self.patient_name = ""
        await self._first_page(ctx)

    @rx.event
    @guarded("billing.view")
    async def clear(self, ctx: TenantContext) -> None:
        self.number = self.start = self.end = self.status = self.min_amount = self.max_amount = ""
        self.patient_query = self.patient_id = self.patient_name = ""
        self.sort, self.branch_choice = "newest", self.current_branch
        self.form_key += 1
        await self._first_page(ctx)

    @rx.event
    @guarded("billing.view")
    async def next_page(self, ctx: TenantContext) -> None:
        if self._next:
            await self._show(ctx, self._next)

    @rx.event
    @guarded("billing.view")
    async def previous_page(self, ctx: TenantContext) -> None:
        if len(self._cursors) > 1:
            self._cursors = self._cursors[:-1]
            await self._show(ctx, self._cursors[-1], back=True)

    # --- helpers ----------------------------------------------------------------------------------

    def _filters(self) -> dict[str, Any]:
        branch = "" if self.branch_choice == ALL_BRANCHES else self.branch_choice
        branch_id = next((b["id"] for b in self.branches if b["name"] == branch), branch)
        return {
            "branch_id": branch_id,
            "number": self.number,
            "start": self.start,
            "end": self.end,
            "status": self.status,
            "min_amount": self.min_amount,
            "max_amount": self.max_amount,
            "patient_id": self.patient_id,
            "patient_name": self.patient_query,
            "sort": self.sort,
        }

    async def _first_page(self, ctx: TenantContext) -> None:
        self._cursors = []
        await self._show(ctx, "")

    async def _show(self, ctx: TenantContext, cursor: str, *, back: bool = False) -> None:
        try:
            page: BillsPage = await transact(ctx, search_bills, after=cursor, limit=PAGE_SIZE, **self._filters())
        except PharmacyError as exc:
            self.error, self.rows, self.has_next, self.total_text, self._next = exc.message, [], False, "", ""
            return
        if not back:
            self._cursors = [*self._cursors, cursor]
        self.error, self.searched = "", True
        self.rows = [_row(item) for item in page.items]
        self.page_no = len(self._cursors)
        self._next = page.next_cursor or ""
        self.has_next = page.next_cursor is not None
        if page.patient_name is not None:
            self.patient_name = page.patient_name
        if page.total is not None:  # the first page: the count for the whole search
            self.total_text = _count_text(page.total, page.total_capped)


def _count_text(total: int, capped: bool) -> str:
    if total == 0:
        return "No bills match."
    if capped:
        return f"{total:,} or more bills match."
    return "1 bill matches." if total == 1 else f"{total:,} bills match."
