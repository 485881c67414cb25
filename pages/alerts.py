"""Stock alerts: low stock, expiring, expired and recalled stock on the shelf."""

import reflex as rx

from pages.shell import with_shell
from pharmacy_saas.state.alerts import AlertsState


def alert_table(
    title: str, rows: rx.Var, table_id: str, columns: tuple[str, ...], keys: tuple[str, ...]
) -> rx.Component:
    return rx.vstack(
        rx.heading(title, " (", rows.length(), ")", size="4"),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(c) for c in columns])),
            rx.table.body(
                rx.foreach(
                    rows, lambda r: rx.table.row(*[rx.table.cell(r[k]) for k in keys], class_name=f"{table_id}-row")
                )
            ),
            width="100%",
            id=table_id,
        ),
        width="100%",
    )


def alerts_page() -> rx.Component:
    lot_columns = ("Branch", "Medicine", "Lot", "Quantity", "Expiry", "Cost value")
    lot_keys = ("branch", "medicine", "lot", "quantity", "expiry", "value")
    return with_shell(
        rx.vstack(
            rx.hstack(
                rx.heading("Stock alerts", size="6", id="alerts-title"),
                rx.spacer(),
                rx.badge("Stock at risk: ", AlertsState.value_at_risk, color_scheme="amber", id="value-at-risk"),
                width="100%",
                align="center",
            ),
            alert_table("Recalled lots still in stock", AlertsState.recalled, "recalled", lot_columns, lot_keys),
            alert_table("Expired stock on the shelf", AlertsState.expired, "expired", lot_columns, lot_keys),
            alert_table(
                "Expiring soon", AlertsState.expiring, "expiring", (*lot_columns, "Left"), (*lot_keys, "detail")
            ),
            alert_table(
                "Low stock",
                AlertsState.low_stock,
                "low-stock",
                ("Branch", "Medicine", "On hand", "Reorder"),
                ("branch", "medicine", "quantity", "detail"),
            ),
            spacing="5",
            width="100%",
        )
    )
