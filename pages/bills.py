"""The bills list: filters (number, days, branch, status, amount, patient, order), one page of bills, paging."""

import reflex as rx

from components.forms import form_alert
from components.tables import data_table
from pages.shell import with_shell
from pharmacy_saas import routes
from pharmacy_saas.state.bills import BillRow, BillsState, Choice


def option(choice: Choice) -> rx.Component:
    return rx.el.option(choice.label, value=choice.value)


def branch_option(name: str) -> rx.Component:
    return rx.el.option(name, value=name)


def status_badge(row: BillRow) -> rx.Component:
    return rx.badge(
        row.status_label,
        color_scheme=row.status_colour,
        class_name="bill-status",
    )


def bill_row(row: BillRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(row.number, href=f"{routes.BILL_VIEW}?id=" + row.id, class_name="bill-link")),
        rx.table.cell(row.when, class_name="bill-when"),
        rx.table.cell(row.branch),
        rx.table.cell(row.customer),
        rx.table.cell(status_badge(row)),
        rx.table.cell(row.total, class_name="bill-total", text_align="right"),
        rx.table.cell(row.outstanding, text_align="right"),
        class_name="bill-row",
    )


def labelled(label: str, control: rx.Component) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", color_scheme="gray"), control, spacing="1")


def filter_form() -> rx.Component:
    return rx.form(
        rx.hstack(
            labelled(
                "Bill number",
                rx.input(
                    name="number",
                    id="bills-number",
                    default_value=BillsState.number,
                    placeholder="B1-2026-000123 or its start",
                    auto_complete="off",
                    width="15em",
                ),
            ),
            labelled("From", rx.input(type="date", name="start", id="bills-start", default_value=BillsState.start)),
            labelled("To", rx.input(type="date", name="end", id="bills-end", default_value=BillsState.end)),
            labelled(
                "Branch",
                rx.el.select(
                    rx.foreach(BillsState.branch_choices, branch_option),
                    name="branch",
                    id="bills-branch",
                    default_value=BillsState.branch_choice,
                ),
            ),
            labelled(
                "Status",
                rx.el.select(
                    rx.foreach(BillsState.status_choices, option),
                    name="status",
                    id="bills-status",
                    default_value=BillsState.status,
                ),
            ),
            labelled(
                "Amount from",
                rx.input(
                    name="min_amount",
                    id="bills-min",
                    default_value=BillsState.min_amount,
                    input_mode="decimal",
                    width="7em",
                ),
            ),
            labelled(
                "to",
                rx.input(
                    name="max_amount",
                    id="bills-max",
                    default_value=BillsState.max_amount,
                    input_mode="decimal",
                    width="7em",
                ),
            ),
            rx.cond(
                BillsState.can_search_patients,
                labelled(
                    "Patient",
                    rx.input(
                        name="patient_query",
                        id="bills-patient",
                        default_value=BillsState.patient_query,
                        placeholder="Name, phone or date of birth",
                        auto_complete="off",
                        width="14em",
                    ),
                ),
            ),
            labelled(
                "Order",
                rx.el.select(
                    rx.foreach(BillsState.sort_choices, option),
                    name="sort",
                    id="bills-sort",
                    default_value=BillsState.sort,
                ),
            ),
            rx.button("Search", type="submit", id="bills-search"),
            rx.button("Clear", type="button", variant="soft", on_click=BillsState.clear, id="bills-clear"),
            spacing="3",
            align="end",
            wrap="wrap",
        ),
        on_submit=BillsState.search,
        key=BillsState.form_key,  # remounted when a link or Clear changes the filters
        width="100%",
    )


def patient_banner() -> rx.Component:
    return rx.callout(
        rx.hstack(
            rx.text("Purchases of ", rx.text.strong(BillsState.patient_name, id="bills-patient-name")),
            rx.button("Show every bill", variant="ghost", size="1", on_click=BillsState.show_all_patients),
            align="center",
        ),
        icon="contact",
        color_scheme="blue",
        width="100%",
    )


def bills_page() -> rx.Component:
    return with_shell(
        rx.vstack(
            rx.heading("Bills", size="6", id="bills-title"),
            rx.text(
                "Days are the branch's local business days; times are shown in the branch's time zone.",
                size="2",
                color_scheme="gray",
            ),
            filter_form(),
            rx.cond(BillsState.patient_name != "", patient_banner()),
            form_alert(BillsState.error, "bills-error"),
            rx.cond(BillsState.searched, rx.text(BillsState.total_text, size="2", id="bills-count")),
            data_table(
                ("Number", "Date", "Branch", "Customer", "Status", "Amount due", "Owed"),
                rx.foreach(BillsState.rows, bill_row),
                table_id="bills-table",
            ),
            rx.hstack(
                rx.button(
                    "Previous",
                    variant="soft",
                    disabled=BillsState.page_no <= 1,
                    on_click=BillsState.previous_page,
                    id="bills-previous",
                ),
                rx.text("Page ", BillsState.page_no, size="2", id="bills-page"),
                rx.button(
                    "Next",
                    variant="soft",
                    disabled=~BillsState.has_next,
                    on_click=BillsState.next_page,
                    id="bills-next",
                ),
                align="center",
            ),
            width="100%",
            spacing="4",
        )
    )
