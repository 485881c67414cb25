"""Reorder levels: the card on the medicine page (every branch) and the bulk editor of one branch."""

import reflex as rx

from components.forms import form_alert
from pages.shell import with_shell
from pharmacy_saas import routes
from pharmacy_saas.state.reorder import MedicineLevelsState, ReorderEditorState

HINT = (
    "When on hand falls to the reorder point or below, the line shows under low stock and a suggested order "
    "asks for the reorder quantity. Manual uses your numbers; automatic uses the forecast once forecasting "
    "has run, and your numbers (if any) until then. Manual with both numbers empty removes the level."
)


def level_cells(line: rx.Var, modes: rx.Var, can_edit: rx.Var) -> list[rx.Component]:
    """Mode, point and quantity of one line, named by the line's key for the editor's form."""
    key = line["key"].to(str)
    return [
        rx.table.cell(
            rx.select(
                modes,
                name="mode_" + key,
                default_value=line["mode"].to(str),
                size="1",
                disabled=~can_edit,
                class_name="level-mode",
            )
        ),
        rx.table.cell(
            rx.input(
                name="point_" + key,
                default_value=line["point"].to(str),
                type="number",
                min=0,
                size="1",
                width="7em",
                read_only=~can_edit,
                aria_label="Reorder point",
                class_name="level-point",
            )
        ),
        rx.table.cell(
            rx.input(
                name="quantity_" + key,
                default_value=line["quantity"].to(str),
                type="number",
                min=1,
                size="1",
                width="7em",
                read_only=~can_edit,
                aria_label="Reorder quantity",
                class_name="level-quantity",
            )
        ),
        rx.table.cell(
            rx.hstack(
                rx.cond(line["low"], rx.badge("low", color_scheme="red", class_name="level-low")),
                rx.text(line["note"], size="1", color_scheme="gray", class_name="level-note"),
                align="center",
            )
        ),
    ]


def medicine_levels_card() -> rx.Component:
    """On /inventory/medicine: the medicine's level at every active branch, saved together."""
    state = MedicineLevelsState
    return rx.card(
        rx.vstack(
            rx.heading("Reorder levels", size="4"),
            rx.text(HINT, size="2", color_scheme="gray"),
            rx.form(
                rx.vstack(
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(
                                *[
                                    rx.table.column_header_cell(h)
                                    for h in ("Branch", "On hand", "Mode", "Reorder point", "Reorder quantity", "")
                                ]
                            )
                        ),
                        rx.table.body(
                            rx.foreach(
                                state.lines,
                                lambda line: rx.table.row(
                                    rx.table.cell(line["branch"]),
                                    rx.table.cell(line["on_hand"]),
                                    *level_cells(line, state.modes, state.can_edit_levels),
                                    class_name="level-row",
                                    data_branch=line["branch"],
                                ),
                            )
                        ),
                        width="100%",
                    ),
                    form_alert(state.levels_error, "levels-error"),
                    rx.cond(
                        state.can_edit_levels,
                        rx.button("Save reorder levels", type="submit", variant="soft", id="save-levels"),
                    ),
                    width="100%",
                ),
                on_submit=state.save,
                key=state.levels_version,
                width="100%",
            ),
            width="100%",
            spacing="3",
        ),
        width="100%",
        id="reorder-levels-card",
    )


def reorder_page() -> rx.Component:
    """/inventory/reorder: the bulk editor of the header's branch."""
    state = ReorderEditorState
    return with_shell(
        rx.vstack(
            rx.hstack(
                rx.heading("Reorder levels at ", state.branch_name, size="6", id="reorder-title"),
                rx.spacer(),
                rx.link(rx.button("CSV import / export", variant="soft"), href=routes.INVENTORY_CSV),
                rx.link(rx.button("Stock alerts", variant="soft"), href=routes.ALERTS),
                width="100%",
                align="center",
            ),
            rx.text(HINT, size="2", color_scheme="gray"),
            rx.hstack(
                rx.form(
                    rx.hstack(
                        rx.input(
                            name="q",
                            placeholder="Search name, brand or barcode",
                            default_value=state.query,
                            id="reorder-search",
                        ),
                        rx.button("Search", type="submit", id="reorder-search-submit"),
                    ),
                    on_submit=state.search,
                ),
                rx.select(
                    state.show_choices, value=state.show, on_change=state.choose_show, id="reorder-show", size="2"
                ),
                rx.cond(
                    state.branch_name != state.current_branch,
                    rx.text("Search again to show ", state.current_branch, ".", size="2", color_scheme="amber"),
                ),
                width="100%",
                align="center",
                wrap="wrap",
            ),
            form_alert(state.error, "reorder-error"),
            rx.form(
                rx.vstack(
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(
                                *[
                                    rx.table.column_header_cell(h)
                                    for h in ("Medicine", "On hand", "Mode", "Reorder point", "Reorder quantity", "")
                                ]
                            )
                        ),
                        rx.table.body(
                            rx.foreach(
                                state.lines,
                                lambda line: rx.table.row(
                                    rx.table.cell(
                                        rx.link(
                                            line["medicine"],
                                            href=routes.MEDICINE + "?id=" + line["medicine_id"].to(str),
                                        ),
                                        rx.text(line["barcode"], size="1", color_scheme="gray"),
                                    ),
                                    rx.table.cell(line["on_hand"], class_name="level-on-hand"),
                                    *level_cells(line, state.modes, state.can_edit_levels),
                                    class_name="reorder-row",
                                    data_medicine=line["medicine"],
                                ),
                            )
                        ),
                        width="100%",
                    ),
                    rx.hstack(
                        rx.cond(
                            state.can_edit_levels,
                            rx.button("Save changes on this page", type="submit", id="save-reorder-page"),
                        ),
                        rx.spacer(),
                        rx.button(
                            "Previous",
                            type="button",
                            variant="soft",
                            disabled=state.page == 0,
                            on_click=state.turn_page(-1),
                        ),
                        rx.button(
                            "Next", type="button", variant="soft", disabled=~state.has_more, on_click=state.turn_page(1)
                        ),
                        width="100%",
                    ),
                    width="100%",
                ),
                on_submit=state.save,
                key=state.version,
                width="100%",
            ),
            spacing="4",
            width="100%",
        )
    )
