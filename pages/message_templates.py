"""Settings > Message templates (owner): the wording of each patient message, its preview, and quiet hours."""

import reflex as rx

from components.forms import form_alert
from components.tables import data_table
from pages.shell import with_shell
from pharmacy_saas import routes
from pharmacy_saas.state.message_templates import MessageTemplatesState, TemplateRow

S = MessageTemplatesState


def template_row(row: TemplateRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.label, weight="medium")),
        rx.table.cell(rx.text(row.variant_label, size="2")),
        rx.table.cell(rx.text(row.sms, size="2", color_scheme="gray")),
        rx.table.cell(rx.cond(row.customised, rx.badge("own wording", color_scheme="blue"), rx.text("default"))),
        rx.table.cell(
            rx.button("Edit", size="1", variant="soft", on_click=S.edit(row.kind, row.variant), id="edit-" + row.key)
        ),
        class_name="template-row",
        id="template-" + row.key,
    )


def editor() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(S.title, size="4", id="template-title"),
            rx.text("Values you can use: ", S.allowed_values, size="2", color_scheme="gray", id="template-values"),
            rx.text("E-mail subject", weight="medium", size="2"),
            rx.input(value=S.subject, on_change=S.set_subject, width="100%", id="template-subject"),
            rx.text("E-mail text", weight="medium", size="2"),
            rx.text_area(value=S.body, on_change=S.set_body, rows="4", width="100%", id="template-body"),
            rx.text("Text message (SMS)", weight="medium", size="2"),
            rx.text_area(value=S.sms, on_change=S.set_sms, rows="3", width="100%", id="template-sms"),
            rx.text(
                S.sms_length,
                " characters with the stop link (one text message holds 160)",
                size="2",
                color_scheme=rx.cond(S.sms_too_long, "orange", "gray"),
                id="template-sms-count",
            ),
            rx.cond(
                S.sms_too_long,
                rx.text(
                    "Longer than one text message: it may arrive in two parts (and cost twice).",
                    size="2",
                    color_scheme="orange",
                    id="template-sms-warning",
                ),
            ),
            form_alert(S.error, "template-error"),
            rx.hstack(
                rx.button("Preview", variant="soft", on_click=S.show_preview, id="template-preview"),
                rx.button("Save", on_click=S.save, id="template-save"),
                rx.cond(
                    S.customised,
                    rx.button(
                        "Reset to default",
                        variant="outline",
                        color_scheme="gray",
                        on_click=S.reset_to_default,
                        id="template-reset",
                    ),  # fmt: skip
                ),
                rx.button("Close", variant="ghost", on_click=S.close, id="template-close"),
                wrap="wrap",
            ),
            rx.cond(
                S.preview_sms != "",
                rx.card(
                    rx.vstack(
                        rx.text("Preview (demo patient)", weight="bold", size="2"),
                        rx.text("Subject: ", S.preview_subject, size="2", id="preview-subject"),
                        rx.text(S.preview_body, size="2", white_space="pre-wrap", id="preview-body"),
                        rx.text("SMS: ", S.preview_sms, size="2", id="preview-sms"),
                        rx.text("Every message also ends with its stop link.", size="1", color_scheme="gray"),
                        spacing="2",
                    ),
                    width="100%",
                    id="template-preview-card",
                ),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        id="template-editor",
    )


def quiet_hours_card() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Quiet hours", size="4"),
                rx.text(
                    "No message is sent to patients in these hours (each branch's own time); messages wait until "
                    "they end. Sign-in codes and receipts for what the patient just did are sent at once.",
                    size="2",
                    color_scheme="gray",
                ),
                rx.hstack(
                    rx.el.label(
                        rx.el.input(
                            type="checkbox", name="quiet_enabled", default_checked=S.quiet_enabled, id="quiet-enabled"
                        ),  # fmt: skip
                        " On",
                    ),
                    rx.text("from", size="2"),
                    rx.el.input(type="time", name="quiet_start", default_value=S.quiet_start, id="quiet-start"),
                    rx.text("to", size="2"),
                    rx.el.input(type="time", name="quiet_end", default_value=S.quiet_end, id="quiet-end"),
                    rx.button("Save quiet hours", type="submit", variant="soft", id="quiet-save"),
                    align="center",
                    wrap="wrap",
                ),
                form_alert(S.quiet_error, "quiet-error"),
                spacing="2",
            ),
            on_submit=S.save_quiet,
            reset_on_submit=False,
        ),
        width="100%",
        id="quiet-hours-card",
    )


def message_templates_page() -> rx.Component:
    return with_shell(
        rx.vstack(
            rx.link("← Settings", href=routes.SETTINGS),
            rx.heading("Message templates", size="6", id="message-templates-title"),
            rx.text(
                "The wording of each message to patients. The version for every patient may not name the "
                "medicine or any other detail; the detailed one is used only where you allowed detail (Patient "
                "messages) and the patient consented.",
                size="2",
                color_scheme="gray",
            ),
            quiet_hours_card(),
            rx.cond(S.kind != "", editor()),
            data_table(
                ("Message", "For", "Text message", "Wording", ""),
                rx.foreach(S.rows, template_row),
                table_id="message-templates",
            ),
            width="100%",
            spacing="4",
        )
    )
