"""Interaction checker: enter several medicines, see a matrix with severity colours and the advice."""

import reflex as rx

from components.forms import form_alert
from pages.shell import with_shell
from pharmacy_saas.state.interactions import Advice, Cell, InteractionsState, MatrixRow


def matrix_cell(cell: Cell) -> rx.Component:
    return rx.table.cell(
        rx.cond(cell.severity != "", rx.badge(cell.severity, color_scheme=cell.colour, variant="solid")),
        class_name="severity-cell",
    )


def matrix_row(row: MatrixRow) -> rx.Component:
    return rx.table.row(rx.table.row_header_cell(row.name), rx.foreach(row.cells, matrix_cell))


def advice_card(item: Advice) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.badge(item.severity, color_scheme=item.colour, variant="solid"),
                rx.text.strong(item.a, " + ", item.b),
                align="center",
            ),
            rx.text(item.summary),
            rx.text(rx.text.strong("Why: "), item.mechanism, size="2"),
            rx.text(rx.text.strong("What to do: "), item.management, size="2"),
            rx.foreach(item.sources, lambda s: rx.text("Source: ", s, size="1", color_scheme="gray")),
            spacing="1",
            align="start",
        ),
        width="100%",
        class_name="interaction-advice",
    )


def interactions_page() -> rx.Component:
    return with_shell(
        rx.vstack(
            rx.heading("Interaction checker", size="6", id="interactions-title"),
            rx.text(
                "One medicine per line or separated by commas: brands, generics and combination products. "
                "A medicine the checker cannot identify is listed as unknown, never as safe.",
                size="2",
                color_scheme="gray",
            ),
            rx.form(
                rx.vstack(
                    rx.text_area(name="drugs", id="interaction-drugs", rows="4", width="100%"),
                    rx.button("Check", type="submit", id="interaction-check"),
                    width="100%",
                ),
                on_submit=InteractionsState.run_check,
                width="100%",
            ),
            form_alert(InteractionsState.error, "interaction-error"),
            rx.cond(
                InteractionsState.unknown.length() > 0,
                rx.callout(
                    rx.text("Not identified: ", rx.foreach(InteractionsState.unknown, lambda u: rx.text(u))),
                    icon="circle-help",
                    color_scheme="gray",
                    id="interaction-unknown",
                ),
            ),
            rx.cond(
                InteractionsState.matrix.length() > 0,
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell(""),
                            rx.foreach(InteractionsState.names, lambda n: rx.table.column_header_cell(n)),
                        )
                    ),
                    rx.table.body(rx.foreach(InteractionsState.matrix, matrix_row)),
                    id="interaction-matrix",
                ),
            ),
            rx.foreach(InteractionsState.advice, advice_card),
            spacing="4",
            width="100%",
        )
    )
