"""The emergency supply form: a pharmacist supplies a few days of a prescription-only (never controlled)
medicine without a prescription, signed and recorded as a prescription; its checked fill is then sold at
the counter like any fill, by scanning its label."""

import reflex as rx

from components.forms import form_alert
from pages.shell import with_shell
from pharmacy_saas import routes
from pharmacy_saas.state.emergency import Choice, EmergencySupplyState

State = EmergencySupplyState


def _choice(choice: Choice, on_click: rx.EventHandler, class_name: str) -> rx.Component:
    return rx.button(choice.label, variant="soft", on_click=on_click(choice.id), class_name=class_name)


def _finder(label: rx.Var, name: str, placeholder: str, on_submit: rx.EventHandler, field_id: str) -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.input(name=name, id=field_id, placeholder=placeholder, auto_complete="off", width="18em"),
            rx.button("Find", type="submit", variant="soft", id=f"{field_id}-find"),
            rx.text(rx.cond(label != "", label, "none chosen"), weight="medium", id=f"{field_id}-chosen"),
            align="center",
            wrap="wrap",
        ),
        on_submit=on_submit,
    )


def who_and_what() -> rx.Component:
    return rx.vstack(
        rx.text("Patient", weight="bold", size="2"),
        _finder(State.patient_label, "patient", "Name, phone or date of birth", State.find_patient, "es-patient"),
        rx.hstack(
            rx.foreach(State.patient_matches, lambda c: _choice(c, State.choose_patient, "es-patient-choice")),
            wrap="wrap",
        ),
        rx.text("Medicine (prescription-only; never a controlled substance)", weight="bold", size="2"),
        _finder(State.medicine_label, "medicine", "Medicine name", State.find_medicine, "es-medicine"),
        rx.hstack(
            rx.foreach(State.medicine_matches, lambda c: _choice(c, State.choose_medicine, "es-medicine-choice")),
            wrap="wrap",
        ),
        width="100%",
    )


def _field(label: str, field_id: str, **props: object) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=field_id, font_weight="500", font_size="0.9em"),
        rx.input(id=field_id, auto_complete="off", **props),
        spacing="1",
    )


def supply_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.hstack(
                _field("Quantity", "es-quantity", name="quantity", type="number", min=1, width="8em"),
                _field(
                    "Days' supply (at most " + State.max_days.to_string() + ")",  # type: ignore[operator]
                    "es-days",
                    name="days_supply",
                    type="number",
                    min=1,  # no max: the refusal says the chain's limit in words
                    width="8em",
                ),
                _field("Directions for the label", "es-sig", name="sig", placeholder="e.g. 1 tab po bid", width="20em"),
                wrap="wrap",
            ),
            _field(
                "Why it is supplied without a prescription",
                "es-reason",
                name="reason",
                placeholder="e.g. usual medicine, prescriber unreachable until Monday",
                width="100%",
            ),
            rx.hstack(
                _field("Scan the stock bottle (final check)", "es-barcode", name="barcode", width="14em"),
                # The supply is an electronic signature: the pharmacist re-proves who they are.
                _field(
                    "Sign: your password or 6-digit code",
                    "es-signature",
                    name="signature",
                    type="password",
                    width="18em",
                ),
                wrap="wrap",
            ),
            form_alert(State.error, "es-error"),
            rx.button("Sign and record the emergency supply", type="submit", id="es-record"),
            width="100%",
        ),
        on_submit=State.record,
        reset_on_submit=False,
    )


def done_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Emergency supply ", State.done_rx, " recorded", size="4", id="es-done"),
            rx.text(State.done_summary),
            rx.text("At the counter, scan its label: fill ", rx.code(State.done_fill, id="es-fill-code"), "."),
            rx.link(rx.button("Back to the counter"), href=routes.POS, id="es-to-counter"),
        ),
        width="100%",
    )


def emergency_supply_page() -> rx.Component:
    return with_shell(
        rx.vstack(
            rx.heading("Emergency supply", size="6", id="es-title"),
            rx.text(
                "A few days of a patient's prescription-only medicine without a prescription, on your own "
                "signed record: no refills, never a controlled substance. It is recorded as a prescription, "
                "filled and checked here, and sold at the counter by its label with the pickup.",
                size="2",
                color_scheme="gray",
            ),
            rx.cond(
                State.done_fill != "",
                done_card(),
                rx.card(rx.vstack(who_and_what(), supply_form(), width="100%"), width="100%"),
            ),
            spacing="4",
            width="100%",
        )
    )
