"""The fill step on the prescription page: what FEFO would take, the fill form, the fills and their labels."""

import reflex as rx

from components.forms import form_alert
from pharmacy_saas.state.fills import FillRow, FillState


def fill_row(row: FillRow) -> rx.Component:
    """One fill as a block that wraps (not a wide table): on a phone or a tablet the scan field and the
    label stay on screen next to the fill they belong to."""
    return rx.box(
        rx.flex(
            rx.text.strong(row.code, size="2"),
            rx.badge(row.status, size="1", class_name="fill-status"),
            rx.text("Qty ", row.quantity, size="2"),
            rx.cond(row.owed != "", rx.text(row.owed, " owed", size="2", color_scheme="orange")),
            rx.text("Lots: ", row.lots, size="2"),
            rx.text("Filled ", row.when, " by ", row.who, size="1", color_scheme="gray"),
            wrap="wrap",
            spacing="3",
            align="center",
        ),
        rx.flex(
            rx.cond(
                row.awaiting_check & FillState.can_check,
                rx.form(
                    rx.flex(
                        rx.el.input(type="hidden", name="fill_id", value=row.id),
                        rx.input(
                            name="barcode",
                            placeholder="Scan the stock bottle",
                            aria_label="Final check: scan the stock bottle's barcode, then Enter",
                            auto_focus=True,
                            auto_complete="off",
                            width="14em",
                            class_name="fill-scan",
                        ),
                        rx.button("Check", type="submit", size="2", class_name="fill-check"),
                        spacing="2",
                        align="center",
                    ),
                    on_submit=FillState.check,
                    reset_on_submit=True,
                ),
                rx.cond(
                    row.checked != "",
                    rx.text("Final check: ", row.checked, size="1", class_name="fill-checked"),
                ),
            ),
            rx.button(
                "Label PDF",
                size="2",
                variant="soft",
                on_click=FillState.download_label(row.id),
                class_name="fill-label",
            ),
            wrap="wrap",
            spacing="3",
            align="center",
            justify="between",
            padding_top="0.4em",
        ),
        padding_y="0.6em",
        border_top="1px solid var(--gray-a5)",
        width="100%",
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
                wrap="wrap",
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
                    rx.vstack(rx.foreach(FillState.fills, fill_row), spacing="0", width="100%", id="rx-fills"),
                ),
                width="100%",
                spacing="2",
            ),
            width="100%",
        ),
    )
