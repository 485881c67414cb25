"""Suppliers and purchase orders."""

import reflex as rx

from components.forms import form_alert, text_field
from pages.shell import with_shell
from pharmacy_saas.state.purchasing import PurchasingState


def order_card(order: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(order["number"], size="3"),
                rx.badge(order["status_label"], class_name="po-status"),
                rx.text(order["supplier"], " → ", order["branch"], size="2", color_scheme="gray"),
                rx.spacer(),
                rx.cond(
                    order["can_send"].to(bool) & PurchasingState.can_purchase,
                    rx.button("Send", size="1", on_click=PurchasingState.send(order["id"])),
                ),
                width="100%",
                align="center",
            ),
            rx.foreach(
                order["lines"].to(list[dict]),
                lambda line: rx.text(
                    line["medicine"], ": ", line["received"], " of ", line["ordered"], " received", size="2"
                ),
            ),
            rx.cond(
                order["can_receive"].to(bool),
                rx.form(
                    rx.hstack(
                        rx.el.input(type="hidden", name="order_id", value=order["id"]),
                        rx.select(order["medicines"].to(list[str]), name="medicine", placeholder="Medicine"),
                        rx.input(name="lot_number", placeholder="Lot", required=True),
                        rx.input(name="expiry_date", type="date", required=True),
                        rx.input(name="quantity", type="number", min=1, placeholder="Qty", required=True),
                        rx.button("Receive", type="submit", size="1"),
                        wrap="wrap",
                    ),
                    on_submit=PurchasingState.receive,
                    reset_on_submit=True,
                ),
            ),
            width="100%",
        ),
        width="100%",
        class_name="po-card",
    )


def purchasing_page() -> rx.Component:
    return with_shell(
        rx.vstack(
            rx.heading("Suppliers and purchase orders", size="6", id="purchasing-title"),
            form_alert(PurchasingState.error, "purchasing-error"),
            rx.cond(
                PurchasingState.can_purchase,
                rx.hstack(
                    rx.form(
                        rx.hstack(
                            text_field("New supplier", "supplier_name", name="name", required=True),
                            rx.button("Add", type="submit", variant="soft"),
                            align="end",
                        ),
                        on_submit=PurchasingState.add_supplier,
                        reset_on_submit=True,
                    ),
                    rx.form(
                        rx.hstack(
                            rx.select(
                                PurchasingState.supplier_names,
                                name="supplier",
                                placeholder="Supplier",
                                id="suggest-supplier",
                            ),
                            rx.button("Suggest order from reorder points", type="submit", id="suggest"),
                        ),
                        on_submit=PurchasingState.suggest,
                    ),
                    wrap="wrap",
                    spacing="5",
                    align="end",
                ),
            ),
            rx.foreach(PurchasingState.orders, order_card),
            spacing="4",
            width="100%",
        )
    )
