"""The 'How we contact them' card of a patient's record (channel and refill reminders)."""

import reflex as rx

from components.forms import form_alert
from pharmacy_saas.state.patient_contact import CHANNEL_CHOICES, PatientContactState


def patient_contact_card() -> rx.Component:
    state = PatientContactState
    return rx.card(
        rx.vstack(
            rx.heading("How we contact them", size="4"),
            rx.text(
                "Ready-for-pickup messages, refill reminders and recalls go on this channel, to patients who agreed "
                "to be contacted.",
                size="2",
                color_scheme="gray",
            ),
            form_alert(state.contact_error, "patient-contact-error"),
            rx.form(
                rx.vstack(
                    rx.el.label(
                        "Messages by ",
                        rx.el.select(
                            *[rx.el.option(label, value=value) for value, label in CHANNEL_CHOICES],
                            name="channel",
                            id="patient-contact-channel",
                            value=state.contact_channel,
                            on_change=state.choose_channel,
                            disabled=~state.can_change_contact,
                        ),
                    ),
                    rx.el.label(
                        rx.hstack(
                            rx.checkbox(
                                checked=state.refill_reminders,
                                on_change=state.choose_reminders,
                                disabled=~state.can_change_contact,
                                id="patient-contact-reminders",
                            ),
                            rx.text("Remind them when a refill is due"),
                            align="center",
                        ),
                    ),
                    rx.cond(
                        state.can_change_contact,
                        rx.button("Save", type="submit", variant="soft", id="patient-contact-save"),
                    ),
                    spacing="2",
                ),
                on_submit=state.save_contact,
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="patient-contact-card",
        on_mount=state.load_contact,
    )
