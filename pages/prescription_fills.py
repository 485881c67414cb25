"""The fill step on the prescription page: what FEFO would take, the fill form, the fills and their labels."""

import reflex as rx

from components.forms import form_alert
from pharmacy_saas.state.fills import FillRow, FillState


def fill_row(row: FillRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.code),
        rx.table.cell(row.when),
        rx.table.cell(row.quantity),
        rx.table.cell(row.owed),
        rx.table.cell(row.lots),
        rx.table.cell(row.status),
        rx.table.cell(row.who),
        rx.table.cell(
            rx.cond(
                row.awaiting_check & FillState.can_check,
                rx.form(
                    rx.hstack(
                        rx.el.input(type="hidden", name="fill_id", value=row.id),
                        rx.input(
                            name="barcode", placeholder="Scan the stock bottle", width="13em", class_name="fill-scan"
                        ),
                        rx.button("Check", type="submit", size="1", class_name="fill-check"),
                    ),
                    on_submit=FillState.check,
                    reset_on_submit=True,
                ),
                rx.text(row.checked, size="1", class_name="fill-checked"),
            )
        ),
        rx.table.cell(
            rx.button(
                "Label PDF",
                size="1",
                variant="soft",
                on_click=FillState.download_label(row.id),
                class_name="fill-label",
            )
        ),
        class_name="fill-row",
    )


def fill_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.text(
                "Owed: ",
                rx.text.strong(FillState.owed, id="fill-owed"),
                " · can be dispensed now: ",
                rx.text.strong(FillState.dispensable, id="fill-dispensable"),
                size="2",
            ),
            rx.cond(
                FillState.fefo.length() > 0,
                rx.text("Lots (FEFO): ", rx.el.span(FillState.fefo.join("; "), id="fill-fefo"), size="2"),
                rx.text("No usable stock on the shelf.", size="2", color_scheme="red", id="fill-fefo"),
            ),
            rx.cond(
                FillState.due_by != "",
                rx.text(
                    "The rest of this CII partial fill is due by ", FillState.due_by, size="2", color_scheme="orange"
                ),
            ),
            rx.hstack(
                rx.input(name="quantity", id="fill-quantity", placeholder="Quantity (all owed)", width="12em"),
                rx.el.label(
                    rx.el.input(type="checkbox", name="partial", id="fill-partial"),
                    " Fill what is on hand and owe the rest",
                ),
                rx.button("Fill", type="submit", id="fill-submit"),
                align="center",
            ),
            spacing="2",
        ),
        on_submit=FillState.fill,
        key=FillState.fill_form_key,
    )


def fill_card() -> rx.Component:
    """Shown on a verified prescription: the fill form to those who fill, the fills to everyone who sees it."""
    return rx.cond(
        FillState.fillable | (FillState.fills.length() > 0),
        rx.card(
            rx.vstack(
                rx.heading("Fill", size="4"),
                form_alert(FillState.fill_error, "fill-error"),
                rx.cond(FillState.fillable & FillState.can_fill, fill_form()),
                rx.cond(
                    FillState.fills.length() > 0,
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(
                                *[
                                    rx.table.column_header_cell(h)
                                    for h in (
                                        "Fill",
                                        "When",
                                        "Quantity",
                                        "Owed",
                                        "Lots",
                                        "Status",
                                        "By",
                                        "Final check",
                                        "",
                                    )
                                ]
                            )
                        ),
                        rx.table.body(rx.foreach(FillState.fills, fill_row)),
                        width="100%",
                        size="1",
                        id="rx-fills",
                    ),
                ),
                width="100%",
                spacing="2",
            ),
            width="100%",
        ),
    )
