"""The chain's documents the assistant quotes (SOPs, FAQs, policies)."""

import reflex as rx

from components.forms import form_alert
from pages.shell import with_shell
from pharmacy_saas.state.assistant_documents import UPLOAD_ID, DocumentsState


def upload_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Add a document", size="4"),
            rx.text(
                "Text, markdown or PDF (with text, not a scan), up to 5 MB. Staff's questions are answered with "
                "quotes from it; its text is never followed as an instruction.",
                size="2",
                color_scheme="gray",
            ),
            rx.upload.root(
                rx.vstack(
                    rx.button("Choose a file", variant="soft", type="button"),
                    rx.foreach(rx.selected_files(UPLOAD_ID), lambda f: rx.text(f, size="2")),
                    align="center",
                ),
                id=UPLOAD_ID,
                accept={"text/plain": [".txt"], "text/markdown": [".md", ".markdown"], "application/pdf": [".pdf"]},
                max_files=1,
                border="1px dashed var(--gray-7)",
                padding="1em",
                width="100%",
            ),
            rx.button(
                "Upload", on_click=DocumentsState.upload(rx.upload_files(upload_id=UPLOAD_ID)), id="document-submit"
            ),
            width="100%",
        ),
        width="100%",
    )


def documents_page() -> rx.Component:
    return with_shell(
        rx.vstack(
            rx.hstack(
                rx.heading("Assistant documents", size="6", id="documents-title"),
                rx.spacer(),
                rx.link(rx.button("Back to the assistant", variant="soft"), href="/assistant"),
                width="100%",
            ),
            form_alert(DocumentsState.error, "document-error"),
            rx.cond(DocumentsState.can_manage, upload_card()),
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("Title"),
                        rx.table.column_header_cell("File"),
                        rx.table.column_header_cell("Size"),
                        rx.table.column_header_cell("Added"),
                        rx.table.column_header_cell(""),
                    )
                ),
                rx.table.body(
                    rx.foreach(
                        DocumentsState.documents,
                        lambda d: rx.table.row(
                            rx.table.cell(d.title),
                            rx.table.cell(d.filename),
                            rx.table.cell(d.size),
                            rx.table.cell(d.uploaded),
                            rx.table.cell(
                                rx.cond(
                                    DocumentsState.can_manage,
                                    rx.button(
                                        "Delete",
                                        size="1",
                                        variant="ghost",
                                        color_scheme="red",
                                        on_click=DocumentsState.delete(d.id),
                                    ),
                                )
                            ),
                            class_name="document-row",
                        ),
                    )
                ),
                width="100%",
            ),
            width="100%",
            spacing="4",
        )
    )
