"""Refills and transfers on the prescription page: refills left, the refill request, auto-refill, renewal
requests, and the pharmacist's transfer to another branch or pharmacy."""

import reflex as rx

from components.forms import form_alert
from pharmacy_saas.state.prescriptions import RxState
from pharmacy_saas.state.refills import RefillState, RenewalRow, TransferRow


def renewal_row(row: RenewalRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.when),
        rx.table.cell(row.reason),
        rx.table.cell(row.status),
        rx.table.cell(row.who),
        rx.table.cell(
            rx.cond(
                row.renewed_as != "",
                rx.link(row.answer, href="/prescriptions/rx?id=" + row.renewed_as, class_name="renewal-new-rx"),
                rx.text(row.answer),
            )
        ),
        class_name="renewal-row",
    )


def transfer_row(row: TransferRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.when),
        rx.table.cell(row.kind),
        rx.table.cell(row.where),
        rx.table.cell(row.pharmacists),
        rx.table.cell(row.refills),
        class_name="transfer-row",
    )


def renewal_answer_form() -> rx.Component:
    """The prescriber's answer to the open renewal request (a pharmacist records it)."""
    return rx.form(
        rx.vstack(
            rx.text("The prescriber's answer", size="2", weight="bold"),
            rx.hstack(
                rx.el.select(
                    rx.el.option("Approved: a new prescription", value="approved"),
                    rx.el.option("Denied", value="denied"),
                    name="decision",
                    id="renewal-decision",
                ),
                rx.el.select(
                    *[rx.el.option(label, value=value) for value, label in RENEWAL_SOURCES],
                    name="source",
                    id="renewal-source",
                ),
                rx.input(name="quantity", id="renewal-quantity", placeholder="Quantity authorised", width="10em"),
                rx.input(name="refills", id="renewal-refills", placeholder="Refills authorised", width="10em"),
                rx.input(name="reason", id="renewal-reason", placeholder="Reason (when denied)", width="18em"),
                rx.button("Record answer", type="submit", id="renewal-submit"),
                align="center",
                wrap="wrap",
            ),
            form_alert(RefillState.renewal_error, "renewal-error"),
            spacing="2",
        ),
        on_submit=RefillState.answer_renewal,
        reset_on_submit=False,
    )


RENEWAL_SOURCES = (("electronic", "Electronic"), ("fax", "Fax"), ("phone", "Phone"))


def refill_form() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.el.select(
                rx.el.option("Asked at the pharmacy", value="staff"),
                rx.el.option("The patient phoned", value="phone"),
                name="source",
                id="refill-source",
            ),
            rx.el.label(
                rx.el.input(type="checkbox", name="partial", id="refill-partial"),
                " Fill what is on hand and owe the rest",
            ),
            rx.button("Request refill", type="submit", id="refill-submit"),
            align="center",
            wrap="wrap",
        ),
        on_submit=RefillState.request_refill,
    )


def refill_card() -> rx.Component:
    """Refills left and the next refill date to everyone who sees the prescription; the request to those who
    may ask for one; auto-refill to those who enter prescriptions."""
    return rx.cond(
        RefillState.refills_left != "",
        rx.card(
            rx.vstack(
                rx.heading("Refills", size="4"),
                rx.hstack(
                    rx.text("Refills left: ", rx.text.strong(RefillState.refills_left, id="rx-refills-left"), size="2"),
                    rx.cond(
                        RefillState.next_refill != "",
                        rx.text(
                            "· may be refilled from ",
                            rx.el.span(RefillState.next_refill, id="rx-next-refill"),
                            size="2",
                        ),
                    ),
                    wrap="wrap",
                ),
                rx.cond(
                    RefillState.can_auto,
                    rx.el.label(
                        rx.el.input(
                            type="checkbox",
                            id="rx-auto-refill",
                            checked=RefillState.auto_refill,
                            on_change=RefillState.set_auto_refill,
                        ),
                        " Auto-refill when due",
                    ),
                ),
                form_alert(RefillState.refill_error, "refill-error"),
                rx.cond(RefillState.refill_note != "", rx.text(RefillState.refill_note, size="2", id="refill-note")),
                # A final check made on this page since it loaded makes a checked prescription refillable.
                rx.cond(
                    RefillState.can_refill & (RefillState.requestable | (RxState.status == "ready_for_pickup")),
                    refill_form(),
                ),
                rx.cond(
                    RefillState.renewals.length() > 0,
                    rx.vstack(
                        rx.text("Renewal requests to the prescriber", size="2", weight="bold"),
                        rx.table.root(
                            rx.table.header(
                                rx.table.row(
                                    *[
                                        rx.table.column_header_cell(h)
                                        for h in ("Asked", "Why", "Status", "By", "Prescriber's answer")
                                    ]
                                )
                            ),
                            rx.table.body(rx.foreach(RefillState.renewals, renewal_row)),
                            width="100%",
                            size="1",
                            id="rx-renewals",
                        ),
                        rx.cond(RefillState.can_renew & (RefillState.open_renewal_id != ""), renewal_answer_form()),
                        width="100%",
                    ),
                ),
                width="100%",
                spacing="2",
            ),
            width="100%",
        ),
    )


def _other_pharmacy_form() -> rx.Component:
    inputs = [
        ("pharmacy_name", "Pharmacy name", "14em"),
        ("pharmacy_address", "Address", "20em"),
        ("pharmacy_phone", "Phone", "9em"),
        ("pharmacy_npi", "NPI", "8em"),
        ("pharmacy_dea", "DEA (controlled)", "9em"),
        ("other_pharmacist", "Their pharmacist", "12em"),
    ]
    return rx.form(
        rx.vstack(
            rx.text("To another pharmacy (void here once sent)", size="2", weight="bold"),
            rx.hstack(
                *[
                    rx.input(name=name, id=f"transfer-{name.replace('_', '-')}", placeholder=hint, width=width)
                    for name, hint, width in inputs
                ],
                wrap="wrap",
            ),
            rx.button("Transfer out", type="submit", id="transfer-out-submit", color_scheme="orange"),
            spacing="2",
        ),
        on_submit=RefillState.transfer_out,
        key=RefillState.transfer_form_key,
    )


def transfer_card(transferable: rx.Var) -> rx.Component:
    """The transfers recorded, to everyone; the transfer forms to a pharmacist while it may be transferred."""
    return rx.cond(
        (RefillState.can_transfer & transferable) | (RefillState.transfers.length() > 0),
        rx.card(
            rx.vstack(
                rx.heading("Transfers", size="4"),
                form_alert(RefillState.transfer_error, "transfer-error"),
                rx.cond(
                    RefillState.can_transfer & transferable,
                    rx.vstack(
                        rx.form(
                            rx.hstack(
                                rx.text("To another branch", size="2", weight="bold"),
                                rx.el.select(
                                    rx.foreach(RefillState.branch_choices, lambda b: rx.el.option(b[1], value=b[0])),
                                    name="branch_id",
                                    id="transfer-branch",
                                ),
                                rx.button("Move", type="submit", variant="soft", id="transfer-branch-submit"),
                                align="center",
                            ),
                            on_submit=RefillState.transfer_to_branch,
                        ),
                        _other_pharmacy_form(),
                        width="100%",
                        spacing="3",
                    ),
                ),
                rx.cond(
                    RefillState.transfers.length() > 0,
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(
                                *[
                                    rx.table.column_header_cell(h)
                                    for h in ("Date", "Transfer", "Where", "Pharmacists", "Refills")
                                ]
                            )
                        ),
                        rx.table.body(rx.foreach(RefillState.transfers, transfer_row)),
                        width="100%",
                        size="1",
                        id="rx-transfers",
                    ),
                ),
                width="100%",
                spacing="2",
            ),
            width="100%",
        ),
    )
