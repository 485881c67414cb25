"""/controlled: the controlled-substance register and the records around it, for the header's branch."""

import reflex as rx

from components.forms import form_alert
from components.tables import foreach_table
from pages.shell import with_shell
from pharmacy_saas.state.controlled import ControlledState

COUNT_RULE = (
    "CII: count exactly. CIII-CV: an estimate is allowed, unless the container holds more than 1,000 units, "
    "which are counted exactly. Every difference from the ledger needs an explanation."
)


def register_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        *[rx.table.cell(row[key]) for key in ("when", "medicine", "entry", "lot", "received", "issued")],
        rx.table.cell(rx.text.strong(row["balance"])),
        rx.table.cell(row["reference"]),
        rx.table.cell(row["by"]),
        class_name="register-row",
        data_kind=row["kind"],
    )


def register_tab() -> rx.Component:
    state = ControlledState
    return rx.vstack(
        rx.form(
            rx.hstack(
                rx.select(
                    state.medicine_names,
                    value=state.medicine_filter,
                    on_change=state.set_medicine_filter,
                    name="medicine",
                    id="register-medicine",
                ),
                rx.input(name="start", type="date", default_value=state.start, id="register-start", key=state.start),
                rx.input(name="end", type="date", default_value=state.end, id="register-end", key=state.end),
                rx.button("Show", type="submit", id="register-show"),
                rx.button("CSV", type="button", variant="soft", on_click=state.download_csv, id="register-csv"),
                rx.button("PDF", type="button", variant="soft", on_click=state.download_pdf, id="register-pdf"),
                align="center",
                width="100%",
                wrap="wrap",
            ),
            on_submit=state.filter,
            width="100%",
        ),
        rx.text(
            "Every receipt, dispensing, return, correction, loss and destruction of a scheduled medicine at this "
            "branch; the balance is the inventory ledger's.",
            size="2",
            color_scheme="gray",
        ),
        rx.cond(
            state.register_rows.length() > 0,
            foreach_table(
                ("When", "Medicine", "Entry", "Lot", "In", "Out", "Balance", "Fill / bill / reference", "By"),
                state.register_rows,
                register_row,
                "register-table",
            ),
            rx.text("No scheduled medicine moved or was on hand in this period.", id="register-empty"),
        ),
        width="100%",
        spacing="3",
    )


def sheet_row(line: rx.Var) -> rx.Component:
    key = line["id"].to(str)
    return rx.table.row(
        rx.table.cell(line["medicine"]),
        rx.table.cell(line["form"]),
        rx.table.cell(line["schedule"]),
        rx.table.cell(line["expected"], class_name="sheet-expected"),
        rx.table.cell(
            rx.input(
                name="counted_" + key, default_value=line["counted"].to(str), width="6em", class_name="sheet-count"
            )
        ),
        rx.table.cell(
            rx.cond(
                line["schedule"] != "CII",
                rx.el.input(
                    type="checkbox",
                    name="estimated_" + key,
                    default_checked=line["estimated"].to(bool),
                    class_name="sheet-estimated",
                ),  # fmt: skip
                rx.text("exact", size="1", color_scheme="gray"),
            )
        ),
        rx.table.cell(line["difference"], class_name="sheet-difference"),
        rx.table.cell(
            rx.input(
                name="explanation_" + key,
                default_value=line["explanation"].to(str),
                placeholder="Why it differs",
                width="18em",
                class_name="sheet-explanation",
            )
        ),
        class_name="sheet-row",
        data_medicine=line["medicine"],
    )


def inventory_tab() -> rx.Component:
    state = ControlledState
    return rx.vstack(
        rx.text(COUNT_RULE, size="2", color_scheme="gray"),
        rx.cond(
            state.inventory_id == "",
            rx.cond(
                state.can_record,
                rx.form(
                    rx.hstack(
                        rx.select(state.taken_at_choices, name="taken_at", default_value="Opening of business"),
                        rx.button("Start the biennial inventory", type="submit", id="inventory-start"),
                        wrap="wrap",
                    ),
                    on_submit=state.start_inventory,
                ),
                rx.text("No inventory is being counted."),
            ),
            rx.vstack(
                rx.text(state.inventory_title, id="inventory-title", size="2"),
                rx.form(
                    rx.vstack(
                        foreach_table(
                            (
                                "Medicine",
                                "Form",
                                "Schedule",
                                "Ledger",
                                "Counted",
                                "Estimate",
                                "Difference",
                                "Explanation",
                            ),
                            state.sheet,
                            sheet_row,
                            "sheet-table",
                        ),  # fmt: skip
                        rx.cond(
                            state.can_record,
                            rx.button("Save counts", type="submit", id="inventory-save"),
                        ),
                        width="100%",
                    ),
                    on_submit=state.save_counts,
                    key=state.sheet_version,
                    width="100%",
                ),
                rx.cond(
                    state.ready_to_sign & state.can_sign,
                    rx.form(
                        rx.vstack(
                            rx.text("You sign: ", rx.text.em(state.signature_meaning), size="2"),
                            rx.hstack(
                                rx.input(
                                    name="password",
                                    type="password",
                                    placeholder="Your password",
                                    id="inventory-password",
                                ),
                                rx.button("Sign the inventory", type="submit", id="inventory-sign"),
                                wrap="wrap",
                            ),  # fmt: skip
                        ),
                        on_submit=state.sign_inventory,
                        reset_on_submit=True,
                    ),
                ),
                rx.button(
                    "Count sheet PDF",
                    variant="soft",
                    on_click=state.download_inventory(state.inventory_id),
                    id="inventory-pdf",
                ),
                width="100%",
            ),
        ),
        rx.heading("Inventories", size="3"),
        foreach_table(
            ("Started", "Status", "Signed", ""),
            state.past_inventories,
            lambda i: rx.table.row(
                rx.table.cell(i["started"]),
                rx.table.cell(i["status"]),
                rx.table.cell(i["signed"]),
                rx.table.cell(rx.button("PDF", size="1", variant="soft", on_click=state.download_inventory(i["id"]))),
                class_name="inventory-row",
            ),
            "inventory-list",
        ),
        width="100%",
        spacing="3",
    )


def orders_tab() -> rx.Component:
    state = ControlledState
    return rx.vstack(
        rx.cond(
            state.can_record,
            rx.form(
                rx.hstack(
                    rx.select(state.order_forms, name="form", default_value="DEA Form 222"),
                    rx.input(name="order_number", placeholder="Form 222 serial / CSOS number", id="order-number"),
                    rx.input(name="supplier", placeholder="Supplier", id="order-supplier"),
                    rx.select(state.cii_names, name="medicine", placeholder="CII medicine"),
                    rx.input(name="quantity", placeholder="Quantity", width="7em", id="order-quantity"),
                    rx.button("Record order", type="submit", id="order-create"),
                    wrap="wrap",
                ),
                on_submit=state.create_order,
                key=state.form_key,
            ),
        ),
        foreach_table(
            ("Order", "Supplier", "Ordered", "Received vs ordered", "Receive"),
            state.order_rows,
            lambda o: rx.table.row(
                rx.table.cell(o["number"]),
                rx.table.cell(o["supplier"]),
                rx.table.cell(o["ordered_on"]),
                rx.table.cell(o["lines"]),
                rx.table.cell(
                    rx.cond(
                        (o["complete"] == "") & state.can_record,
                        rx.form(
                            rx.hstack(
                                rx.el.input(type="hidden", name="order_id", value=o["id"]),
                                rx.el.input(type="hidden", name="medicine_id", value=o["medicine_id"]),
                                rx.input(name="lot_number", placeholder="Lot", width="7em"),
                                rx.input(name="expiry_date", type="date", width="10em"),
                                rx.input(name="quantity", placeholder="Qty", width="5em"),
                                rx.button("Receive", type="submit", size="1"),
                            ),
                            on_submit=state.receive_order,
                            key=state.form_key,
                        ),
                    )
                ),
                class_name="order-row",
            ),
            "order-list",
        ),
        width="100%",
        spacing="3",
    )


def loss_tab() -> rx.Component:
    state = ControlledState
    return rx.vstack(
        rx.cond(
            state.can_record,
            rx.form(
                rx.vstack(
                    rx.hstack(
                        rx.input(name="discovered_on", type="date", id="loss-date"),
                        rx.select(state.loss_types, name="loss_type", placeholder="Type of theft or loss"),
                        rx.select(state.scheduled_names, name="medicine", placeholder="Medicine"),
                        rx.input(name="quantity", placeholder="Quantity lost", width="8em"),
                        wrap="wrap",
                    ),
                    rx.input(name="details", placeholder="What happened", width="100%"),
                    rx.hstack(
                        rx.el.label(rx.el.input(type="checkbox", name="police_notified"), " Police notified"),
                        rx.input(name="police_report", placeholder="Police report number"),
                        rx.button("Record and take the stock out", type="submit", id="loss-create"),
                        wrap="wrap",
                        align="center",
                    ),
                    width="100%",
                ),
                on_submit=state.report_loss,
                key=state.form_key,
                width="100%",
            ),
        ),
        foreach_table(
            ("Report", "Discovered", "Type", "Lost", ""),
            state.loss_rows,
            lambda r: rx.table.row(
                rx.table.cell(r["number"]),
                rx.table.cell(r["discovered"]),
                rx.table.cell(r["type"]),
                rx.table.cell(r["lines"]),
                rx.table.cell(
                    rx.button("Form 106 PDF", size="1", variant="soft", on_click=state.download_loss(r["id"]))
                ),
                class_name="loss-row",
            ),
            "loss-list",
        ),
        width="100%",
        spacing="3",
    )


def pmp_tab() -> rx.Component:
    state = ControlledState
    return rx.vstack(
        rx.text(
            rx.cond(state.registration != "", state.registration, "No DEA number and NPI recorded for this branch."),
            id="pmp-registration",
        ),
        rx.cond(
            state.can_record,
            rx.form(
                rx.hstack(
                    rx.input(name="dea_number", placeholder="DEA number"),
                    rx.input(name="npi", placeholder="NPI"),
                    rx.input(name="ncpdp", placeholder="NCPDP (optional)"),
                    rx.input(name="state", placeholder="State", width="5em"),
                    rx.button("Save registration", type="submit", variant="soft"),
                    wrap="wrap",
                ),
                on_submit=state.save_registration,
            ),
        ),
        rx.form(
            rx.hstack(
                rx.input(name="day", type="date", default_value=state.pmp_day, key=state.pmp_day, id="pmp-day"),
                rx.button("Download the ASAP 4.2 file", type="submit", id="pmp-download"),
                wrap="wrap",
            ),
            on_submit=state.download_asap,
        ),
        width="100%",
        spacing="3",
    )


def controlled_page() -> rx.Component:
    state = ControlledState
    return with_shell(
        rx.vstack(
            rx.heading("Controlled substances at ", state.branch_name, size="6", id="controlled-title"),
            form_alert(state.error, "controlled-error"),
            rx.tabs.root(
                rx.tabs.list(
                    rx.tabs.trigger("Register", value="register", id="tab-register"),
                    rx.tabs.trigger("Biennial inventory", value="inventory", id="tab-inventory"),
                    rx.tabs.trigger("CII orders", value="orders", id="tab-orders"),
                    rx.tabs.trigger("Theft or loss", value="loss", id="tab-loss"),
                    rx.tabs.trigger("PMP export", value="pmp", id="tab-pmp"),
                    # Five tabs do not fit a phone or a portrait tablet: they wrap instead of hiding off the edge.
                    flex_wrap="wrap",
                ),
                rx.tabs.content(register_tab(), value="register", padding_top="1em"),
                rx.tabs.content(inventory_tab(), value="inventory", padding_top="1em"),
                rx.tabs.content(orders_tab(), value="orders", padding_top="1em"),
                rx.tabs.content(loss_tab(), value="loss", padding_top="1em"),
                rx.tabs.content(pmp_tab(), value="pmp", padding_top="1em"),
                value=state.tab,
                on_change=state.choose_tab,
                width="100%",
            ),
            width="100%",
            spacing="3",
        )
    )
