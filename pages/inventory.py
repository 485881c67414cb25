"""Inventory: the catalog (server-side search, sort, paging), receiving by barcode, a medicine's stock."""

import reflex as rx

from components.forms import form_alert, text_field
from pages.reorder import medicine_levels_card
from pages.shell import with_shell
from pharmacy_saas import routes
from pharmacy_saas.state.inventory import CORRECTION_REASON_HINT, InventoryState, MedicineState


def medicine_row(m: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(m["name"], href="/inventory/medicine?id=" + m["id"].to(str), weight="medium"),
            rx.text(m["brand"], " ", m["strength"], " ", m["form"], size="1", color_scheme="gray"),
        ),
        rx.table.cell(rx.code(m["barcode"])),
        rx.table.cell(rx.badge(m["schedule"])),
        rx.table.cell(m["on_hand"], class_name="on-hand"),
        rx.table.cell(m["price"]),
        class_name="medicine-row",
        data_barcode=m["barcode"],
    )


def receive_panel() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Receive stock into ", InventoryState.current_branch, size="4"),
            rx.form(
                rx.hstack(
                    text_field("Scan or type the barcode, then Enter", "barcode", auto_focus=True, auto_complete="off"),
                    align="end",
                    width="100%",
                ),
                on_submit=InventoryState.scan,
                reset_on_submit=True,
            ),
            rx.cond(
                InventoryState.receive_medicine_id != "",
                rx.form(
                    rx.vstack(
                        rx.text("Receiving ", rx.text.strong(InventoryState.receive_medicine_name, id="receiving")),
                        rx.hstack(
                            text_field("Lot number", "lot_number", required=True),
                            text_field("Expiry", "expiry_date", type="date", required=True),
                            text_field("Quantity", "quantity", type="number", min=1, required=True),
                            text_field("Cost per unit", "cost_price", placeholder="0.1200"),
                            width="100%",
                            wrap="wrap",
                        ),
                        rx.button("Receive", type="submit", id="receive-submit"),
                        width="100%",
                    ),
                    on_submit=InventoryState.receive,
                    reset_on_submit=True,
                ),
            ),
            form_alert(InventoryState.receive_error, "receive-error"),
            width="100%",
            spacing="3",
        ),
        width="100%",
    )


def inventory_page() -> rx.Component:
    return with_shell(
        rx.vstack(
            rx.hstack(
                rx.heading("Inventory", size="6", id="inventory-title"),
                rx.spacer(),
                rx.cond(
                    InventoryState.can_edit_catalog,
                    rx.link(rx.button("Add medicine", id="add-medicine"), href=routes.CATALOG_EDIT),
                ),
                rx.link(rx.button("CSV import / export", variant="soft"), href="/inventory/csv", id="csv-link"),
                rx.link(rx.button("Purchase orders", variant="soft"), href="/inventory/orders"),
                rx.link(rx.button("Stock alerts", variant="soft"), href="/inventory/alerts"),
                rx.link(rx.button("Reorder levels", variant="soft"), href=routes.REORDER, id="reorder-link"),
                rx.cond(
                    InventoryState.can_trace,
                    rx.link(rx.button("Recall trace", variant="soft"), href=routes.RECALL_TRACE, id="recall-link"),
                ),
                width="100%",
            ),
            rx.cond(InventoryState.can_receive, receive_panel()),
            rx.hstack(
                rx.form(
                    rx.hstack(
                        rx.input(name="q", placeholder="Search name, brand or barcode", id="catalog-search"),
                        rx.button("Search", type="submit"),
                    ),
                    on_submit=InventoryState.search,
                ),
                rx.spacer(),
                rx.select(
                    ["name", "on_hand", "price"],
                    value=InventoryState.sort,
                    on_change=InventoryState.sort_by,
                    aria_label="Sort by",
                ),
                width="100%",
            ),
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(h)
                            for h in ("Medicine", "Barcode", "Schedule", "On hand", "Price")
                        ]
                    )
                ),
                rx.table.body(rx.foreach(InventoryState.medicines, medicine_row)),
                width="100%",
            ),
            rx.hstack(
                rx.button(
                    "Previous", variant="soft", disabled=InventoryState.page == 0, on_click=InventoryState.turn_page(-1)
                ),
                rx.button(
                    "Next", variant="soft", disabled=~InventoryState.has_more, on_click=InventoryState.turn_page(1)
                ),
            ),
            spacing="4",
            width="100%",
        )
    )


def stock_actions() -> rx.Component:
    return rx.vstack(
        form_alert(MedicineState.action_error, "stock-action-error"),
        rx.cond(
            MedicineState.can_adjust,
            rx.form(
                rx.hstack(
                    rx.select(MedicineState.batch_choices, name="batch", placeholder="Batch", id="adjust-batch"),
                    rx.select(
                        MedicineState.correction_kinds, name="kind", default_value="Count correction", id="adjust-kind"
                    ),
                    text_field(
                        "Quantity (count correction: signed, e.g. -2)", "adjust_change", name="change", required=True
                    ),
                    text_field("Reason", "adjust_reason", name="reason", required=True, hint=CORRECTION_REASON_HINT),
                    rx.button("Record", type="submit", variant="soft", id="adjust-submit"),
                    align="end",
                    wrap="wrap",
                    width="100%",
                ),
                on_submit=MedicineState.adjust,
                reset_on_submit=True,
            ),
        ),
        rx.cond(
            MedicineState.can_transfer,
            rx.form(
                rx.hstack(
                    rx.select(MedicineState.batch_choices, name="batch", placeholder="Batch", id="transfer-batch"),
                    rx.select(
                        MedicineState.other_branches, name="to_branch", placeholder="To branch", id="transfer-branch"
                    ),
                    text_field("Quantity", "transfer_quantity", name="quantity", type="number", min=1, required=True),
                    rx.button("Transfer", type="submit", variant="soft", id="transfer-submit"),
                    align="end",
                    wrap="wrap",
                    width="100%",
                ),
                on_submit=MedicineState.transfer,
                reset_on_submit=True,
            ),
        ),
        width="100%",
        spacing="3",
    )


def medicine_page() -> rx.Component:
    return with_shell(
        rx.vstack(
            rx.hstack(
                rx.heading(MedicineState.medicine["name"], size="6", id="medicine-title"),
                rx.cond(MedicineState.medicine["inactive"], rx.badge(MedicineState.medicine["inactive"])),
                rx.spacer(),
                rx.cond(
                    MedicineState.can_edit_catalog,
                    rx.link(
                        rx.button("Edit", variant="soft"),
                        href=routes.CATALOG_EDIT + "?id=" + MedicineState.medicine["id"],
                        id="edit-medicine",
                    ),
                ),
                align="center",
                width="100%",
            ),
            rx.text(
                MedicineState.medicine["brand"],
                " · ",
                MedicineState.medicine["schedule"],
                " · barcode ",
                MedicineState.medicine["barcode"],
                color_scheme="gray",
            ),
            rx.text(
                "On hand: ",
                rx.text.strong(MedicineState.medicine["on_hand"], id="medicine-on-hand"),
                " ",
                MedicineState.medicine["unit"],
            ),
            rx.heading("Batches", size="4"),
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[rx.table.column_header_cell(h) for h in ("Branch", "Lot", "Expiry", "Quantity", "State", "")]
                    )
                ),
                rx.table.body(
                    rx.foreach(
                        MedicineState.batches,
                        lambda b: rx.table.row(
                            rx.table.cell(b["branch"]),
                            rx.table.cell(b["lot"]),
                            rx.table.cell(b["expiry"]),
                            rx.table.cell(b["quantity"]),
                            rx.table.cell(rx.badge(b["state"])),
                            rx.table.cell(
                                rx.cond(
                                    MedicineState.can_trace,
                                    rx.link(
                                        "Who received this lot",
                                        href=routes.RECALL_TRACE + "?batch=" + b["id"].to(str),
                                        size="1",
                                        class_name="batch-recall",
                                    ),
                                )
                            ),
                            class_name="batch-row",
                        ),
                    )
                ),
                width="100%",
            ),
            stock_actions(),
            medicine_levels_card(),
            rx.heading("Movements", size="4"),
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[rx.table.column_header_cell(h) for h in ("When", "Kind", "Quantity", "Lot", "Branch", "Note")]
                    )
                ),
                rx.table.body(
                    rx.foreach(
                        MedicineState.movements,
                        lambda m: rx.table.row(
                            rx.table.cell(m["when"]),
                            rx.table.cell(m["kind"]),
                            rx.table.cell(m["quantity"]),
                            rx.table.cell(m["lot"]),
                            rx.table.cell(m["branch"]),
                            rx.table.cell(m["note"]),
                            class_name="movement-row",
                        ),
                    )
                ),
                width="100%",
            ),
            spacing="4",
            width="100%",
        )
    )
