"""Inventory CSV: import the catalog or opening stock (checked first, with a report), export to CSV."""

import reflex as rx

from components.forms import form_alert, text_field
from pages.shell import with_shell
from pharmacy_saas.state.imports import UPLOAD_ID, ImportState


def columns_hint() -> rx.Component:
    return rx.text(
        "Columns: ",
        rx.code(ImportState.columns_text),
        ". Only generic_name is required for the catalog; barcode, lot_number, expiry_date (YYYY-MM-DD) and "
        "quantity for opening stock, which goes into the branch chosen above unless a branch_code column says. "
        "Reorder levels need reorder_point and reorder_quantity and a barcode or medicine_id; reorder_mode is "
        "manual (the default) or automatic, and a manual row with both numbers empty clears the level. "
        "An exported file can be imported again: the columns it adds for people to read are skipped.",
        size="2",
        color_scheme="gray",
    )


def upload_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Import from CSV", size="4"),
            rx.hstack(
                rx.text("The file holds"),
                rx.select(
                    ImportState.kinds_allowed,
                    value=ImportState.kind_label,
                    on_change=ImportState.choose_kind,
                    id="import-kind",
                ),
                rx.cond(
                    (ImportState.kind == "opening_stock") | (ImportState.kind == "reorder_levels"),
                    rx.text("for ", ImportState.current_branch),
                ),
                align="center",
            ),
            columns_hint(),
            rx.upload.root(
                rx.vstack(
                    rx.button("Choose a CSV file", variant="soft", type="button"),
                    rx.text(rx.foreach(rx.selected_files(UPLOAD_ID), lambda f: rx.text(f)), size="2", id="chosen"),
                    align="center",
                ),
                id=UPLOAD_ID,
                accept={"text/csv": [".csv"], "text/plain": [".txt"]},
                max_files=1,
                border="1px dashed var(--gray-7)",
                padding="1em",
                width="100%",
            ),
            rx.button(
                "Check the file",
                on_click=ImportState.check_file(rx.upload_files(upload_id=UPLOAD_ID)),
                id="check-file",
            ),
            width="100%",
            spacing="3",
        ),
        width="100%",
    )


def report_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(ImportState.kind_label, ": ", ImportState.filename, size="4"),
            rx.text(
                rx.text.strong(ImportState.total_rows),
                " rows; ",
                rx.text.strong(ImportState.valid_rows, id="valid-rows"),
                " can be imported; ",
                rx.text.strong(ImportState.problem_count, id="problem-count"),
                " have problems.",
            ),
            rx.cond(
                ImportState.problem_count > 0,
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("Row"),
                            rx.table.column_header_cell("Column"),
                            rx.table.column_header_cell("Problem"),
                        )
                    ),
                    rx.table.body(
                        rx.foreach(
                            ImportState.problems,
                            lambda p: rx.table.row(
                                rx.table.cell(p["row"]),
                                rx.table.cell(p["column"]),
                                rx.table.cell(p["reason"]),
                                class_name="problem-row",
                            ),
                        )
                    ),
                    id="problems",
                    width="100%",
                ),
            ),
            rx.cond(
                ImportState.awaiting_import,
                rx.hstack(
                    rx.cond(
                        ImportState.problem_count == 0,
                        rx.button(
                            "Import ",
                            ImportState.valid_rows,
                            " rows",
                            on_click=ImportState.run_import(False),
                            id="import-all",
                        ),
                        rx.button(
                            "Import only the ",
                            ImportState.valid_rows,
                            " valid rows",
                            on_click=ImportState.run_import(True),
                            color_scheme="amber",
                            id="import-valid",
                            disabled=ImportState.valid_rows == 0,
                        ),
                    ),
                    rx.button("Discard", variant="soft", color_scheme="gray", on_click=ImportState.discard),
                ),
            ),
            rx.cond(
                ImportState.running,
                rx.vstack(
                    rx.progress(value=ImportState.progress, max=100, id="import-progress", width="100%"),
                    rx.text(
                        "Importing in the background: ",
                        ImportState.processed_rows,
                        " of ",
                        ImportState.total_rows,
                        " rows checked",
                        size="2",
                    ),
                    width="100%",
                ),
            ),
            rx.cond(
                ImportState.imported,
                rx.callout(
                    rx.text("Imported ", rx.text.strong(ImportState.imported_rows), " rows."),
                    icon="check",
                    color_scheme="green",
                    id="import-done",
                ),
            ),
            rx.cond(
                ImportState.import_failed,
                rx.callout(ImportState.failure, icon="triangle-alert", color_scheme="red", id="import-failed"),
            ),
            rx.cond(
                ~ImportState.running,
                rx.button("Import another file", variant="ghost", on_click=ImportState.discard),
            ),
            width="100%",
            spacing="3",
        ),
        width="100%",
    )


def export_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Export to CSV", size="4"),
            rx.hstack(
                rx.button("Catalog", variant="soft", on_click=ImportState.download("catalog"), id="export-catalog"),
                rx.button("Stock per batch", variant="soft", on_click=ImportState.download("stock"), id="export-stock"),
                rx.button(
                    "Reorder levels at ",
                    ImportState.current_branch,
                    variant="soft",
                    on_click=ImportState.download("reorder_levels"),
                    id="export-reorder-levels",
                ),
            ),
            rx.form(
                rx.hstack(
                    text_field("Movements from", "since", type="date", default_value=ImportState.export_since),
                    text_field("to (UTC)", "until", type="date", default_value=ImportState.export_until),
                    rx.button("Movements", variant="soft", type="submit", id="export-movements"),
                    align="end",
                ),
                on_submit=ImportState.set_export_range,
            ),
            width="100%",
            spacing="3",
        ),
        width="100%",
    )


def imports_page() -> rx.Component:
    return with_shell(
        rx.vstack(
            rx.heading("Inventory CSV", size="6", id="imports-title"),
            form_alert(ImportState.error, "import-error"),
            rx.cond(
                ImportState.import_id == "",
                rx.cond(ImportState.kinds_allowed.length() > 0, upload_card()),
                report_card(),
            ),
            export_card(),
            spacing="5",
            width="100%",
        )
    )
