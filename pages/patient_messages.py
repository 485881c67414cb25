"""Settings > Patient messages (owner): which kinds of patient message may name the medicine; and the
'Detailed messages' card of a patient's record (the patient's consent)."""

import reflex as rx

from components.forms import form_alert
from components.tables import cells_row, data_table
from pages.shell import with_shell
from pharmacy_saas import routes
from pharmacy_saas.state.patient_messages import (
    CHANNEL_CHOICES,
    ConsentRow,
    KindRow,
    MessageConsentState,
    PatientMessagesState,
)


def kind_row(row: KindRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.label, weight="medium")),
        rx.table.cell(rx.text(row.example, size="2", color_scheme="gray")),
        rx.table.cell(
            rx.switch(
                checked=row.allowed,
                on_change=lambda allowed: PatientMessagesState.set_allowed(row.kind, allowed),
                id="allow-" + row.kind,
            )
        ),
        class_name="message-kind-row",
        id="message-kind-" + row.kind,
    )


def patient_messages_page() -> rx.Component:
    return with_shell(
        rx.vstack(
            rx.link("← Settings", href=routes.SETTINGS),
            rx.heading("Patient messages", size="6", id="patient-messages-title"),
            rx.text(
                "Texts and e-mails to patients say where and when, never what: the default names no medicine, "
                "Rx number or diagnosis. Allow the medicine's name for a kind of message only where patients "
                "expect it; even then it is named only for patients whose consent to detailed messages is "
                "recorded on their record.",
                size="2",
                color_scheme="gray",
            ),
            data_table(
                ("Message", "What a patient gets by default", "May name the medicine"),
                rx.foreach(PatientMessagesState.kinds, kind_row),
                table_id="message-kinds",
            ),
            width="100%",
            spacing="4",
        )
    )


def consent_row(row: ConsentRow) -> rx.Component:
    in_force = rx.badge("in force", color_scheme="green")
    withdrawn = rx.cond(row.withdrawn != "", row.withdrawn, in_force)
    return cells_row(row.recorded, row.how, row.by, withdrawn, class_name="message-consent-row")


def message_consent_card() -> rx.Component:
    """On the patient's record: whether messages may name their medicine, and the control to change it."""
    state = MessageConsentState
    return rx.card(
        rx.vstack(
            rx.heading("Detailed messages", size="4"),
            rx.cond(
                state.consented,
                rx.text(
                    "The patient agreed that messages may name their medicine, for the kinds of message the "
                    "chain allows.",
                    id="message-consent-status",
                ),
                rx.text(
                    "Messages to this patient name no medicine (the default).",
                    id="message-consent-status",
                ),
            ),
            rx.foreach(
                state.optouts,
                lambda line: rx.text(line, size="2", color_scheme="orange", class_name="message-optout"),
            ),
            form_alert(state.consent_error, "message-consent-error"),
            rx.cond(
                state.can_record_consent,
                rx.form(
                    rx.hstack(
                        rx.el.select(
                            rx.el.option("How did the patient say so?", value=""),
                            *[rx.el.option(label, value=value) for value, label in CHANNEL_CHOICES],
                            name="channel",
                            id="message-consent-channel",
                        ),
                        rx.cond(
                            state.consented,
                            rx.button(
                                "Withdraw consent",
                                type="submit",
                                color_scheme="red",
                                variant="soft",
                                id="message-consent-withdraw",
                            ),
                            rx.button("Record consent", type="submit", variant="soft", id="message-consent-record"),
                        ),
                        align="center",
                        wrap="wrap",  # a phone puts the button under the choice instead of off the screen
                    ),
                    on_submit=state.change_consent,
                    reset_on_submit=True,
                ),
            ),
            rx.cond(
                state.consent_rows.length() > 0,  # type: ignore[attr-defined]
                data_table(
                    ("Recorded", "How", "By", "Withdrawn"),
                    rx.foreach(state.consent_rows, consent_row),
                    table_id="message-consent-history",
                    size="1",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="message-consent-card",
        on_mount=state.load_consent,
    )
